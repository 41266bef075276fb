"""Storing machine suggestions (rule matches, classifier predictions) as codings a researcher must review.

Suggestions are codings with origin ``rule`` or ``model``, status ``suggested``, and a machine coder named after
what made them: ``rules@<codebook hash>`` or ``model@<training data hash>``. They never count in analyses
until accepted. Storing is idempotent: a suggestion is not stored again where any coding of the same origin
already covers the same code and span, whether still waiting, accepted or rejected (a researcher's decision
is not asked for twice).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gripcode.db.models import Coding, Unit, utcnow

HASH_LENGTH = 12
_IDS_PER_STATEMENT = 10_000


def rules_coder_name(codebook_hash: str) -> str:
    return f"rules@{codebook_hash[:HASH_LENGTH]}"


def model_coder_name(data_hash: str) -> str:
    return f"model@{data_hash[:HASH_LENGTH]}"


@dataclass(frozen=True)
class Suggestion:
    document_id: int
    code_id: int
    start: int
    end: int
    ref: str  # the rule that matched, or the model's name
    confidence: float | None = None


class UnitIndex:
    """A document's units of one kind, for widening a match to the unit(s) it falls in."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]

    def holds(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` lies inside a unit (or a run of adjacent ones), not partly outside all."""
        if not self.spans:
            return False
        first = bisect.bisect_right(self.starts, start) - 1
        if first < 0:
            return False
        last = max(bisect.bisect_right(self.starts, max(end - 1, start)) - 1, first)
        return self.spans[first][1] > start and self.spans[last][1] >= end

    def cover(self, start: int, end: int) -> tuple[int, int]:
        """The smallest run of units covering ``[start, end)``; the span itself where no unit holds it."""
        if not self.spans:
            return start, end
        first = max(bisect.bisect_right(self.starts, start) - 1, 0)
        last = max(bisect.bisect_right(self.starts, max(end - 1, start)) - 1, first)
        unit_start, unit_end = self.spans[first][0], self.spans[last][1]
        if unit_start > start or unit_end < end:
            # The match lies (partly) in a gap between units, such as a blank line: keep what is covered.
            return min(unit_start, start), max(unit_end, end)
        return unit_start, unit_end


def load_unit_indexes(session: Session, document_ids: Iterable[int],
                      kinds: Iterable[str]) -> dict[tuple[int, str], UnitIndex]:
    ids, kinds = sorted(set(document_ids)), sorted(set(kinds))
    spans: dict[tuple[int, str], list[tuple[int, int]]] = {}
    if ids and kinds:
        # Tens of thousands of rows per batch of documents: read through the driver's cursor, which is several
        # times faster than building result rows.
        connection = session.connection()
        marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        table = Unit.__table__
        sql = (f'SELECT document_id, kind, start, "end" FROM {table.name} '
               f"WHERE document_id IN ({', '.join([marker] * len(ids))}) "
               f"AND kind IN ({', '.join([marker] * len(kinds))}) ORDER BY document_id, kind, start")
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, (*ids, *kinds))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        for doc_id, kind, start, end in rows:
            spans.setdefault((doc_id, kind), []).append((start, end))
    return {key: UnitIndex(value) for key, value in spans.items()}


def drop_stale_suggestions(session: Session, *, origin: str, keep_coder_id: int,
                           document_ids: Sequence[int] | None = None, code_ids: Sequence[int] | None = None) -> int:
    """Remove suggestions of ``origin`` still waiting for review that an older machine coder made: a new
    codebook version (or model) replaces them. Reviewed ones are never touched."""
    query = delete(Coding).where(Coding.origin == origin, Coding.status == "suggested",
                                 Coding.coder_id != keep_coder_id)
    if code_ids is not None:
        query = query.where(Coding.code_id.in_(list(code_ids)))
    if document_ids is None:
        return session.execute(query).rowcount or 0
    # In chunks: a statement takes at most 65,535 bound values on PostgreSQL, 32,766 on SQLite by default.
    ids, removed = list(document_ids), 0
    for i in range(0, len(ids), _IDS_PER_STATEMENT):
        removed += session.execute(query.where(Coding.document_id.in_(ids[i:i + _IDS_PER_STATEMENT]))).rowcount or 0
    return removed


def new_suggestions(session: Session, suggestions: Iterable[Suggestion], *, origin: str) -> list[Suggestion]:
    """Those of ``suggestions`` not yet covered by a coding of the same origin, each once."""
    wanted: dict[tuple[int, int, int, int], Suggestion] = {}
    for s in suggestions:
        wanted.setdefault((s.document_id, s.code_id, s.start, s.end), s)
    if not wanted:
        return []
    doc_ids = sorted({key[0] for key in wanted})
    existing = set(session.execute(
        select(Coding.document_id, Coding.code_id, Coding.start, Coding.end)
        .where(Coding.origin == origin, Coding.document_id.in_(doc_ids))).tuples())
    return [s for key, s in wanted.items() if key not in existing]


def insert_suggestions(session: Session, suggestions: Sequence[Suggestion], *, coder_id: int, origin: str,
                       texts: dict[int, str], codebook_version_id: int | None = None) -> int:
    """Bulk-insert suggestions (already filtered by :func:`new_suggestions`) as tuples to the driver."""
    if not suggestions:
        return 0
    connection = session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    columns = ("document_id", "code_id", "coder_id", "start", "end", "quote", "origin", "status", "confidence",
               "rule_ref", "model_ref", "codebook_version_id", "created_at", "updated_at")
    # The timestamp as the column type would bind it (text on SQLite, timestamptz on PostgreSQL).
    bind = Coding.__table__.c.created_at.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    now_value = bind(utcnow()) if bind else utcnow()
    rule_origin = origin == "rule"
    rows = [(s.document_id, s.code_id, coder_id, s.start, s.end, texts[s.document_id][s.start:s.end], origin,
             "suggested", s.confidence, s.ref if rule_origin else None, None if rule_origin else s.ref,
             codebook_version_id, now_value, now_value) for s in suggestions]
    sql = (f"INSERT INTO codings ({', '.join(chr(34) + c + chr(34) for c in columns)}) "
           f"VALUES ({', '.join([marker] * len(columns))})")
    connection.exec_driver_sql(sql, rows)
    return len(rows)
