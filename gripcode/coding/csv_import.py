"""Codings made in a spreadsheet: a CSV with document, code, quote (or start/end, or unit), coder and memo.

All or nothing: every row is checked first and every bad row is counted and reported with its line number
(the first hundred listed); only a sheet without problems is written. Rows already in the project (same
document, code, coder and span) are skipped and counted, so importing the same sheet twice changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from gripcode.coding.coders import get_or_create_coder
from gripcode.coding.service import find_code, place
from gripcode.corpus.decode import decode_bytes
from gripcode.corpus.documents import find_document
from gripcode.db.audit import record_event
from gripcode.db.bulk import insert_rows, refresh_statistics
from gripcode.db.identity import new_guids, new_versions
from gripcode.db.models import Coder, Coding, Document, utcnow
from gripcode.errors import CodingError, GripcodeError

T = TypeVar("T")

REQUIRED = ("document", "code")
KNOWN = ("document", "code", "quote", "occurrence", "start", "end", "unit", "coder", "memo")


@dataclass
class CsvImportReport:
    added: int = 0
    skipped: int = 0
    coders: list[str] = field(default_factory=list)


class _Lookup(Generic[T]):
    """``find`` asked once per distinct value: a sheet names the same documents and codes thousands of times.
    A value that is not found is remembered with its error, so every row naming it reports it."""

    def __init__(self, find: Callable[[str], T]) -> None:
        self.find = find
        self.found: dict[str, T | GripcodeError] = {}

    def __call__(self, ref: str) -> T:
        if ref not in self.found:
            try:
                self.found[ref] = self.find(ref)
            except GripcodeError as exc:
                self.found[ref] = exc
        value = self.found[ref]
        if isinstance(value, GripcodeError):
            raise value
        return value


# Rows read, checked and staged at a time: memory holds one chunk of rows and the texts of its documents.
CHUNK_ROWS = 50_000
# Bad rows listed in the error (all are counted): the first ones in the sheet.
MAX_LISTED = 100
# Ids per IN (...) list.
_IDS_PER_QUERY = 500
_STAGED = "gripcode_csv_codings"
_STAGED_COLUMNS = ("line", "document_id", "code_id", "coder", "start", "end", "quote", "memo", "present",
                   "refi_guid", "version")
_KEY = ("document_id", "code_id", "coder", "start", "end")


def _row_place(session: Session, doc: Document, row: dict[str, str]) -> tuple[int, int]:
    start, end = row.get("start", ""), row.get("end", "")
    span = f"{start}:{end}" if start or end else None
    occurrence = row.get("occurrence") or None
    if occurrence is not None and not occurrence.isdigit():
        raise CodingError(f"occurrence {occurrence!r} is not a whole number")
    placement = place(session, doc, quote=row.get("quote") or None, span=span, unit=row.get("unit") or None,
                      occurrence=int(occurrence) if occurrence else None)
    return placement.start, placement.end


class _Problems:
    """Every bad row counted; the first ``MAX_LISTED`` in the sheet kept, by line."""

    def __init__(self) -> None:
        self.count = 0
        self.listed: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED:  # rows come in line order: the first ones stay
            self.listed.append((line, message))

    def merge(self, count: int, first: list[tuple[int, str]]) -> None:
        """Bad rows found afterwards (``count`` of them, ``first`` the first ones by line)."""
        self.count += count
        self.listed = sorted(self.listed + first)[:MAX_LISTED]

    def error(self, path: Path) -> CodingError:
        more = f"\n  ... and {self.count - len(self.listed)} more" if self.count > len(self.listed) else ""
        return CodingError(f"{path} has {self.count} bad row(s); nothing was imported:\n  "
                           + "\n  ".join(message for _, message in self.listed) + more)


def import_codings_csv(session: Session, path: str | Path, *, default_coder: str, actor: str,
                       chunk_rows: int = CHUNK_ROWS) -> CsvImportReport:
    """Import the codings of the CSV at ``path`` (in the caller's transaction), or none if any row is bad.

    The sheet is read ``chunk_rows`` rows at a time: each chunk's rows are checked and placed with the texts
    of their documents, read for the chunk, and staged in a temporary table with whether the project already
    holds them. Repeated rows are found in the staged rows by SQL, and the good rows are copied from there in
    sheet order, so memory holds a chunk, not the sheet."""
    path = Path(path)
    if not path.is_file():
        raise CodingError(f"{path} does not exist")
    with _sheet(path) as sheet:
        return _import(session, path, csv.DictReader(sheet), default_coder=default_coder, actor=actor,
                       chunk_rows=chunk_rows)


def _is_utf8(path: Path) -> bool:
    """Whether the file is UTF-8 (after a UTF-8 byte-order mark, if any) without a NUL, read in pieces: what
    ``decode_bytes`` decodes as it stands."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        start = handle.read(4)
        if any(start.startswith(bom) for bom in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE,
                                                  codecs.BOM_UTF16_BE)):
            return False
        piece = start[len(codecs.BOM_UTF8):] if start.startswith(codecs.BOM_UTF8) else start
        try:
            while piece:
                if b"\x00" in piece:
                    return False
                decoder.decode(piece)
                piece = handle.read(1 << 20)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


@contextmanager
def _sheet(path: Path) -> Iterator[TextIO]:
    """The sheet as text: read as it is parsed when it is UTF-8 (the usual case, checked in a first pass), so
    memory never holds it; otherwise decoded whole by the rule of ``corpus.decode`` (a byte-order mark, mostly
    UTF-8, a legacy encoding)."""
    if _is_utf8(path):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield handle
    else:
        yield io.StringIO(decode_bytes(path.read_bytes(), name=str(path)), newline="")


def _import(session: Session, path: Path, reader: csv.DictReader[str], *, default_coder: str, actor: str,
            chunk_rows: int) -> CsvImportReport:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CodingError(f"{path} needs the columns {', '.join(REQUIRED)} and one of quote, start/end or unit; "
                          f"missing: {', '.join(missing)}")
    unknown = [h for h in header if h not in KNOWN]
    if unknown:
        raise CodingError(f"{path}: unknown column(s) {', '.join(unknown)}; known: {', '.join(KNOWN)}")

    connection = session.connection()
    staged = _Staging(connection)
    problems = _Problems()
    documents = _Lookup(lambda ref: find_document(session, ref).id)
    codes = _Lookup(lambda slug: find_code(session, slug).id)
    coder_numbers: dict[str, int] = {}  # name -> number in the staged rows
    coder_ids: dict[str, int] = {}  # name -> id, for the coders the project has
    chunk: list[tuple[int, dict[str, str], int, int]] = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            problems.add(line, f"{path}:{line}: more cells than header columns")
            continue
        try:
            if not row.get("document") or not row.get("code"):
                raise CodingError("document and code are required")
            doc_id = documents(row["document"])
            code_id = codes(row["code"])
        except GripcodeError as exc:
            problems.add(line, f"{path}:{line}: {str(exc).splitlines()[0]}")
            continue
        chunk.append((line, row, doc_id, code_id))
        if len(chunk) >= chunk_rows:
            _stage_chunk(session, staged, chunk, path, problems, default_coder, coder_numbers, coder_ids)
            chunk = []
    _stage_chunk(session, staged, chunk, path, problems, default_coder, coder_numbers, coder_ids)
    count, first = staged.repeated(MAX_LISTED)
    problems.merge(count, [(line, f"{path}:{line}: the same coding as line {earlier}") for line, earlier in first])
    if problems.count:
        raise problems.error(path)  # the caller's rollback drops the staged rows

    report = CsvImportReport()
    coders = {name: get_or_create_coder(session, name, actor=actor) for name in sorted(coder_numbers)}
    session.flush()
    bind = Coding.__table__.c.created_at.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    now = bind(utcnow()) if bind else utcnow()
    report.added, report.skipped = staged.copy({coder_numbers[name]: coder.id for name, coder in coders.items()},
                                               now)
    staged.drop()
    refresh_statistics(connection, report.added, Coding.__table__)
    report.coders = sorted(coders)
    record_event(session, actor, "codings.imported", "coding", None, file=str(path), added=report.added,
                 skipped=report.skipped, coders=report.coders)
    return report


def _stage_chunk(session: Session, staged: _Staging, chunk: list[tuple[int, dict[str, str], int, int]], path: Path,
                 problems: _Problems, default_coder: str, coder_numbers: dict[str, int],
                 coder_ids: dict[str, int]) -> None:
    """Place a chunk's rows in their documents' texts and stage them, marked when the project holds them."""
    if not chunk:
        return
    doc_ids = sorted({doc_id for _, _, doc_id, _ in chunk})
    docs: dict[int, Document] = {}
    for first in range(0, len(doc_ids), _IDS_PER_QUERY):
        docs.update((doc.id, doc) for doc in session.scalars(
            select(Document).where(Document.id.in_(doc_ids[first:first + _IDS_PER_QUERY]))))
    rows: list[tuple[Any, ...]] = []
    for line, row, doc_id, code_id in chunk:
        doc = docs[doc_id]
        try:
            start, end = _row_place(session, doc, row)
        except GripcodeError as exc:
            problems.add(line, f"{path}:{line}: {str(exc).splitlines()[0]}")
            continue
        coder = row.get("coder") or default_coder
        if coder not in coder_numbers:
            coder_numbers[coder] = len(coder_numbers)
            found = session.scalar(select(Coder.id).where(Coder.name == coder))
            if found is not None:
                coder_ids[coder] = found
        rows.append((line, doc_id, code_id, coder, start, end, doc.text[start:end], row.get("memo") or None))
    # What the project already holds of these rows, read a batch of documents at a time by the span index.
    existing: set[tuple[int, int, int, int, int]] = set()
    known_coders = sorted(coder_ids.values())
    if known_coders:
        for first in range(0, len(doc_ids), _IDS_PER_QUERY):
            existing.update(session.execute(
                select(Coding.document_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end)
                .where(Coding.document_id.in_(doc_ids[first:first + _IDS_PER_QUERY]),
                       Coding.coder_id.in_(known_coders))).tuples())
    staged.add([(line, doc_id, code_id, coder_numbers[coder], start, end, quote, memo,
                 1 if coder in coder_ids and (doc_id, code_id, coder_ids[coder], start, end) in existing else 0)
                for line, doc_id, code_id, coder, start, end, quote, memo in rows])


class _Staging:
    """The checked rows in a temporary table of this connection (dropped at the end; on PostgreSQL also when the
    transaction ends)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.rows = 0
        # A failed import rolls back, which takes the table with it (DDL is transactional on both backends).
        connection.exec_driver_sql(
            f'CREATE TEMPORARY TABLE {_STAGED} (line integer NOT NULL, document_id integer NOT NULL, '
            'code_id integer NOT NULL, coder integer NOT NULL, start integer NOT NULL, "end" integer NOT NULL, '
            "quote text NOT NULL, memo text, present integer NOT NULL, refi_guid text NOT NULL, version text NOT NULL)"
            + (" ON COMMIT DROP" if self.postgres else ""))

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        # Each coding's identity and first version, as every insert into codings gives them (db/identity).
        self.rows += insert_rows(self.connection, _STAGED, _STAGED_COLUMNS,
                                 [(*row, guid, version) for row, guid, version
                                  in zip(rows, new_guids(len(rows)), new_versions(len(rows)))])

    def repeated(self, limit: int) -> tuple[int, list[tuple[int, int]]]:
        """How many staged rows repeat an earlier one, and the first ``limit`` as (line, earlier line)."""
        key = ", ".join(f'"{column}"' for column in _KEY)
        on = " AND ".join(f's."{column}" = f."{column}"' for column in _KEY)
        firsts = (f"SELECT {key}, min(line) AS first, count(*) AS n FROM {_STAGED} GROUP BY {key} "
                  "HAVING count(*) > 1")
        count = self.connection.exec_driver_sql(f"SELECT coalesce(sum(n - 1), 0) FROM ({firsts}) AS f").scalar()
        if not count:
            return 0, []
        first = self.connection.exec_driver_sql(
            f"SELECT s.line, f.first FROM {_STAGED} AS s JOIN ({firsts}) AS f ON {on} WHERE s.line > f.first "
            f"ORDER BY s.line LIMIT {int(limit)}").all()
        return int(count), [(int(line), int(earlier)) for line, earlier in first]

    def copy(self, coder_ids: dict[int, int], now: Any) -> tuple[int, int]:
        """Insert the staged rows the project does not hold, in sheet order; returns (added, skipped)."""
        marker = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"
        cases = " ".join(f"WHEN {int(number)} THEN {int(coder_id)}" for number, coder_id in coder_ids.items())
        result = self.connection.exec_driver_sql(
            'INSERT INTO codings (document_id, code_id, coder_id, start, "end", quote, memo, origin, status, '
            f"created_at, updated_at, refi_guid, version) SELECT document_id, code_id, CASE coder {cases} END, "
            f"start, \"end\", quote, memo, 'manual', 'accepted', {marker}, {marker}, refi_guid, version "
            f"FROM {_STAGED} WHERE present = 0 ORDER BY line",
            (now, now))
        return result.rowcount, self.rows - result.rowcount

    def drop(self) -> None:
        self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_STAGED}")
