"""Every `round` command path, and `show` / `codings list` hiding others' codings in an open round, through the
installed `gripcode` program in a subprocess. On SQLite, and on PostgreSQL with GRIPCODE_TEST_DB."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import PROGRAM, TWO_CODES, reset_postgres


def run(url: str, *args: str, coder: str = "org", input: str | None = None) -> subprocess.CompletedProcess[str]:  # noqa: A002
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRIPCODE_")}
    return subprocess.run([str(PROGRAM), "--db", url, "--coder", coder, *args], capture_output=True, text=True,
                          timeout=300, env=environment, input=input)


def ok(url: str, *args: str, coder: str = "org", input: str | None = None) -> str:  # noqa: A002
    result = run(url, *args, coder=coder, input=input)
    assert result.returncode == 0, f"{args}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def fails(url: str, *args: str, coder: str = "org") -> str:
    result = run(url, *args, coder=coder)
    assert result.returncode == 1, f"{args}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr, result.stderr
    return result.stderr


@pytest.fixture
def url(tmp_path: Path) -> str:
    given = os.environ.get("GRIPCODE_TEST_DB", "")
    if given.startswith("postgresql"):
        reset_postgres(given)
        return given
    return f"sqlite:///{tmp_path / 'project.db'}"


def test_a_round_through_the_program(tmp_path: Path, url: str) -> None:
    ok(url, "init")
    for name, text in (("beijing.txt", "The ministry cut export quotas again.\n\nPrices rose in Baotou.\n"),
                       ("brasilia.txt", "Export quotas are not on the table.\n\nThe agency wants a price floor.\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    ok(url, "import", str(tmp_path / "beijing.txt"), str(tmp_path / "brasilia.txt"), "--case", "China",
       "--create-cases", "--jobs", "1")
    (tmp_path / "cb.yaml").write_text(TWO_CODES.format(name="program-rounds"), encoding="utf-8")
    ok(url, "codebook", "sync", str(tmp_path / "cb.yaml"))
    ok(url, "coder", "add", "ana")
    ok(url, "coder", "add", "ben")
    assert "no coder 'zoe'" in fails(url, "round", "start", "pilot", "--coders", "ana,zoe", "--docs", "1")
    assert "a round needs documents" in fails(url, "round", "start", "pilot", "--coders", "ana,ben")
    started = ok(url, "round", "start", "pilot", "--coders", "ana,ben", "--docs", "1,2", "--unit", "paragraph")
    assert started.startswith("Started round pilot: ana, ben code 2 document(s) blind")
    assert "exists already" in fails(url, "round", "start", "pilot", "--coders", "ana,ben", "--docs", "1")
    ok(url, "code", "add", "1", "export-restrictions", "--unit", "paragraph:1", coder="ana")
    ok(url, "code", "add", "1", "price-control", "--unit", "paragraph:2", coder="ana")
    ok(url, "code", "add", "2", "export-restrictions", "--unit", "paragraph:1", coder="ana")
    ok(url, "code", "add", "1", "export-restrictions", "--unit", "paragraph:1", coder="ben")
    ok(url, "code", "add", "2", "price-control", "--unit", "paragraph:2", coder="ben")
    # blind while open: ana sees her own codings only, the organiser everyone's
    mine = json.loads(ok(url, "codings", "list", "--format", "json", coder="ana"))
    assert {r["coder"] for r in mine} == {"ana"} and len(mine) == 3
    assert {r["coder"] for r in json.loads(ok(url, "codings", "list", "--format", "json"))} == {"ana", "ben"}
    shown = ok(url, "show", "1", "--codes", "--no-color", coder="ana")
    assert "round pilot (blind)" in shown and "export-restrictions (ana)\n" in shown and "ben" not in shown
    assert "export-restrictions (ana, ben)" in ok(url, "show", "1", "--codes", "--no-color")
    session = ok(url, "code", "session", "1", input="q\n", coder="ben")
    assert "[round pilot (blind)]" in session and "(ana)" not in session
    assert "only your own progress" in ok(url, "round", "status", "pilot", coder="ana")
    assert "ben    2" in ok(url, "round", "status")
    assert "pilot  open" in ok(url, "round", "list")
    assert "is still open" in fails(url, "round", "disagreements", "pilot")
    closed = ok(url, "round", "close", "pilot")
    assert "Closed round pilot: 2 coders, 2 document(s) coded by all, by paragraph." in closed
    assert "3 disagreement(s) to adjudicate" in closed
    assert "was closed already" in fails(url, "round", "close", "pilot")
    listed = json.loads(ok(url, "round", "disagreements", "pilot", "--format", "json"))
    assert [(r["id"], r["code"], r["applied_by"], r["not_applied_by"]) for r in listed] == [
        (1, "price-control", "ana", "ben"), (2, "export-restrictions", "ana", "ben"), (3, "price-control", "ben", "ana")]
    assert "applied by adjudicated@pilot" in ok(url, "round", "adjudicate", "pilot", "1", "--apply",
                                               coder="carla")
    assert "rejected" in ok(url, "round", "adjudicate", "pilot", "2", "3", "--reject", "--note", "not a rule")
    assert "has no disagreement 7" in fails(url, "round", "adjudicate", "pilot", "7", "--reject")
    assert "Disagreements: 3, 0 not yet adjudicated" in ok(url, "round", "status", "pilot")
    assert {r["coder"] for r in json.loads(ok(url, "codings", "list", "--format", "json", coder="ana"))} == {
        "ana", "ben", "adjudicated@pilot"}
