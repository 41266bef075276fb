"""Where a document's text came from, as `show` and `docs list` say it: pages, web address, export and outlet."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from conftest import PROGRAM

from gripcode.corpus.origin import describe_origin, short_origin

REPO = Path(__file__).resolve().parent.parent


def test_a_pdf_says_its_pages_columns_and_what_was_left_out() -> None:
    meta = {"pages": [[0, 10], [12, 30], [32, 40]], "columns": [2, 2, 1], "running_headers": ["Mining Review"],
            "running_footers": ["Draft"], "page_labels": ["iv", "v", "vi"]}
    assert describe_origin("review.pdf", None, None, meta) == (
        'from review.pdf: 3 pages, 2 of them in two columns; left out: running header "Mining Review", '
        'running footer "Draft", page numbers iv-vi')
    assert short_origin("review.pdf", meta) == "3 pages"
    assert describe_origin("one.pdf", None, None, {"pages": [[0, 5]]}) == "from one.pdf: 1 page"
    assert describe_origin("two.pdf", None, None, {"pages": [[0, 5], [7, 9]], "columns": [2, 2]}) == (
        "from two.pdf: 2 pages in two columns")


def test_a_web_page_says_its_address_site_and_author() -> None:
    meta = {"url": "https://news.example.org/2022/pilot-line", "sitename": "Minas Today", "author": "R. Antunes"}
    assert describe_origin("pilot.html", "Minas Today", dt.date(2022, 9, 13), meta) == (
        "from pilot.html: saved from https://news.example.org/2022/pilot-line; site Minas Today; by R. Antunes")
    assert short_origin("pilot.html", meta) == "news.example.org"
    assert short_origin("pilot.html", {"sitename": "Minas Today"}) == "Minas Today"


def test_an_article_says_its_export_outlet_date_and_fields() -> None:
    meta = {"export_file": "nexis.txt", "export_format": "Nexis", "article": "3 of 12", "byline": "A. Sadykova",
            "section": "MARKETS", "word_count": 512}
    assert describe_origin("nexis.txt#article3", "Eurasia Metals Bulletin", dt.date(2011, 6, 14), meta) == (
        "from nexis.txt (Nexis export), article 3 of 12: Eurasia Metals Bulletin, 2011-06-14, by A. Sadykova, "
        "section MARKETS, 512 words")
    assert short_origin("nexis.txt#article3", meta) == "Nexis 3 of 12"
    factiva = {"export_file": "f.html", "export_format": "Factiva", "article": "1 of 2",
               "document_id": "MNGWKL0020150301eb3100001"}
    assert describe_origin("f.html#article1", None, None, factiva) == (
        "from f.html (Factiva export), article 1 of 2: document MNGWKL0020150301eb3100001")


def test_metadata_that_only_looks_like_a_reader_s_is_not_taken_for_it() -> None:
    """Front matter or a CSV may carry fields of any name and type."""
    assert describe_origin("notes.md", None, None, {"pages": "12-14", "columns": ["a", "b"]}) == "from notes.md"
    assert describe_origin("notes.md", None, None, {"article": "3 of 12", "byline": "me"}) == "from notes.md"
    assert short_origin("notes.md", {"article": 3}) == ""
    odd = {"pages": [[0, 5], [6, 9]], "columns": ["two", 2], "page_labels": [1, "ii"], "running_headers": [None]}
    assert describe_origin("odd.pdf", None, None, odd) == "from odd.pdf: 2 pages in two columns; left out: page number ii"
    assert describe_origin("x.md", None, None, None) == "from x.md"


def test_a_pdf_with_footnotes_and_a_margin_stamp_says_so() -> None:
    meta = {"pages": [[0, 40]], "notes": [[42, 60, 1], [62, 70, 1]], "turned_text": [[1, "Working paper"]]}
    assert describe_origin("wp.pdf", None, None, meta) == (
        "from wp.pdf: 1 page; 2 footnotes after the text; text set at an angle kept apart")


def test_a_plain_file_says_only_its_name() -> None:
    assert describe_origin("notes.txt", "Field notes", None, {"informant": "engineer"}) == "from notes.txt"
    assert short_origin("notes.txt", {}) == ""


def test_show_and_docs_list_through_the_program(tmp_path: Path) -> None:
    db = tmp_path / "p.db"

    def run(*args: str) -> str:
        done = subprocess.run([str(PROGRAM), "--db", str(db), *args], capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("init")
    media = REPO / "corpus" / "media"
    run("import", str(media / "importers-2011-2016-nexis-export.txt"), str(media / "brazil-2022-magnet-pilot-line.html"),
        str(REPO / "corpus" / "kazakhstan" / "briefing-rare-earth-processing.pdf"))
    listed = {row["file"]: row for row in json.loads(run("docs", "list", "--format", "json"))}
    assert listed["importers-2011-2016-nexis-export.txt#article1"]["origin"] == "Nexis 1 of 4"
    assert listed["importers-2011-2016-nexis-export.txt#article1"]["source"] == "Eurasia Metals Bulletin"
    assert listed["brazil-2022-magnet-pilot-line.html"]["origin"] == "minas-industry-today.example"
    assert listed["briefing-rare-earth-processing.pdf"]["origin"] == "2 pages"
    article = listed["importers-2011-2016-nexis-export.txt#article1"]["id"]
    assert run("show", str(article)).splitlines()[2] == (
        "# from importers-2011-2016-nexis-export.txt (Nexis export), article 1 of 4: Eurasia Metals Bulletin, "
        "2011-06-14, by Aigerim Sadykova, section MARKETS; Pg. 4, 151 words")
    page = listed["brazil-2022-magnet-pilot-line.html"]["id"]
    assert run("show", str(page)).splitlines()[2].startswith(
        "# from brazil-2022-magnet-pilot-line.html: saved from https://minas-industry-today.example/")
