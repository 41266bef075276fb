"""`gripcode codebook export` and `import-qdc` from the command line."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from gripcode.codebook.loader import load_codebook

from conftest import PROGRAM, REPO, Gripcode

STUDY = str(REPO / "codebooks" / "grip-arm.yaml")


def test_export_needs_a_synced_codebook_or_a_file(grip: Gripcode, tmp_path: Path) -> None:
    result = grip("codebook", "export", "--format", "csv", "-o", str(tmp_path / "cb.csv"))
    assert result.exit_code == 1 and "codebook sync" in result.output and not (tmp_path / "cb.csv").exists()
    grip.ok("codebook", "export", STUDY, "--format", "csv", "-o", str(tmp_path / "cb.csv"))
    assert (tmp_path / "cb.csv").exists()


@pytest.mark.parametrize("fmt", ["markdown", "latex", "csv", "docx", "qdc"])
def test_export_of_the_synced_codebook(grip: Gripcode, tmp_path: Path, fmt: str) -> None:
    grip.ok("codebook", "sync", STUDY)
    out = tmp_path / f"appendix.{fmt}"
    assert f"Wrote {out} ({fmt}, grip-arm)" in grip.ok("codebook", "export", "--format", fmt, "-o", str(out)).output
    data = out.read_bytes()
    assert data
    if fmt == "csv":
        rows = list(csv.DictReader(data.decode("utf-8").splitlines()))
        assert [r["id"] for r in rows][:3] == ["state-strategy", "industrial-policy-instruments", "mandates"]
        assert "codebook version 1" in rows[0]["provenance"]


def test_qdc_round_trip_through_the_cli(grip: Gripcode, tmp_path: Path) -> None:
    qdc, back = tmp_path / "grip.qdc", tmp_path / "back.yaml"
    grip.ok("codebook", "export", STUDY, "--format", "qdc", "-o", str(qdc))
    out = grip.ok("codebook", "import-qdc", str(qdc), "-o", str(back), "--name", "grip-arm").output
    assert "29 codes" in out
    original, returned = load_codebook(STUDY), load_codebook(back)
    assert [fc.id for fc in returned.flat()] == [fc.id for fc in original.flat()]
    assert all(fc.code.refi_guid for fc in returned.flat())
    refused = grip("codebook", "import-qdc", str(qdc), "-o", str(back))
    assert refused.exit_code == 1 and "--force" in refused.output


def test_import_qdc_errors_are_clear(grip: Gripcode, tmp_path: Path) -> None:
    bad = tmp_path / "bad.qdc"
    bad.write_text("<CodeBook><Codes><Code", encoding="utf-8")
    result = grip("codebook", "import-qdc", str(bad), "-o", str(tmp_path / "x.yaml"))
    assert result.exit_code == 1 and result.output.startswith("Error:") and "Traceback" not in result.output
    assert not (tmp_path / "x.yaml").exists()
    missing = grip("codebook", "import-qdc", str(tmp_path / "none.qdc"), "-o", str(tmp_path / "x.yaml"))
    assert missing.exit_code == 1 and "does not exist" in missing.output


def _undated(data: bytes) -> bytes:
    """The export's bytes without its export date, so a run across midnight still compares equal."""
    return re.sub(rb"\d{4}-\d{2}-\d{2}", b"DATE", data)


@pytest.mark.parametrize("fmt", ["markdown", "latex", "csv", "qdc"])
def test_export_without_output_prints_what_the_file_would_hold(grip: Gripcode, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"appendix.{fmt}"
    printed = grip.ok("codebook", "export", STUDY, "--format", fmt).stdout_bytes
    grip.ok("codebook", "export", STUDY, "--format", fmt, "-o", str(out))
    assert printed and _undated(printed) == _undated(out.read_bytes())
    assert b"Wrote" not in printed


def test_export_of_docx_without_output_is_a_clear_error(grip: Gripcode) -> None:
    result = grip("codebook", "export", STUDY, "--format", "docx")
    assert result.exit_code == 1
    assert result.output == "Error: docx is a binary format and cannot be printed: give a file, -o FILE.docx\n"


def test_qdc_round_trip_through_the_installed_program_keeps_an_example_with_a_bare_dash_line(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    gripcode = PROGRAM
    source = tmp_path / "cb.yaml"
    source.write_text(
        "codebook: measures\ncodes:\n  - id: tariffs\n    name: Tariffs\n    examples:\n"
        '      positive: ["Measures:\\n-", "Second example"]\n',
        encoding="utf-8",
    )
    qdc, back = tmp_path / "cb.qdc", tmp_path / "back.yaml"
    for args in (["codebook", "export", str(source), "--format", "qdc", "-o", str(qdc)],
                 ["codebook", "import-qdc", str(qdc), "-o", str(back), "--name", "measures"]):
        result = subprocess.run([str(gripcode), *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    examples = load_codebook(back).codes[0].examples.positive
    assert [e.text for e in examples] == ["Measures:\n-", "Second example"]
