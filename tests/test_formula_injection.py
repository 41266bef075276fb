"""No CSV or XLSX that gripcode writes lets a spreadsheet run a cell: listings, analysis tables, appendices.

A project holds hostile values in every text a user types (case name, document title and file name, coder
name, code name, quote, memo); each listing's ``--format csv`` and the XLSX exports are produced by the
installed program, as a user would run it. Every CSV cell that a spreadsheet would run must come back
with the apostrophe of the one guard all writers share; every such XLSX cell is the text as written, a
string with Excel's quote-prefix style (Excel would show an apostrophe).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from decimal import Decimal
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from gripcode.cli.output import emit_rows
from gripcode.export.spreadsheet import neutralise_formula
from conftest import PROGRAM, Gripcode

CASE = '=HYPERLINK("http://x")'
TITLE = "@SUM(1)"
CODER = "+1"
CODE_NAME = "-2+3 quotas"
MEMO = "=1+1 see the quota memo"
QUOTE = "-2+3 quotas"
FILE_NAME = "=cmd.txt"
TAB_TITLE = "\tx tabbed"
CODEBOOK = f"codebook: study\ncodes:\n  - id: quotas\n    name: '{CODE_NAME}'\n"
TEXT = "Intro.\n\nThe ministry said -2+3 quotas would follow. Prices rose.\n"


def run(url: str, *args: str, coder: str = CODER) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(PROGRAM), "--db", url, "--coder", coder, *args], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result


@pytest.fixture
def hostile(grip: Gripcode, tmp_path: Path) -> Gripcode:
    g = Gripcode(grip.url, coder=CODER)
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    g.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    g.ok("case", "add", CASE)
    (tmp_path / FILE_NAME).write_text(TEXT, encoding="utf-8")
    g.ok("import", str(tmp_path / FILE_NAME), "--title", TITLE, "--case", CASE)
    g.ok("code", "add", TITLE, "quotas", "--quote", QUOTE, "--memo", MEMO)
    g.ok("memo", "add", "--doc", TITLE, "--title", "@title", MEMO)
    g.ok("memo", "add", "--project", "--", "-5 days later")
    (tmp_path / "second.txt").write_text("Another text.\n", encoding="utf-8")
    g.ok("import", str(tmp_path / "second.txt"), "--title", TAB_TITLE)
    return g


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_guarded(found: list[str], expected: set[str]) -> None:
    """Every cell that starts like a formula carries the apostrophe; the hostile values all appear so."""
    runnable = [c for c in found if c.startswith(("=", "+", "-", "@", "\t", "\r")) and c != "-"]
    assert runnable == [], runnable
    for value in expected:
        assert any(c == "'" + value or c.startswith("'" + value) for c in found), (value, found)


LISTINGS = {
    ("docs", "list"): {TITLE, CASE, FILE_NAME, TAB_TITLE},
    ("codings", "list"): {TITLE, CASE, CODER, QUOTE, MEMO},
    ("case", "list"): {CASE},
    ("coder", "list"): {CODER},
    ("log",): {CODER},
    ("memo", "list"): {MEMO, CODER, "@title", "-5 days later"},
}


@pytest.mark.parametrize("command", list(LISTINGS), ids=" ".join)
def test_listing_csv_from_the_installed_program_cannot_run_in_a_spreadsheet(
    hostile: Gripcode, command: tuple[str, ...]
) -> None:
    out = run(hostile.url, *command, "--format", "csv").stdout
    assert_guarded(cells(out), LISTINGS[command])


def test_listing_csv_keeps_numbers_numbers() -> None:
    # Through click's echo, as the commands print; a negative score is a number in every reader.
    rows = [{"name": "-x", "score": -0.25, "n": -3, "big": np.int64(-7), "dec": Decimal("-1.5"), "flag": True,
             "when": dt.date(2024, 1, 2), "none": None, "dash": "-"}]

    @click.command()
    def show() -> None:
        emit_rows(rows, list(rows[0]), "csv")

    out = CliRunner().invoke(show).output
    assert out.splitlines()[1] == "'-x,-0.25,-3,-7,-1.5,True,2024-01-02,,-"


def test_xlsx_tables_from_the_installed_program_store_text_as_written_never_formulas(hostile: Gripcode, tmp_path: Path) -> None:
    exports = {
        "retrieve": ("retrieve", "--format", "xlsx"),
        "compare": ("compare", "--by", "case", "--format", "xlsx"),
        "matrix": ("matrix", "--format", "xlsx"),
    }
    for name, args in exports.items():
        path = tmp_path / f"{name}.xlsx"
        run(hostile.url, *args, "-o", str(path))
        book = load_workbook(path)
        values = []
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (name, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        values.append(cell.value)
                        # Excel shows a stored apostrophe, so a cell that starts like a formula is the text
                        # as written, a string, with the quote-prefix style that tells Excel it is text.
                        assert not cell.value.startswith("'"), (name, cell.coordinate, cell.value)
                        if neutralise_formula(cell.value) != cell.value:
                            assert (cell.data_type, cell.quotePrefix) == ("s", True), (name, cell.coordinate)
        # The matrix's cells are quotes in typographic quotation marks, so only its row labels need the guard.
        for value in {CASE} | ({TITLE, QUOTE} if name == "retrieve" else set()):
            assert any(v.startswith(value) for v in values), (name, value, values)


def test_codebook_appendix_csv_guards_code_names(hostile: Gripcode, tmp_path: Path) -> None:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    out = tmp_path / "appendix.csv"
    run(hostile.url, "codebook", "export", str(tmp_path / "cb.yaml"), "--format", "csv", "-o", str(out))
    assert_guarded(cells(out.read_text(encoding="utf-8")), {CODE_NAME})


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(1)", "'@SUM(1)"), ("\tx", "'\tx"),
     ("\rx", "'\rx"), ("-", "-"), ("a=1", "a=1"), ("", ""), (-0.25, -0.25), (-3, -3), (None, None)],
)
def test_the_one_guard(value: object, expected: object) -> None:
    assert neutralise_formula(value) == expected
