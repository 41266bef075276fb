"""`gripcode check`: prove that the stored codings still say what they said when they were made.

Checks, each a query or a stream so a large project is never loaded whole:
- every coding's quote equals the document text at its offsets, compared in SQL with ``substr``, which counts
  code points on SQLite and on PostgreSQL (UTF-8) alike, as gripcode's offsets do;
- offsets lie inside the text, for codings and for units;
- every document's text still has the SHA-256 stored on import (hashed in Python, documents streamed in batches);
- no coding, memo or unit points to a row that does not exist. Foreign keys normally prevent that, but a SQLite
  file edited with other tools, or with foreign keys off, may not have enforced them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gripcode.corpus.normalize import text_sha256
from gripcode.db.models import Base, Code, Coder, Coding, Document, Memo, Unit

__all__ = ["IntegrityReport", "Problem", "check_integrity"]

# Documents hashed per round trip: a few interviews' worth of text in memory at a time.
_BATCH = 100
_SNIPPET = 60
_LEAD = 20


@dataclass(frozen=True)
class Problem:
    """One thing that is wrong, with what is stored and what the text says now where that applies."""

    kind: str  # quote | offsets | hash | missing | unit
    message: str
    coding: int | None = None
    document: int | None = None
    title: str | None = None
    code: str | None = None
    stored: str | None = None
    expected: str | None = None


@dataclass
class IntegrityReport:
    checked: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": [asdict(p) for p in self.problems], "checked": dict(self.checked)}

    def summary(self) -> str:
        codings, documents = self.checked.get("codings", 0), self.checked.get("documents", 0)
        checked = f"checked {_count(codings, 'coding')}, {_count(documents, 'document')}"
        return f"{checked}: all good" if self.ok else f"{checked}: {_count(len(self.problems), 'problem')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _snippets(stored: str, expected: str) -> tuple[str, str]:
    """Both strings cut to the same window around where they first differ, so the difference shows."""
    start = max(0, len(os.path.commonprefix([stored, expected])) - _LEAD)

    def cut(s: str) -> str:
        piece = s[start:start + _SNIPPET]
        return ("…" if start else "") + piece + ("…" if start + _SNIPPET < len(s) else "")

    return cut(stored), cut(expected)


def _where(document_id: int | None, title: str | None) -> str:
    return f"document {document_id} ({title})" if title is not None else f"document {document_id}"


def _coding_problems(session: Session) -> Iterator[Problem]:
    length = func.length(Document.text)
    # substr is 1-based on both backends, so start + 1; both count characters, not bytes. PostgreSQL refuses
    # a negative length, which a row that escaped the span constraint could otherwise cause.
    span = case((Coding.end > Coding.start, Coding.end - Coding.start), else_=0)
    at_offsets = func.substr(Document.text, Coding.start + 1, span)
    query = (select(Coding.id, Coding.document_id, Document.title, Coding.code_id, Code.slug, Coding.start,
                    Coding.end, Coding.quote, at_offsets.label("at_offsets"), length.label("length"))
             .join(Document, Coding.document_id == Document.id)
             .outerjoin(Code, Coding.code_id == Code.id)
             .where(or_(Coding.start < 0, Coding.end <= Coding.start, Coding.end > length,
                        at_offsets != Coding.quote))
             .order_by(Coding.id))
    for row in session.execute(query):
        code = row.slug or f"#{row.code_id}"
        where = f"coding {row.id} in {_where(row.document_id, row.title)}, code {code}"
        if row.start < 0 or row.end <= row.start or row.end > row.length:
            yield Problem("offsets", f"{where}: offsets {row.start}:{row.end} lie outside the text "
                                     f"({row.length} characters)", row.id, row.document_id, row.title, row.slug,
                          _snippets(row.quote, "")[0], None)
            continue
        stored, expected = _snippets(row.quote, row.at_offsets)
        yield Problem("quote", f"{where}: the stored quote differs from the text at {row.start}:{row.end}",
                      row.id, row.document_id, row.title, row.slug, stored, expected)


def _unit_problems(session: Session) -> Iterator[Problem]:
    length = func.length(Document.text)
    query = (select(Unit.id, Unit.kind, Unit.seq, Unit.start, Unit.end, Unit.document_id, Document.title,
                    length.label("length"))
             .join(Document, Unit.document_id == Document.id)
             .where(or_(Unit.start < 0, Unit.end <= Unit.start, Unit.end > length))
             .order_by(Unit.document_id, Unit.kind, Unit.seq))
    for row in session.execute(query):
        yield Problem("unit", f"{row.kind} {row.seq} of {_where(row.document_id, row.title)} (unit {row.id}): "
                              f"offsets {row.start}:{row.end} lie outside the text ({row.length} characters)",
                      document=row.document_id, title=row.title)


def _hash_problems(session: Session, checked: dict[str, int]) -> Iterator[Problem]:
    query = select(Document.id, Document.title, Document.text, Document.sha256).order_by(Document.id)
    n = 0
    for row in session.execute(query, execution_options={"yield_per": _BATCH}):
        n += 1
        digest = text_sha256(row.text)
        if digest != row.sha256:
            yield Problem("hash", f"{_where(row.id, row.title)}: its text has changed since import "
                                  f"(stored SHA-256 {row.sha256[:12]}…, the text now hashes to {digest[:12]}…)",
                          document=row.id, title=row.title, stored=row.sha256, expected=digest)
    checked["documents"] = n


# (what points, its key column, what it points to, what that is called)
_REFERENCES: tuple[tuple[type[Base], InstrumentedAttribute[Any], type[Base], str], ...] = (
    (Coding, Coding.document_id, Document, "document"),
    (Coding, Coding.code_id, Code, "code"),
    (Coding, Coding.coder_id, Coder, "coder"),
    (Coding, Coding.reviewed_by_id, Coder, "reviewer"),
    (Memo, Memo.document_id, Document, "document"),
    (Memo, Memo.code_id, Code, "code"),
    (Memo, Memo.coding_id, Coding, "coding"),
    (Memo, Memo.coder_id, Coder, "coder"),
    (Unit, Unit.document_id, Document, "document"),
)


def _missing_problems(session: Session) -> Iterator[Problem]:
    for child, key, parent, what in _REFERENCES:
        child_id: InstrumentedAttribute[int] = child.id  # type: ignore[attr-defined]
        parent_id: InstrumentedAttribute[int] = parent.id  # type: ignore[attr-defined]
        missing: ColumnElement[bool] = parent_id.is_(None)
        # An anti-join: rows whose key names no row in the parent table.
        document_id: InstrumentedAttribute[int | None] = child.document_id  # type: ignore[attr-defined]
        query = (select(child_id, key, document_id).outerjoin(parent, key == parent_id)
                 .where(key.is_not(None), missing).order_by(child_id))
        entity = child.__tablename__.rstrip("s")
        for row_id, ref, doc_id in session.execute(query):
            where = f" in document {doc_id}" if doc_id is not None and what != "document" else ""
            yield Problem("missing", f"{entity} {row_id}{where} points to {what} {ref}, which does not exist",
                          coding=row_id if child is Coding else None, document=doc_id)


def check_integrity(session: Session) -> IntegrityReport:
    """Run every check; the report lists each problem found, in the order above."""
    checked: dict[str, int] = {
        "codings": session.scalar(select(func.count()).select_from(Coding)) or 0,
        "documents": 0,
        "units": session.scalar(select(func.count()).select_from(Unit)) or 0,
        "memos": session.scalar(select(func.count()).select_from(Memo)) or 0,
    }
    report = IntegrityReport(checked)
    report.problems.extend(_coding_problems(session))
    report.problems.extend(_unit_problems(session))
    report.problems.extend(_hash_problems(session, checked))
    report.problems.extend(_missing_problems(session))
    return report
