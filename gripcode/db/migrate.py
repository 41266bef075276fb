"""Schema migrations (Alembic), database creation and backups.

The migration scripts live in the top-level ``migrations/`` folder of the source tree; wheels carry a copy
as ``gripcode/_migrations`` so an installed (non-editable) package migrates too.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from urllib.parse import quote
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import URL, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from gripcode.db.engine import sqlite_path
from gripcode.errors import DatabaseError
from gripcode.resources import resource_dir

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration. Every command checks the database against it, so it is a constant rather than read
# from the scripts, which would load Alembic (half a second) at every start; a test keeps it equal to the
# newest script's revision.
SCHEMA_HEAD = "0007"
# Every revision this program has a script for, oldest first: a database stamped with any other was made by a
# newer gripcode (a test keeps this equal to the scripts).
SCHEMA_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")


def migrations_dir() -> Path:
    return resource_dir("migrations")


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    return cfg


def head_revision() -> str:
    return SCHEMA_HEAD


def script_head_revision() -> str | None:
    """The newest revision among the migration scripts (what SCHEMA_HEAD must equal)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def script_revisions() -> list[str]:
    """Every revision among the migration scripts, oldest first (what SCHEMA_REVISIONS must equal)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config()).walk_revisions()  # newest first
    return [script.revision for script in reversed(list(scripts))]


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database (Alembic's ``alembic_version`` table), None for a new database."""
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        raise DatabaseError(_cannot_open(engine, exc)) from exc


def _cannot_open(engine: Engine, exc: DBAPIError) -> str:
    """Why a database cannot be opened, with what to do about it."""
    where = engine.url.render_as_string(hide_password=True)
    reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else exc.orig.__class__.__name__
    path = sqlite_path(engine)
    if path is not None:
        if "file is not a database" in reason:
            return f"{path} is not a SQLite database (and so not a gripcode project): check --db or GRIPCODE_DB"
        if not Path(path).parent.is_dir():
            return f"cannot make a database at {path}: the folder {Path(path).parent} does not exist"
        return f"cannot open the SQLite database {path}: {reason}"
    if engine.dialect.name == "postgresql":
        return (f"cannot connect to the PostgreSQL database {where}: {reason}. Is the server running, and are the "
                "host, port, user and database name in the URL right?")
    return f"cannot open the database {where}: {reason}"


def _refuse_newer(rev: str | None, where: str = "") -> None:
    """A database stamped with a revision this program has no script for was made by a newer gripcode: the
    answer is to upgrade gripcode (`db upgrade` cannot know the newer scripts)."""
    if rev is not None and rev not in SCHEMA_REVISIONS:
        raise DatabaseError(f"{where}the database is at schema {rev}, which a newer gripcode made (this one "
                            f"knows schemas up to {SCHEMA_HEAD}); upgrade gripcode (pip install --upgrade gripcode) "
                            "to use it")


def _has_tables(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(inspect(conn).get_table_names())


def _run(engine: Engine, fn: str, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # SQLite changes a table's constraints by building it anew and dropping the old one; with foreign
                # keys on, dropping a table others refer to fails (or cascades). The pragma works only outside a
                # transaction, so it is set on the driver's connection before the migration's transaction begins,
                # and the references are checked before that transaction commits.
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn
                    getattr(command, fn)(cfg, revision)
                    if sqlite:
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise DatabaseError(f"migration failed and was rolled back: {len(broken)} row(s) would "
                                                f"refer to rows that do not exist (first: table {broken[0][0]})")
            finally:
                if sqlite:
                    conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    except SQLAlchemyError as exc:
        raise DatabaseError(f"migration failed and was rolled back: {exc}") from exc
    except Exception as exc:  # alembic's CommandError for unknown revisions
        if exc.__class__.__name__ == "CommandError":
            raise DatabaseError(str(exc)) from exc
        raise


def init_database(engine: Engine) -> str:
    """Create a fresh database at the newest schema; refuse one that already holds other tables."""
    rev = current_revision(engine)
    if rev == head_revision():
        return "already"
    _refuse_newer(rev)
    if rev is not None:
        raise DatabaseError(f"the database is at schema {rev}, not the newest; run `gripcode db upgrade`")
    if _has_tables(engine):
        raise DatabaseError("the database already has tables that are not a gripcode project")
    _run(engine, "upgrade", "head")
    return "created"


def _backup_before(engine: Engine, before: str) -> Path:
    """Copy a SQLite file next to itself, named after its schema revision and the time, before a migration."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return backup_database(engine, Path(f"{sqlite_path(engine)}.{before}.{stamp}.bak"))


def upgrade(engine: Engine, revision: str = "head", backup: bool = True) -> Path | None:
    """Upgrade, first copying an older SQLite file to a timestamped backup. Returns the backup's path."""
    before = current_revision(engine)
    _refuse_newer(before)
    backup_path = None
    if backup and before is not None and before != head_revision() and sqlite_path(engine):
        backup_path = _backup_before(engine, before)
    _run(engine, "upgrade", revision)
    return backup_path


def downgrade_steps(revision: str, current: str) -> int:
    """How many migrations a downgrade from ``current`` to ``revision`` undoes, 0 if it is there already.

    Alembic's own resolution, so every form it takes is accepted (an id, ``base``, ``-1``, ``0003-1``), and
    anything else (an unknown id, a later schema, too many steps back) is a :class:`DatabaseError` before the
    backup is made or anything is changed, rather than after the backup.
    """
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    _refuse_newer(current)
    script = ScriptDirectory.from_config(alembic_config())
    try:
        # The plan `alembic downgrade` itself makes (private in Alembic, but the only way to ask it first).
        return len(script._downgrade_revs(revision, current))
    except CommandError as exc:
        raise DatabaseError(f"cannot downgrade from schema {current} to {revision!r}: {exc}") from exc


def downgrade(engine: Engine, revision: str, backup: bool = True) -> Path | None:
    """Downgrade, first copying a SQLite file as :func:`upgrade` does: a downgrade drops tables and columns
    with their data, so the copy is the only way back. Returns the backup's path."""
    before = current_revision(engine)
    if before is None:
        return None
    if downgrade_steps(revision, before) == 0:
        return None
    backup_path = None
    if backup and sqlite_path(engine):
        backup_path = _backup_before(engine, before)
    _run(engine, "downgrade", revision)
    return backup_path


def require_current(engine: Engine) -> None:
    """Commands call this before they read or write: a clear message instead of a missing-table error."""
    rev = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if rev is None:
        raise DatabaseError(f"{where} is not a gripcode project yet; run `gripcode init` first")
    _refuse_newer(rev, f"{where}: ")
    if rev != head_revision():
        raise DatabaseError(f"{where} is at schema {rev}; run `gripcode db upgrade` (a backup is made first)")


def backup_database(engine: Engine, destination: str | Path) -> Path:
    """A consistent copy: SQLite's online backup API, or pg_dump's custom format for PostgreSQL."""
    dest = Path(destination)
    if dest.exists():
        raise DatabaseError(f"{dest} exists already; choose a new file name")
    if not dest.parent.is_dir():
        raise DatabaseError(f"folder {dest.parent} does not exist")
    if engine.dialect.name == "sqlite":
        path = sqlite_path(engine)
        if path is None:
            raise DatabaseError("an in-memory database cannot be backed up")
        if not Path(path).is_file():
            raise DatabaseError(f"no database file at {path}")
        # Written beside the destination under another name and renamed once whole, so a backup that fails
        # (a full disk, a folder that cannot be written) leaves no partial file that looks like a backup.
        partial = dest.with_name(f".{dest.name}.partial")
        try:
            # Read-only, as a URI: the path quoted, so that '#', '?' or '%' in a folder's name stay part of it.
            source = sqlite3.connect(f"file:{quote(Path(path).resolve().as_posix())}?mode=ro", uri=True)
            try:
                target = sqlite3.connect(partial)
                try:
                    with target:
                        source.backup(target)
                finally:
                    target.close()
            finally:
                source.close()
            partial.replace(dest)
        except (sqlite3.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise DatabaseError(f"the backup to {dest} failed and was not written: {exc}") from exc
        return dest
    if engine.dialect.name == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise DatabaseError("pg_dump is not installed; install the PostgreSQL client tools to back up this database")
        # The password goes to pg_dump in its environment, never on its command line, which every user of the
        # machine can read (ps); the URL it is given has none.
        given = engine.url
        url = URL.create("postgresql", username=given.username, host=given.host, port=given.port,
                         database=given.database, query=given.query).render_as_string(hide_password=False)
        env = dict(os.environ)
        if engine.url.password:
            env["PGPASSWORD"] = str(engine.url.password)
        partial = dest.with_name(f".{dest.name}.partial")
        try:
            result = subprocess.run([pg_dump, "--format=custom", f"--file={partial}", f"--dbname={url}"],
                                    capture_output=True, text=True, env=env)
            if result.returncode == 0:
                partial.replace(dest)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise DatabaseError(f"the backup to {dest} failed and was not written: {exc}") from exc
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise DatabaseError(f"pg_dump failed and nothing was written: {result.stderr.strip()}")
        return dest
    raise DatabaseError(f"backups of {engine.dialect.name} databases are not supported")
