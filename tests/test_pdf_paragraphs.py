"""Paragraphs of typeset PDFs: rebuilt from the layout, with running headers, page numbers and columns."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import pypdfium2
import pytest
from conftest import PROGRAM
from typeset import Typeset, breaking_at, plain

from gripcode.corpus.pdf_layout import Fragment, Page, lay_out
from gripcode.corpus.readers import read_file

HEADER = "Ministry of Mines and Energy - Strategic Minerals Note"
SHORT_PAGE = 150.0  # mm: pages of about twenty lines, so that paragraphs run on to the next page

LICENSING = (
    "Licences for strategic minerals are granted by the federal agency after a review of the deposit, the "
    "processing plan and the buyer of the concentrate. Applicants who hold rare earths in tailings of older "
    "tin and niobium operations may apply for a simplified licence, which the agency issues within ninety days "
    "when the environmental authority of the state raises no objection. The review looks at the share of heavy "
    "elements in the ore, since dysprosium and terbium fetch the highest prices, and at whether the "
    "concentrate will be separated in the country or shipped abroad for refining."
)
PRICES = (
    "Prices of neodymium oxide fell for most of the decade, and several projects in Goiás and Minas Gerais "
    "waited for a buyer who would commit to a long contract. The agency keeps a register of those contracts."
)
JOINT_VENTURES = (
    "Joint ventures with foreign partners need the approval of the council for strategic minerals, which "
    "weighs the transfer of separation know-how against the risk that the concentrate leaves the country "
    "unprocessed. Partners from Japan and Korea have offered long contracts in exchange for a share of output."
)


def settings(**extra: object) -> dict[str, object]:
    return {"height": SHORT_PAGE, "header": HEADER, "page_numbers": True, **extra}


def set_blocks(blocks: list[tuple[str, str]], title: str | None = None, **extra: object) -> Typeset:
    """``blocks`` (("h", heading) or ("p", paragraph)) set on pages of a height at which a paragraph runs on
    to the next page or column."""
    for height in range(140, 200, 3):
        typeset = Typeset(**settings(height=float(height), **extra))  # type: ignore[arg-type]
        if title:
            typeset.title(title)
        for kind, text in blocks:
            (typeset.heading if kind == "h" else typeset.paragraph)(text)
        if any(len({(page, column) for index, page, column, _ in typeset.placed if index == block}) > 1
               and kind == "p" for block, (kind, _) in enumerate(blocks)):
            return typeset
    raise AssertionError("no page height makes a paragraph run on")


def resolved(text: str) -> str:
    """A fixture paragraph as it should be read: words rejoined where the typesetter broke them, compounds
    with their hyphens (see ``hyphenation_paragraphs``)."""
    return plain(text.replace("co-|operation", "cooperation"))


def hyphenation_paragraphs(**extra: object) -> list[str]:
    """Paragraphs whose lines end in hyphens: a word broken by the typesetter, compounds that keep theirs."""
    return [
        breaking_at("In {filler} the state bank financed the indus|trialisation of the mining district.",
                    "indus-", **settings(**extra)),
        breaking_at("Along {filler} a rare-|earth separation line was built beside the old tin smelter.",
                    "rare-", **settings(**extra)),
        "The rare-earth plan of the agency names heavy elements first.",
        breaking_at("By {filler} the firms had signed a co-|operation agreement with the research institute.",
                    "co-", **settings(**extra)),
        "Cooperation with universities is part of every licence.",
        breaking_at("Within {filler} the plant sold its first export-|quota allocation to a trading house.",
                    "export-", **settings(**extra)),
        "Each export requires a quota, and the quota is published.",
        breaking_at("From {filler} the consortium was described as a Sino-|Brazilian venture in the press.",
                    "Sino-", **settings(**extra)),
    ]


def test_single_column_paragraphs_headings_running_header_and_page_numbers(tmp_path: Path) -> None:
    blocks = [("h", "1. Licensing of strategic minerals"), ("p", LICENSING), ("p", PRICES),
              ("h", "2. Joint ventures"), ("p", JOINT_VENTURES), ("p", LICENSING.replace("Licences", "Permits"))]
    blocks += [("p", text) for text in hyphenation_paragraphs()]
    typeset = set_blocks(blocks)
    path = typeset.save(tmp_path / "note.pdf")
    assert typeset.pages >= 3

    [document] = read_file(path)

    expected = [resolved(text) for _, text in blocks]
    assert document.text.split("\n\n") == expected
    assert "industrialisation" in expected[6] and "rare-earth" in expected[7]  # what plain() gives is the aim
    assert "cooperation agreement" in expected[9] and "export-quota" in expected[11]
    assert "Sino-Brazilian" in expected[13]
    assert HEADER not in document.text
    assert document.metadata["running_headers"] == [HEADER]
    assert document.metadata["page_labels"] == [str(n) for n in range(1, typeset.pages + 1)]
    assert "columns" not in document.metadata


def test_page_spans_follow_the_lines_of_each_page(tmp_path: Path) -> None:
    typeset = Typeset(**settings())  # type: ignore[arg-type]
    for text in (LICENSING, PRICES, JOINT_VENTURES, LICENSING):
        typeset.paragraph(text)
    [document] = read_file(typeset.save(tmp_path / "spans.pdf"))
    spans = document.metadata["pages"]
    assert len(spans) == typeset.pages
    for page in range(1, typeset.pages + 1):
        lines = [line for _, on_page, _, line in typeset.placed if on_page == page]
        start, end = spans[page - 1]
        page_text = document.text[start:end]
        first, last = lines[0].rstrip("-"), lines[-1].rstrip("-")
        assert page_text.startswith(first) or first.startswith(page_text[: len(first)])
        assert page_text.endswith(last) or last.endswith(page_text[-len(last):])
    assert spans[0][0] == 0 and spans[-1][1] == len(document.text)
    assert all(before[1] <= after[0] for before, after in itertools.pairwise(spans))


def test_two_columns_are_read_column_by_column_below_a_title_over_both(tmp_path: Path) -> None:
    blocks = [("h", "Licensing"), ("p", LICENSING), ("p", PRICES), ("h", "Partners"), ("p", JOINT_VENTURES),
              ("p", LICENSING.replace("Licences", "Permits")), ("p", PRICES.replace("Prices", "Costs"))]
    blocks += [("p", text) for text in hyphenation_paragraphs(columns=2, size=10.0)]
    typeset = set_blocks(blocks, title="Strategic minerals in Brazil: a briefing", columns=2, size=10.0)
    path = typeset.save(tmp_path / "briefing.pdf")
    columns_used = {(page, column) for _, page, column, _ in typeset.placed}
    assert (1, 1) in columns_used and typeset.pages >= 2

    [document] = read_file(path)

    expected = ["Strategic minerals in Brazil: a briefing", *(resolved(text) for _, text in blocks)]
    assert document.text.split("\n\n") == expected
    assert document.metadata["columns"] == [2] * typeset.pages
    assert document.metadata["running_headers"] == [HEADER]


def test_indented_paragraphs_without_space_between_them(tmp_path: Path) -> None:
    texts = [LICENSING, PRICES, JOINT_VENTURES, PRICES.replace("Prices", "Costs"), LICENSING]
    typeset = set_blocks([("p", text) for text in texts], paragraph_space=0.0, indent=8.0)
    [document] = read_file(typeset.save(tmp_path / "indented.pdf"))
    assert document.text.split("\n\n") == texts


def test_a_running_footer_is_left_out_and_kept_in_the_metadata(tmp_path: Path) -> None:
    texts = [LICENSING, JOINT_VENTURES, PRICES, LICENSING]
    typeset = set_blocks([("p", text) for text in texts], footer="Draft for discussion - not for citation")
    [document] = read_file(typeset.save(tmp_path / "draft.pdf"))
    assert document.text.split("\n\n") == texts
    assert document.metadata["running_footers"] == ["Draft for discussion - not for citation"]


def test_cyrillic_words_broken_at_a_line_end_are_rejoined(tmp_path: Path) -> None:
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
    if not font.exists():
        pytest.skip("the DejaVu fonts (Debian package fonts-dejavu-core) are not installed")
    first = breaking_at("Министерство {filler} одобрило план про|мышленного развития региона.", "про-",
                        unicode_font=str(font), height=SHORT_PAGE)
    second = "Совместное предприятие перерабатывает руду на месте."
    typeset = Typeset(unicode_font=str(font), height=SHORT_PAGE)
    typeset.paragraph(first)
    typeset.paragraph(second)
    [document] = read_file(typeset.save(tmp_path / "ru.pdf"))
    assert document.text.split("\n\n") == [plain(first), second]
    assert "промышленного" in document.text


def fragment(text: str, x0: float, baseline: float, size: float = 10.0, x1: float | None = None) -> Fragment:
    return Fragment(text, x0, x1 or x0 + 5.0 * len(text), baseline, size, first_word=5.0 * len(text.split()[0]))


def test_chinese_lines_are_joined_without_a_space() -> None:
    page = Page(width=600, height=800, fragments=[
        fragment("稀土开采总量控制指标由国家下达", 50, 100, x1=550),
        fragment("各省再分配给企业。", 50, 112),
    ])
    laid = lay_out([page])
    assert laid.paragraphs == ["稀土开采总量控制指标由国家下达各省再分配给企业。"]


def test_a_first_line_repeated_on_too_few_pages_is_text() -> None:
    def page(first: str, body: str) -> Page:
        return Page(600, 800, [fragment(first, 50, 60), fragment(body, 50, 100)])

    laid = lay_out([page("Annex on quotas", "Quotas were cut."), page("Annex on prices", "Prices rose."),
                    page("Annex on exports", "Exports fell.")])
    assert laid.headers == []
    assert laid.paragraphs[0] == "Annex on quotas"
    assert "Annex on exports" in laid.paragraphs


def test_three_columns() -> None:
    fragments = []
    for column, x0 in enumerate((40, 230, 420)):
        for line in range(8):
            fragments.append(fragment(f"col{column} line{line} " + "x" * 20, x0, 100 + 12 * line))
    laid = lay_out([Page(width=600, height=800, fragments=fragments)])
    assert laid.columns == [3]
    words = laid.text.split()
    assert [word for word in words if word.startswith("col")] == [
        f"col{column}" for column in range(3) for _ in range(8)]


def test_a_typeset_pdf_imports_through_the_program(tmp_path: Path) -> None:
    texts = [LICENSING, PRICES, JOINT_VENTURES, LICENSING.replace("Licences", "Permits")]
    typeset = set_blocks([("p", text) for text in texts])
    path = typeset.save(tmp_path / "note.pdf")
    pages = typeset.pages
    db = tmp_path / "p.db"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(PROGRAM), "--db", str(db), *args], capture_output=True, text=True,
                              timeout=120, check=False)

    assert run("init").returncode == 0
    imported = run("import", str(path))
    assert imported.returncode == 0, imported.stderr
    shown = run("show", "1")
    assert shown.returncode == 0, shown.stderr
    head, body = shown.stdout.split("\n\n", 1)
    assert body == "".join(f"[{n}] {text}\n\n" for n, text in enumerate(texts, 1))[:-1]
    assert head.splitlines()[2] == (f'# from note.pdf: {pages} pages; left out: running header "{HEADER}", '
                                    f"page numbers 1-{pages}")
    listed = json.loads(run("docs", "list", "--format", "json").stdout)
    assert [(row["file"], row["origin"]) for row in listed] == [("note.pdf", f"{pages} pages")]


def test_the_sample_corpus_briefing_reads_as_its_paragraphs() -> None:
    from sample_briefing import HEADER as BRIEFING_HEADER
    from sample_briefing import PATH, expected_paragraphs

    [document] = read_file(PATH)
    assert document.text.split("\n\n") == expected_paragraphs()
    assert document.metadata["running_headers"] == [BRIEFING_HEADER]
    assert document.metadata["page_labels"] == ["1", "2"]


@pytest.mark.parametrize(("first", "second", "elsewhere", "joined"), [
    ("the indus-", "trialisation of the north", "", "the industrialisation of the north"),
    ("a rare-", "earth plant", "The rare-earth market grew.", "a rare-earth plant"),
    ("a rare-", "earth plant", "Rare metals come out of the earth.", "a rare-earth plant"),
    ("a co-", "operation deal", "Cooperation is slow.", "a cooperation deal"),
    ("a co-", "operation deal", "Co-operation is slow.", "a co-operation deal"),
    ("a co-", "operation deal", "", "a cooperation deal"),
    ("an in-", "formation sheet", "Formation in the basin.", "an information sheet"),
    ("a Sino-", "Brazilian venture", "", "a Sino-Brazilian venture"),
    ("the 2010-", "2014 quotas", "", "the 2010-2014 quotas"),
    ("prices rose -", "and fell", "", "prices rose - and fell"),
])
def test_words_broken_at_a_line_end(first: str, second: str, elsewhere: str, joined: str) -> None:
    """A line-end hyphen is the typesetter's unless the document itself shows the compound (or its halves)."""
    fragments = [fragment(first, 50, 100, x1=550), fragment(second, 50, 112)]
    if elsewhere:
        fragments.append(fragment(elsewhere, 50, 140))
    laid = lay_out([Page(width=600, height=800, fragments=fragments)])
    assert laid.paragraphs[0] == joined


LATEX = r"""\documentclass[10pt,twocolumn]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage[a5paper,margin=15mm]{geometry}
\usepackage{fancyhdr}
\pagestyle{fancy}
\fancyhf{}
\fancyhead[L]{Strategic Minerals Review}
\fancyfoot[C]{\thepage}
\input{glyphtounicode}
\pdfgentounicode=1
\begin{document}
%s
\end{document}
"""

COMMUNITIES = (
    "Environmental licences for processing plants are issued by the state authorities, which consult the "
    "nuclear regulator whenever thorium or uranium occurs in the residues. Communities near the plants must be "
    "heard before a licence is granted, and their objections are recorded in the file of the project."
)


def test_a_pdf_typeset_by_latex_in_two_columns(tmp_path: Path) -> None:
    """TeX's own line breaking and hyphenation, its fonts and its two-column output routine."""
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (Debian packages texlive-latex-base, texlive-latex-recommended)")
    found = subprocess.run(["kpsewhich", "lmodern.sty", "fancyhdr.sty"], capture_output=True, text=True, check=False)
    if len(found.stdout.split()) < 2:
        pytest.skip("the LaTeX packages lmodern and fancyhdr are not installed (Debian packages lmodern, "
                    "texlive-latex-recommended)")
    blocks = [("h", "Licensing"), ("p", LICENSING), ("p", PRICES), ("p", COMMUNITIES), ("h", "Partners"),
              ("p", JOINT_VENTURES), ("p", LICENSING.replace("Licences", "Permits")), ("p", COMMUNITIES),
              ("h", "Outlook"), ("p", PRICES.replace("Prices", "Costs")), ("p", JOINT_VENTURES.replace(
                  "Joint ventures", "Partnerships")), ("p", LICENSING.replace("Licences for", "Rules on"))]
    body = "\n\n".join(f"\\section{{{text}}}" if kind == "h" else text for kind, text in blocks)
    (tmp_path / "review.tex").write_text(LATEX % body, encoding="utf-8")
    compiled = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "review.tex"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert compiled.returncode == 0, compiled.stdout[-2000:]
    pdf = pypdfium2.PdfDocument(tmp_path / "review.pdf")
    raw = "".join(page.get_textpage().get_text_range() for page in pdf)
    pdf.close()
    assert "\ufffe" in raw or "\x02" in raw, "TeX hyphenated no word at a line's end"

    [document] = read_file(tmp_path / "review.pdf")

    sections = iter(range(1, 10))
    expected = [f"{next(sections)} {text}" if kind == "h" else text for kind, text in blocks]
    assert document.text.split("\n\n") == expected
    pages = len(document.metadata["pages"])
    assert pages >= 2
    assert document.metadata["running_headers"] == ["Strategic Minerals Review"]
    assert document.metadata["page_labels"] == [str(n) for n in range(1, pages + 1)]
    assert document.metadata["columns"][0] == 2
