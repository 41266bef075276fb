"""Codings made in a spreadsheet: a CSV with document, code, quote (or start/end, or unit), coder and memo.

All or nothing: every row is checked first and every bad row is reported with its line number; only a sheet
without problems is written. Rows already in the project (same document, code, coder and span) are skipped and
counted, so importing the same sheet twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.coding.coders import get_or_create_coder
from gripcode.coding.service import find_code, place
from gripcode.corpus.decode import decode_bytes
from gripcode.corpus.documents import find_document
from gripcode.db.audit import record_event
from gripcode.db.bulk import insert_rows
from gripcode.db.models import Coding, Document, utcnow
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


# Documents whose codings by the sheet's coders are read in one statement.
_DOCUMENTS_PER_QUERY = 500
_COLUMNS = ("document_id", "code_id", "coder_id", "start", "end", "quote", "memo")


def _row_place(session: Session, doc: Document, row: dict[str, str]) -> tuple[int, int]:
    start, end = row.get("start", ""), row.get("end", "")
    span = f"{start}:{end}" if start or end else None
    occurrence = row.get("occurrence") or None
    if occurrence is not None and not occurrence.isdigit():
        raise CodingError(f"occurrence {occurrence!r} is not a whole number")
    placement = place(session, doc, quote=row.get("quote") or None, span=span, unit=row.get("unit") or None,
                      occurrence=int(occurrence) if occurrence else None)
    return placement.start, placement.end


def import_codings_csv(session: Session, path: str | Path, *, default_coder: str, actor: str) -> CsvImportReport:
    path = Path(path)
    if not path.is_file():
        raise CodingError(f"{path} does not exist")
    reader = csv.DictReader(io.StringIO(decode_bytes(path.read_bytes(), name=str(path)), newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CodingError(f"{path} needs the columns {', '.join(REQUIRED)} and one of quote, start/end or unit; "
                          f"missing: {', '.join(missing)}")
    unknown = [h for h in header if h not in KNOWN]
    if unknown:
        raise CodingError(f"{path}: unknown column(s) {', '.join(unknown)}; known: {', '.join(KNOWN)}")

    planned: dict[tuple[int, int, str, int, int], int] = {}
    rows: list[tuple[int, Document, int, str, int, int, str | None]] = []
    problems: list[str] = []
    documents = _Lookup(lambda ref: find_document(session, ref))
    codes = _Lookup(lambda slug: find_code(session, slug))
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            problems.append(f"{path}:{line}: more cells than header columns")
            continue
        try:
            if not row.get("document") or not row.get("code"):
                raise CodingError("document and code are required")
            doc = documents(row["document"])
            code = codes(row["code"])
            start, end = _row_place(session, doc, row)
        except GripcodeError as exc:
            problems.append(f"{path}:{line}: {str(exc).splitlines()[0]}")
            continue
        coder = row.get("coder") or default_coder
        key = (doc.id, code.id, coder, start, end)
        if key in planned:
            problems.append(f"{path}:{line}: the same coding as line {planned[key]}")
            continue
        planned[key] = line
        rows.append((line, doc, code.id, coder, start, end, row.get("memo") or None))
    if problems:
        raise CodingError(f"{path} has {len(problems)} bad row(s); nothing was imported:\n  " + "\n  ".join(problems))

    report = CsvImportReport()
    coders = {name: get_or_create_coder(session, name, actor=actor) for name in sorted({r[3] for r in rows})}
    session.flush()
    # What the project already holds, read a batch of documents at a time by the span index (a list of
    # row-value tuples in one IN costs PostgreSQL seconds per thousand).
    coder_ids = [coder.id for coder in coders.values()]
    documents = sorted({doc.id for _, doc, *_ in rows})
    existing: set[tuple[int, int, int, int, int]] = set()
    for first in range(0, len(documents), _DOCUMENTS_PER_QUERY):
        batch = documents[first:first + _DOCUMENTS_PER_QUERY]
        existing.update(session.execute(
            select(Coding.document_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end)
            .where(Coding.document_id.in_(batch), Coding.coder_id.in_(coder_ids))).tuples())
    new = []
    for _, doc, code_id, coder, start, end, memo in rows:
        if (doc.id, code_id, coders[coder].id, start, end) in existing:
            report.skipped += 1
            continue
        new.append((doc.id, code_id, coders[coder].id, start, end, doc.text[start:end], memo))
    connection = session.connection()
    bind = Coding.__table__.c.created_at.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    now = bind(utcnow()) if bind else utcnow()
    insert_rows(connection, "codings", _COLUMNS, new,
                {"origin": "manual", "status": "accepted", "created_at": now, "updated_at": now})
    report.added, report.coders = len(new), sorted(coders)
    record_event(session, actor, "codings.imported", "coding", None, file=str(path), added=report.added,
                 skipped=report.skipped, coders=report.coders)
    return report
