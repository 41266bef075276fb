"""The installed `gripcode` program, run as a user runs it: a process of its own through the console script.

The program loads each command's module on first use, so a command can exist in a test process that has
imported every module and still be missing from the program. Here every group, command and subcommand is
reached through the program's own `--help`, and each command family does real work in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest

from gripcode.cli.main import cli

from conftest import PROGRAM, TWO_CODES, reset_postgres



def program() -> str:
    """The console script installed beside this interpreter (what `pip install .` puts on PATH)."""
    assert PROGRAM.is_file(), f"no gripcode program at {PROGRAM}: install the package (pip install '.[test]')"
    return str(PROGRAM)


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        input: str | None = None) -> subprocess.CompletedProcess[str]:  # noqa: A002 - subprocess's name
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRIPCODE_")}
    environment.update(env or {})
    return subprocess.run([program(), *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=environment, input=input)


def ok(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    result = run(*args, **kwargs)
    assert result.returncode == 0, f"gripcode {' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def fails(*args: str, **kwargs) -> str:
    """A command that must fail as a user's mistake: `Error: ...` on stderr, exit 1, no traceback."""
    result = run(*args, **kwargs)
    assert result.returncode == 1, f"gripcode {' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr and "Error: " in result.stderr, result.stderr
    return result.stderr


# ------------------------------------------------------------------------------------ the command tree


def _listed_commands(help_text: str) -> list[str]:
    """The names in the "Commands:" section of click's help."""
    names, inside = [], False
    for line in help_text.splitlines():
        if line.strip() == "Commands:":
            inside = True
        elif inside and re.match(r"^  \S", line):
            names.append(line.split()[0])
        elif inside and line and not line.startswith("   "):
            inside = False
    return names


def _in_process_tree() -> set[str]:
    """Every command path once every command module is loaded into one process."""
    paths: set[str] = set()

    def walk(group: click.Group, path: list[str]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            paths.add(" ".join([*path, name]))
            if isinstance(command, click.Group):
                walk(command, [*path, name])

    walk(cli, [])
    return paths


def test_every_command_path_of_the_installed_program_answers_help() -> None:
    """Walk the program's whole click tree through its own `--help`, each in a new process, and find every
    command a process with all modules loaded has: a command that exists only once another module happens
    to be loaded fails here."""
    seen: dict[str, str] = {}
    frontier = [""]
    with ThreadPoolExecutor(4) as pool:
        while frontier:
            paths = frontier
            results = list(pool.map(lambda p: run(*p.split(), "--help"), paths))
            frontier = []
            for path, result in zip(paths, results):
                assert result.returncode == 0, f"gripcode {path} --help: {result.stderr}"
                assert result.stdout.startswith(f"Usage: gripcode {path}".rstrip()), result.stdout
                assert "Traceback" not in result.stderr
                seen[path] = result.stdout
                frontier += [f"{path} {name}".strip() for name in _listed_commands(result.stdout)]
    found = set(seen) - {""}
    assert {"import", "import files", "import qdpx", "export qdpx", "codebook sync", "review accept"} <= found
    assert found == _in_process_tree()


def test_import_help_lists_qdpx_beside_files() -> None:
    listed = _listed_commands(ok("import", "--help").stdout)
    assert listed == ["files", "qdpx"]


# ----------------------------------------------------------------------------- each family, for real


CODEBOOK = TWO_CODES.format(name="program-test")


def _write_corpus(folder: Path) -> list[Path]:
    folder.mkdir()
    texts = {
        "beijing.txt": "The ministry cut export quotas again.\n\nPrices rose in Baotou.\n",
        "brasilia.txt": "Export quotas are not on the table here.\n\nThe agency wants a price floor.\n",
        "almaty.txt": "Interviewer: Are there export quotas?\nOfficial: None for now.\n",
    }
    paths = []
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    return paths


@pytest.fixture
def project_url(tmp_path: Path) -> str:
    url = os.environ.get("GRIPCODE_TEST_DB", "")
    if url.startswith("postgresql"):
        reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'project.db'}"


def test_each_command_family_through_the_program(tmp_path: Path, project_url: str) -> None:
    """init, import (files, with a worker process, and qdpx), codebook sync, code add, autocode (with a worker),
    agreement, compare, export qdpx and backup, each run by the installed program."""
    db = ("--db", project_url)
    assert "Created a gripcode project" in ok(*db, "init").stdout
    files = _write_corpus(tmp_path / "corpus")
    imported = ok(*db, "import", *map(str, files), "--case", "China", "--create-cases", "--jobs", "1")
    assert "3 document(s)" in imported.stdout
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    synced = ok(*db, "codebook", "sync", str(tmp_path / "cb.yaml")).stdout
    assert "Synced program-test as codebook version 1" in synced
    for coder in ("ana", "ben"):
        added = ok(*db, "--coder", coder, "code", "add", "beijing", "export-restrictions", "--quote",
                   "cut export quotas")
        assert f"export-restrictions on document 1 13:30 by {coder}" in added.stdout
    ok(*db, "--coder", "ana", "code", "add", "brasilia", "price-control", "--quote", "price floor")
    suggested = ok(*db, "autocode", "--jobs", "1")
    assert "Added 3 suggestion(s) from 3 rule match(es) in 3 document(s)" in suggested.stdout
    agreement = json.loads(ok(*db, "agreement", "--coders", "ana,ben", "--unit", "paragraph", "--format",
                              "json").stdout)
    assert agreement["provenance"]["coders"] == ["ana", "ben"]
    compare = ok(*db, "compare", "--format", "csv").stdout
    assert '"export-restrictions",1,0.3333333333333333,2,' in compare
    qdpx = tmp_path / "project.qdpx"
    assert "3 document(s), 2 code(s), 3 coding(s)" in ok(*db, "export", "qdpx", str(qdpx)).stdout
    other = f"sqlite:///{tmp_path / 'other.db'}"
    ok("--db", other, "init")
    again = ok("--db", other, "import", "qdpx", str(qdpx))
    assert "documents: 3 added" in again.stdout and "codings: 3 added" in again.stdout
    backup = tmp_path / "copy.db"
    ok("--db", other, "backup", str(backup))
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT count(*) FROM codings").fetchone() == (3,)


# ------------------------------------------------------------------------------------- database URLs


def test_commands_other_than_init_never_make_a_database_file(tmp_path: Path) -> None:
    """In an empty folder, or with a mistyped --db, a command says there is no project and how to make one,
    and leaves no empty file behind."""
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (("stats",), ("case", "list"), ("db", "current"), ("db", "upgrade"), ("--db", "projct.db", "stats")):
        message = fails(*args, cwd=empty)
        assert "no gripcode project at" in message and "gripcode init" in message
        assert list(empty.iterdir()) == [], args
    ok("init", cwd=empty)
    assert [p.name for p in empty.iterdir()] == ["gripcode.db"]


def test_database_urls_that_cannot_be_used(tmp_path: Path) -> None:
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("these are my interview notes, not a database\n" * 20, encoding="utf-8")
    message = fails("--db", str(not_sqlite), "stats")
    assert f"{not_sqlite} is not a SQLite database" in message
    assert not_sqlite.read_text(encoding="utf-8").startswith("these are my interview notes")

    message = fails("--db", "mysql://user@localhost/arm", "stats")
    assert "mysql databases are not supported" in message and "PostgreSQL" in message

    message = fails("--db", "postgresql://postgres@127.0.0.1:1/test", "stats")
    assert "cannot connect to the PostgreSQL database" in message and "Is the server running" in message

    message = fails("--db", str(tmp_path / "no-such-folder" / "p.db"), "init")
    assert "does not exist" in message


def test_a_database_of_a_newer_schema_through_the_program(tmp_path: Path) -> None:
    db = tmp_path / "newer.db"
    ok("--db", str(db), "init")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    for args in (("stats",), ("db", "upgrade")):
        message = fails("--db", str(db), *args)
        assert "newer gripcode" in message and "upgrade gripcode" in message and "db upgrade" not in message


# -------------------------------------------------------------------------- options in the wrong place


def test_global_options_after_the_command_are_shown_the_right_way_round(tmp_path: Path) -> None:
    db = str(tmp_path / "p.db")
    ok("--db", db, "init")
    message = fails("--db", db, "code", "add", "3", "X", "--quote", "state control", "--coder", "ben")
    assert ("--coder is an option of gripcode itself, so it goes before the command: "
            f"gripcode --db {db} --coder ben code add 3 X --quote 'state control'") in message
    message = fails("code", "add", "3", "X", f"--db={db}", "--quote", "a")
    assert f"gripcode --db={db} code add 3 X --quote a" in message
    message = fails("--db", db, "code", "add", "3", "X", "--bogus")
    assert "No such option" in message and "gripcode itself" not in message


# ------------------------------------------------------------------------------------ worker processes


def test_a_launching_script_without_a_main_guard_runs_once(tmp_path: Path) -> None:
    """Spawned workers do not re-run the script that started the import (a researcher's script rarely has an
    `if __name__ == "__main__":` guard); before, each worker re-ran it and died, and the import failed."""
    files = _write_corpus(tmp_path / "corpus")
    runs = tmp_path / "runs.txt"
    script = tmp_path / "import_interviews.py"
    script.write_text(textwrap.dedent(f"""\
        from pathlib import Path
        from gripcode.cli.main import cli

        with open({str(runs)!r}, "a") as log:
            log.write("ran\\n")
        cli.main(["--db", {str(tmp_path / 'p.db')!r}, "init"], standalone_mode=False)
        cli.main(["--db", {str(tmp_path / 'p.db')!r}, "import", "--case", "Brazil", "--create-cases",
                  "--jobs", "1", *{[str(p) for p in files]!r}], standalone_mode=False)
        """), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 document(s)" in result.stdout and "Traceback" not in result.stderr
    assert runs.read_text() == "ran\n"


def test_a_worker_that_cannot_start_is_not_reported_as_out_of_memory(tmp_path: Path) -> None:
    """A worker whose start fails (here a broken spaCy installation, which only the segmenting worker loads)
    says so, with the reason, and nothing is imported."""
    broken = tmp_path / "broken"
    (broken / "spacy").mkdir(parents=True)
    (broken / "spacy" / "__init__.py").write_text("raise ImportError('spaCy is half installed')\n")
    files = _write_corpus(tmp_path / "corpus")
    db = str(tmp_path / "p.db")
    ok("--db", db, "init")
    message = fails("--db", db, "import", "--case", "Brazil", "--create-cases", "--jobs", "1", *map(str, files),
                    env={"PYTHONPATH": str(broken)})
    assert "a worker process could not start: ImportError: spaCy is half installed" in message
    assert "out of memory" not in message and "nothing was imported" in message
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (0,)
