"""The foundation through the CLI: init, cases, import, listings, show, stats, errors, demo."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from gripcode.cli.main import cli
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import CaseAttribute, Document, Event, Unit

from conftest import Gripcode


def count(url: str, model) -> int:
    engine = make_engine(url)
    with transaction(engine) as s:
        n = s.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return n


def test_every_command_has_help() -> None:
    runner = CliRunner()
    seen = []

    def walk(group, path):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command.help, f"gripcode {' '.join(path + [name])} has no help text"
            result = runner.invoke(cli, [*path, name, "--help"])
            assert result.exit_code == 0 and "Usage:" in result.output
            seen.append(" ".join(path + [name]))
            if isinstance(command, click.Group):
                walk(command, path + [name])

    walk(cli, [])
    assert {"import", "import qdpx", "codebook sync", "review accept"} <= set(seen)


def test_lazy_command_table_names_every_command() -> None:
    """Commands load on first use from LAZY_COMMANDS; it must name each module's commands, and only those."""
    import importlib

    from gripcode.cli.main import LAZY_COMMANDS

    declared = {}
    for path in sorted((Path(__file__).parents[1] / "gripcode" / "cli").glob("*.py")):
        module = importlib.import_module(f"gripcode.cli.{path.stem}")
        for command in getattr(module, "COMMANDS", []):
            declared[command.name] = path.stem
    assert declared == LAZY_COMMANDS


def test_a_command_loads_only_its_own_module() -> None:
    """`gripcode stats` must not import the analysis, agreement or autocode commands (start-up time)."""
    import subprocess
    import sys

    code = ("import sys\nfrom gripcode.cli.main import cli\n"
            "cli.main(['--db', 'sqlite://', 'stats'], standalone_mode=False)\n")
    probe = ("import sys, runpy, atexit\n"
             "atexit.register(lambda: print(sorted(m for m in ('gripcode.cli.analysis', 'gripcode.cli.agreement', "
             "'gripcode.cli.autocode', 'gripcode.cli.documents') if m in sys.modules), file=sys.stderr))\n" + code)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stderr.strip().splitlines()[-1] == "['gripcode.cli.documents']", result.stderr


def test_command_on_uninitialised_database_is_a_clear_error(tmp_path: Path) -> None:
    result = Gripcode(f"sqlite:///{tmp_path / 'none.db'}")("stats")
    assert result.exit_code == 1
    assert "Error:" in result.output and "gripcode init" in result.output
    assert "Traceback" not in result.output


def test_init_twice_says_so(grip: Gripcode) -> None:
    assert "already a gripcode project" in grip.ok("init").output


def test_case_attributes_are_typed(grip: Gripcode) -> None:
    grip.ok("case", "add", "Brazil", "--attr", "population=214.3", "--attr", "since=2010-01-05",
            "--attr", "region=South America", "--attr", "code:text=076")
    rows = json.loads(grip.ok("case", "list", "--format", "json").output)
    assert rows == [{"case": "Brazil", "documents": 0, "attributes": {
        "code": "076", "population": 214.3, "region": "South America", "since": "2010-01-05"}}]
    engine = make_engine(grip.url)
    with transaction(engine) as s:
        types = dict(s.execute(select(CaseAttribute.key, CaseAttribute.value_type)).tuples().all())
    engine.dispose()
    assert types == {"code": "text", "population": "number", "since": "date", "region": "text"}


def test_case_errors(grip: Gripcode) -> None:
    grip.ok("case", "add", "China")
    dup = grip("case", "add", "China")
    assert dup.exit_code == 1 and "exists already" in dup.output
    bad = grip("case", "add", "Peru", "--attr", "n:number=many")
    assert bad.exit_code == 1 and "is not a number" in bad.output
    assert count(grip.url, CaseAttribute) == 0


def test_import_transcript_units_and_dedup(grip: Gripcode, tmp_path: Path) -> None:
    grip.ok("case", "add", "China")
    f = tmp_path / "talk.txt"
    f.write_bytes("Interviewer: Why quotas?\r\n\r\nR1: Prices fell. Then they rose.\r\n".encode("utf-8-sig"))
    out = grip.ok("import", str(f), "--case", "China", "--kind", "interview", "--json").output
    report = json.loads(out)
    assert len(report["imported"]) == 1 and report["skipped"] == []
    engine = make_engine(grip.url)
    with transaction(engine) as s:
        doc = s.scalar(select(Document))
        assert doc.text == "Interviewer: Why quotas?\n\nR1: Prices fell. Then they rose.\n"
        units = s.execute(select(Unit.kind, Unit.start, Unit.end, Unit.speaker).order_by(Unit.kind, Unit.seq)).all()
    engine.dispose()
    by_kind: dict[str, list] = {}
    for kind, start, end, speaker in units:
        by_kind.setdefault(kind, []).append((doc.text[start:end], speaker))
    assert [t for t, _ in by_kind["paragraph"]] == ["Interviewer: Why quotas?", "R1: Prices fell. Then they rose."]
    assert [t for t, _ in by_kind["sentence"]] == ["Interviewer: Why quotas?", "R1: Prices fell.", "Then they rose."]
    assert [s for _, s in by_kind["turn"]] == ["Interviewer", "R1"]
    again = grip.ok("import", str(f), "--case", "China")
    assert "skipped" in again.output and "same text as 'talk'" in again.output
    assert count(grip.url, Document) == 1


def test_failed_import_writes_nothing(grip: Gripcode, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("A perfectly fine document about export quotas.")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    result = grip("import", str(good), str(binary))
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "binary" in result.output
    assert count(grip.url, Document) == 0 and count(grip.url, Unit) == 0 and count(grip.url, Event) == 0


def test_bad_input_errors(grip: Gripcode, tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("Some text.")
    cases = {
        ("import", str(tmp_path / "missing.txt")): "No such file",
        ("import", str(f), "--case", "Atlantis"): "unknown case 'Atlantis'",
        ("import", str(f), "--kind", "novel"): "Invalid value for '--kind'",
        ("import", str(f), "--date", "12/03/2020"): "not yyyy-mm-dd",
        ("import", str(f), "--encoding", "no-such-codec"): "Error:",
        ("show", "999"): "no document with id 999",
    }
    for args, message in cases.items():
        result = grip(*args)
        assert result.exit_code == 1, args
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert count(grip.url, Document) == 0


def test_bad_manifest_row_reports_all_rows(grip: Gripcode, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Text A.")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,title,case,kind,date\na.txt,A,,policy,2020-01-01\nb.txt,B,,policy,\na.txt,C,,essay,2020-13-01\n")
    result = grip("import", "--manifest", str(manifest))
    assert result.exit_code == 1
    assert "m.csv:3: file b.txt does not exist" in result.output
    assert "m.csv:4: kind 'essay'" in result.output and "m.csv:4: date '2020-13-01'" in result.output
    assert count(grip.url, Document) == 0


def test_manifest_import_of_sample_corpus(grip: Gripcode, corpus_dir: Path) -> None:
    out = grip.ok("import", "--manifest", str(corpus_dir / "manifest.csv"), "--create-cases", "--json").output
    report = json.loads(out)
    docs = json.loads(grip.ok("docs", "list", "--format", "json").output)
    assert len(docs) == len(report["imported"]) >= 26
    kinds = {(d["case"], d["kind"]) for d in docs}
    for case in ("China", "Brazil", "Kazakhstan"):
        assert {(case, "interview"), (case, "policy"), (case, "media")} <= kinds
    assert {"pt", "zh", "ru"} <= {d["language"] for d in docs}
    files = {d["file"].rsplit("#", 1)[0].rsplit(".", 1)[1] for d in docs}
    assert {"txt", "md", "docx", "pdf", "csv", "vtt", "html"} <= files
    stats = json.loads(grip.ok("stats", "--format", "json").output)
    assert set(stats) >= {"cases", "documents", "units", "codes", "codings", "coders", "memos"}
    assert stats["documents"] == len(docs) and stats["cases"] == 4
    vtt = next(d for d in docs if d["file"].endswith(".vtt"))
    engine = make_engine(grip.url)
    with transaction(engine) as s:
        turns = s.execute(select(Unit.speaker, Unit.begin_time).where(
            Unit.document_id == vtt["id"], Unit.kind == "turn").order_by(Unit.seq)).all()
    engine.dispose()
    assert len(turns) >= 8 and turns[1].begin_time is not None and turns[1].speaker in {"Interviewer", "Manager"}


def test_listing_formats_and_show(grip: Gripcode, tmp_path: Path) -> None:
    f = tmp_path / "p.md"
    f.write_text("---\ntitle: Quota notice\ndate: 2010-07-08\nissuer: Ministry\n---\nFirst paragraph.\n\nSecond one.\n")
    grip.ok("import", str(f), "--kind", "policy")
    csv_out = grip.ok("docs", "list", "--format", "csv").output.splitlines()
    assert csv_out[0] == "id,title,case,kind,language,date,words,file,source,origin"
    assert csv_out[1] == "1,Quota notice,,policy,en,2010-07-08,4,p.md,,"
    shown = grip.ok("show", "Quota notice").output
    assert shown.splitlines()[2] == "# from p.md"
    assert "[1] First paragraph." in shown and "[2] Second one." in shown
    assert json.loads(grip.ok("docs", "list", "--kind", "media", "--format", "json").output) == []


def test_demo_builds_a_project(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "Imported" in result.output and "Try next" in result.output
    assert result.output.endswith(
        "\nThen read and code the documents in the full-screen workbench (? shows its keys, q quits):\n"
        f"  gripcode --db sqlite:///{tmp_path / 'demo' / 'gripcode.db'} --coder ana workbench 3\n")
    stats = json.loads(Gripcode(f"sqlite:///{tmp_path / 'demo' / 'gripcode.db'}").ok("stats", "--format", "json").output)
    assert stats["documents"] >= 26 and stats["cases"] == 4
    assert stats["codes"] >= 20 and "Synced it into the project" in result.output
    assert stats["codings"] >= 100 and "sample coders ana and ben" in result.output
    assert "suggestions as rules@" in result.output and "ana reviewed part of them: accepted" in result.output
    assert "Agreement of ana and ben at the paragraph unit (12 documents" in result.output
    out = tmp_path / "demo" / "out"
    for name in ("compare-by-case.csv", "compare-by-case.xlsx", "compare-by-case.tex", "framework-matrix.xlsx",
                 "share-of-documents-by-case.png"):
        assert (out / name).stat().st_size > 0 and str(out / name) in result.output
    again = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo")])
    assert again.exit_code == 1 and "not empty" in again.output


def test_import_with_worker_process_matches_inline(tmp_path: Path, db_url: str) -> None:
    """Reading and segmenting in a worker process gives the same documents and units as inline."""
    for i in range(6):
        (tmp_path / f"d{i}.txt").write_text(f"Interviewer: Question {i}?\n\nR1: Answer {i}. More text.\n")
    files = [str(p) for p in sorted(tmp_path.glob("d*.txt"))]
    results = []
    for jobs, url in (("0", db_url), ("1", f"sqlite:///{tmp_path / 'workers.db'}")):
        g = Gripcode(url)
        g.ok("init")
        g.ok("import", *files, "--jobs", jobs)
        engine = make_engine(url)
        with transaction(engine) as s:
            results.append(s.execute(select(Unit.document_id, Unit.kind, Unit.seq, Unit.start, Unit.end,
                                            Unit.speaker).order_by(Unit.id)).all())
        engine.dispose()
    assert results[0] == results[1] and len(results[0]) == 6 * (2 + 3 + 2)


def test_console_script_module_loads_nothing_heavy() -> None:
    """Spawned workers re-import the console script; it must not pull in the command line or SQLAlchemy."""
    import subprocess
    import sys

    code = "import sys, gripcode.console; print(sorted(m for m in ('click', 'sqlalchemy', 'gripcode.cli.main') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_the_program_itself_runs_commands_and_reports_errors(tmp_path: Path) -> None:
    """`python -m gripcode` (what the console script runs): commands load on demand, output is complete when the
    process exits, and a bad command still gives `Error:` and exit code 1."""
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gripcode", "--db", f"sqlite:///{tmp_path / 'p.db'}", *args],
                              capture_output=True, text=True, timeout=120)

    assert run("init").returncode == 0
    (tmp_path / "a.txt").write_text("Quotas fell.\n\nPrices rose. Then fell.\n", encoding="utf-8")
    imported = run("import", str(tmp_path / "a.txt"))
    assert imported.returncode == 0 and "1 document(s), 6 words, 5 units imported" in imported.stdout
    stats = run("stats", "--format", "json")
    assert stats.returncode == 0 and json.loads(stats.stdout)["documents"] == 1
    bad = run("nosuchcommand")
    assert bad.returncode == 1 and "Error: No such command 'nosuchcommand'" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(("args", "fixed"), [
    (["code", "add", "3", "X", "--quote", "state control", "--coder", "ben"],
     "gripcode --coder ben code add 3 X --quote 'state control'"),
    (["--coder", "ana", "review", "accept", "--db", "p.db", "--code", "x"],
     "gripcode --coder ana --db p.db review accept --code x"),
    (["stats", "--db=p.db"], "gripcode --db=p.db stats"),
])
def test_global_options_after_the_command_are_written_the_right_way_round(args: list[str], fixed: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert f"is an option of gripcode itself, so it goes before the command: {fixed}" in result.output


@pytest.mark.parametrize("args", [
    ["memo", "add", "x", "--db"],
    ["code", "add", "3", "X", "--coder"],
    ["memo", "add", "x", "--db", "--coder", "ben"],
])
def test_a_misplaced_global_option_without_its_value_gets_click_s_own_error(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "No such option" in result.output
    assert "gripcode itself" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("args", "option"), [
    (["--db", "a.db", "memo", "add", "x", "--db", "b.db"], "--db"),
    (["--db=a.db", "stats", "--db=b.db"], "--db"),
    (["--coder", "ana", "--db", "a.db", "code", "add", "3", "X", "--coder", "ben"], "--coder"),
    (["memo", "add", "x", "--db", "a.db", "--db", "b.db"], "--db"),
])
def test_a_global_option_given_before_and_after_the_command_is_said_to_be_given_twice(
    args: list[str], option: str
) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert f"Error: {option} is given twice; it is an option of gripcode itself, so give it once, before the " \
           "command" in result.output
    assert "goes before the command: gripcode" not in result.output


def test_the_installed_program_gives_no_hint_without_a_value_and_says_twice(tmp_path: Path) -> None:
    import subprocess

    from conftest import PROGRAM

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(PROGRAM), *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)

    bare = run("memo", "add", "x", "--db")
    assert bare.returncode == 1 and "No such option '--db'" in bare.stderr and "gripcode itself" not in bare.stderr
    twice = run("--db", "a.db", "memo", "add", "x", "--db", "b.db")
    assert twice.returncode == 1 and "Error: --db is given twice" in twice.stderr
    assert "gripcode --db a.db --db b.db" not in twice.stderr
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "b.db").exists()
