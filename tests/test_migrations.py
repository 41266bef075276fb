"""Migrations: base -> head -> base -> head on SQLite and PostgreSQL, models agree, backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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
    migrate.downgrade(engine, "0003")  # a file made before the newest migration
    with pytest.raises(DatabaseError, match="gripcode db upgrade"):
        migrate.require_current(engine)
    engine.dispose()
    result = Gripcode(f"sqlite:///{db}")("db", "upgrade")
    assert result.exit_code == 0 and f"0003 -> {migrate.head_revision()}" in result.output
    backups = list(tmp_path.glob("old.db.0003.*.bak"))
    assert len(backups) == 1 and f"Backed up the database to {backups[0]}" in result.output
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0003",)


@pytest.mark.parametrize("command", [("stats",), ("init",), ("db", "upgrade"), ("db", "downgrade", "0003", "--yes")])
def test_a_database_of_a_newer_schema_says_to_upgrade_gripcode(tmp_path: Path, command: tuple[str, ...]) -> None:
    """A project a newer gripcode made: upgrading the program is the answer, not `db upgrade` (which cannot know
    the newer scripts), and nothing is changed or backed up."""
    db = tmp_path / "newer.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate.init_database(engine)
    engine.dispose()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    result = Gripcode(f"sqlite:///{db}")(*command)
    assert result.exit_code == 1, result.output
    assert "schema 0099, which a newer gripcode made" in result.output and "upgrade gripcode" in result.output
    assert "db upgrade" not in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == [db]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0099",)


def test_schema_revisions_are_the_scripts() -> None:
    assert list(migrate.SCHEMA_REVISIONS) == migrate.script_revisions()


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
    assert declined.exit_code == 1 and f"from schema {head} to 0003?" in declined.output
    assert "Aborted!" in declined.output
    assert f"{head} (newest: {head}, up to date)" in grip.ok("db", "current").output
    assert "Brazil" in grip.ok("case", "list").output
    accepted = grip.ok("db", "downgrade", "0003", input="y\n")
    assert f"Schema: {head} -> 0003" in accepted.output
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


def test_downgrade_checks_the_revision_before_it_changes_anything(grip: Gripcode) -> None:
    head = migrate.head_revision()
    grip.ok("case", "add", "Brazil")
    engine = make_engine(grip.url)
    folder = Path(engine.url.database).parent if grip.url.startswith("sqlite") else None
    files = sorted(folder.iterdir()) if folder else None
    try:
        for revision in ("zzz", "-9", "0099"):
            with pytest.raises(DatabaseError, match=f"cannot downgrade from schema {head} to '{revision}'"):
                migrate.downgrade(engine, revision)
        assert migrate.current_revision(engine) == head
        assert (sorted(folder.iterdir()) if folder else None) == files  # no backup made
        assert migrate.downgrade_steps(head, head) == 0
        assert migrate.downgrade_steps(f"{head}-1", head) == 1
        assert migrate.downgrade_steps("base", head) == len(migrate.SCHEMA_REVISIONS)
    finally:
        engine.dispose()
    assert "Brazil" in grip.ok("case", "list").output


def test_schema_head_constant_is_the_newest_script() -> None:
    assert migrate.SCHEMA_HEAD == migrate.script_head_revision()


def test_every_migration_keeps_a_project_s_rows_and_references(grip: Gripcode, tmp_path: Path) -> None:
    """Down to the first schema's next step and up again with cases, documents, codes, coders, codings and
    memos in it: SQLite rebuilds tables whose constraints change, which must neither fail on the references to
    them nor lose a row."""
    (tmp_path / "cb.yaml").write_text("codebook: m\ncodes:\n  - id: quotas\n    name: Quotas\n", encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    (tmp_path / "a.txt").write_text("Export quotas were cut in 2010.\n\nPrices rose.\n", encoding="utf-8")
    grip.ok("case", "add", "China")
    grip.ok("import", str(tmp_path / "a.txt"), "--case", "China")
    grip.ok("code", "add", "1", "quotas", "--quote", "Export quotas")
    Gripcode(grip.url, coder="ben").ok("code", "add", "1", "quotas", "--unit", "paragraph:1")
    grip.ok("memo", "add", "Check the year.", "--doc", "1")

    def counts() -> dict[str, int]:
        engine = make_engine(grip.url)
        with engine.connect() as conn:
            found = {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                     for table in ("cases", "documents", "units", "codes", "coders", "codings", "memos")}
        engine.dispose()
        return found

    before = counts()
    assert before["codings"] == 2 and before["coders"] >= 2
    grip.ok("db", "downgrade", "0002", "--yes")
    grip.ok("db", "upgrade")
    assert counts() == before
    grip.ok("check")  # every quote, span and reference intact
