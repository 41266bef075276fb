"""An import that holds a SQLite project's write lock only while it copies, not while it reads and segments.

An import is one transaction (nothing of it lands unless all of it does), and on SQLite a write transaction holds
the file's write lock from its start, so coders beside a long import would wait for all of it. Instead, on a
SQLite file, the import runs first into a staging database of its own (a temporary file with the same tables),
seeded with the project's cases and with its documents' fingerprints so that it resolves cases and skips known
texts exactly as it would in the project. Only then does it take the project's write lock, check that no
document or case came or went meanwhile, and copy the new cases, documents, units and events across with
``INSERT ... SELECT`` in one short transaction. If the project did change meanwhile, the import is run again
directly in the locked transaction, which is always right, only longer.

PostgreSQL needs none of this: writers there lock rows, not the database, so an import never holds up coders.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, event

from gripcode.corpus.importer import ImportItem, ImportReport, import_items
from gripcode.db.engine import busy_message, make_engine, sqlite_path, transaction
from gripcode.db.models import Base, Case, Document, Event, Unit
from gripcode.errors import ProjectBusyError


def import_into_project(engine: Engine, items: Iterable[ImportItem], *, actor: str,
                        **options: Any) -> ImportReport:
    """Import ``items`` into the project at ``engine`` in one transaction (see the module's docstring); the
    ``options`` are :func:`~gripcode.corpus.importer.import_items`'s."""
    items = list(items)
    path = sqlite_path(engine)
    if path is None or path.startswith("file:"):
        with transaction(engine) as session:
            return import_items(session, items, actor=actor, **options)
    with tempfile.TemporaryDirectory(prefix="gripcode-import-") as folder:
        staging_path = Path(folder) / "staging.db"
        seen, report = _stage(path, staging_path, items, actor, options)
        copied = _copy_if_unchanged(engine, staging_path, seen)
    if copied:
        return report
    # Documents or cases were added or removed while this import read its files: import again, under the lock.
    with transaction(engine) as session:
        return import_items(session, items, actor=actor, **options)


def _columns(table: Table, *, without_id: bool = False) -> str:
    return ", ".join(f'"{c.name}"' for c in table.columns if not (without_id and c.name == "id"))


# What the staging database must look like at the copy: the project's documents and cases as they were seeded.
_SNAPSHOT = ("SELECT (SELECT count(*) FROM {s}documents), (SELECT coalesce(max(id), 0) FROM {s}documents), "
             "(SELECT count(*) FROM {s}cases), (SELECT coalesce(max(id), 0) FROM {s}cases), "
             "(SELECT coalesce(max(id), 0) FROM {s}events)")


def _stage(project: str, staging: Path, items: list[ImportItem], actor: str,
           options: dict[str, Any]) -> tuple[tuple[Any, ...], ImportReport]:
    """Run the import into ``staging``, seeded from the project; returns the project's snapshot at the seed
    and the import's report."""
    engine = make_engine(f"sqlite:///{staging}")
    event.listen(engine, "connect", _scratch_pragmas)
    try:
        Base.metadata.create_all(engine)
        with sqlite3.connect(staging, isolation_level=None) as conn:
            conn.execute("ATTACH DATABASE ? AS project", (project,))
            conn.execute("BEGIN")  # one read of the project, so the snapshot and the seed agree
            seen = conn.execute(_SNAPSHOT.format(s="project.")).fetchone()
            conn.execute(f"INSERT INTO main.cases ({_columns(Case.__table__)}) "
                         f"SELECT {_columns(Case.__table__)} FROM project.cases")
            # Only what the import looks at: the fingerprint (to skip a known text), the title (to name it),
            # the id (so new documents are numbered after the project's). Text and metadata stay behind.
            conn.execute("INSERT INTO main.documents (id, title, kind, case_id, language, metadata, text, sha256, "
                         "word_count, refi_guid, imported_at) SELECT id, title, kind, case_id, language, '{}', '', "
                         "sha256, 0, refi_guid, imported_at FROM project.documents")
            conn.execute("INSERT INTO main.events (id, at, actor, action, details) "
                         "SELECT coalesce(max(id), 0), CURRENT_TIMESTAMP, '', 'seed', '{}' FROM project.events")
            conn.execute("COMMIT")
            conn.execute("DETACH DATABASE project")
        with transaction(engine) as session:
            report = import_items(session, items, actor=actor, **options)
        return seen, report
    finally:
        engine.dispose()


def _scratch_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """The staging file is scratch: nothing in it needs to survive a crash, so it is never synced to disk and
    keeps its rollback journal in memory."""
    dbapi_connection.execute("PRAGMA journal_mode=MEMORY")
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _copy_if_unchanged(engine: Engine, staging: Path, seen: tuple[Any, ...]) -> bool:
    """Copy what the import staged into the project in one write transaction, unless the project's documents or
    cases changed since the seed; returns whether it was copied."""
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.execute("ATTACH DATABASE ? AS staging", (str(staging),))
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc):
                    raise ProjectBusyError(busy_message(engine)) from exc
                raise
            try:
                if conn.execute(_SNAPSHOT.format(s="main.")).fetchone() != seen:
                    conn.execute("ROLLBACK")
                    return False
                _, max_doc, _, max_case, max_event = seen
                for table, key, after in ((Case.__table__, "id", max_case), (Document.__table__, "id", max_doc)):
                    conn.execute(f"INSERT INTO main.{table.name} ({_columns(table)}) SELECT {_columns(table)} "
                                 f"FROM staging.{table.name} WHERE {key} > ?", (after,))
                conn.execute(f"INSERT INTO main.units ({_columns(Unit.__table__, without_id=True)}) "
                             f"SELECT {_columns(Unit.__table__, without_id=True)} FROM staging.units "
                             "WHERE document_id > ? ORDER BY id", (max_doc,))
                conn.execute(f"INSERT INTO main.events ({_columns(Event.__table__, without_id=True)}) "
                             f"SELECT {_columns(Event.__table__, without_id=True)} FROM staging.events "
                             "WHERE id > ? ORDER BY id", (max_event,))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            conn.execute("DETACH DATABASE staging")
    finally:
        raw.close()
    return True
