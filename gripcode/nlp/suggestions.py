"""Storing machine suggestions (rule matches, classifier predictions) as codings a researcher must review.

Suggestions are codings with origin ``rule``, ``model`` or ``llm``, status ``suggested``, and a machine coder named
after what made them: ``rules@<codebook hash>``, ``model@<training data hash>`` or ``llm@<model>@<prompt hash>``.
They never count in analyses until accepted. Storing is idempotent: a suggestion is not stored again where any
coding of the same origin already covers the same code and span, whether still waiting, accepted or rejected (a
researcher's decision is not asked for twice). Language-model coders are compared with each other and with people,
so each keeps its own decisions: for them only the same coder's codings count as already there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, String, and_, cast, delete, func, not_, select
from sqlalchemy.orm import Session

from gripcode.db.bulk import chunks, insert_rows
from gripcode.db.models import Coding, Unit, utcnow
from gripcode.nlp.pipelines import UnitIndex, UnitRow, unit_indexes

HASH_LENGTH = 12

Span = tuple[int, int, int, int, str]  # document id, code id, start, end, rule or model reference


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
    memo: str | None = None  # a language model's rationale


def unit_rows(session: Session | Connection, document_ids: Iterable[int],
              kinds: Iterable[str]) -> list[UnitRow]:
    """These documents' units of these kinds, packed a row per document and kind (see ``UnitRow``).

    A batch of documents holds tens of thousands of units: the database joins each document's into one string,
    so that this process builds and sends on a few objects per document instead of one per unit."""
    ids, kinds = sorted(set(document_ids)), sorted(set(kinds))
    if not ids or not kinds:
        return []
    bounds = cast(Unit.start, String) + "," + cast(Unit.end, String)
    rows: list[UnitRow] = []
    for chunk in chunks(ids):
        rows.extend(session.execute(
            select(Unit.document_id, Unit.kind, func.aggregate_strings(bounds, ","))
            .where(Unit.document_id.in_(chunk), Unit.kind.in_(kinds))
            .group_by(Unit.document_id, Unit.kind)).tuples())
    return rows


def load_unit_indexes(session: Session | Connection, document_ids: Iterable[int],
                      kinds: Iterable[str]) -> dict[tuple[int, str], UnitIndex]:
    return unit_indexes(unit_rows(session, document_ids, kinds))


@dataclass(frozen=True)
class StaleScope:
    """The suggestions a run replaces: of its origin, still waiting for review, by another machine coder than
    ``keep_coder_id`` (None: by any), of ``code_ids`` (None: of every code)."""

    origin: str
    keep_coder_id: int | None
    code_ids: tuple[int, ...] | None = None

    def condition(self) -> ColumnElement[bool]:
        condition = and_(Coding.origin == self.origin, Coding.status == "suggested")
        if self.keep_coder_id is not None:
            condition = and_(condition, Coding.coder_id != self.keep_coder_id)
        if self.code_ids is not None:
            condition = and_(condition, Coding.code_id.in_(self.code_ids))
        return condition


def count_stale_suggestions(session: Session, scope: StaleScope, document_ids: Sequence[int] | None = None) -> int:
    """How many suggestions :func:`drop_stale_suggestions` would remove (for a dry run)."""
    query = select(func.count()).select_from(Coding).where(scope.condition())
    if document_ids is None:
        return session.scalar(query) or 0
    return sum(session.scalar(query.where(Coding.document_id.in_(chunk))) or 0 for chunk in chunks(list(document_ids)))


def drop_stale_suggestions(session: Session, scope: StaleScope, document_ids: Sequence[int] | None = None) -> int:
    """Remove the suggestions ``scope`` names (in ``document_ids``, or in every document): a new codebook
    version (or model) replaces them. Reviewed ones are never touched."""
    query = delete(Coding).where(scope.condition())
    if document_ids is None:
        return session.execute(query).rowcount or 0
    return sum(session.execute(query.where(Coding.document_id.in_(chunk))).rowcount or 0
               for chunk in chunks(list(document_ids)))


def _existing(session: Session, origin: str, document_ids: Iterable[int],
              unless: StaleScope | None = None, coder_id: int | None = None) -> set[tuple[int, int, int, int]]:
    """(document, code, start, end) of every coding of ``origin`` (by ``coder_id``, if given) in these documents,
    leaving out those ``unless`` names (the stale suggestions a dry run counts as removed)."""
    ids = sorted(set(document_ids))
    if not ids:
        return set()
    query = (select(Coding.document_id, Coding.code_id, Coding.start, Coding.end)
             .where(Coding.origin == origin, Coding.document_id.in_(ids)))
    if coder_id is not None:
        query = query.where(Coding.coder_id == coder_id)
    if unless is not None:
        query = query.where(not_(unless.condition()))
    return set(session.execute(query).tuples())


def new_suggestions(session: Session, suggestions: Iterable[Suggestion], *, origin: str,
                    coder_id: int | None = None) -> list[Suggestion]:
    """Those of ``suggestions`` not yet covered by a coding of the same origin (by ``coder_id``, if given), each
    once."""
    wanted: dict[tuple[int, int, int, int], Suggestion] = {}
    for s in suggestions:
        wanted.setdefault((s.document_id, s.code_id, s.start, s.end), s)
    if not wanted:
        return []
    existing = _existing(session, origin, {key[0] for key in wanted}, coder_id=coder_id)
    return [s for key, s in wanted.items() if key not in existing]


def new_spans(session: Session, spans: Iterable[Span], *, origin: str,
              replacing: StaleScope | None = None) -> tuple[list[Span], int]:
    """Like :func:`new_suggestions` for plain ``(document, code, start, end, reference)`` tuples: those not yet
    covered by a coding of ``origin``, each once, and how many distinct spans were already covered. With
    ``replacing``, the stale suggestions it names count as gone, as they are once a real run dropped them."""
    wanted: dict[tuple[int, int, int, int], str] = {}
    for doc_id, code_id, start, end, ref in spans:
        wanted.setdefault((doc_id, code_id, start, end), ref)
    if not wanted:
        return [], 0
    existing = _existing(session, origin, {key[0] for key in wanted}, unless=replacing)
    fresh = [(*key, ref) for key, ref in wanted.items() if key not in existing]
    return fresh, len(wanted) - len(fresh)


def insert_suggestions(session: Session, suggestions: Sequence[Suggestion], *, coder_id: int, origin: str,
                       texts: dict[int, str], codebook_version_id: int | None = None) -> int:
    """Bulk-insert suggestions (already filtered by :func:`new_suggestions`) as tuples to the driver."""
    return _insert(session, [(s.document_id, s.code_id, s.start, s.end, s.ref, s.confidence) for s in suggestions],
                   coder_id=coder_id, origin=origin, texts=texts, codebook_version_id=codebook_version_id,
                   memos=[s.memo for s in suggestions])


def insert_spans(session: Session, spans: Sequence[Span], *, coder_id: int, origin: str, texts: dict[int, str],
                 codebook_version_id: int | None = None) -> int:
    """Bulk-insert ``(document, code, start, end, reference)`` tuples (from :func:`new_spans`) without a
    confidence."""
    return _insert(session, [(*span, None) for span in spans], coder_id=coder_id, origin=origin, texts=texts,
                   codebook_version_id=codebook_version_id)


def _insert(session: Session, items: Sequence[tuple[int, int, int, int, str, float | None]], *, coder_id: int,
            origin: str, texts: dict[int, str], codebook_version_id: int | None,
            memos: Sequence[str | None] | None = None) -> int:
    if not items:
        return 0
    connection = session.connection()
    # The timestamp as the column type would bind it (text on SQLite, timestamptz on PostgreSQL).
    bind = Coding.__table__.c.created_at.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    now_value = bind(utcnow()) if bind else utcnow()
    # What is the same for every row goes to insert_rows apart (on SQLite it is bound once per statement).
    reference, other = ("rule_ref", "model_ref") if origin == "rule" else ("model_ref", "rule_ref")
    constants = {"coder_id": coder_id, "origin": origin, "status": "suggested", other: None,
                 "codebook_version_id": codebook_version_id, "created_at": now_value, "updated_at": now_value}
    if any(item[5] is not None for item in items):
        columns: tuple[str, ...] = ("document_id", "code_id", "start", "end", "quote", reference, "confidence")
        rows = [(doc_id, code_id, start, end, texts[doc_id][start:end], ref, confidence)
                for doc_id, code_id, start, end, ref, confidence in items]
    else:
        columns = ("document_id", "code_id", "start", "end", "quote", reference)
        rows = [(doc_id, code_id, start, end, texts[doc_id][start:end], ref)
                for doc_id, code_id, start, end, ref, _ in items]
        constants["confidence"] = None
    if memos is not None and any(memo is not None for memo in memos):
        columns = (*columns, "memo")
        rows = [(*row, memo) for row, memo in zip(rows, memos)]
    return insert_rows(connection, "codings", columns, rows, constants)
