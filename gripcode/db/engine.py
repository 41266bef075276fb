"""Engines and sessions, created from settings and never at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import gripcode.db.storable  # noqa: F401 - registers the check of every flush for text no backend can store
from gripcode.config import DEFAULT_BUSY_TIMEOUT
from gripcode.errors import CodingError, ConfigError, DatabaseError, DocumentImportError, ProjectBusyError


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


def make_engine(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, **kwargs: Any) -> Engine:
    """An engine for ``url``. A write transaction waits up to ``busy_timeout`` seconds for another one's lock
    (SQLite's busy timeout; PostgreSQL's lock_timeout) before it fails with :class:`ProjectBusyError`."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"cannot use database URL {url!r}: {exc}; {_URL_ADVICE}") from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigError(f"cannot use database URL {_shown(parsed)}: {backend} databases are not supported; "
                          f"{_URL_ADVICE}")
    connect_args = kwargs.setdefault("connect_args", {})
    if backend == "postgresql":
        if "connect_timeout" not in parsed.query:
            connect_args.setdefault("connect_timeout", PG_CONNECT_TIMEOUT)
        # Added to whatever options the URL gives (a search_path, say), never in their place.
        wait = f"-c lock_timeout={max(1, round(busy_timeout * 1000))}"
        given = parsed.query.get("options")
        given = given[-1] if isinstance(given, tuple) else given
        connect_args.setdefault("options", f"{given} {wait}" if given else wait)
    else:
        connect_args.setdefault("timeout", busy_timeout)
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        # ImportError: a driver named in the URL (postgresql+pg8000://...) that is not installed.
        raise ConfigError(f"cannot use database URL {_shown(parsed)}: {exc}; {_URL_ADVICE}") from exc
    _BUSY_TIMEOUTS[engine] = busy_timeout
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
    """A write transaction takes SQLite's write lock as it begins (BEGIN IMMEDIATE), waiting the busy timeout
    for it: one that began deferred, read, and only then asked for the lock would be refused at once whenever
    another writer held it, without waiting. Reads begin deferred and take no write lock."""
    if connection.get_execution_options().get(_WRITE_OPTION):
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "readonly" not in str(exc.orig):
                raise
            # A read-only file (a shared copy): commands that only read still work; any write fails as before.
    connection.exec_driver_sql("BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(engine: Engine) -> str | None:
    """The file behind a SQLite engine, or None for in-memory databases and other backends."""
    if not is_sqlite(engine):
        return None
    database = engine.url.database
    return database if database and database != ":memory:" else None


_WRITE_OPTION = "gripcode_write"
_BUSY_TIMEOUTS: WeakKeyDictionary[Engine, float] = WeakKeyDictionary()


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commits when the block ends normally, rolls back everything otherwise.

    A write transaction (the default) holds the project's write lock from its start on SQLite, so commands
    that write one after another queue instead of failing; ``write=False`` is for commands that only read.
    Waiting longer than the busy timeout for a lock is :class:`ProjectBusyError`."""
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        try:
            if write and is_sqlite(engine):
                session.connection(execution_options={_WRITE_OPTION: True})  # begins now: lock or wait
            yield session
            analyze = _pending_analyze(session)
            session.commit()
        except BaseException:
            with suppress(Exception):
                _pending_analyze(session)
            session.rollback()
            raise
        finally:
            session.close()
        if analyze:
            _analyze(engine, analyze)
    except OperationalError as exc:
        if is_busy(exc):
            raise ProjectBusyError(busy_message(engine)) from exc
        raise
    except IntegrityError as exc:
        # Each writer checks first (for the coding, for the text); two at the same moment both find none, and the
        # table's unique key stops the second.
        if _violates(exc, "uq_codings_span", "codings.document_id, codings.code_id, codings.coder_id"):
            raise CodingError("another command stored the same coding (document, code, coder and span) at the "
                              "same moment; nothing was changed by this one") from exc
        if _violates(exc, "uq_cases_name", "cases.name"):
            raise DatabaseError("another command added a case of the same name at the same moment; nothing was "
                                "changed by this one: run it again") from exc
        # A document's GUID is derived from its text's fingerprint, so the same text stops at either key.
        if _violates(exc, "uq_documents_sha256", "documents.sha256") or \
                _violates(exc, "uq_documents_refi_guid", "documents.refi_guid"):
            raise DocumentImportError("another import stored one of these texts at the same moment; nothing was "
                                      "imported: run the import again (texts already in the project are skipped)") \
                from exc
        raise


def _pending_analyze(session: Session) -> set[str]:
    """The tables a bulk write in this transaction asked to have analysed (``db/bulk.refresh_statistics``)."""
    from gripcode.db.bulk import PENDING_ANALYZE

    if not session.in_transaction():
        return set()
    return set(session.connection().info.pop(PENDING_ANALYZE, ()))


def _analyze(engine: Engine, tables: set[str]) -> None:
    """ANALYZE ``tables`` in a transaction of its own, after the write committed. The write stands whatever
    happens here; a refresh that fails leaves the statistics to autovacuum."""
    with suppress(DBAPIError), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{name}"' for name in sorted(tables)))


def _violates(exc: IntegrityError, constraint: str, sqlite_columns: str) -> bool:
    """Whether ``exc`` is the unique key ``constraint`` (PostgreSQL names it; SQLite lists its columns)."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", None) == constraint
    return f"UNIQUE constraint failed: {sqlite_columns}" in str(exc.orig)


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means another command holds a lock this one waited for in vain."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return False
    if getattr(orig, "sqlstate", None) in ("55P03", "40P01"):  # lock_not_available, deadlock_detected
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def busy_message(engine: Engine) -> str:
    seconds = _BUSY_TIMEOUTS.get(engine, DEFAULT_BUSY_TIMEOUT)
    return (f"the project is busy: another command kept its write lock for more than {seconds:g} s, so nothing "
            "was changed; try again in a moment (the wait is busy_timeout in gripcode.toml or "
            "GRIPCODE_BUSY_TIMEOUT, in seconds)")
