"""Several commands writing at once: a write waits for another's lock up to the busy timeout, then answers
`Error: the project is busy ...`; it is never refused before the timeout has passed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from gripcode.config import load_settings
from gripcode.db.engine import make_engine, transaction
from gripcode.errors import ConfigError, ProjectBusyError

from conftest import PROGRAM, TWO_CODES, Gripcode


CODEBOOK = TWO_CODES.format(name="busy-test")


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    for n in range(1, 7):
        (tmp_path / f"doc{n}.txt").write_text(f"Document {n}: the ministry cut export quotas.\n\nPrices rose.\n",
                                               encoding="utf-8")
    grip.ok("import", *(str(tmp_path / f"doc{n}.txt") for n in range(1, 7)), "--case", "China", "--create-cases")
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    return grip


def _program(url: str, *args: str, timeout: float) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIPCODE_")}
    env["GRIPCODE_BUSY_TIMEOUT"] = str(timeout)
    started = time.monotonic()
    result = subprocess.run([str(PROGRAM), "--db", url, "--coder", "ana", *args], capture_output=True, text=True,
                            env=env, timeout=120)
    return result, time.monotonic() - started


class _LockHolder:
    """Another connection that holds the project's write lock (SQLite) or a lock on the codings table
    (PostgreSQL) until released."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.raw = self.engine.raw_connection()
        if self.engine.dialect.name == "sqlite":
            self.raw.execute("BEGIN IMMEDIATE")
        else:
            self.raw.cursor().execute("LOCK TABLE codings IN EXCLUSIVE MODE")

    def release(self) -> None:
        self.raw.rollback()
        self.raw.close()
        self.engine.dispose()


def test_a_write_waits_the_busy_timeout_then_says_the_project_is_busy(project: Gripcode) -> None:
    holder = _LockHolder(project.url)
    try:
        result, waited = _program(project.url, "code", "add", "doc1", "price-control", "--quote", "Prices rose",
                                  timeout=1.5)
    finally:
        holder.release()
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("Error: the project is busy: another command kept its write lock for more "
                                    "than 1.5 s, so nothing was changed"), result.stderr
    assert waited >= 1.5 and "Traceback" not in result.stderr
    assert "price-control" not in project.ok("codings", "list", "--format", "csv").output


def test_a_write_that_meets_a_lock_waits_for_it_and_is_stored(project: Gripcode) -> None:
    """The command reads (document, code) before it writes: begun deferred, it was refused at once; now it
    takes the lock as it begins and waits for the other writer to finish."""
    holder = _LockHolder(project.url)
    timer = threading.Timer(1.0, holder.release)
    timer.start()
    try:
        result, waited = _program(project.url, "code", "add", "doc1", "price-control", "--quote", "Prices rose",
                                  timeout=20)
    finally:
        timer.join()
    assert result.returncode == 0, result.stderr
    assert waited >= 1.0
    assert "price-control" in project.ok("codings", "list", "--format", "csv").output


def test_reads_do_not_wait_for_a_writer_that_holds_the_write_lock(project: Gripcode) -> None:
    """SQLite: a read takes no write lock, so it runs beside a writer's open transaction."""
    if not project.url.startswith("sqlite"):
        pytest.skip("SQLite's write lock; the LOCK TABLE held on PostgreSQL here does not stop reads either")
    holder = _LockHolder(project.url)
    try:
        result, waited = _program(project.url, "codings", "list", "--format", "csv", timeout=5)
    finally:
        holder.release()
    assert result.returncode == 0, result.stderr
    assert waited < 5


def test_the_busy_timeout_comes_from_the_environment_or_gripcode_toml(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIPCODE_BUSY_TIMEOUT", raising=False)
    assert load_settings(folder=tmp_path).busy_timeout == 10.0
    (tmp_path / "gripcode.toml").write_text("[gripcode]\nbusy_timeout = 30\n", encoding="utf-8")
    assert load_settings(folder=tmp_path).busy_timeout == 30.0
    monkeypatch.setenv("GRIPCODE_BUSY_TIMEOUT", "2.5")
    assert load_settings(folder=tmp_path).busy_timeout == 2.5
    monkeypatch.setenv("GRIPCODE_BUSY_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="busy_timeout"):
        load_settings(folder=tmp_path)


def test_transaction_turns_a_lock_wait_into_project_busy(project: Gripcode) -> None:
    holder = _LockHolder(project.url)
    engine = make_engine(project.url, busy_timeout=0.3)
    try:
        with pytest.raises(ProjectBusyError, match="more than 0.3 s"):
            with transaction(engine) as session:
                session.execute(text("DELETE FROM codings"))
    finally:
        engine.dispose()
        holder.release()


_WORKER = textwrap.dedent("""\
    import json, sys, time
    from gripcode.cli.main import cli
    url, role, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    results = []
    for i in range(n):
        if role.startswith("coder"):
            args = ["--coder", role, "code", "add", f"doc{i % 6 + 1}", "price-control", "--quote", "Prices rose"]
        elif role == "sync":
            args = ["codebook", "sync", sys.argv[5 + i % 2]]
        else:
            args = ["autocode", "--jobs", "0"]
        started = time.monotonic()
        from click.testing import CliRunner
        result = CliRunner().invoke(cli, ["--db", url, *args])
        results.append({"args": args, "code": result.exit_code, "output": result.output,
                        "waited": time.monotonic() - started})
    json.dump(results, open(out, "w"))
""")


def test_coders_a_sync_and_autocode_at_once_are_each_stored_or_told_busy(project: Gripcode, tmp_path: Path) -> None:
    """Three coders, a codebook sync loop and an autocode loop write at once, each in its own process: every
    command is stored, or refused as busy only after waiting the whole timeout (or, for autocode, stopped by a
    sync between its batches); nothing else goes wrong."""
    import json

    script = tmp_path / "worker.py"
    script.write_text(_WORKER, encoding="utf-8")
    other = tmp_path / "cb2.yaml"
    other.write_text(CODEBOOK.replace("Price control", "Price controls"), encoding="utf-8")
    timeout = 10
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIPCODE_")}
    env["GRIPCODE_BUSY_TIMEOUT"] = str(timeout)
    roles = {"coder-a": 6, "coder-b": 6, "coder-c": 6, "sync": 6, "autocode": 4}
    procs = {role: subprocess.Popen([sys.executable, str(script), project.url, role, str(n),
                                     str(tmp_path / f"{role}.json"), str(other), str(tmp_path / "cb.yaml")],
                                    env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
             for role, n in roles.items()}
    for role, proc in procs.items():
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{role}: {err}"
    stored = 0
    for role in roles:
        for result in json.loads((tmp_path / f"{role}.json").read_text()):
            if result["code"] == 0:
                stored += role.startswith("coder")
                continue
            if role == "autocode" and "while autocode ran" in result["output"]:
                continue  # a sync committed between its batches: it stops, to be run again
            assert result["output"].startswith("Error: the project is busy"), result
            assert result["waited"] >= timeout, result
    engine = make_engine(project.url)
    with transaction(engine, write=False) as session:
        in_project = session.execute(text(
            "SELECT count(*) FROM codings JOIN coders ON coders.id = codings.coder_id "
            "WHERE coders.name LIKE 'coder-%'")).scalar()
    engine.dispose()
    assert in_project == stored and stored > 0


def test_a_coder_writes_while_autocode_builds_its_pipelines(project: Gripcode,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Autocode plans and builds its pipelines (spaCy loading) in a read transaction; before, it held the write
    lock meanwhile and a coder beside it waited, here in vain."""
    from gripcode.nlp import autocode as autocode_module
    from gripcode.db.models import Case

    reached, go = threading.Event(), threading.Event()
    real = autocode_module._check_rules

    def slow_check(*args: object) -> None:
        reached.set()
        assert go.wait(60)
        real(*args)

    monkeypatch.setattr(autocode_module, "_check_rules", slow_check)
    engine = make_engine(project.url)
    outcome: dict[str, object] = {}
    thread = threading.Thread(target=lambda: outcome.update(report=autocode_module.autocode(engine, actor="ana")))
    thread.start()
    try:
        assert reached.wait(60)
        beside = make_engine(project.url, busy_timeout=0.5)
        with transaction(beside) as session:
            session.add(Case(name="Japan"))
        beside.dispose()
    finally:
        go.set()
        thread.join(60)
    engine.dispose()
    assert outcome["report"].suggestions > 0  # type: ignore[attr-defined]
