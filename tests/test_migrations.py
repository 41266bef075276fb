"""Migrations: base -> head -> base -> head on SQLite and PostgreSQL, models agree, backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from gripcode.db import migrate
from gripcode.db.engine import make_engine
from gripcode.db.models import Base
from gripcode.errors import DatabaseError

from conftest import Gripcode, postgres_url, reset_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = postgres_url()
        reset_postgres(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def _tables(engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_base_head_base_head(engine) -> None:
    assert migrate.init_database(engine) == "created"
    assert migrate.current_revision(engine) == migrate.head_revision()
    full = _tables(engine)
    assert {"cases", "documents", "units", "codes", "coders", "codings", "memos", "events",
            "codebook_versions"} <= full
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert _tables(engine) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert _tables(engine) == full


def test_models_and_migrations_agree(engine) -> None:
    migrate.init_database(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_old_sqlite_file_is_backed_up_before_upgrade(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate.init_database(engine)
    # Pretend the file predates the newest migration: stamp it at a revision that is not head.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'older'")
    with pytest.raises(DatabaseError, match="gripcode db upgrade"):
        migrate.require_current(engine)
    engine.dispose()
    result = Gripcode(f"sqlite:///{db}")("db", "upgrade")
    # 'older' is not a known revision, so the upgrade itself fails cleanly, but only after the backup.
    backups = list(tmp_path.glob("old.db.older.*.bak"))
    assert len(backups) == 1 and result.exit_code == 1 and "Error:" in result.output
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("older",)


def test_backup_command_sqlite(grip: Gripcode, tmp_path: Path) -> None:
    if not grip.url.startswith("sqlite"):
        pytest.skip("SQLite backup; the PostgreSQL one is tested separately")
    grip.ok("case", "add", "China")
    dest = tmp_path / "copy.db"
    assert "Backed up" in grip.ok("backup", str(dest)).output
    with sqlite3.connect(dest) as conn:
        assert conn.execute("SELECT name FROM cases").fetchall() == [("China",)]
    again = grip("backup", str(dest))
    assert again.exit_code == 1 and "exists already" in again.output


def test_backup_command_postgresql(tmp_path: Path) -> None:
    import shutil

    url = postgres_url()
    reset_postgres(url)
    grip = Gripcode(url)
    grip.ok("init")
    grip.ok("case", "add", "Brazil")
    result = grip("backup", str(tmp_path / "pg.dump"))
    if shutil.which("pg_dump") is None:
        assert result.exit_code == 1 and "pg_dump is not installed" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert (tmp_path / "pg.dump").read_bytes().startswith(b"PGDMP")


def test_db_current_and_downgrade_commands(grip: Gripcode) -> None:
    head = migrate.head_revision()
    assert f"{head} (newest: {head}, up to date)" in grip.ok("db", "current").output
    assert f"{head} -> empty" in grip.ok("db", "downgrade", "base", "--yes").output
    assert f"empty -> {head}" in grip.ok("db", "upgrade").output


def test_downgrade_asks_first_and_backs_up_a_sqlite_file(grip: Gripcode) -> None:
    head = migrate.head_revision()
    grip.ok("case", "add", "Brazil")
    declined = grip("db", "downgrade", "0003", input="n\n")
    assert declined.exit_code == 1 and "from schema 0004 to 0003?" in declined.output
    assert "Aborted!" in declined.output
    assert f"{head} (newest: {head}, up to date)" in grip.ok("db", "current").output
    assert "Brazil" in grip.ok("case", "list").output
    accepted = grip.ok("db", "downgrade", "0003", input="y\n")
    assert "Schema: 0004 -> 0003" in accepted.output
    if grip.url.startswith("sqlite"):
        assert "A copy of the file is made first." in accepted.output
        backup = accepted.output.split("Backed up the database to ", 1)[1].split("\n", 1)[0]
        with sqlite3.connect(backup) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)
            assert conn.execute("SELECT name FROM cases").fetchall() == [("Brazil",)]
    else:
        assert "No copy is made first (`gripcode backup FILE` makes one)." in accepted.output
        assert "Backed up" not in accepted.output
    assert "0003 (newest: " in grip.ok("db", "current").output
    grip.ok("db", "upgrade")


def test_schema_head_constant_is_the_newest_script() -> None:
    assert migrate.SCHEMA_HEAD == migrate.script_head_revision()
