"""Applying, editing, removing and listing codings: the manual-coding service behind `gripcode code`.

A coding is placed by exactly one of a quote (found in the stored text), an explicit span of code-point
offsets, or a stored unit (paragraph, sentence or turn number). Whatever the way, the stored quote is the text
at the resulting offsets, so `gripcode check` can always prove it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from gripcode.coding.coders import get_or_create_coder
from gripcode.coding.locate import locate_quote, parse_span, parse_unit_ref
from gripcode.corpus.documents import find_document
from gripcode.db.audit import record_event
from gripcode.db.locks import lock_codebook
from gripcode.db.models import Case, Code, Coder, Coding, Document, Unit
from gripcode.errors import CodingError, NotFoundError

LIST_COLUMNS = ("id", "document", "doc_id", "case", "code", "coder", "start", "end", "quote", "origin", "status",
                "confidence", "memo")


@dataclass(frozen=True)
class Placement:
    """Where a coding goes: offsets, and how they were found (for the message the researcher sees)."""

    start: int
    end: int
    how: str  # "quote", "quote, ignoring whitespace", "span", "paragraph 3", ...


def find_code(session: Session, slug: str, *, for_coding: bool = True) -> Code:
    """A code by its id; for new codings it must be active (a merged code names the code to use instead), which
    is checked under the codebook lock, so no sync changes the code before this transaction commits."""
    if for_coding:
        lock_codebook(session, exclusive=False)
    code = session.scalars(select(Code).where(Code.slug == slug.strip())).first()
    if code is None:
        known = session.scalars(select(Code.slug).where(Code.status == "active").order_by(Code.position)).all()
        hint = ", ".join(known[:15]) + (", ..." if len(known) > 15 else "") if known else \
            "none: sync a codebook first (gripcode codebook sync FILE)"
        raise NotFoundError(f"no code {slug!r}; active codes: {hint}")
    if for_coding and code.status != "active":
        instead = f"; use {code.merged_into.slug} instead" if code.status == "merged" and code.merged_into else ""
        raise CodingError(f"code {code.slug} is {code.status}{instead}")
    return code


def unit_span(session: Session, doc: Document, kind: str, seq: int) -> tuple[int, int]:
    row = session.execute(select(Unit.start, Unit.end).where(
        Unit.document_id == doc.id, Unit.kind == kind, Unit.seq == seq)).first()
    if row is None:
        n = session.scalar(select(Unit.seq).where(Unit.document_id == doc.id, Unit.kind == kind)
                           .order_by(Unit.seq.desc()).limit(1)) or 0
        raise CodingError(f"document {doc.id} has no {kind} {seq} (it has {n} {kind}s)")
    return row.start, row.end


def place(session: Session, doc: Document, *, quote: str | None = None, occurrence: int | None = None,
          span: str | None = None, unit: str | None = None) -> Placement:
    """Resolve exactly one of ``quote``, ``span`` (START:END) or ``unit`` (kind:N) to offsets in ``doc``."""
    given = [name for name, value in (("--quote", quote), ("--span", span), ("--unit", unit)) if value is not None]
    if len(given) != 1:
        raise CodingError("say where the coding goes with exactly one of --quote, --span or --unit"
                          + (f" (got {' and '.join(given)})" if given else ""))
    if occurrence is not None and quote is None:
        raise CodingError("--occurrence goes with --quote")
    if quote is not None:
        match = locate_quote(doc.text, quote, occurrence)
        return Placement(match.start, match.end, "quote" if match.exact else "quote, ignoring whitespace")
    if span is not None:
        start, end = parse_span(span, len(doc.text))
        return Placement(start, end, "span")
    kind, seq = parse_unit_ref(unit or "")
    start, end = unit_span(session, doc, kind, seq)
    return Placement(start, end, f"{kind} {seq}")


def _summary(coding: Coding) -> dict[str, Any]:
    return {"document": coding.document_id, "code": coding.code.slug, "coder": coding.coder.name,
            "start": coding.start, "end": coding.end}


def _refuse_duplicate(session: Session, doc: Document, code: Code, coder: Coder, start: int, end: int,
                      *, other_than: int | None = None) -> None:
    """The same coder cannot apply the same code to the same span twice (the table's unique key)."""
    query = select(Coding.id).where(Coding.document_id == doc.id, Coding.code_id == code.id,
                                    Coding.coder_id == coder.id, Coding.start == start, Coding.end == end)
    if other_than is not None:
        query = query.where(Coding.id != other_than)
    with session.no_autoflush:  # an edit in progress must not reach the unique key before this check
        existing = session.scalar(query.limit(1)) if coder.id is not None else None
    if existing is not None:
        raise CodingError(f"{coder.name} has already coded {start}:{end} of document {doc.id} with {code.slug} "
                          f"(coding {existing})")


def apply_coding(session: Session, doc_ref: str, code_slug: str, *, coder: str, memo: str | None = None,
                 quote: str | None = None, occurrence: int | None = None, span: str | None = None,
                 unit: str | None = None) -> tuple[Coding, Placement]:
    """Add one manual coding by ``coder``; returns it with how its place was found."""
    doc = find_document(session, doc_ref)
    code = find_code(session, code_slug)
    placement = place(session, doc, quote=quote, occurrence=occurrence, span=span, unit=unit)
    person = get_or_create_coder(session, coder, actor=coder)
    _refuse_duplicate(session, doc, code, person, placement.start, placement.end)
    coding = Coding(document_id=doc.id, code=code, coder=person, start=placement.start, end=placement.end,
                    quote=doc.text[placement.start:placement.end], origin="manual", status="accepted",
                    memo=memo or None)
    session.add(coding)
    session.flush()
    record_event(session, coder, "coding.applied", "coding", coding.id, **_summary(coding), how=placement.how)
    return coding, placement


def get_coding(session: Session, coding_id: int) -> Coding:
    coding = session.get(Coding, coding_id)
    if coding is None:
        raise NotFoundError(f"no coding with id {coding_id}; see `gripcode codings list`")
    return coding


def remove_coding(session: Session, coding_id: int, *, actor: str) -> dict[str, Any]:
    """Delete a coding; the audit event keeps everything needed to restore it."""
    coding = get_coding(session, coding_id)
    summary = {**_summary(coding), "quote": coding.quote, "origin": coding.origin, "status": coding.status,
               "memo": coding.memo}
    session.delete(coding)
    session.flush()
    record_event(session, actor, "coding.removed", "coding", coding_id, **summary)
    return summary


def edit_coding(session: Session, coding_id: int, *, actor: str, code: str | None = None,
                quote: str | None = None, occurrence: int | None = None, span: str | None = None,
                unit: str | None = None, memo: str | None = None) -> tuple[Coding, list[str]]:
    """Change a coding's code, its place or its memo; returns it with what changed."""
    coding = get_coding(session, coding_id)
    before = _summary(coding)
    changed = []
    if code is not None and code != coding.code.slug:
        coding.code = find_code(session, code)
        changed.append(f"code {before['code']} -> {coding.code.slug}")
    if any(v is not None for v in (quote, span, unit)):
        doc = coding.document
        placement = place(session, doc, quote=quote, occurrence=occurrence, span=span, unit=unit)
        if (placement.start, placement.end) != (coding.start, coding.end):
            coding.start, coding.end = placement.start, placement.end
            coding.quote = doc.text[placement.start:placement.end]
            changed.append(f"span {before['start']}:{before['end']} -> {placement.start}:{placement.end}")
    if memo is not None and memo != (coding.memo or ""):
        coding.memo = memo or None
        changed.append("memo")
    if not changed:
        raise CodingError(f"nothing to change in coding {coding_id}: give --code, --quote, --span, --unit or --memo")
    _refuse_duplicate(session, coding.document, coding.code, coding.coder, coding.start, coding.end,
                      other_than=coding.id)
    session.flush()
    record_event(session, actor, "coding.edited", "coding", coding.id, before=before, after=_summary(coding),
                 changes=changed)
    return coding, changed


def codings_query(*, doc_id: int | None = None, code: str | None = None, coder: str | None = None,
                  case: str | None = None, status: str | None = None, origin: str | None = None) -> Select[Any]:
    query = (select(Coding.id, Document.title.label("document"), Document.id.label("doc_id"),
                    Case.name.label("case"), Code.slug.label("code"), Coder.name.label("coder"), Coding.start,
                    Coding.end, Coding.quote, Coding.origin, Coding.status, Coding.confidence, Coding.memo)
             .join(Document, Coding.document_id == Document.id).outerjoin(Case, Document.case_id == Case.id)
             .join(Code, Coding.code_id == Code.id).join(Coder, Coding.coder_id == Coder.id)
             .order_by(Document.id, Coding.start, Coding.end, Code.position, Coder.name))
    for column, value in ((Document.id, doc_id), (Code.slug, code), (Coder.name, coder), (Case.name, case),
                          (Coding.status, status), (Coding.origin, origin)):
        if value is not None:
            query = query.where(column == value)
    return query


def list_codings(session: Session, *, doc: str | None = None, code: str | None = None, coder: str | None = None,
                 case: str | None = None, status: str | None = None, origin: str | None = None,
                 blind_for: str | None = None, blind_documents: Collection[int] = ()) -> list[dict[str, Any]]:
    """Codings with the filters given; in ``blind_documents`` (an open reliability round's, coded by ``blind_for``)
    only ``blind_for``'s own."""
    doc_id = find_document(session, doc).id if doc else None
    if code:
        find_code(session, code, for_coding=False)
    query = codings_query(doc_id=doc_id, code=code, coder=coder, case=case, status=status, origin=origin)
    if blind_for is not None and blind_documents:
        query = query.where(or_(Coder.name == blind_for, Document.id.not_in(list(blind_documents))))
    return [dict(row._mapping) for row in session.execute(query)]
