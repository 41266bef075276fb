"""Analysis tables in every export format, with their provenance and with hostile cell contents."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from markdown_it import MarkdownIt

from gripcode.errors import AnalysisError
from gripcode.export import codebook_appendix
from gripcode.export.provenance import Provenance
from gripcode.export.tables import TABLE_FORMATS, neutralise_formula, render_table, write_table

HOSTILE_CODE = '=HYPERLINK("http://x","y")'
HOSTILE_TITLE = "+cmd|' /C calc'!A0"
WHEN = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc)


@pytest.fixture
def prov() -> Provenance:
    return Provenance(
        what="Cross-case comparison: documents coded per case",
        codebook="grip-arm, version 3, hash 854a80f9d578",
        filters={"case": ["BR", "KZ"], "language": "", "document": None},
        statuses=("confirmed",),
        generated_at=WHEN,
        database="grip.sqlite",
        notes=("Percentages of documents per case",),
    )


@pytest.fixture
def multi() -> pd.DataFrame:
    """codes (theme, code) × (case, measure), with a missing value and negative numbers."""
    rows = pd.MultiIndex.from_tuples(
        [("Trust", "institutions"), ("Trust", "people"), ("Fear", "crime")], names=["theme", "code"]
    )
    columns = pd.MultiIndex.from_tuples(
        [("BR", "n"), ("BR", "share"), ("KZ", "n"), ("KZ", "share")], names=["case", "measure"]
    )
    return pd.DataFrame(
        [[3, 0.5, 1, -0.12], [2, np.nan, 4, 0.25], [1, 1 / 3, 0, 0.0]], index=rows, columns=columns
    )


@pytest.fixture
def plain() -> pd.DataFrame:
    index = pd.Index(["trust", "fear", "hope"], name="code")
    return pd.DataFrame(
        {"documents": [4, 2, 0], "kappa": [0.812, -0.05, np.nan], "note": ["ok", "a | b", "x_1 & 50%"]},
        index=index,
    )


@pytest.fixture
def hostile() -> pd.DataFrame:
    index = pd.Index([HOSTILE_CODE, "-minus", "@at", "plain"], name="code")
    return pd.DataFrame(
        {
            "title": [HOSTILE_TITLE, "\tTab", "=1+1", "fine"],
            "value": [-0.12, -3.0, 1.5, 2.0],
            "count": [-1, 2, 3, 4],
        },
        index=index,
    )


def _text(df: pd.DataFrame, fmt: str, prov: Provenance, **kwargs: object) -> str:
    return render_table(df, fmt, prov, **kwargs).decode("utf-8")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ all formats


@pytest.mark.parametrize("fmt", TABLE_FORMATS)
@pytest.mark.parametrize("which", ["multi", "plain"])
def test_every_format_renders_with_provenance(
    fmt: str, which: str, request: pytest.FixtureRequest, prov: Provenance, tmp_path: Path
) -> None:
    df = request.getfixturevalue(which)
    out = tmp_path / f"table.{fmt}"
    assert write_table(df, fmt, out, prov, caption="Codes per case") is None
    data = out.read_bytes()
    if fmt == "xlsx":
        wb = openpyxl.load_workbook(out)
        assert wb.sheetnames == ["table", "provenance"]
        values = [str(v) for row in wb["provenance"].iter_rows(values_only=True) for v in row]
        assert "grip-arm, version 3, hash 854a80f9d578" in values
        return
    text = data.decode("utf-8")
    assert "grip-arm, version 3, hash 854a80f9d578" in text
    assert "2024-05-01" in text
    for label in ("trust", "hope", "kappa") if which == "plain" else ("Trust", "crime", "KZ", "share"):
        assert label in text


@pytest.mark.parametrize("fmt", [f for f in TABLE_FORMATS if f != "xlsx"])
def test_stdout_returns_the_same_bytes_as_the_file(
    fmt: str, plain: pd.DataFrame, prov: Provenance, tmp_path: Path
) -> None:
    out = tmp_path / "t"
    write_table(plain, fmt, out, prov)
    assert write_table(plain, fmt, None, prov) == out.read_bytes()


def test_xlsx_needs_a_file(plain: pd.DataFrame, prov: Provenance) -> None:
    with pytest.raises(AnalysisError, match="-o"):
        write_table(plain, "xlsx", None, prov)


def test_unknown_format_lists_the_formats(plain: pd.DataFrame, prov: Provenance) -> None:
    with pytest.raises(AnalysisError, match="unknown table format 'docx'.*table, csv, xlsx, latex"):
        render_table(plain, "docx", prov)
    with pytest.raises(AnalysisError):
        write_table(plain, "yaml", None, prov)


def test_format_names_are_case_insensitive(plain: pd.DataFrame, prov: Provenance) -> None:
    assert render_table(plain, " CSV ", prov) == render_table(plain, "csv", prov)


def test_unwritable_path_is_an_analysis_error(plain: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="does not exist"):
        write_table(plain, "csv", tmp_path / "missing" / "t.csv", prov)
    with pytest.raises(AnalysisError, match="folder"):
        write_table(plain, "xlsx", tmp_path, prov)


def test_a_table_without_columns_is_refused(prov: Provenance) -> None:
    with pytest.raises(AnalysisError, match="no columns"):
        render_table(pd.DataFrame(index=[1, 2]), "csv", prov, index=False)


@pytest.mark.parametrize("fmt", TABLE_FORMATS)
def test_empty_table_still_renders(fmt: str, plain: pd.DataFrame, prov: Provenance) -> None:
    assert render_table(plain.iloc[:0], fmt, prov)


# ------------------------------------------------------------------------------------------------ terminal


def test_terminal_table_aligns_numbers_and_ends_with_provenance(plain: pd.DataFrame, prov: Provenance) -> None:
    lines = _text(plain, "table", prov, float_digits=2).splitlines()
    header, rule, trust, fear = lines[:4]
    assert header.split() == ["code", "documents", "kappa", "note"]
    assert set(rule.replace(" ", "")) == {"-"}
    # right-aligned: the numbers end where their header ends
    assert trust.index("0.81") + len("0.81") == header.index("kappa") + len("kappa")
    assert fear.index("-0.05") + len("-0.05") == header.index("kappa") + len("kappa")
    assert trust.index("4") + 1 == header.index("documents") + len("documents")
    tail = lines[-len(prov.lines()) :]
    assert tail == [f"# {line}" for line in prov.lines()]


def test_terminal_table_shows_column_levels_as_stacked_headers(multi: pd.DataFrame, prov: Provenance) -> None:
    lines = _text(multi, "table", prov).splitlines()
    assert lines[0].split() == ["case", "BR", "KZ"]
    assert lines[1].split() == ["theme", "code", "n", "share", "n", "share"]
    # the repeated outer row label is shown once
    assert lines[3].startswith("Trust") and lines[4].startswith(" ")
    assert "-0.120" in lines[3] and "0.333" in lines[5]


# ------------------------------------------------------------------------------------------------ CSV


def test_csv_reads_back_with_comment_lines(plain: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    write_table(plain, "csv", out, prov, caption="Agreement per code")
    lines = out.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    assert lines[0] == "# Agreement per code"
    assert lines[1:header_at] == [f"# {line}" for line in prov.lines()]
    back = pd.read_csv(out, comment="#", index_col=0)
    pd.testing.assert_frame_equal(back, plain)


def test_csv_flattens_a_multiindex_and_reads_back(multi: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    write_table(multi, "csv", out, prov)
    back = pd.read_csv(out, comment="#", index_col=[0, 1])
    assert list(back.columns) == ["BR / n", "BR / share", "KZ / n", "KZ / share"]
    assert list(back.index.names) == ["theme", "code"]
    expected = multi.copy()
    expected.columns = back.columns
    pd.testing.assert_frame_equal(back, expected)


def test_csv_neutralises_formula_strings_but_not_numbers(
    hostile: pd.DataFrame, prov: Provenance, tmp_path: Path
) -> None:
    out = tmp_path / "t.csv"
    hostile = hostile.rename(columns={"title": "=title"})
    write_table(hostile, "csv", out, prov)
    text = out.read_text(encoding="utf-8")
    rows = list(csv.reader(line for line in io.StringIO(text) if not line.startswith("#")))
    assert rows[0] == ["code", "'=title", "value", "count"]
    assert rows[1] == ["'" + HOSTILE_CODE, "'" + HOSTILE_TITLE, "-0.12", "-1"]
    assert rows[2][:2] == ["'-minus", "'\tTab"]
    assert rows[3][:2] == ["'@at", "'=1+1"]
    assert ",-0.12,-1\n" in text  # numbers are written bare, as numbers
    back = pd.read_csv(out, comment="#", index_col=0)
    assert back["value"].tolist() == [-0.12, -3.0, 1.5, 2.0]
    assert back["count"].dtype.kind == "i"


def test_csv_keeps_a_hash_inside_a_cell(prov: Provenance, tmp_path: Path) -> None:
    df = pd.DataFrame({"code": ["#1 trust", "a # b"], "n": [1, 2]})
    out = tmp_path / "t.csv"
    write_table(df, "csv", out, prov, index=False)
    pd.testing.assert_frame_equal(pd.read_csv(out, comment="#"), df)


def test_csv_comment_lines_cannot_smuggle_formulas(plain: pd.DataFrame, tmp_path: Path) -> None:
    prov = Provenance("x", filters={"code": 'a,=HYPERLINK("http://x");@b'}, generated_at=WHEN)
    out = tmp_path / "t.csv"
    write_table(plain, "csv", out, prov)
    for line in out.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            # a spreadsheet ignoring the comment convention splits at , and ; and opens quotes
            assert '"' not in line
            assert not any(part.startswith(("=", "+", "-", "@")) for part in re.split(r"[,;]", line))
    pd.read_csv(out, comment="#", index_col=0)


def test_one_neutraliser_is_shared_with_the_codebook_appendix() -> None:
    assert codebook_appendix.neutralise_formula is neutralise_formula
    assert neutralise_formula("=1+1") == "'=1+1"
    assert neutralise_formula("\rx") == "'\rx"
    assert neutralise_formula("a=1") == "a=1"
    assert neutralise_formula(-0.12) == -0.12
    assert neutralise_formula(-3) == -3


# ------------------------------------------------------------------------------------------------ Excel


def _load(df: pd.DataFrame, prov: Provenance, tmp_path: Path) -> openpyxl.Workbook:
    out = tmp_path / "t.xlsx"
    write_table(df, "xlsx", out, prov, caption="Codes")
    return openpyxl.load_workbook(out)


def test_xlsx_has_no_formula_cells_and_keeps_numbers(hostile: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    wb = _load(hostile, prov, tmp_path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    ws = wb["table"]
    # As written, with no apostrophe (Excel would show it), as strings marked with the quote prefix.
    for coordinate, text in (("A2", HOSTILE_CODE), ("B2", HOSTILE_TITLE), ("A3", "-minus"), ("B4", "=1+1")):
        cell = ws[coordinate]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True), coordinate
    assert not ws["A1"].quotePrefix
    assert ws["C2"].value == -0.12 and ws["C2"].data_type == "n"
    assert ws["C2"].number_format == "0.000"
    assert ws["D2"].value == -1 and ws["D2"].data_type == "n"


def test_xlsx_header_is_bold_frozen_and_widths_are_fitted(plain: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    long = plain.assign(note=["x" * 200, "short", "y"])
    ws = _load(long, prov, tmp_path)["table"]
    assert [c.value for c in ws[1]] == ["code", "documents", "kappa", "note"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "B2"
    widths = {key: dim.width for key, dim in ws.column_dimensions.items()}
    assert widths["A"] >= len("trust") and widths["B"] >= len("documents")
    assert widths["D"] == 60  # capped
    assert ws["D2"].alignment.wrap_text
    assert ws["B2"].value == 4 and ws["C4"].value is None


def test_xlsx_keeps_merged_column_levels(multi: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    ws = _load(multi, prov, tmp_path)["table"]
    assert ws.freeze_panes == "C3"
    assert {str(r) for r in ws.merged_cells.ranges} == {"C1:D1", "E1:F1"}
    assert ws["C1"].value == "BR" and ws["E1"].value == "KZ" and ws["C1"].font.bold
    assert [c.value for c in ws[2]] == ["theme", "code", "n", "share", "n", "share"]
    # outer row labels repeat, so sorting and filtering keep every row labelled
    assert [ws["A3"].value, ws["A4"].value] == ["Trust", "Trust"]
    assert ws["F3"].value == -0.12


def test_xlsx_provenance_sheet(plain: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    sheet = _load(plain, prov, tmp_path)["provenance"]
    pairs = dict(sheet.iter_rows(values_only=True))
    assert pairs["Field"] == "Value"
    assert pairs["Caption"] == "Codes"
    assert pairs["Codebook"] == "grip-arm, version 3, hash 854a80f9d578"
    assert pairs["Filter case"] == "BR, KZ"
    assert pairs["Statuses"] == "confirmed"
    assert pairs["Coders"] == "all"
    assert "Filter language" not in pairs


# ------------------------------------------------------------------------------------------------ LaTeX


def test_latex_is_a_booktabs_float_with_caption_label_and_provenance(
    plain: pd.DataFrame, prov: Provenance
) -> None:
    tex = _text(plain, "latex", prov, caption="Agreement per code", label="tab:agreement")
    # graphicx for the \resizebox that shrinks the table only should a page be narrower than it.
    assert tex.startswith("% Requires in the preamble: \\usepackage{booktabs,graphicx}")
    assert r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%" in tex
    assert "small" not in tex and "landscape" not in tex and "sideways" not in tex  # it fits as it is
    assert "% Codebook: grip-arm, version 3, hash 854a80f9d578" in tex
    for command in (r"\begin{table}", r"\toprule", r"\midrule", r"\bottomrule", r"\end{table}"):
        assert tex.count(command) == 1
    caption = next(line for line in tex.splitlines() if line.startswith(r"\caption"))
    assert caption.startswith(r"\caption[Agreement per code]{Agreement per code. Source: codebook grip-arm")
    assert caption.endswith(r"\label{tab:agreement}")
    assert r"\begin{tabular}{lrrl}" in tex
    assert r"trust & 4 & 0.812 & ok \\" in tex
    assert r"fear & 2 & $-$0.050 & a \textbar{} b \\" in tex
    assert r"hope & 0 &  & x\_1 \& 50\% \\" in tex


def test_latex_escapes_labels_and_headers(prov: Provenance) -> None:
    df = pd.DataFrame({"50% & more_": [1]}, index=pd.Index(["$cost #1"], name="code_name"))
    tex = _text(df, "latex", prov, caption="Costs & {things}")
    assert r"code\_name & 50\% \& more\_ \\" in tex
    assert r"\$cost \#1 & 1 \\" in tex
    assert r"\caption[Costs \& \{things\}]" in tex


def test_latex_multicolumn_headers(multi: pd.DataFrame, prov: Provenance) -> None:
    tex = _text(multi, "latex", prov)
    lines = tex.splitlines()
    top = lines.index(r"\toprule")
    assert lines[top + 1] == r" & case & \multicolumn{2}{c}{BR} & \multicolumn{2}{c}{KZ} \\"
    assert lines[top + 2] == r"\cmidrule(lr){3-4} \cmidrule(lr){5-6}"
    assert lines[top + 3] == r"theme & code & n & share & n & share \\"
    assert r"Trust & institutions & 3 & 0.500 & 1 & $-$0.120 \\" in lines
    assert r" & people & 2 &  & 4 & 0.250 \\" in lines
    assert lines[lines.index(r"Fear & crime & 1 & 0.333 & 0 & 0.000 \\") - 1] == r"\addlinespace"


def test_latex_long_tables_break_across_pages(prov: Provenance) -> None:
    df = pd.DataFrame({"n": range(60)}, index=pd.Index([f"code {i}" for i in range(60)], name="code"))
    tex = _text(df, "latex", prov)
    assert r"\begin{longtable}" in tex and r"\begin{table}" not in tex
    assert "longtable" in tex.splitlines()[0]


# ------------------------------------------------------------------------------------------------ Markdown


def _markdown_rows(text: str) -> list[list[str]]:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows: list[list[str]] = []
    in_row = False
    for token in tokens:
        if token.type in ("tr_open", "tr_close"):
            in_row = token.type == "tr_open"
            rows += [[]] if in_row else []
        elif token.type == "inline" and in_row:
            rows[-1].append(token.content)
    return rows


@pytest.mark.parametrize("which", ["multi", "plain"])
def test_markdown_renders_as_one_rectangular_table(
    which: str, request: pytest.FixtureRequest, prov: Provenance
) -> None:
    df = request.getfixturevalue(which)
    text = _text(df, "markdown", prov, caption="Codes")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    assert [t.type for t in tokens].count("table_open") == 1
    rows = _markdown_rows(text)
    assert len(rows) == len(df) + 1
    assert {len(row) for row in rows} == {df.index.nlevels + df.shape[1]}
    if which == "multi":
        assert rows[0] == ["theme", "code", "BR / n", "BR / share", "KZ / n", "KZ / share"]
        assert rows[2] == ["Trust", "people", "2", "", "4", "0.250"]
    else:
        assert rows[2][-1] == "a | b"  # the escaped pipe stays inside its cell
    html_out = MarkdownIt("commonmark").enable("table").render(text)
    assert html_out.count("<em>") == len(prov.lines())
    assert "<strong>Codes</strong>" in html_out


def test_markdown_provenance_survives_markup_characters(plain: pd.DataFrame) -> None:
    prov = Provenance("x", filters={"code": "*bold* _it_ [link](y)"}, generated_at=WHEN)
    html_out = MarkdownIt("commonmark").enable("table").render(_text(plain, "markdown", prov))
    assert "*bold* _it_ [link](y)" in html_out
    assert "<a " not in html_out


# ------------------------------------------------------------------------------------------------ HTML


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_html_is_standalone_and_escaped(plain: pd.DataFrame, prov: Provenance) -> None:
    df = plain.rename(index={"trust": "<script>alert(1)</script>"})
    page = _text(df, "html", prov, caption='Codes & "cases"')
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", page)
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<caption>Codes &amp; &quot;cases&quot;</caption>" in page
    assert "<footer>" in page and "<p>Codebook: grip-arm, version 3, hash 854a80f9d578</p>" in page
    assert '<td class="num">-0.050</td>' in page
    parser = _Cells()
    parser.feed(page)
    assert parser.tags.count("tr") == len(df) + 1
    assert parser.tags.count("td") == df.size


def test_html_spans_column_and_row_levels(multi: pd.DataFrame, prov: Provenance) -> None:
    page = _text(multi, "html", prov)
    assert '<th scope="colgroup" colspan="2">BR</th>' in page
    assert '<th scope="rowgroup" rowspan="2">Trust</th>' in page
    parser = _Cells()
    parser.feed(page)
    assert parser.tags.count("td") == multi.size


# ------------------------------------------------------------------------------------------------ JSON


def test_json_shape_nulls_and_dates(multi: pd.DataFrame, prov: Provenance) -> None:
    data = json.loads(_text(multi, "json", prov, caption="Codes"))
    assert set(data) == {"provenance", "caption", "columns", "index_columns", "rows"}
    assert data["caption"] == "Codes"
    assert data["columns"] == ["theme", "code", "BR / n", "BR / share", "KZ / n", "KZ / share"]
    assert data["index_columns"] == 2
    assert data["rows"][0] == ["Trust", "institutions", 3, 0.5, 1, -0.12]
    assert data["rows"][1][3] is None
    assert data["provenance"]["generated_at"] == "2024-05-01T12:30:00Z"
    assert data["provenance"]["filters"] == {"case": ["BR", "KZ"]}
    assert data["provenance"]["statuses"] == ["confirmed"]


def test_json_dates_infinities_and_no_index(prov: Provenance) -> None:
    df = pd.DataFrame(
        {"day": pd.to_datetime(["2024-01-02", None]), "ratio": [float("inf"), 1.0], "ok": [True, False]}
    )
    text = _text(df, "json", prov, index=False)
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["index_columns"] == 0 and data["columns"] == ["day", "ratio", "ok"]
    assert data["rows"] == [["2024-01-02T00:00:00", None, True], [None, 1.0, False]]


# ------------------------------------------------------------------------------------------------ provenance


def test_provenance_lines_short_and_dict() -> None:
    prov = Provenance(
        what="Agreement",
        codebook="grip-arm, version 3",
        filters={"case": "BR", "empty": [], "zero": 0, "note": "line one\nline two"},
        coders=["ana", "bo"],  # type: ignore[arg-type]
        generated_at=dt.datetime(2024, 5, 1, 14, 0),  # naive: taken as UTC
        database="postgresql+psycopg://team:s3cret@db.example/grip",
        notes=("first\nsecond",),
    )
    lines = prov.lines()
    assert lines[0] == "What: Agreement"
    assert "Filter case: BR" in lines and "Filter zero: 0" in lines
    assert not any("empty" in line for line in lines)
    assert "Filter note: line one line two" in lines
    assert "Coders: ana, bo" in lines and "Statuses: all" in lines
    assert "Database: postgresql+psycopg://team:***@db.example/grip" in lines
    assert "s3cret" not in "\n".join(lines) and "s3cret" not in json.dumps(prov.to_dict())
    assert "Note: first second" in lines
    assert all("\n" not in line for line in lines)
    assert prov.short() == (
        "Source: codebook grip-arm, version 3; filters case = BR, zero = 0, note = line one line two; "
        "coders ana, bo; all statuses; generated 2024-05-01 14:00 UTC."
    )
    data = json.loads(json.dumps(prov.to_dict()))
    assert data["generated_at"] == "2024-05-01T14:00:00Z"
    assert data["coders"] == ["ana", "bo"]


def test_provenance_defaults_to_now_in_utc() -> None:
    prov = Provenance("x")
    assert prov.generated_at.tzinfo == dt.timezone.utc
    assert abs((dt.datetime.now(dt.timezone.utc) - prov.generated_at).total_seconds()) < 60
    assert "Codebook: not recorded" in prov.lines() and "Filters: none" in prov.lines()
    assert "codebook not recorded" in prov.short()


# ------------------------------------------------------------------------------------------------ options


def test_index_false_and_float_digits(plain: pd.DataFrame, prov: Provenance) -> None:
    text = _text(plain, "markdown", prov, index=False, float_digits=1)
    rows = _markdown_rows(text)
    assert rows[0] == ["documents", "kappa", "note"]
    assert rows[1][:2] == ["4", "0.8"]
    with pytest.raises(AnalysisError, match="float_digits"):
        render_table(plain, "table", prov, float_digits=-1)
