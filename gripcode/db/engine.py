"""Engines and sessions, created from settings and never at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from gripcode.errors import ConfigError, DatabaseError


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.isolation_level = None  # see make_engine: SQLAlchemy emits BEGIN itself
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked on every connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# The backends gripcode is built and tested for; any other URL is refused before a driver is looked for.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
_URL_ADVICE = ("gripcode works with a SQLite file (a path, or sqlite:///path.db) or a PostgreSQL server "
               "(postgresql://user@host/database)")
# Seconds to wait for a PostgreSQL server that does not answer, unless the URL sets connect_timeout itself.
PG_CONNECT_TIMEOUT = 10


def make_engine(url: str, **kwargs: Any) -> Engine:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"cannot use database URL {url!r}: {exc}; {_URL_ADVICE}") from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigError(f"cannot use database URL {_shown(parsed)}: {backend} databases are not supported; "
                          f"{_URL_ADVICE}")
    if backend == "postgresql" and "connect_timeout" not in parsed.query:
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", PG_CONNECT_TIMEOUT)
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        # ImportError: a driver named in the URL (postgresql+pg8000://...) that is not installed.
        raise ConfigError(f"cannot use database URL {_shown(parsed)}: {exc}; {_URL_ADVICE}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # Python's sqlite3 driver starts a transaction only at the first INSERT/UPDATE and ignores SAVEPOINT
        # semantics before that, so a savepoint released early could commit on its own. Turning the driver's
        # own handling off and emitting BEGIN when SQLAlchemy begins makes every transaction() (savepoints
        # included) atomic: SQLAlchemy's documented recipe for pysqlite.
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _shown(url: Any) -> str:
    return repr(url.render_as_string(hide_password=True))


def require_existing_file(engine: Engine) -> None:
    """Refuse a SQLite file that does not exist yet, rather than let the driver create an empty one: only
    ``gripcode init`` makes a project, so a mistyped --db, or a command run in the wrong folder, leaves no
    empty file behind."""
    path = sqlite_path(engine)
    if path is None or path.startswith("file:") or Path(path).exists():
        return
    raise DatabaseError(f"there is no gripcode project at {path}: `gripcode init` makes one there (with the same "
                        "--db), or point --db (or GRIPCODE_DB) at an existing project")


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(engine: Engine) -> str | None:
    """The file behind a SQLite engine, or None for in-memory databases and other backends."""
    if not is_sqlite(engine):
        return None
    database = engine.url.database
    return database if database and database != ":memory:" else None


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits when the block ends normally, rolls back everything otherwise."""
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
