"""Backups: a failed one leaves no partial file and says so; a PostgreSQL password never reaches a command line."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gripcode.db import migrate
from gripcode.db.engine import make_engine

from conftest import PROGRAM



def test_a_backup_onto_a_full_disk_fails_cleanly(tmp_path: Path) -> None:
    """The program may write files of at most 64 KiB (as if the disk filled up): the backup of a larger
    project fails with `Error:`, and neither the backup nor a partial file is left."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIPCODE_")}
    db = tmp_path / "p.db"
    subprocess.run([str(PROGRAM), "--db", str(db), "init"], check=True, capture_output=True, env=env)
    for n in range(4):
        (tmp_path / f"d{n}.txt").write_text(f"Interview {n}. " + "Quotas fell and prices rose. " * 2000,
                                            encoding="utf-8")
    subprocess.run([str(PROGRAM), "--db", str(db), "import", *(str(tmp_path / f"d{n}.txt") for n in range(4))],
                   check=True, capture_output=True, env=env)
    assert db.stat().st_size > 200_000
    backups = tmp_path / "backups"
    backups.mkdir()

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    result = subprocess.run([str(PROGRAM), "--db", str(db), "backup", str(backups / "copy.db")], capture_output=True,
                            text=True, env=env, preexec_fn=small_files)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"Error: the backup to {backups / 'copy.db'} failed and was not written")
    assert "Traceback" not in result.stderr
    assert list(backups.iterdir()) == []


def test_the_postgresql_password_goes_to_pg_dump_in_its_environment(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen["args"], seen["env"] = args, kwargs.get("env") or {}
        Path(args[2].split("=", 1)[1]).write_bytes(b"PGDMP")
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(migrate.shutil, "which", lambda name: "/usr/bin/pg_dump")
    monkeypatch.setattr(migrate.subprocess, "run", fake_run)
    engine = make_engine("postgresql+psycopg://ana:s3cret%21@db.example.org:5432/arm")
    dest = migrate.backup_database(engine, tmp_path / "arm.dump")
    engine.dispose()
    assert dest.read_bytes() == b"PGDMP"
    assert not any("s3cret" in arg for arg in seen["args"]), seen["args"]
    assert "--dbname=postgresql://ana@db.example.org:5432/arm" in seen["args"]
    assert seen["env"]["PGPASSWORD"] == "s3cret!"


def test_a_failed_pg_dump_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        Path(args[2].split("=", 1)[1]).write_bytes(b"PGDMP half")
        return subprocess.CompletedProcess(args, 1, "", "pg_dump: error: could not write: No space left on device")

    monkeypatch.setattr(migrate.shutil, "which", lambda name: "/usr/bin/pg_dump")
    monkeypatch.setattr(migrate.subprocess, "run", failing_run)
    engine = make_engine("postgresql+psycopg://ana@db.example.org/arm")
    with pytest.raises(migrate.DatabaseError, match="No space left on device"):
        migrate.backup_database(engine, tmp_path / "arm.dump")
    engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_a_project_in_a_folder_with_hash_or_percent_is_backed_up_whole(tmp_path: Path) -> None:
    folder = tmp_path / "arm #2 50%"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'p.db'}")
    migrate.init_database(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO cases (name, refi_guid, created_at) VALUES ('Brazil', 'b7a6c2e0-0000-4000-8000-000000000001', '2026-01-01 00:00:00')")
    dest = migrate.backup_database(engine, folder / "copy.db")
    engine.dispose()
    import sqlite3

    with sqlite3.connect(dest) as conn:
        assert conn.execute("SELECT name FROM cases").fetchall() == [("Brazil",)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arm #2 50%"]


def test_options_in_a_postgresql_url_are_kept_beside_the_lock_timeout() -> None:
    from sqlalchemy import event

    engine = make_engine("postgresql+psycopg://ana@127.0.0.1:1/arm?options=-csearch_path%3Dgrip", busy_timeout=2)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise RuntimeError("not connecting")

    with pytest.raises(Exception):
        engine.connect()
    engine.dispose()
    assert seen["options"] == "-csearch_path=grip -c lock_timeout=2000"
