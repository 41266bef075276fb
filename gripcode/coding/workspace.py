"""What a coding front end (the workbench) reads about one document: its text and units, the codings on it with
their codes' colours, and the memos on it and on its codings.

Each function reads inside the caller's transaction; :func:`load_workspace` gathers everything a document
needs in one read transaction, :func:`load_document_codings` only what other coders may have changed since
(for a refresh). Which codings are shown: those with the given statuses (the accepted ones by default, which
count), and in a blind round only the coder's own codings and memos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from gripcode.corpus.documents import find_document
from gripcode.db.models import COUNTED_STATUSES, Case, Code, Coder, Coding, Memo, Unit, status_among
from gripcode.export.document_view import code_color


class UnitSpan(NamedTuple):
    seq: int
    start: int
    end: int
    speaker: str | None = None


class ShownCoding(NamedTuple):
    """One coding as a front end shows it; ``color`` is the code's colour, or one fixed by its id."""

    id: int
    start: int
    end: int
    code: str
    code_name: str
    color: str
    coder: str
    status: str
    origin: str
    confidence: float | None = None
    source: str | None = None  # the rule or model that suggested it
    memo: str | None = None


class ShownMemo(NamedTuple):
    id: int
    coding_id: int | None  # None: a memo on the document
    title: str | None
    text: str
    coder: str


@dataclass(frozen=True)
class DocumentCodings:
    codings: tuple[ShownCoding, ...]
    memos: tuple[ShownMemo, ...]


@dataclass(frozen=True)
class Workspace:
    doc_id: int
    title: str
    case: str | None
    kind: str
    language: str
    words: int
    text: str
    paragraphs: tuple[UnitSpan, ...]
    sentences: tuple[UnitSpan, ...]
    turns: tuple[UnitSpan, ...]
    shown: DocumentCodings


def load_workspace(session: Session, doc_ref: str, *, statuses: tuple[str, ...] = COUNTED_STATUSES,
                   only_coder: str | None = None, waiting_too: bool = False) -> Workspace:
    """Document ``doc_ref`` (id or title) with its units, codings and memos."""
    doc = find_document(session, doc_ref)
    units: dict[str, list[UnitSpan]] = {"paragraph": [], "sentence": [], "turn": []}
    for kind, seq, start, end, speaker in session.execute(
            select(Unit.kind, Unit.seq, Unit.start, Unit.end, Unit.speaker)
            .where(Unit.document_id == doc.id).order_by(Unit.kind, Unit.seq)).tuples():
        units[kind].append(UnitSpan(seq, start, end, speaker))
    case = session.scalar(select(Case.name).where(Case.id == doc.case_id)) if doc.case_id else None
    return Workspace(doc.id, doc.title, case, doc.kind, doc.language, doc.word_count, doc.text,
                     tuple(units["paragraph"]), tuple(units["sentence"]), tuple(units["turn"]),
                     load_document_codings(session, doc.id, statuses=statuses, only_coder=only_coder,
                                           waiting_too=waiting_too))


def load_document_codings(session: Session, doc_id: int, *, statuses: tuple[str, ...] = COUNTED_STATUSES,
                          only_coder: str | None = None, coding_ids: Sequence[int] | None = None,
                          waiting_too: bool = False) -> DocumentCodings:
    """The codings shown on document ``doc_id`` (in text order; only those of ``coding_ids`` if given, for a front
    end that knows which ones it changed) and the memos on it and on its codings. With ``only_coder`` and
    ``waiting_too``, suggestions waiting for review are shown besides that coder's own (a reviewer in a blind
    round: machine suggestions are nobody's independent coding)."""
    query = (select(Coding.id, Coding.start, Coding.end, Code.slug, Code.name, Code.color, Coder.name, Coding.status,
                    Coding.origin, Coding.confidence, func.coalesce(Coding.rule_ref, Coding.model_ref), Coding.memo)
             .join(Code, Coding.code_id == Code.id).join(Coder, Coding.coder_id == Coder.id)
             .where(Coding.document_id == doc_id, status_among(Coding.status, statuses))
             .order_by(Coding.start, Coding.end, Code.position, Coder.name, Coding.id))
    if only_coder is not None:
        query = query.where(or_(Coder.name == only_coder, Coding.status == "suggested") if waiting_too
                            else Coder.name == only_coder)
    if coding_ids is not None:
        query = query.where(Coding.id.in_(list(coding_ids)))
    colors: dict[tuple[str, str | None], str] = {}
    codings = []
    # Plain rows (the Core result, not ORM objects): a long document has thousands of codings, read at every refresh.
    for id, start, end, slug, name, color, coder, status, origin, confidence, source, memo in \
            session.connection().execute(query):
        shown = colors.get((slug, color))
        if shown is None:
            shown = colors[(slug, color)] = code_color(slug, color)
        codings.append(ShownCoding(id, start, end, slug, name, shown, coder, status, origin, confidence, source, memo))
    on_coding = aliased(Coding)
    memo_query = (select(Memo.id, Memo.coding_id, Memo.title, Memo.text, Coder.name)
                  .join(Coder, Memo.coder_id == Coder.id)
                  .outerjoin(on_coding, Memo.coding_id == on_coding.id)
                  .where(or_(Memo.document_id == doc_id, on_coding.document_id == doc_id))
                  .order_by(Memo.created_at, Memo.id))
    if only_coder is not None:
        memo_query = memo_query.where(Coder.name == only_coder)
    memos = tuple(ShownMemo(*row) for row in session.execute(memo_query).tuples())
    return DocumentCodings(tuple(codings), memos)


def recent_codes(session: Session, coder: str, *, limit: int = 9) -> list[str]:
    """The active codes ``coder`` applied most recently, newest first, each once."""
    last = func.max(Coding.created_at)
    return list(session.scalars(
        select(Code.slug).join(Coding, Coding.code_id == Code.id).join(Coder, Coding.coder_id == Coder.id)
        .where(Coder.name == coder, Code.status == "active", Coding.origin == "manual")
        .group_by(Code.slug).order_by(last.desc(), Code.slug).limit(limit)))
