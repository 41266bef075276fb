"""Reviewing suggestions: a person accepts, rejects, recodes or reshapes what rules and models proposed.

A suggestion counts in analyses and agreement only once accepted. Every decision records the reviewer and
the time on the coding and an audit event with the state before, which is also what undo restores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gripcode.coding.coders import find_coder, get_or_create_coder
from gripcode.coding.service import find_code
from gripcode.coding.units import reshaped_span, unit_index
from gripcode.corpus.documents import find_document
from gripcode.db.audit import record_event
from gripcode.db.locks import lock_codebook
from gripcode.db.models import Code, Coding, utcnow
from gripcode.errors import CodingError, NotFoundError

ORDERS = ("position", "confidence", "uncertainty")
MACHINE_ORIGINS = ("rule", "model", "llm")
_STATE = ("status", "code_id", "start", "end", "quote", "reviewed_by_id", "reviewed_at", "memo")


@dataclass(frozen=True)
class Snapshot:
    """A coding's reviewable state, for undo."""

    coding_id: int
    values: dict[str, Any]


def snapshot(coding: Coding) -> Snapshot:
    return Snapshot(coding.id, {name: getattr(coding, name) for name in _STATE})


def restore(session: Session, snap: Snapshot, *, actor: str) -> Coding:
    coding = find_suggestion(session, snap.coding_id, pending_only=False)
    for name, value in snap.values.items():
        setattr(coding, name, value)
    session.flush()
    record_event(session, actor, "coding.review_undone", "coding", coding.id, status=coding.status)
    return coding


def find_suggestion(session: Session, coding_id: int, *, pending_only: bool = True) -> Coding:
    """The suggestion ``coding_id``; NotFoundError if it is gone (a later autocode run drops the waiting ones)."""
    lock_codebook(session, exclusive=False)  # the suggestion's code is read as no sync can change it
    coding = session.get(Coding, coding_id)
    if coding is None:
        raise NotFoundError(f"no coding with id {coding_id}")
    if coding.origin not in MACHINE_ORIGINS:
        raise CodingError(f"coding {coding_id} was made by hand; only suggestions are reviewed")
    if pending_only and coding.status != "suggested":
        raise CodingError(f"coding {coding_id} was already {coding.status}")
    return coding


def suggestion_query(*, code_id: int | None = None, doc_id: int | None = None, origin: str | None = None,
                     order: str = "position", min_confidence: float | None = None, coder_id: int | None = None,
                     code_ids: list[int] | None = None) -> Any:
    if order not in ORDERS:
        raise CodingError(f"order {order!r} is not one of {', '.join(ORDERS)}")
    query = select(Coding.id).where(Coding.status == "suggested")
    query = query.where(Coding.origin == origin) if origin else query.where(Coding.origin.in_(MACHINE_ORIGINS))
    if code_id is not None:
        query = query.where(Coding.code_id == code_id)
    if doc_id is not None:
        query = query.where(Coding.document_id == doc_id)
    if coder_id is not None:
        query = query.where(Coding.coder_id == coder_id)
    if code_ids is not None:
        query = query.where(Coding.code_id.in_(code_ids))
    if min_confidence is not None:
        query = query.where(Coding.confidence >= min_confidence)
    position = (Coding.document_id, Coding.start, Coding.end, Coding.code_id)
    if order == "confidence":  # surest first; rule suggestions (no confidence) after them
        query = query.order_by(Coding.confidence.is_(None), Coding.confidence.desc(), *position)
    elif order == "uncertainty":  # closest to the model's 0.5 boundary first: where a decision teaches most
        query = query.order_by(Coding.confidence.is_(None), func.abs(Coding.confidence - 0.5), *position)
    else:
        query = query.order_by(*position)
    return query


def machine_coder_id(session: Session, name: str | None) -> int | None:
    """The id of the machine coder ``name`` whose suggestions are chosen (None: any)."""
    if name is None:
        return None
    from gripcode.coding.coders import find_coder
    from gripcode.db.models import MACHINE_CODER_KINDS

    coder = find_coder(session, name)
    if coder.kind not in MACHINE_CODER_KINDS:
        raise CodingError(f"{coder.name} is a {coder.kind} coder, not a machine coder: --coder after `review` names "
                          "the machine (llm@..., rules@..., model@...) whose suggestions to decide; who reviews is "
                          "gripcode's own --coder, before the command (gripcode --coder NAME review ...)")
    return coder.id


def pending(session: Session, *, code: str | None = None, doc: str | None = None, origin: str | None = None,
            order: str = "position", coder: str | None = None) -> list[int]:
    """Ids of the suggestions waiting for review, in the order asked for."""
    code_id = find_code(session, code, for_coding=False).id if code else None
    doc_id = find_document(session, doc).id if doc else None
    return list(session.scalars(suggestion_query(code_id=code_id, doc_id=doc_id, origin=origin, order=order,
                                                 coder_id=machine_coder_id(session, coder))))


def _decided(session: Session, coding: Coding, status: str, reviewer: str, action: str, **details: Any) -> None:
    person = get_or_create_coder(session, reviewer, "person", actor=reviewer)
    coding.status, coding.reviewed_by_id, coding.reviewed_at = status, person.id, utcnow()
    session.flush()
    record_event(session, reviewer, action, "coding", coding.id, status=status, code=coding.code.slug,
                 document=coding.document_id, start=coding.start, end=coding.end, **details)


def decide(session: Session, coding_id: int, decision: str, *, reviewer: str) -> Coding:
    """Accept or reject one suggestion."""
    if decision not in ("accept", "reject"):
        raise CodingError(f"decision {decision!r} is not accept or reject")
    coding = find_suggestion(session, coding_id)
    if decision == "accept" and coding.code.status != "active":
        raise CodingError(f"the code of suggestion {coding_id}, {coding.code.slug}, is {coding.code.status}: the "
                          "suggestion can be rejected, or recoded to an active code, but not accepted")
    _decided(session, coding, "accepted" if decision == "accept" else "rejected", reviewer, "coding.reviewed")
    return coding


def _refuse_clash(session: Session, coding: Coding, code_id: int, start: int, end: int) -> None:
    clash = session.scalar(select(Coding.id).where(
        Coding.document_id == coding.document_id, Coding.code_id == code_id, Coding.coder_id == coding.coder_id,
        Coding.start == start, Coding.end == end, Coding.id != coding.id))
    if clash is not None:
        raise CodingError(f"suggestion {clash} already covers that code and span; review it instead")


def recode(session: Session, coding_id: int, code: str, *, reviewer: str) -> Coding:
    """The passage is right but the code is not: give it ``code`` and accept it."""
    coding = find_suggestion(session, coding_id)
    new = find_code(session, code)
    with session.no_autoflush:
        _refuse_clash(session, coding, new.id, coding.start, coding.end)
    before = coding.code.slug
    coding.code = new
    _decided(session, coding, "accepted", reviewer, "coding.reviewed", recoded_from=before)
    return coding


def _rule_term(coding: Coding) -> str | None:
    ref = coding.rule_ref or ""
    return ref.split(":", 1)[1] if ref.startswith("term:") else None


def reshape(session: Session, coding_id: int, unit: str, *, narrow: bool, reviewer: str,
            at: int | None = None) -> Coding:
    """Widen the suggestion to the ``unit``s that cover it, or narrow it to the one ``unit`` inside it that
    holds offset ``at`` or else the rule's term (the first one otherwise). The suggestion stays open for a
    decision."""
    coding = find_suggestion(session, coding_id)
    index = unit_index(session, coding.document_id, unit)
    text = coding.document.text
    start, end = reshaped_span(index, text, coding.start, coding.end, unit, narrow=narrow, term=_rule_term(coding),
                               at=at, what="suggestion")
    with session.no_autoflush:
        _refuse_clash(session, coding, coding.code_id, start, end)
    before = (coding.start, coding.end)
    coding.start, coding.end, coding.quote = start, end, text[start:end]
    session.flush()
    record_event(session, reviewer, "coding.reshaped", "coding", coding.id, before=list(before), after=[start, end],
                 unit=unit)
    return coding


def set_memo(session: Session, coding_id: int, memo: str, *, reviewer: str) -> Coding:
    coding = find_suggestion(session, coding_id, pending_only=False)
    coding.memo = memo.strip() or None
    session.flush()
    record_event(session, reviewer, "coding.memo", "coding", coding.id)
    return coding


def decide_many(session: Session, decision: str, *, reviewer: str, code: str | None = None,
                origin: str | None = None, doc: str | None = None, min_confidence: float | None = None,
                coder: str | None = None, code_ids: list[int] | None = None) -> int:
    """Accept or reject every waiting suggestion that matches; returns how many. ``coder`` names the machine
    coder whose suggestions are meant; ``code_ids`` limits them to these codes (those a validation passed).

    Rule suggestions carry no confidence, so asking for rule suggestions above a confidence is refused rather
    than deciding none of them; :func:`count_without_confidence` says how many a mixed request leaves out.
    """
    if code is None and doc is None and min_confidence is None and coder is None:
        raise CodingError("name the suggestions to decide with --code, --doc, --coder or --min-confidence")
    if min_confidence is not None and origin == "rule":
        raise CodingError("rule suggestions carry no confidence, so --min-confidence selects none of them; "
                          "choose them with --code or --doc")
    code_id = find_code(session, code, for_coding=False).id if code else None
    doc_id = find_document(session, doc).id if doc else None
    if decision not in ("accept", "reject"):
        raise CodingError(f"decision {decision!r} is not accept or reject")
    lock_codebook(session, exclusive=False)
    query = suggestion_query(code_id=code_id, doc_id=doc_id, origin=origin, min_confidence=min_confidence,
                             coder_id=machine_coder_id(session, coder), code_ids=code_ids)
    if decision == "accept":  # suggestions of codes retired or merged since wait for a reject or a recode
        query = query.join(Code, Code.id == Coding.code_id).where(Code.status == "active")
    ids = list(session.scalars(query))
    person = get_or_create_coder(session, reviewer, "person", actor=reviewer)
    status = "accepted" if decision == "accept" else "rejected"
    for chunk in range(0, len(ids), 500):  # one UPDATE per chunk, not a round trip per suggestion
        session.execute(update(Coding).where(Coding.id.in_(ids[chunk:chunk + 500]))
                        .values(status=status, reviewed_by_id=person.id, reviewed_at=utcnow()))
    record_event(session, reviewer, "codings.reviewed", "coding", None, status=status, count=len(ids), ids=ids,
                 code=code, origin=origin, document=doc_id, min_confidence=min_confidence, coder=coder)
    return len(ids)


def count_without_confidence(session: Session, *, code: str | None = None, origin: str | None = None,
                             doc: str | None = None, coder: str | None = None) -> int:
    """Waiting rule suggestions matching ``code``, ``doc``, ``origin`` and ``coder``: they have no confidence, so a
    ``min_confidence`` filter always leaves them out."""
    if origin not in (None, "rule"):
        return 0
    code_id = find_code(session, code, for_coding=False).id if code else None
    doc_id = find_document(session, doc).id if doc else None
    ids = suggestion_query(code_id=code_id, doc_id=doc_id, origin=origin,
                           coder_id=machine_coder_id(session, coder)).where(Coding.confidence.is_(None),
                                                                            Coding.origin == "rule")
    return session.scalar(select(func.count()).select_from(ids.order_by(None).subquery())) or 0


def describe(session: Session, coding_id: int, *, context: int = 160) -> dict[str, Any]:
    """What a reviewer needs to see: the passage marked inside its surroundings, and where it came from."""
    coding = session.get(Coding, coding_id)
    if coding is None:
        raise NotFoundError(f"no coding with id {coding_id}")
    text = coding.document.text
    left = max(0, coding.start - context)
    right = min(len(text), coding.end + context)
    shown = (("…" if left else "") + text[left:coding.start] + "⟦" + text[coding.start:coding.end] + "⟧"
             + text[coding.end:right] + ("…" if right < len(text) else ""))
    code: Code = coding.code
    return {"id": coding.id, "code": code.slug, "name": code.name, "definition": code.definition,
            "document": f"{coding.document_id}: {coding.document.title}", "origin": coding.origin,
            "by": coding.coder.name, "rule": coding.rule_ref, "model": coding.model_ref,
            "confidence": coding.confidence, "status": coding.status, "start": coding.start, "end": coding.end,
            "text": shown}
