"""The installed `gripcode` program as a user runs it: a subprocess of the venv's console script.

These are the behaviours a new user meets first (what a command prints, what it asks, what it loads), so they
are checked through the real entry point rather than only through click's test runner.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_codebook_loader import EVERY_PROBLEM, EVERY_PROBLEM_EXPECTED, line

PROGRAM = Path(sys.executable).parent / "gripcode"


def run(*args: str, input: str | None = None, db: str | None = None) -> subprocess.CompletedProcess[str]:  # noqa: A002
    where = ["--db", db] if db else []
    return subprocess.run([str(PROGRAM), *where, *args], input=input, capture_output=True, text=True, timeout=300)


def test_codebook_validate_lists_every_problem_with_its_line_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / "cb.yaml"
    path.write_text(EVERY_PROBLEM, encoding="utf-8")
    result = run("codebook", "validate", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {path} is not a valid codebook\n") and "Traceback" not in result.stderr
    reported = result.stderr.splitlines()[1:]
    for marker, occurrence, message in EVERY_PROBLEM_EXPECTED:
        expected = f"  {path}:{line(EVERY_PROBLEM, marker, occurrence)}: {message}"
        assert any(r.startswith(expected) for r in reported), (expected, result.stderr)
    assert len(reported) == len(EVERY_PROBLEM_EXPECTED)
