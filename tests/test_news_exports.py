"""Nexis and Factiva exports: one media document per article, with headline, outlet, date and the fields the
export gives; cover pages, search summaries and copyright notices left out; the same article in two exports
imported once; a forced format on another file, an export without articles and a damaged RTF refused."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import docx
import pytest
from sqlalchemy import select

from gripcode.corpus.importer import ImportItem, ImportOptions, import_items, read_manifest
from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.readers import read_file
from gripcode.corpus.readers.news import NEWS_FORMATS
from gripcode.corpus.readers.news_dates import looks_like_date_line, parse_news_date
from gripcode.db.engine import make_engine, transaction
from gripcode.db.migrate import init_database
from gripcode.db.models import Document
from gripcode.errors import DocumentImportError

from conftest import PROGRAM, REPO
from news_exports import (
    ARTICLES,
    BAOTOU,
    GOIAS,
    STEPNOGORSK,
    Article,
    factiva_html_indexed,
    factiva_html_plain,
    factiva_lines,
    factiva_rtf,
    nexis_lines,
    nexis_uni_lines,
    rtf,
    write_docx,
    write_nexis_docx,
    write_nexis_txt,
)

HEADLINES = [
    "Baotou separation plants cut output as export quotas tighten",
    ("Residents of a Goiás town ask who will guard the tailings of a proposed rare-earth mine for the next fifty "
    "years"),
    "SARECO promises separated oxides by the end of the year",
]
OUTLETS = ["Mining Weekly Review", "Cerrado Dispatch", "Steppe Business Review"]
DATES = ["2015-03-01", "2015-03-01", "2015-03-02"]
BODIES = ["\n\n".join(article.paragraphs) for article in ARTICLES]


def exports(folder: Path) -> dict[str, Path]:
    """The three articles in every layout gripcode reads."""
    paths = {
        "nexis.txt": write_nexis_txt(folder / "nexis.txt"),
        "nexis.docx": write_nexis_docx(folder / "nexis.docx"),
        "nexis.rtf": folder / "nexis.rtf",
        "uni.docx": write_docx(folder / "uni.docx", nexis_uni_lines()),
        "uni.rtf": folder / "uni.rtf",
        "factiva.rtf": folder / "factiva.rtf",
        "factiva-indexed.html": folder / "factiva-indexed.html",
        "factiva-plain.htm": folder / "factiva-plain.htm",
    }
    paths["nexis.rtf"].write_text(rtf(nexis_lines(text_file=False)))
    paths["uni.rtf"].write_text(rtf(nexis_uni_lines()))
    paths["factiva.rtf"].write_text(factiva_rtf())
    paths["factiva-indexed.html"].write_text(factiva_html_indexed(), encoding="utf-8")
    paths["factiva-plain.htm"].write_text(factiva_html_plain(), encoding="utf-8")
    return paths


# --- every layout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nexis.txt", "nexis.docx", "nexis.rtf", "uni.docx", "uni.rtf", "factiva.rtf",
                                  "factiva-indexed.html", "factiva-plain.htm"])
def test_every_layout_gives_the_articles_with_headline_outlet_date_and_body(tmp_path: Path, name: str) -> None:
    documents = read_file(exports(tmp_path)[name])
    assert [d.title for d in documents] == HEADLINES
    assert [d.source for d in documents] == OUTLETS
    assert [d.date for d in documents] == DATES
    assert [d.text for d in documents] == BODIES
    assert [d.kind for d in documents] == ["media"] * 3
    assert [d.language for d in documents] == ["en"] * 3
    assert [d.original_name for d in documents] == [f"{name}#article{n}" for n in (1, 2, 3)]
    assert [d.metadata["article"] for d in documents] == ["1 of 3", "2 of 3", "3 of 3"]
    assert [d.metadata["export_file"] for d in documents] == [name] * 3
    assert [d.metadata["word_count"] for d in documents] == [71, 75, 44]
    for document in documents:
        # Cover pages, search summaries, fields and notices are not article text.
        for outside in ("Download Request", "Search Summary", "Results Found", "Copyright", "(c)", "Rights Reserved",
                        "LENGTH", "Length", "BYLINE", "Document ", "End of Document", "words", "ENGLISH"):
            assert outside not in document.text


def test_nexis_text_export_fields(tmp_path: Path) -> None:
    documents = read_file(write_nexis_txt(tmp_path / "export.txt"))
    assert documents[0].metadata == {
        "export_file": "export.txt", "export_format": "Nexis", "article": "1 of 3", "language_as_written": "ENGLISH",
        "byline": "Li Wen", "section": "MARKETS; Pg. 12", "word_count": 71, "load_date": "2015-03-02",
        "publication_type": "Newspaper", "copyright": "Copyright 2015 Mining Weekly Review All Rights Reserved",
    }
    assert documents[1].metadata["edition"] == "Final Edition"
    assert "byline" not in documents[1].metadata
    assert documents[2].metadata["byline"] == "Aruzhan Bekova"


def test_nexis_text_paragraphs_are_unwrapped_and_separated_by_blank_lines(tmp_path: Path) -> None:
    path = write_nexis_txt(tmp_path / "export.txt")
    assert b"Separation plants around Baotou have cut their output of neodymium oxide by a\r\nfifth since" \
        in path.read_bytes()
    goias = read_file(path)[1]
    assert goias.text.split("\n\n") == list(GOIAS.paragraphs)
    # The headline was wrapped at "rare-" / "earth" and is one line again.
    assert goias.title == HEADLINES[1]


def test_nexis_uni_fields(tmp_path: Path) -> None:
    documents = read_file(write_docx(tmp_path / "uni.docx", nexis_uni_lines()))
    assert documents[0].metadata == {
        "export_file": "uni.docx", "export_format": "Nexis Uni", "article": "1 of 3", "language_as_written": "ENGLISH",
        "section": "MARKETS; Pg. 12; Version:2", "word_count": 71, "byline": "Li Wen",
        "copyright": "Copyright 2015 Mining Weekly Review", "publication_type": "Newspaper",
        "subject": "RARE EARTHS (91%); MINING (88%)", "load_date": "2015-03-02",
    }


def test_nexis_uni_cover_lines_that_read_as_fields_are_not_taken_for_the_first_article(tmp_path: Path) -> None:
    lines = [line.replace("Search Terms: ", "Search Terms:\u00a0") for line in nexis_uni_lines()]
    assert "Search Terms:\u00a0rare earth quota" in lines
    documents = read_file(write_docx(tmp_path / "uni.docx", lines))
    assert [d.title for d in documents] == HEADLINES
    assert "search_terms" not in documents[0].metadata


def test_factiva_indexed_html_fields(tmp_path: Path) -> None:
    path = tmp_path / "factiva.html"
    path.write_text(factiva_html_indexed(), encoding="utf-8")
    documents = read_file(path)
    assert documents[0].metadata == {
        "export_file": "factiva.html", "export_format": "Factiva", "article": "1 of 3", "language_as_written": "English",
        "section": "Markets", "byline": "By Li Wen", "word_count": 71, "time": "09:30", "source_code": "MWKREV",
        "copyright": "(c) 2015 Mining Weekly Review", "document_id": "MWKREV0020150301eb3100001",
        "subjects": "gcat : Political/General News | mnonfr : Non-ferrous Metals",
        "regions": "china : China | asiaz : Asia",
    }
    assert [d.metadata["document_id"] for d in documents] == [a.document_id for a in ARTICLES]


def test_factiva_rtf_fields_and_section_above_the_bold_headline(tmp_path: Path) -> None:
    path = tmp_path / "factiva.rtf"
    path.write_text(factiva_rtf())
    documents = read_file(path)
    assert documents[0].metadata == {
        "export_file": "factiva.rtf", "export_format": "Factiva", "article": "1 of 3", "language_as_written": "English",
        "word_count": 71, "byline": "By Li Wen", "section": "Markets", "document_id": "MWKREV0020150301eb3100001",
        "time": "09:30", "source_code": "MWKREV", "copyright": "(c) 2015 Mining Weekly Review",
    }
    assert [d.metadata["section"] for d in documents] == ["Markets", "Region", "Industry"]


def test_factiva_rtf_with_a_search_summary_before_the_articles(tmp_path: Path) -> None:
    lines, bold = factiva_lines()
    summary = ["Search Summary", "Text | rare earth* and quota*", "Results Found | 3", ""]
    path = tmp_path / "factiva.rtf"
    path.write_text(rtf(summary + lines, {index + len(summary) for index in bold} | {0}))
    documents = read_file(path)
    assert [d.title for d in documents] == HEADLINES
    assert documents[0].metadata["section"] == "Markets"
    assert [d.text for d in documents] == BODIES


def test_factiva_page_number_and_edition(tmp_path: Path) -> None:
    lines = ["Rare-earth quota cut", "58 words", "3 March 2015", "Mining Weekly Review", "MWKREV", "Late Edition",
             "12", "English", "(c) 2015 Mining Weekly Review", "Beijing lowered the quota.",
             "Document MWKREV0020150303eb3300001"]
    path = tmp_path / "one.rtf"
    path.write_text(rtf(lines, {0}))
    [document] = read_file(path)
    assert document.metadata["edition"] == "Late Edition"
    assert document.metadata["page"] == "12"
    assert document.metadata["word_count"] == 58
    assert document.text == "Beijing lowered the quota."


def test_factiva_rtf_without_bold_takes_the_line_above_the_byline_as_headline(tmp_path: Path) -> None:
    lines = ["Markets", "Quota cut", "By Li Wen", "5 words", "1 March 2015", "Mining Weekly Review", "MWKREV",
             "English", "(c) 2015 Mining Weekly Review", "Beijing lowered the quota.",
             "Document MWKREV0020150301eb3100001"]
    path = tmp_path / "plain.rtf"
    path.write_text(rtf(lines))
    [document] = read_file(path)
    assert (document.title, document.metadata["byline"], document.metadata["section"]) == (
        "Quota cut", "By Li Wen", "Markets")
    assert document.text == "Beijing lowered the quota."


def test_nexis_article_without_fields(tmp_path: Path) -> None:
    lines = ["1 of 1 DOCUMENT", "", "Mining Weekly Review", "", "March 1, 2015 Sunday", "", "Quota cut", "",
             "Beijing lowered the quota.", "", "Buyers were told."]
    path = tmp_path / "bare.txt"
    path.write_text("\n".join(lines))
    [document] = read_file(path)
    assert (document.title, document.source, document.date) == ("Quota cut", "Mining Weekly Review", "2015-03-01")
    assert document.text == "Beijing lowered the quota.\n\nBuyers were told."


def test_nexis_article_without_a_date_line(tmp_path: Path) -> None:
    lines = ["1 of 1 DOCUMENT", "", "Mining Weekly Review", "", "Quota cut", "", "LENGTH: 4 words", "",
             "Beijing lowered the quota.", ""]
    path = tmp_path / "undated.txt"
    path.write_text("\n".join(lines))
    [document] = read_file(path)
    assert (document.title, document.source, document.date) == ("Quota cut", "Mining Weekly Review", None)
    assert "date_as_written" not in document.metadata


def test_nexis_word_export_without_blank_paragraphs(tmp_path: Path) -> None:
    lines = [line for line in nexis_lines((GOIAS,), text_file=False) if line]
    [document] = read_file(write_docx(tmp_path / "dense.docx", lines))
    assert (document.title, document.source, document.date) == (HEADLINES[1], OUTLETS[1], DATES[1])
    assert document.metadata["edition"] == "Final Edition"
    assert document.text == BODIES[1]


def test_a_field_named_like_a_document_field_keeps_its_value_under_another_key(tmp_path: Path) -> None:
    lines = ["1 of 1 DOCUMENT", "", "Mining Weekly Review", "", "March 1, 2015", "", "Quota cut", "",
             "LENGTH: 4 words", "", "SOURCE: Xinhua wire", "", "Beijing lowered the quota.", ""]
    path = tmp_path / "wire.txt"
    path.write_text("\n".join(lines))
    [document] = read_file(path)
    assert document.source == "Mining Weekly Review"
    assert document.metadata["source_as_written"] == "Xinhua wire"
    assert "source" not in document.metadata


def test_nexis_export_in_german(tmp_path: Path) -> None:
    lines = ["Dokument 1 von 1", "", "Bergbau-Rundschau", "", "1. März 2015 Sonntag", "", "Quoten gekürzt", "",
             "AUTOR: Jonas Weber", "", "RUBRIK: WIRTSCHAFT", "", "LÄNGE: 4 Wörter", "", "Peking senkt die Quote.", "",
             "SPRACHE: GERMAN", ""]
    path = tmp_path / "deutsch.txt"
    path.write_text("\n".join(lines))
    [document] = read_file(path)
    assert (document.title, document.source, document.date, document.language) == (
        "Quoten gekürzt", "Bergbau-Rundschau", "2015-03-01", "de")
    assert {key: document.metadata[key] for key in ("byline", "section", "word_count", "article")} == {
        "byline": "Jonas Weber", "section": "WIRTSCHAFT", "word_count": 4, "article": "1 of 1"}
    assert document.text == "Peking senkt die Quote."


# --- dates ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "iso"), [
    ("March 1, 2015 Sunday", "2015-03-01"),
    ("Sunday, March 1, 2015", "2015-03-01"),
    ("1 March 2015", "2015-03-01"),
    ("01 Mar 2015", "2015-03-01"),
    ("2015-03-01", "2015-03-01"),
    ("July 1, 2019 Monday 9:20 AM GMT", "2019-07-01"),
    ("Friday, 5. July 2019 09:31:00 CEST", "2019-07-05"),
    ("Sept. 3, 2014", "2014-09-03"),
    ("1 de março de 2015", "2015-03-01"),
    ("1 марта 2015 г.", "2015-03-01"),
    ("29 décembre 2011", "2011-12-29"),
])
def test_news_dates(written: str, iso: str) -> None:
    assert parse_news_date(written) == iso
    assert looks_like_date_line(written)


@pytest.mark.parametrize("written", ["March 2015", "Spring 2015", "February 30, 2015"])
def test_dates_without_a_day_or_that_do_not_exist_are_date_lines_without_a_date(written: str) -> None:
    assert parse_news_date(written) is None
    assert looks_like_date_line(written)


@pytest.mark.parametrize("written", ["Beijing cut quotas on March 1, 2015 again", "Mining Weekly Review", "2015"])
def test_other_lines_are_not_dates(written: str) -> None:
    assert parse_news_date(written) is None
    assert not looks_like_date_line(written)


def test_an_unparseable_date_is_kept_as_written_and_the_import_goes_on(tmp_path: Path) -> None:
    spring = Article(outlet="Rare Metals Quarterly", date="Spring 2015", headline="Magnets without dysprosium",
                     paragraphs=(("Engineers in Hitachi and Munich report progress on magnets that need less "
                                 "dysprosium."),))
    [document] = read_file(write_nexis_txt(tmp_path / "quarterly.txt", (spring,)))
    assert document.date is None
    assert document.metadata["date_as_written"] == "Spring 2015"
    assert document.title == "Magnets without dysprosium"
    assert document.source == "Rare Metals Quarterly"


# --- what is not article text ---------------------------------------------------------------------------


def test_a_copyright_notice_in_the_header_is_left_out(tmp_path: Path) -> None:
    lines = ["1 of 1 DOCUMENT", "", "Mining Weekly Review", "", "March 1, 2015 Sunday", "",
             "Copyright 2015 Mining Weekly Review", "All Rights Reserved", "", "Quota cut", "",
             "LENGTH: 5 words", "", "Beijing lowered the quota.", "", "LANGUAGE: ENGLISH", ""]
    path = tmp_path / "one.txt"
    path.write_text("\n".join(lines))
    [document] = read_file(path)
    assert document.title == "Quota cut"
    assert document.text == "Beijing lowered the quota."
    assert document.metadata["copyright"] == "Copyright 2015 Mining Weekly Review; All Rights Reserved"


def test_a_body_paragraph_about_copyright_is_kept(tmp_path: Path) -> None:
    text = "Copyright law does not protect the ore grades published by the ministry."
    article = Article(outlet="Mining Weekly Review", date="March 1, 2015", headline="Data rules",
                      paragraphs=(text, "The ministry said so."))
    [document] = read_file(write_nexis_txt(tmp_path / "one.txt", (article,)))
    assert document.text == f"{text}\n\nThe ministry said so."


def test_an_export_of_some_articles_keeps_their_numbers(tmp_path: Path) -> None:
    path = write_nexis_txt(tmp_path / "part.txt", (GOIAS, STEPNOGORSK), total=120, first=101)
    assert [d.metadata["article"] for d in read_file(path)] == ["101 of 120", "102 of 120"]


def test_an_article_without_text_is_skipped_and_reported(db_url: str, tmp_path: Path) -> None:
    picture = Article(outlet="Mining Weekly Review", date="March 1, 2015", headline="Photo: the Bayan Obo pit",
                      paragraphs=())
    path = write_nexis_txt(tmp_path / "with-picture.txt", (BAOTOU, picture, STEPNOGORSK))
    report = _import(db_url, [path])
    assert [row["title"] for row in report.imported] == [HEADLINES[0], HEADLINES[2]]
    assert report.skipped == [{"file": "with-picture.txt#article2",
                               "reason": "article 2 of 3 has no text (only a headline, a picture or a table)"}]


def test_an_export_without_articles_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n".join([*nexis_lines(cover=True)[:15], "1 of 1 DOCUMENT", "", "Mining Weekly Review", "",
                               "March 1, 2015", "", "Photo: the Bayan Obo pit", "", "LENGTH: 0 words", ""]))
    with pytest.raises(DocumentImportError, match=r"empty.txt is laid out as a Nexis export but holds 1 "
                                                  r"article\(s\), none with text"):
        read_file(path)
    factiva = tmp_path / "empty.html"
    # An article div with only its document id (the line that tells a Factiva page from another site's).
    factiva.write_text(factiva_html_indexed(()).replace(
        "<div id=\"contentLeft\">",
        "<div id=\"contentLeft\"><div class=\"article enArticle\"><table><tr><td class=\"index\"><b>AN</b></td>"
        "<td><br/>Document MWKREV0020150301eb3100001</td></tr></table></div>"))
    with pytest.raises(DocumentImportError, match="empty.html is laid out as a Factiva export but holds 1"):
        read_file(factiva)


# --- telling exports from ordinary files --------------------------------------------------------------------


def test_ordinary_files_go_to_their_own_readers(tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("Field notes, Baotou, 1 of 3 visits.\n\n12 words\nMarch 1, 2015\n")
    [document] = read_file(plain)
    assert document.text == "Field notes, Baotou, 1 of 3 visits.\n\n12 words\nMarch 1, 2015\n"
    assert document.kind is None
    word = tmp_path / "memo.docx"
    word_document = docx.Document()
    word_document.add_paragraph("Memo on the Stepnogorsk visit.")
    word_document.save(str(word))
    [document] = read_file(word)
    assert document.text == "Memo on the Stepnogorsk visit."
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>Rare earths</title></head><body><article><p>A page about rare earths in "
                    "Goiás, where a pilot plant separates neodymium oxide for magnets.</p></article></body></html>",
                    encoding="utf-8")
    [document] = read_file(page)  # the web-page reader's: main text, no article fields
    assert document.text == "A page about rare earths in Goiás, where a pilot plant separates neodymium oxide for magnets."
    assert (document.kind, document.title) == (None, "Rare earths")


@pytest.mark.parametrize(("name", "content", "news_format"), [
    ("plain.txt", "An interview about export quotas.\n", "nexis"),
    ("plain.txt", "An interview about export quotas.\n", "factiva"),
    ("plain.rtf", r"{\rtf1\ansi An interview about export quotas.\par}", "nexis"),
    ("plain.html", "<html><body><p>An interview.</p></body></html>", "factiva"),
])
def test_a_forced_format_on_another_file_is_an_error(tmp_path: Path, name: str, content: str,
                                                      news_format: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    expected = {"nexis": "is not laid out as a Nexis export", "factiva": "is not laid out as a Factiva export"}
    with pytest.raises(DocumentImportError, match=f"{name} {expected[news_format]}"):
        read_file(path, news_format=news_format)


def test_a_forced_format_on_a_docx_that_is_not_an_export(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "memo.docx", ["Memo on the Stepnogorsk visit."])
    with pytest.raises(DocumentImportError, match="memo.docx is not laid out as a Nexis export"):
        read_file(path, news_format="nexis")


def test_a_forced_format_for_a_suffix_it_never_has(tmp_path: Path) -> None:
    path = tmp_path / "export.html"
    path.write_text(factiva_html_indexed(), encoding="utf-8")
    with pytest.raises(DocumentImportError, match=r"export.html cannot be read as a Nexis export: those are read "
                                                  r"from \.txt, \.docx, \.rtf files"):
        read_file(path, news_format="nexis")
    with pytest.raises(DocumentImportError, match="unknown news format 'lexis'"):
        read_file(path, news_format="lexis")


def test_forced_formats_read_their_exports(tmp_path: Path) -> None:
    paths = exports(tmp_path)
    assert len(read_file(paths["nexis.txt"], news_format="nexis")) == 3
    assert len(read_file(paths["factiva.rtf"], news_format="factiva")) == 3
    assert len(read_file(paths["factiva-indexed.html"], news_format="factiva")) == 3
    with pytest.raises(DocumentImportError, match="nexis.txt is not laid out as a Factiva export"):
        read_file(paths["nexis.txt"], news_format="factiva")


def test_a_damaged_rtf_export_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.rtf"
    path.write_text(factiva_rtf()[:-400])
    with pytest.raises(DocumentImportError, match="cut.rtf cannot be read as an RTF document: it ends before its "
                                                  "groups close"):
        read_file(path)


def test_an_export_above_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    paths = exports(tmp_path)
    limits = ReadLimits(max_bytes=2_000)
    for name in ("nexis.txt", "nexis.docx", "factiva.rtf", "factiva-indexed.html"):
        with pytest.raises(DocumentImportError, match=f"{name} is .* documents above 2,000 bytes are refused"):
            read_file(paths[name], limits=limits)


def test_the_cli_offers_the_formats_the_readers_know() -> None:
    from gripcode.cli.imports import import_

    [option] = [param for param in import_.params if param.name == "news_format"]
    assert tuple(option.type.choices) == NEWS_FORMATS


# --- through the importer -----------------------------------------------------------------------------------


def _import(db_url: str, paths: list[Path], **options: object):
    engine = make_engine(db_url)
    init_database(engine)
    try:
        with transaction(engine) as session:
            return import_items(session, [ImportItem(path, ImportOptions()) for path in paths], actor="tester",
                                jobs=0, **options)
    finally:
        engine.dispose()


def test_the_same_articles_in_two_exports_are_imported_once(db_url: str, tmp_path: Path) -> None:
    paths = exports(tmp_path)
    report = _import(db_url, [paths["nexis.txt"], paths["nexis.docx"], paths["factiva-indexed.html"]])
    assert [row["file"] for row in report.imported] == [f"nexis.txt#article{n}" for n in (1, 2, 3)]
    assert [row["file"] for row in report.skipped] == [
        *(f"nexis.docx#article{n}" for n in (1, 2, 3)), *(f"factiva-indexed.html#article{n}" for n in (1, 2, 3))]
    assert report.skipped[0]["reason"] == f"same text as {HEADLINES[0]!r}"
    engine = make_engine(db_url)
    with transaction(engine, write=False) as session:
        rows = session.execute(select(Document.title, Document.kind, Document.source, Document.date,
                                      Document.original_name).order_by(Document.id)).all()
    engine.dispose()
    assert [(r.title, r.kind, r.source, r.date.isoformat(), r.original_name) for r in rows] == [
        (HEADLINES[n], "media", OUTLETS[n], DATES[n], f"nexis.txt#article{n + 1}") for n in range(3)]


def test_paragraphs_of_an_article_become_paragraph_units(db_url: str, tmp_path: Path) -> None:
    report = _import(db_url, [write_nexis_txt(tmp_path / "export.txt")])
    engine = make_engine(db_url)
    with engine.connect() as conn:
        from sqlalchemy import text

        rows = conn.execute(text("SELECT d.text, u.start, u.\"end\" FROM units u JOIN documents d ON d.id = "
                                 "u.document_id WHERE u.kind = 'paragraph' AND d.id = :id ORDER BY u.seq"),
                            {"id": report.imported[1]["id"]}).all()
    engine.dispose()
    assert [row.text[row.start:row.end] for row in rows] == list(GOIAS.paragraphs)


def test_the_sample_corpus_export_is_four_importer_articles() -> None:
    [item] = [item for item in read_manifest(REPO / "corpus" / "manifest.csv") if item.path.suffix == ".txt"
              and "nexis" in item.path.name]
    assert item.options.case == "Japan-EU importers"
    documents = read_file(item.path)
    assert [d.source for d in documents] == ["Eurasia Metals Bulletin", "Latin Mining Journal",
                                             "Circular Industry News", "Mining Weekly Review"]
    assert [d.date for d in documents] == ["2011-06-14", "2013-09-03", "2015-03-01", "2016-11-21"]
    for document in documents:
        assert "Download Request" not in document.text and "Copyright" not in document.text


# --- the installed program ----------------------------------------------------------------------------------


def _program(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROGRAM), "--db", f"sqlite:///{db}", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_program_imports_an_export_as_media_documents(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    assert _program(db, "init").returncode == 0
    export = write_nexis_txt(tmp_path / "export.txt")
    result = _program(db, "import", str(export), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [row["title"] for row in report["imported"]] == HEADLINES
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT kind, source, date, metadata FROM documents ORDER BY id").fetchall()
    assert [(kind, source, date) for kind, source, date, _ in rows] == [
        ("media", OUTLETS[n], DATES[n]) for n in range(3)]
    assert [json.loads(meta)["article"] for *_, meta in rows] == ["1 of 3", "2 of 3", "3 of 3"]
    again = _program(db, "import", str(write_nexis_docx(tmp_path / "export.docx")))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "0 document(s), 0 words, 0 units imported; 3 skipped"


def test_program_refuses_a_forced_format_on_a_plain_file(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    assert _program(db, "init").returncode == 0
    plain = tmp_path / "interview.txt"
    plain.write_text("Interviewer: How did the quotas change?\nR1: They fell.\n")
    result = _program(db, "import", str(plain), "--format", "nexis")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: interview.txt is not laid out as a Nexis export")
    assert "Traceback" not in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (0,)


def test_program_refuses_a_damaged_rtf(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    assert _program(db, "init").returncode == 0
    damaged = tmp_path / "export.rtf"
    damaged.write_text(factiva_rtf()[:-400])
    result = _program(db, "import", str(damaged))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: export.rtf cannot be read as an RTF document")
    assert "Traceback" not in result.stderr


# --- ordinary files that share words with an export ----------------------------------------------------------

INTERVIEW = ["Interview 4, Ministry of Industry, Astana", "", "Q: How were the quotas set?", "",
             "A: The council met twice a year and decided on the quotas for each mineral.", "", "Q: Who attended?", "",
             "A: Officials from the ministry, the agency and two firms.", "", "End of Document"]
INTERVIEW_TEXT = "\n\n".join(line for line in INTERVIEW if line)


@pytest.mark.parametrize("suffix", [".txt", ".docx", ".rtf"])
def test_an_ordinary_file_ending_with_end_of_document_is_an_ordinary_document(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"interview{suffix}"
    if suffix == ".txt":
        path.write_text("\n".join(INTERVIEW) + "\n")
    elif suffix == ".docx":
        write_docx(path, INTERVIEW)
    else:
        path.write_text(rtf(INTERVIEW))
    [document] = read_file(path)
    assert document.text.strip() == INTERVIEW_TEXT
    assert document.kind is None
    assert "export_format" not in document.metadata


@pytest.mark.parametrize("lines", [
    ["Memo on the Baotou visit", "End of Document"],
    ["Field notes", "", "Length: 120 words", "", "The plant was closed.", "", "End of Document"],
    ["Field notes", "", "Body", "", "The plant was closed.", "", "End of Document"],
])
def test_end_of_document_without_the_articles_fields_and_body_line_is_not_nexis_uni(tmp_path: Path,
                                                                                    lines: list[str]) -> None:
    path = tmp_path / "memo.txt"
    path.write_text("\n".join(lines))
    [document] = read_file(path)
    assert document.text == "\n".join(lines)
    assert document.kind is None


def test_format_plain_reads_an_export_as_an_ordinary_file(tmp_path: Path) -> None:
    paths = exports(tmp_path)
    [document] = read_file(paths["nexis.txt"], news_format="plain")
    assert document.title == "nexis"
    assert document.kind is None
    assert document.text.lstrip().startswith("Download Request: Selected Items: 1-3")
    assert "1 of 3 DOCUMENTS" in document.text
    for name in ("nexis.docx", "uni.docx", "nexis.rtf", "factiva.rtf"):
        [document] = read_file(paths[name], news_format="plain")
        assert document.kind is None, name
        assert "End of Document" in document.text or "DOCUMENTS" in document.text or "Document " in document.text
    [page] = read_file(paths["factiva-indexed.html"], news_format="plain")
    assert page.kind is None
    assert "export_format" not in page.metadata
    # Any suffix may be read plainly: it is what every other suffix gets anyway.
    markdown = tmp_path / "notes.md"
    markdown.write_text("Notes on the Goiás hearing.\n")
    assert read_file(markdown, news_format="plain")[0].text == "Notes on the Goiás hearing.\n"


def test_program_imports_an_ordinary_file_ending_with_end_of_document(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    assert _program(db, "init").returncode == 0
    path = tmp_path / "interview.txt"
    path.write_text("\n".join(INTERVIEW) + "\n")
    result = _program(db, "import", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert [row["title"] for row in json.loads(result.stdout)["imported"]] == ["interview"]


def test_program_format_plain_imports_an_export_as_one_document(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    assert _program(db, "init").returncode == 0
    export = write_nexis_txt(tmp_path / "export.txt")
    result = _program(db, "import", str(export), "--format", "plain", "--json")
    assert result.returncode == 0, result.stderr
    assert [row["title"] for row in json.loads(result.stdout)["imported"]] == ["export"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT kind FROM documents").fetchall() == [("other",)]
    usage = _program(db, "import", "files", "--help")
    assert "[auto|nexis|factiva|plain]" in usage.stdout
    assert "plain reads every file as an ordinary document of its kind" in " ".join(usage.stdout.split())


# --- article text that reads like a field or a notice ---------------------------------------------------------

CODE_ARTICLE = Article(
    outlet="Steppe Business Review", date="March 3, 2015 Tuesday",
    headline="New mining code sets three conditions for export licences", byline="Aruzhan Bekova",
    section="POLICY", copyright="Copyright 2015 Steppe Business Review", code="STEPBR",
    document_id="STEPBR0020150303eb3300001",
    paragraphs=(
        "The new code lists three conditions that an exporter of rare-earth concentrate must meet:",
        "(a) a licence for the deposit issued by the ministry;",
        "(b) a contract with a buyer registered in the country;",
        "(c) proof that the tailings are stored in a lined facility.",
        "UPDATE: This article was corrected on March 4 to give the right number of conditions.",
        "COUNTRY: Kazakhstan is the first in the region to set such conditions, an official said.",
        "LANGUAGE: Kazakh and Russian versions of the code will be published together, the ministry said.",
        "SOURCE: the ministry said the code will be published next week, and firms will have six months to comply.",
        "Copyright 2014 rules on mining data were repealed by the same code, officials said.",
    ),
)


def _code_article_exports(folder: Path) -> dict[str, Path]:
    lines, bold = factiva_lines((CODE_ARTICLE,))
    paths = {
        "nexis.txt": write_nexis_txt(folder / "nexis.txt", (CODE_ARTICLE,)),
        "nexis.docx": write_nexis_docx(folder / "nexis.docx", (CODE_ARTICLE,)),
        "uni.docx": write_docx(folder / "uni.docx", nexis_uni_lines((CODE_ARTICLE,))),
        "factiva.rtf": folder / "factiva.rtf",
        "factiva-plain.htm": folder / "factiva-plain.htm",
        "factiva-indexed.html": folder / "factiva-indexed.html",
    }
    paths["factiva.rtf"].write_text(rtf(lines, bold))
    paths["factiva-plain.htm"].write_text(factiva_html_plain((CODE_ARTICLE,)), encoding="utf-8")
    paths["factiva-indexed.html"].write_text(factiva_html_indexed((CODE_ARTICLE,)), encoding="utf-8")
    return paths


@pytest.mark.parametrize(("name", "notice"), [
    ("nexis.txt", "Copyright 2015 Steppe Business Review All Rights Reserved"),
    ("nexis.docx", "Copyright 2015 Steppe Business Review; All Rights Reserved"),
    ("uni.docx", "Copyright 2015 Steppe Business Review"),
    ("factiva.rtf", "(c) 2015 Steppe Business Review"),
    ("factiva-plain.htm", "(c) 2015 Steppe Business Review"),
    ("factiva-indexed.html", "(c) 2015 Steppe Business Review"),
])
def test_list_items_and_paragraphs_that_start_like_fields_or_notices_stay_in_the_text(
        tmp_path: Path, name: str, notice: str) -> None:
    [document] = read_file(_code_article_exports(tmp_path)[name])
    assert document.text.split("\n\n") == list(CODE_ARTICLE.paragraphs)
    assert document.title == CODE_ARTICLE.headline
    assert document.metadata["copyright"] == notice
    for key in ("update", "country", "source_as_written", "language"):
        assert key not in document.metadata
    assert document.language == "en"


@pytest.mark.parametrize("dense", [False, True])
def test_a_headline_that_starts_like_a_field_stays_the_headline(tmp_path: Path, dense: bool) -> None:
    import dataclasses

    articles = tuple(dataclasses.replace(article, headline=f"UPDATE: {article.headline}")
                     for article in (BAOTOU, GOIAS))
    if dense:
        path = write_docx(tmp_path / "dense.docx", [line for line in nexis_lines(articles, text_file=False) if line])
    else:
        path = write_nexis_txt(tmp_path / "update.txt", articles)
    documents = read_file(path)
    assert [d.title for d in documents] == [f"UPDATE: {HEADLINES[0]}", f"UPDATE: {HEADLINES[1]}"]
    assert [d.text for d in documents] == BODIES[:2]
    assert documents[1].metadata["edition"] == "Final Edition"
    assert "update" not in documents[0].metadata and "update" not in documents[1].metadata


def test_fields_before_the_first_paragraph_are_still_fields(tmp_path: Path) -> None:
    lines = ["1 of 1 DOCUMENT", "", "Mining Weekly Review", "", "March 1, 2015", "", "Quota cut", "",
             "BYLINE: Li Wen", "", "UPDATE: March 2, 2015", "", "LENGTH: 4 words", "", "DATELINE: BEIJING", "",
             "Beijing lowered the quota.", "", "GRAPHIC: Trucks at the Bayan Obo pit", "", "LOAD-DATE: March 3, 2015",
             "", "LANGUAGE: ENGLISH", "", "Copyright 2015 Mining Weekly Review", ""]
    path = tmp_path / "fields.txt"
    path.write_text("\n".join(lines))
    [document] = read_file(path)
    assert document.text == "Beijing lowered the quota."
    assert {key: document.metadata.get(key) for key in ("update", "dateline", "graphic", "load_date", "copyright")} == {
        "update": "March 2, 2015", "dateline": "BEIJING", "graphic": "Trucks at the Bayan Obo pit",
        "load_date": "2015-03-03", "copyright": "Copyright 2015 Mining Weekly Review"}


@pytest.mark.parametrize(("text", "notice"), [
    ("Copyright 2015 Mining Weekly Review", True),
    ("Copyright © 2015 Cerrado Dispatch", True),
    ("(c) 2015 Mining Weekly Review", True),
    ("© 2015 Steppe Business Review", True),
    ("Copyright Mining Weekly Review. All rights reserved.", True),
    ("All Rights Reserved", True),
    ("(c) proof that the tailings are stored in a lined facility.", False),
    ("(c) Mining Weekly Review", False),
    ("Copyright law does not protect the ore grades published by the ministry.", False),
])
def test_what_reads_as_a_rights_notice(text: str, notice: bool) -> None:
    from gripcode.corpus.readers.news_article import is_rights_notice

    assert is_rights_notice(text) is notice


# --- values out of range ------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["March 99999999999999999999, 2015", "March ², 2015", "² March 2015",
                                     "March 1, ２０１５", "2015-99-99", "2015-٠٣-٠١", "99999999999999999 March 2015"])
def test_a_date_line_with_a_number_out_of_range_has_no_date(written: str) -> None:
    assert parse_news_date(written) is None


@pytest.mark.parametrize("written", ["March 99999999999999999999, 2015", "March ², 2015"])
def test_an_export_with_a_date_out_of_range_keeps_it_as_written(tmp_path: Path, written: str) -> None:
    import dataclasses

    db = tmp_path / "p.db"
    assert _program(db, "init").returncode == 0
    export = write_nexis_txt(tmp_path / "export.txt", (dataclasses.replace(BAOTOU, date=written),))
    result = _program(db, "import", str(export))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        [(title, date, meta)] = conn.execute("SELECT title, date, metadata FROM documents").fetchall()
    assert (title, date, json.loads(meta)["date_as_written"]) == (HEADLINES[0], None, written)


def test_a_word_count_too_long_for_a_number_is_kept_as_written(tmp_path: Path) -> None:
    lines = ["1 of 1 DOCUMENT", "", "Mining Weekly Review", "", "March 1, 2015", "", "Quota cut", "",
             f"LENGTH: {'9' * 5000} words", "", "Beijing lowered the quota.", ""]
    path = tmp_path / "count.txt"
    path.write_text("\n".join(lines))
    [document] = read_file(path)
    assert document.metadata["word_count"] == f"{'9' * 5000} words"
