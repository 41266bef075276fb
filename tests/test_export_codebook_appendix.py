from __future__ import annotations

import csv
import re
import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from gripcode.codebook.loader import codebook_hash, load_codebook, parse_codebook
from gripcode.codebook.model import Codebook
from gripcode.errors import CodebookError
from gripcode.export.codebook_appendix import CSV_COLUMNS, FORMATS, appendix_rows, write_appendix
from gripcode.export.latex import LatexColumn, LatexRow, booktabs_table, latex_escape, latex_label
from gripcode.export.markdown import markdown_escape_cell, markdown_table

REPO = Path(__file__).resolve().parents[1]
SPECIALS = "& % $ # _ { } ~ ^ \\"

TRICKY = textwrap.dedent(
    r"""
    codebook: tricky-demo
    description: A codebook whose text is hostile to every output format.
    codes:
      - id: theme-a
        name: Theme A
        definition: 'Costs & 5% of $x #1 a_b {set} ~ ^ \ back'
        include: "left | right\nsecond line"
        exclude: "=SUM(A1:A2)"
        examples:
          positive: ["+1 positive", a second example]
        children:
          - id: old
            name: Old code
            retired: true
            children:
              - id: orphan
                name: Orphan child
          - id: a-two
            name: A two
            definition: "-minus"
            include: 'back\|slash pipe'
      - id: theme-b
        name: Тема Б
        include: "@mention"
      - id: gone
        name: Gone
        merged_into: theme-b
      - id: late
        name: Late child
        parent: theme-a
    """
)

ACTIVE = [("1", "Theme A"), ("1.1", "Orphan child"), ("1.2", "A two"), ("1.3", "Late child"), ("2", "Тема Б")]
ALL = [
    ("1", "Theme A"),
    ("1.1", "Old code"),
    ("1.1.1", "Orphan child"),
    ("1.2", "A two"),
    ("1.3", "Late child"),
    ("2", "Тема Б"),
    ("3", "Gone"),
]
SUFFIX = {"markdown": "md", "latex": "tex", "csv": "csv", "docx": "docx"}


@pytest.fixture(scope="module")
def grip_arm() -> Codebook:
    return load_codebook(REPO / "codebooks" / "grip-arm.yaml")


@pytest.fixture(scope="module")
def tricky() -> Codebook:
    return parse_codebook(TRICKY, name="tricky.yaml")


def export(cb: Codebook, fmt: str, tmp_path: Path, **kwargs: object) -> Path:
    out = tmp_path / f"appendix-{fmt}.{SUFFIX[fmt]}"
    write_appendix(cb, fmt, out, **kwargs)  # type: ignore[arg-type]
    return out


# ------------------------------------------------------------------------- reading the outputs back


def split_unescaped(line: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not backslash-escaped (a backslash escapes the next character)."""
    cells, current, i = [], "", 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            current += line[i : i + 2]
            i += 2
            continue
        if line[i] == sep:
            cells.append(current)
            current = ""
        else:
            current += line[i]
        i += 1
    cells.append(current)
    return cells


def markdown_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in split_unescaped(line, "|")[1:-1]] for line in lines]
    assert re.fullmatch(r"(:?-+:? ?)+", "".join(rows[1]).replace(" ", "")), "second line is the delimiter row"
    return [rows[0], *rows[2:]]


def markdown_labels(text: str) -> list[tuple[str, str]]:
    out = []
    for row in markdown_rows(text)[1:]:
        label = re.sub(r" \*\(.*\)\*$", "", row[0]).replace("&emsp;", "").strip("*")
        number, name = label.split(" ", 1)
        out.append((number, name))
    return out


def latex_body(text: str) -> list[str]:
    body = text.split("\\endlastfoot\n", 1)[1].split("\\end{longtable}", 1)[0]
    return [line for line in body.splitlines() if line and line != r"\addlinespace"]


def latex_labels(text: str) -> list[tuple[str, str]]:
    out = []
    for line in latex_body(text):
        first = split_unescaped(line, "&")[0].strip()
        first = re.sub(r"\\setlength\{\\leftskip\}\{\d+em\}", "", first)
        first = re.sub(r" \\emph\{\(.*\)\}$", "", first)
        bold = re.fullmatch(r"\\textbf\{(.*)\}", first)
        first = bold.group(1) if bold else first
        number, name = first.split("\\quad ", 1)
        out.append((number, name))
    return out


def csv_records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def csv_labels(path: Path) -> list[tuple[str, str]]:
    return [(r["number"], r["name"]) for r in csv_records(path)]


def docx_labels(path: Path) -> list[tuple[str, str]]:
    table = Document(str(path)).tables[0]
    out = []
    for row in table.rows[1:]:
        text = re.sub(r" \((retired|merged into .*)\)$", "", row.cells[0].text)
        number, name = text.split("\u2002", 1)
        out.append((number, name))
    return out


LABELS: dict[str, Callable[[Path], list[tuple[str, str]]]] = {
    "markdown": lambda p: markdown_labels(p.read_text(encoding="utf-8")),
    "latex": lambda p: latex_labels(p.read_text(encoding="utf-8")),
    "csv": csv_labels,
    "docx": docx_labels,
}


# ---------------------------------------------------------------------------------------------- rows


def test_rows_follow_the_tree_with_hierarchical_numbers(grip_arm: Codebook) -> None:
    rows = appendix_rows(grip_arm)
    flat = [fc for fc in grip_arm.flat() if not fc.code.retired and fc.code.merged_into is None]
    assert [r.id for r in rows] == [fc.id for fc in flat]
    assert [r.depth for r in rows] == [fc.depth for fc in flat]
    assert [r.number for r in rows[:7]] == ["1", "1.1", "1.1.1", "1.1.2", "1.1.3", "1.2", "1.3"]
    assert [r.number for r in rows if r.depth == 0] == [str(i) for i in range(1, 8)]
    numbers = {r.id: r.number for r in rows}
    for row in rows:
        assert row.number.count(".") == row.depth
        if row.parent is not None:
            assert row.number.rsplit(".", 1)[0] == numbers[row.parent]
    assert len(set(numbers.values())) == len(rows)
    first = grip_arm.by_id()["state-strategy"]
    assert rows[0].example == first.examples.positive[0].text
    assert (rows[0].definition, rows[0].include) == (first.definition, first.include)
    assert rows[0].exclude == first.exclude


def test_inactive_codes_are_left_out_and_their_children_move_up(tricky: Codebook) -> None:
    rows = appendix_rows(tricky)
    assert [(r.number, r.name) for r in rows] == ACTIVE
    assert {r.id: r.parent for r in rows}["orphan"] == "theme-a"
    everything = appendix_rows(tricky, include_inactive=True)
    assert [(r.number, r.name) for r in everything] == ALL
    status = {r.id: (r.status, r.marker) for r in everything}
    assert status["old"] == ("retired", "retired")
    assert status["gone"] == ("merged", "merged into Тема Б")
    assert status["late"] == ("active", "")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_active_grip_arm_code_once_in_tree_order(grip_arm: Codebook, fmt: str, tmp_path: Path) -> None:
    expected = [(r.number, r.name) for r in appendix_rows(grip_arm)]
    assert len(expected) == 29
    assert LABELS[fmt](export(grip_arm, fmt, tmp_path)) == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_inactive_codes_in_every_format(tricky: Codebook, fmt: str, tmp_path: Path) -> None:
    assert LABELS[fmt](export(tricky, fmt, tmp_path)) == ACTIVE
    out = export(tricky, fmt, tmp_path, include_inactive=True)
    assert LABELS[fmt](out) == ALL
    if fmt == "docx":
        text = "\n".join(row.cells[0].text for row in Document(str(out)).tables[0].rows)
    else:
        text = out.read_text(encoding="utf-8")
    assert "retired" in text
    assert ("merged into gone" not in text) and ("merged into " in text)


# --------------------------------------------------------------------------------------------- LaTeX


def test_latex_escape_every_special_character() -> None:
    escaped = latex_escape(SPECIALS)
    assert escaped == r"\& \% \$ \# \_ \{ \} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    assert latex_escape('a < b > c | "d"') == (
        r"a \textless{} b \textgreater{} c \textbar{} \texttt{\char34}d\texttt{\char34}"
    )
    assert latex_escape("one\n\n  two\r\nthree ") == r"one\newline two\newline three"
    assert latex_escape("one\ntwo", newline=" ") == "one two"


def test_latex_table_structure_and_escaping(tricky: Codebook, tmp_path: Path) -> None:
    text = export(tricky, "latex", tmp_path, provenance="Synced as version 4.").read_text(encoding="utf-8")
    first_lines = text.splitlines()[:3]
    assert first_lines[0].startswith("%") and "booktabs" in first_lines[0] and "longtable" in first_lines[0]
    assert any("XeLaTeX" in line for line in first_lines), "Cyrillic needs a Unicode engine"
    assert text.count(r"\begin{longtable}") == text.count(r"\end{longtable}") == 1
    assert text.index(r"\begin{longtable}") < text.index(r"\toprule") < text.index(r"\end{longtable}")
    for command in (r"\toprule", r"\midrule", r"\bottomrule", r"\endhead", r"\endfirsthead"):
        assert command in text
    assert r"\label{tab:codebook-tricky-demo}" in text
    caption = re.search(r"\\caption\[[^\]]*\]\{(.*)\}\\label", text)
    assert caption is not None
    assert codebook_hash(tricky)[:12] in caption.group(1) and date.today().isoformat() in caption.group(1)
    assert "Synced as version 4." in caption.group(1)
    assert re.search(r"p\{\\dimexpr [0-9.]+\\linewidth", text)

    body = latex_body(text)
    assert len(body) == len(ACTIVE)
    for line in body:
        assert len(split_unescaped(line, "&")) == 5, line
        assert line.endswith(r" \\")
        unescaped_braces = re.sub(r"\\[{}]", "", line)
        assert unescaped_braces.count("{") == unescaped_braces.count("}")
    theme = split_unescaped(body[0], "&")
    assert theme[0].strip() == r"\textbf{1\quad Theme A}"
    assert theme[1].strip() == (
        r"Costs \& 5\% of \$x \#1 a\_b \{set\} \textasciitilde{} \textasciicircum{} \textbackslash{} back"
    )
    assert theme[2].strip() == r"left \textbar{} right\newline second line"
    assert r"\setlength{\leftskip}{1em}1.2\quad A two" in body[2]


def test_latex_helpers_for_other_tables() -> None:
    assert latex_label("tab", "codebook-My Study & Co") == "tab:codebook-my-study-co"
    columns = [LatexColumn("Case"), LatexColumn("Codings", align="r")]
    table = booktabs_table(columns, [LatexRow(["[China]", "12"])], caption="Counts", label="tab:x")
    assert r"\begin{tabular}{lr}" in table and r"\end{table}" in table and "longtable" not in table
    assert r"{}[China] & 12 \\" in table
    with pytest.raises(ValueError):
        booktabs_table(columns, [LatexRow(["only one"])], caption="c", label="l")


# ------------------------------------------------------------------------------------------ Markdown


def test_markdown_escape_cell() -> None:
    assert markdown_escape_cell(" a | b\nc \r\nd ") == r"a \| b<br>c<br>d"
    assert markdown_escape_cell("back\\|slash") == r"back\\\|slash"
    table = markdown_table(["x", "y"], [["1", "2"]])
    assert table.splitlines() == ["| x | y |", "| :--- | :--- |", "| 1 | 2 |"]


def test_markdown_table_keeps_its_columns(tricky: Codebook, tmp_path: Path) -> None:
    text = export(tricky, "markdown", tmp_path, include_inactive=True).read_text(encoding="utf-8")
    assert text.startswith("# Codebook: tricky-demo\n")
    rows = markdown_rows(text)
    assert rows[0] == ["Code", "Definition", "Inclusion", "Exclusion", "Example"]
    assert len(rows) == 1 + len(ALL)
    assert all(len(row) == 5 for row in rows), rows
    table_lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table_lines) == 2 + len(ALL), "a newline in a cell must not start a new line"
    assert rows[1][2] == r"left \| right<br>second line"
    assert rows[1][0] == "**1 Theme A**"
    assert rows[2][0].startswith("&emsp;1.1 Old code")
    assert rows[3][0].startswith("&emsp;&emsp;1.1.1 ")


def test_markdown_renders_as_one_table(tricky: Codebook, tmp_path: Path) -> None:
    import markdown_it
    text = export(tricky, "markdown", tmp_path).read_text(encoding="utf-8")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<table>") == 1
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    assert len(rows) == 1 + len(ACTIVE)
    assert all(len(re.findall(r"<t[hd]", row)) == 5 for row in rows)
    assert "left | right<br>second line" in html
    assert "back\\|slash pipe" in html


def test_markdown_provenance_under_the_table(tricky: Codebook, tmp_path: Path) -> None:
    text = export(tricky, "markdown", tmp_path, provenance="From tricky.yaml.").read_text(encoding="utf-8")
    last_table_line = max(i for i, line in enumerate(text.splitlines()) if line.startswith("|"))
    after = "\n".join(text.splitlines()[last_table_line + 1 :])
    assert "tricky-demo" in after and codebook_hash(tricky) in after and date.today().isoformat() in after
    assert "From tricky.yaml." in after


# ----------------------------------------------------------------------------------------------- CSV


def test_csv_round_trips_and_neutralises_formulas(tricky: Codebook, tmp_path: Path) -> None:
    out = export(tricky, "csv", tmp_path)
    with out.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == CSV_COLUMNS
    records = {r["id"]: r for r in csv_records(out)}
    assert list(records) == ["theme-a", "orphan", "a-two", "late", "theme-b"]
    a, two, b = records["theme-a"], records["a-two"], records["theme-b"]
    assert a["definition"] == r"Costs & 5% of $x #1 a_b {set} ~ ^ \ back"
    assert a["inclusion"] == "left | right\nsecond line"
    assert a["exclusion"] == "'=SUM(A1:A2)"
    assert a["example"] == "'+1 positive"
    assert two["definition"] == "'-minus"
    assert b["inclusion"] == "'@mention"
    assert b["name"] == "Тема Б"
    assert (a["depth"], a["parent"], two["depth"], two["parent"]) == ("0", "", "1", "theme-a")
    assert records["orphan"]["parent"] == "theme-a"
    assert codebook_hash(tricky) in a["provenance"]
    for record in records.values():
        for value in record.values():
            assert not value.startswith(("=", "+", "-", "@")), value


# ---------------------------------------------------------------------------------------------- docx


def test_docx_table(tricky: Codebook, grip_arm: Codebook, tmp_path: Path) -> None:
    doc = Document(str(export(grip_arm, "docx", tmp_path)))
    assert doc.paragraphs[0].text == "Codebook: grip-arm"
    assert doc.paragraphs[0].style.name.startswith("Heading")
    table = doc.tables[0]
    assert len(table.rows) == 1 + len(appendix_rows(grip_arm))
    header = table.rows[0]
    assert [cell.text for cell in header.cells] == ["Code", "Definition", "Inclusion", "Exclusion", "Example"]
    assert all(run.bold for cell in header.cells for p in cell.paragraphs for run in p.runs)
    assert header._tr.trPr is not None and header._tr.trPr.find(qn("w:tblHeader")) is not None

    theme, sub = table.rows[1], table.rows[2]
    assert theme.cells[0].paragraphs[0].runs[0].bold
    assert theme.cells[0]._tc.tcPr.find(qn("w:shd")) is not None
    assert sub.cells[0]._tc.tcPr.find(qn("w:shd")) is None
    assert not sub.cells[0].paragraphs[0].runs[0].bold
    assert sub.cells[0].paragraphs[0].paragraph_format.left_indent > 0
    indent = sub.cells[0].paragraphs[0].paragraph_format.left_indent
    assert table.rows[3].cells[0].paragraphs[0].paragraph_format.left_indent > indent
    assert codebook_hash(grip_arm) in doc.paragraphs[-1].text

    tricky_doc = Document(str(export(tricky, "docx", tmp_path)))
    row = tricky_doc.tables[0].rows[1]
    assert row.cells[1].text == r"Costs & 5% of $x #1 a_b {set} ~ ^ \ back"
    assert row.cells[2].text == "left | right\nsecond line"


# -------------------------------------------------------------------------------------------- errors


def test_unknown_format_is_a_codebook_error(tricky: Codebook, tmp_path: Path) -> None:
    out = tmp_path / "appendix.html"
    with pytest.raises(CodebookError, match=r"unknown export format 'html'.*markdown, latex, csv, docx"):
        write_appendix(tricky, "html", out)
    assert not out.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_unwritable_destination_is_a_codebook_error(tricky: Codebook, fmt: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "appendix.out"
    with pytest.raises(CodebookError, match="folder .*no-such-folder does not exist"):
        write_appendix(tricky, fmt, missing)
    with pytest.raises(CodebookError, match="is a folder"):
        write_appendix(tricky, fmt, tmp_path)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(CodebookError, match="not a folder"):
        write_appendix(tricky, fmt, a_file / "appendix.out")
