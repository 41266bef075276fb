"""Cross-case analysis on a small project whose every figure is worked out by hand below."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from gripcode.analysis import (
    code_document_matrix,
    compare_cases,
    cooccurrence,
    framework_matrix,
    make_filters,
    project_session,
    retrieve,
)
from gripcode.errors import AnalysisError

from conftest import Gripcode

CODEBOOK = """
codebook: analysis
codes:
  - id: theme
    name: Theme
    children:
      - id: x
        name: "=HYPERLINK(\\"http://evil\\",\\"x\\")"
      - id: y
        name: Y
  - id: z
    name: Z
    rules:
      unit: match
      terms:
        en: [delta]
"""
DOC1 = "a" * 40 + "\n\n" + "b" * 58  # 100 characters, 2 words
DOC2 = "c" * 50  # 1 word
DOC3 = "delta " + "d" * 24  # 30 characters, 2 words
HOSTILE_TITLE = "=cmd|' /C calc'!A0"


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    grip.ok("case", "add", "A", "--attr", "region=north")
    grip.ok("case", "add", "B", "--attr", "region=south")
    for name, text, case, title in (("d1", DOC1, "A", HOSTILE_TITLE), ("d2", DOC2, "A", "Two"), ("d3", DOC3, "B", "Three")):
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
        grip.ok("import", str(tmp_path / f"{name}.txt"), "--case", case, "--kind", "interview" if case == "A" else "media",
                "--title", title)
    rows = ["document,code,start,end,coder",
            "1,x,0,10,ana", "1,x,5,15,ben", "1,y,20,30,ana", "1,y,8,12,ben",
            "2,x,0,5,ana", "3,z,0,20,ana"]
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    grip.ok("code", "import", str(tmp_path / "c.csv"))
    grip.ok("autocode")  # a suggestion of z in document 3: suggestions never count
    return grip


def test_compare_cases_measures(project: Gripcode) -> None:
    with project_session(project.url) as s:
        table = compare_cases(s)
    assert list(table.columns.get_level_values(0).unique()) == ["A", "B"]
    x = table.loc["x"]
    assert x[("A", "documents")] == 2 and x[("A", "share")] == 1.0 and x[("A", "codings")] == 3
    # Union of [0,10) and [5,15) in document 1 plus [0,5) in document 2, over 100 + 50 characters.
    assert x[("A", "coverage")] == pytest.approx(20 / 150)
    assert x[("A", "per10k")] == pytest.approx(3 / 3 * 10_000)
    assert table.loc["z", ("B", "codings")] == 1  # the rule's suggestion of the same code does not count
    assert table.loc["z", ("B", "coverage")] == pytest.approx(20 / 30)
    assert table.loc["theme", ("A", "codings")] == 0


def _plan(session: Any, query: Any) -> str:
    """The database's plan for ``query`` run as the library runs it, with its values bound."""
    conn = session.connection()
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if conn.dialect.name == "sqlite":
        values = tuple(params[k] for k in compiled.positiontup)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), values)
        return "\n".join(str(row[-1]) for row in rows)
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the tables are tiny: ask whether an index can serve
    return "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + str(compiled), params))


def test_counting_reads_the_indexes_that_hold_only_counted_codings(project: Gripcode) -> None:
    """The indexes for analyses hold accepted codings only (suggestions do not grow them); the analyses' own
    queries, with the status bound as they run it, are answered from them."""
    from sqlalchemy import text

    from gripcode.analysis.compare import counts_query, coverage_query
    from gripcode.analysis.filters import Filters

    with project_session(project.url) as s:
        # Which of the two serves which query is the planner's choice (it depends on the tables' statistics).
        assert "ix_codings_counted_" in _plan(s, counts_query(s, Filters(), "case"))
        assert "ix_codings_counted_" in _plan(s, coverage_query(s, Filters(), "case"))
        by_status = dict(s.execute(text("SELECT status, count(*) FROM codings GROUP BY status")).tuples().all())
        assert by_status["suggested"] >= 1 and by_status["accepted"] == 6
        if s.connection().dialect.name == "sqlite":
            for name in ("ix_codings_counted_code_document", "ix_codings_counted_document_code_span"):
                definition = s.scalar(text("SELECT sql FROM sqlite_master WHERE name = :name"), {"name": name})
                assert definition.endswith("WHERE status = 'accepted'")
            counted = s.scalar(text("SELECT count(*) FROM codings INDEXED BY ix_codings_counted_code_document "
                                    "WHERE status = 'accepted'"))
            assert counted == by_status["accepted"]
        else:
            definition = s.scalar(text("SELECT indexdef FROM pg_indexes "
                                       "WHERE indexname = 'ix_codings_counted_code_document'"))
            assert "WHERE" in definition and "'accepted'" in definition


def test_rollup_statuses_and_grouping(project: Gripcode) -> None:
    with project_session(project.url) as s:
        rolled = compare_cases(s, measures=["codings", "documents"], rollup=True)
        assert rolled.loc["theme", ("A", "codings")] == 5 and rolled.loc["theme", ("A", "documents")] == 2
        with_suggestions = compare_cases(s, measures=["codings"], statuses=["accepted", "suggested"])
        assert with_suggestions.loc["z", "B"] == 2
        by_kind = compare_cases(s, by="kind", measures=["documents"], codes=["x", "z"])
        assert by_kind.to_dict() == {"interview": {"x": 2, "z": 0}, "media": {"x": 0, "z": 1}}
        by_region = compare_cases(s, by="attr:region", measures=["share"], codes=["y"])
        assert by_region.loc["y", "north"] == 0.5 and by_region.loc["y", "south"] == 0
        only_ben = compare_cases(s, measures=["codings"], coders=["ben"])
        assert only_ben.loc["x", "A"] == 1 and only_ben.loc["y", "A"] == 1
        with pytest.raises(AnalysisError, match="no code called nope"):
            compare_cases(s, codes=["nope"])
        with pytest.raises(AnalysisError, match="attr:<key>"):
            compare_cases(s, by="colour")


def test_cooccurrence_by_overlap_and_unit(project: Gripcode) -> None:
    with project_session(project.url) as s:
        overlap = cooccurrence(s, codes=["x", "y"])
        unit = cooccurrence(s, by="unit", unit="paragraph", codes=["x", "y"])
    # y [8,12) overlaps both x codings of document 1; y [20,30) overlaps none.
    assert overlap.loc["x", "y"] == 2 and overlap.loc["y", "x"] == 2 and overlap.loc["x", "x"] == 3
    # Paragraph 1 of document 1 carries x and y; document 2's paragraph only x.
    assert unit.loc["x", "y"] == 1 and unit.loc["x", "x"] == 2 and unit.loc["y", "y"] == 1


def test_framework_matrix_prefers_passages_several_coders_chose(project: Gripcode) -> None:
    with project_session(project.url) as s:
        matrix = framework_matrix(s, quotes=2, codes=["x", "z"])
    cell = matrix.loc["A", "x"].split("\n\n")
    assert len(cell) == 2
    assert cell[0].startswith("“aaaaa") and f"[1: {HOSTILE_TITLE}]" in cell[0]
    assert cell[1] == "“ccccc” [2: Two]"
    assert matrix.loc["B", "z"] == f"“{DOC3[:20]}” [3: Three]"


def test_code_document_matrix_and_retrieve(project: Gripcode) -> None:
    with project_session(project.url) as s:
        cdm = code_document_matrix(s, codes=["x", "y", "z"])
        rolled = code_document_matrix(s, codes=["theme"], rollup=True)
        segments = retrieve(s, codes=["y"], context=3)
    assert cdm.to_numpy().tolist() == [[1, 1, 0], [1, 0, 0], [0, 0, 1]]
    assert rolled["theme"].tolist() == [1, 1, 0]
    assert segments[["start", "end", "before", "quote", "after"]].to_numpy().tolist() == [
        [8, 12, "aaa", "aaaa", "aaa"], [20, 30, "aaa", "a" * 10, "aaa"]]


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO("\n".join(l for l in text.splitlines() if not l.startswith("#")))))


def test_cli_formats_and_provenance(project: Gripcode, tmp_path: Path) -> None:
    data = json.loads(project.ok("compare", "--measure", "documents", "--format", "json").output)
    assert data["provenance"]["statuses"] == ["accepted"] and "analysis" in data["provenance"]["codebook"]
    for fmt in ("csv", "xlsx", "latex", "markdown", "html"):
        out = tmp_path / f"compare.{fmt}"
        project.ok("compare", "--format", fmt, "-o", str(out))
        assert out.stat().st_size > 0
    latex = (tmp_path / "compare.latex").read_text(encoding="utf-8")
    assert "\\toprule" in latex and "\\caption" in latex and "\\label{tab:compare-case}" in latex
    sheet = openpyxl.load_workbook(tmp_path / "compare.xlsx")
    assert "provenance" in sheet.sheetnames and sheet["table"].freeze_panes is not None
    markdown = (tmp_path / "compare.markdown").read_text(encoding="utf-8")
    assert "| code |" in markdown and "Codebook" in markdown
    figure = tmp_path / "heat.svg"
    project.ok("cooccur", "--figure", str(figure), "--format", "csv")
    assert b"<svg" in figure.read_bytes()


def test_compare_test_adds_exploratory_tests(project: Gripcode) -> None:
    out = project.ok("compare", "--measure", "documents", "--test", "--format", "csv").output
    assert "exploratory" in out
    rows = _csv_rows(out)
    header = rows[0]
    assert {"test", "p", "p_adjusted"} <= set(header)
    x = dict(zip(header, next(r for r in rows if r[0] == "x")))
    assert x["test"] == "Fisher exact"


def test_hostile_names_are_neutralised_in_csv_and_xlsx(project: Gripcode, tmp_path: Path) -> None:
    out = project.ok("retrieve", "--codes", "x", "--format", "csv").output
    cells = [c for row in _csv_rows(out) for c in row]
    assert "'" + HOSTILE_TITLE in cells and HOSTILE_TITLE not in cells
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    book = tmp_path / "segments.xlsx"
    project.ok("retrieve", "--codes", "x", "--format", "xlsx", "-o", str(book))
    sheet = openpyxl.load_workbook(book)["table"]
    values = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in values)
    titles = [cell for cell in values if cell.value == HOSTILE_TITLE]
    assert titles and all(cell.data_type == "s" and cell.quotePrefix for cell in titles)
    assert not any(str(cell.value).startswith("'") for cell in values if cell.value is not None)


def test_bad_filters_are_errors(project: Gripcode) -> None:
    for args, message in ((["compare", "--from", "2020-13-01"], "not a date"),
                          (["compare", "--by", "attr:size"], "no case has the attribute"),
                          (["compare", "--format", "xlsx"], "-o FILE.xlsx"),
                          (["matrix", "--case", "Nowhere"], "no case called Nowhere")):
        result = project(*args)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output, args


def test_filters_cannot_be_given_twice(project: Gripcode) -> None:
    with project_session(project.url) as s, pytest.raises(AnalysisError, match="not both"):
        compare_cases(s, make_filters(codes=["x"]), codes=["y"])


def test_project_session_refuses_a_path_with_no_project(tmp_path: Path) -> None:
    """The library's read-only session, given a mistyped path, says so and leaves no empty file behind."""
    from gripcode.errors import DatabaseError

    with pytest.raises(DatabaseError, match="no gripcode project at"):
        with project_session(str(tmp_path / "projet.db")):
            pass
    assert list(tmp_path.iterdir()) == []
