"""The installed `gripcode` program as a user runs it: a subprocess of the venv's console script.

These are the behaviours a new user meets first (what a command prints, what it asks, what it loads), so they
are checked through the real entry point rather than only through click's test runner.
"""

from __future__ import annotations

import ast
import csv
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROGRAM
from test_codebook_loader import EVERY_PROBLEM, EVERY_PROBLEM_EXPECTED, line

STUDY = Path(__file__).resolve().parents[1] / "codebooks" / "grip-arm.yaml"


def run(
    *args: str, input: str | None = None, db: str | None = None, cwd: Path | None = None  # noqa: A002
) -> subprocess.CompletedProcess[str]:
    where = ["--db", db] if db else []
    return subprocess.run([str(PROGRAM), *where, *args], input=input, capture_output=True, text=True, timeout=300,
                          cwd=cwd)


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


def test_db_downgrade_declined_changes_nothing_and_accepted_backs_up_first(tmp_path: Path) -> None:
    from gripcode.db.migrate import SCHEMA_HEAD as head

    db = tmp_path / "p.db"
    assert run("init", db=str(db)).returncode == 0
    assert run("case", "add", "Brazil", db=str(db)).returncode == 0
    before = db.read_bytes()
    for answer in ("n\n", ""):  # "n", and no answer at all (a script without --yes)
        declined = run("db", "downgrade", "0003", input=answer, db=str(db))
        assert declined.returncode == 1 and "Aborted!" in declined.stderr, declined
        assert db.read_bytes() == before and list(tmp_path.iterdir()) == [db]
    assert f"{head} (newest: {head}, up to date)" in run("db", "current", db=str(db)).stdout
    done = run("db", "downgrade", "0003", "--yes", db=str(db))
    assert done.returncode == 0 and f"Schema: {head} -> 0003" in done.stdout
    backups = [p for p in tmp_path.iterdir() if p != db]
    assert len(backups) == 1 and backups[0].name.startswith(f"p.db.{head}.")
    with sqlite3.connect(backups[0]) as conn:  # the copy is the database as it was before the downgrade
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
        assert conn.execute("SELECT name FROM cases").fetchall() == [("Brazil",)]
    assert run("db", "current", db=str(db)).stdout.startswith("0003 ")


@pytest.mark.parametrize(("revision", "message"), [
    ("zzz", "Can't locate revision identified by 'zzz'"),
    ("-9", "Relative revision -9 didn't produce 9 migrations"),
])
def test_db_downgrade_to_an_unknown_revision_is_an_error_with_no_backup_and_no_change(
    tmp_path: Path, revision: str, message: str
) -> None:
    from gripcode.db.migrate import SCHEMA_HEAD

    db = tmp_path / "p.db"
    assert run("init", db=str(db)).returncode == 0
    assert run("case", "add", "Brazil", db=str(db)).returncode == 0
    before = db.read_bytes()
    for confirm in (["--yes"], []):  # and without --yes it fails before asking
        result = run("db", "downgrade", *confirm, "--", revision, db=str(db))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result
        assert result.stderr == f"Error: cannot downgrade from schema {SCHEMA_HEAD} to '{revision}': {message}\n"
        assert "Continue?" not in result.stdout
        assert db.read_bytes() == before and list(tmp_path.iterdir()) == [db]
    assert run("db", "current", db=str(db)).stdout.startswith(f"{SCHEMA_HEAD} ")


def test_codebook_export_without_output_writes_to_stdout(tmp_path: Path) -> None:
    result = run("codebook", "export", str(STUDY), "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert [r["id"] for r in rows][:2] == ["state-strategy", "industrial-policy-instruments"]
    assert list(tmp_path.iterdir()) == []


def test_codebook_diff_between_two_files_counts_no_codings(tmp_path: Path) -> None:
    old, new = tmp_path / "a.yaml", tmp_path / "b.yaml"
    old.write_text("codebook: t\ncodes:\n  - {id: a, name: A}\n  - {id: b, name: B}\n  - {id: c, name: C}\n",
                   encoding="utf-8")
    new.write_text("codebook: t\ncodes:\n  - {id: a, name: A}\n  - {id: d, name: B, renamed_from: b}\n"
                   "  - {id: c, name: C, merged_into: a}\n", encoding="utf-8")
    result = run("codebook", "diff", str(old), str(new))
    assert result.returncode == 0
    assert result.stdout == "renamed     d  (from b)\nmerged      c  (into a)\n"


def test_review_min_confidence_on_rule_suggestions_is_explained(tmp_path: Path) -> None:
    db = str(tmp_path / "p.db")
    (tmp_path / "cb.yaml").write_text("codebook: t\ncodes:\n  - id: quotas\n    name: Export quotas\n"
                                      "    rules: {terms: {en: [export quotas]}}\n", encoding="utf-8")
    (tmp_path / "doc.txt").write_text("China cut its export quotas. Export quotas ended.\n", encoding="utf-8")
    for args in (["init"], ["codebook", "sync", str(tmp_path / "cb.yaml")], ["import", str(tmp_path / "doc.txt")],
                 ["autocode"]):
        assert run(*args, db=db).returncode == 0, args
    refused = run("review", "accept", "--origin", "rule", "--min-confidence", "0.8", db=db)
    assert refused.returncode == 1 and refused.stderr.startswith("Error: rule suggestions carry no confidence")
    mixed = run("review", "accept", "--min-confidence", "0.8", db=db)
    assert mixed.returncode == 0 and mixed.stdout.splitlines()[1].startswith(
        "2 rule suggestion(s) left waiting: rule suggestions carry no confidence")
    with sqlite3.connect(tmp_path / "p.db") as conn:
        assert conn.execute("SELECT status, count(*) FROM codings GROUP BY status").fetchall() == [("suggested", 2)]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("demo") / "demo"
    built = run("demo", str(folder))
    assert built.returncode == 0, built.stderr
    return f"sqlite:///{folder / 'gripcode.db'}"


# A command run by the console script's own entry point in a fresh interpreter; at exit it lists which heavy
# libraries the command loaded.
LOADED_PROBE = """\
import atexit, sys
heavy = ("scipy", "pandas", "matplotlib", "pydantic")
atexit.register(lambda: print("LOADED", sorted(m for m in heavy if m in sys.modules), file=sys.stderr))
sys.argv = ["gripcode", *sys.argv[1:]]
from gripcode.console import main
main()
"""


def loaded_by(db: str, *args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", LOADED_PROBE, "--db", db, *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stderr.rsplit("LOADED ", 1)[1])


@pytest.mark.parametrize("args", [
    ("compare", "--by", "case"),
    ("compare", "--measure", "share", "--format", "csv"),
    ("matrix", "--codes", "export-restrictions"),
    ("matrix", "--format", "markdown"),
    ("retrieve", "--codes", "export-restrictions"),
    ("retrieve", "--format", "json"),
])
def test_compare_matrix_and_retrieve_load_no_heavy_library(demo_db: str, args: tuple[str, ...]) -> None:
    # Their tables are built from plain rows: loading pandas would take about as long as the query on a large
    # project. matplotlib only for --figure; scipy and pandas only for --test; the codebook's pydantic model only
    # where a codebook is read, not to name the version in the provenance.
    assert loaded_by(demo_db, *args) == []


@pytest.mark.parametrize("args", [
    ("agreement", "--coders", "ana,ben", "--unit", "sentence"),
    ("matrix", "--type", "code-document"),
    ("cooccur",),
])
def test_analysis_commands_load_scipy_only_for_a_significance_test(demo_db: str, args: tuple[str, ...]) -> None:
    # pandas is what these commands compute with.
    assert loaded_by(demo_db, *args) == ["pandas"]


def test_a_matrix_written_to_excel_loads_no_heavy_library(demo_db: str, tmp_path: Path) -> None:
    assert loaded_by(demo_db, "matrix", "-o", str(tmp_path / "m.xlsx")) == []
    assert (tmp_path / "m.xlsx").stat().st_size > 0


def test_compare_with_a_test_loads_scipy(demo_db: str) -> None:
    assert loaded_by(demo_db, "compare", "--by", "case", "--test") == ["pandas", "scipy"]


def test_stats_loads_no_heavy_library(demo_db: str) -> None:
    assert loaded_by(demo_db, "stats") == []


def test_import_qdpx_works_in_a_fresh_program(tmp_path: Path) -> None:
    """`import qdpx` is defined beside `export qdpx`; a fresh process must find it without `export` first."""
    (tmp_path / "a.txt").write_text("Quotas fell.\n", encoding="utf-8")
    source, target = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    for args, db in ((["init"], source), (["import", str(tmp_path / "a.txt")], source),
                     (["export", "qdpx", str(tmp_path / "a.qdpx")], source), (["init"], target)):
        assert run(*args, db=db).returncode == 0, args
    result = run("import", "qdpx", str(tmp_path / "a.qdpx"), db=target)
    assert result.returncode == 0, result.stderr
    assert "documents: 1 added" in result.stdout
    assert "qdpx   Import a REFI-QDA project" in run("import", "--help").stdout


def test_speaker_turns_survive_a_qdpx_round_trip(tmp_path: Path) -> None:
    (tmp_path / "talk.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Ana>Quotas fell.\n\n"
                                       "00:00:05.500 --> 00:00:08.000\n<v Ben>Prices rose.\n", encoding="utf-8")
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    for args, db in ((["init"], source), (["import", str(tmp_path / "talk.vtt")], source),
                     (["export", "qdpx", str(tmp_path / "a.qdpx")], source), (["init"], target),
                     (["import", "qdpx", str(tmp_path / "a.qdpx")], target)):
        assert run(*args, db=str(db)).returncode == 0, args

    def turns(db: Path) -> list[tuple[object, ...]]:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT seq, start, \"end\", speaker, begin_time, end_time FROM units "
                                "WHERE kind = 'turn' ORDER BY seq").fetchall()

    assert turns(source) == [(1, 0, 12, "Ana", 1.0, 4.0), (2, 14, 26, "Ben", 5.5, 8.0)]
    assert turns(target) == turns(source)
