"""What `gripcode show DOC --codes` and `--format html` need from the database: the document's codings as
coloured spans, its memos, and the provenance line that says which codings were shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gripcode.db.models import COUNTED_STATUSES as COUNTED, Code, Coder, Coding, Document, Memo, Unit, status_among
from gripcode.export.document_view import CodedSpan, MemoNote



@dataclass(frozen=True)
class DocumentView:
    spans: list[CodedSpan]
    memos: list[MemoNote]
    paragraphs: list[tuple[int, int]]
    provenance: str


def document_view(session: Session, doc: Document, *, statuses: tuple[str, ...] = COUNTED,
                  coders: tuple[str, ...] = (), blind_for: str | None = None) -> DocumentView:
    """``blind_for``: a coder of an open reliability round on this document, who sees only their own codings and
    memos."""
    if blind_for is not None:
        coders = (blind_for,)
    query = (select(Coding.start, Coding.end, Code.slug, Code.name, Code.color, Coder.name, Coding.memo)
             .join(Coding.code).join(Coding.coder)
             .where(Coding.document_id == doc.id, status_among(Coding.status, statuses))
             .order_by(Coding.start, Coding.end))
    if coders:
        query = query.where(Coder.name.in_(coders))
    spans = [CodedSpan(*row) for row in session.execute(query).tuples()]
    coding_ids = select(Coding.id).where(Coding.document_id == doc.id)
    memo_rows = session.execute(
        select(Memo, Coder.name).join(Memo.coder)
        .where(or_(Memo.document_id == doc.id, Memo.coding_id.in_(coding_ids)),
               *([Coder.name == blind_for] if blind_for is not None else []))
        .order_by(Memo.created_at)).all()
    memos = [MemoNote(m.title, m.text, name, f"coding {m.coding_id}" if m.coding_id else "document")
             for m, name in memo_rows]
    paragraphs = [tuple(r) for r in session.execute(select(Unit.start, Unit.end).where(
        Unit.document_id == doc.id, Unit.kind == "paragraph").order_by(Unit.seq)).tuples()]
    who = f"coders {', '.join(coders)}" if coders else "all coders"
    provenance = (f"gripcode: document {doc.id} ({doc.sha256[:12]}), codings with status {', '.join(statuses)} "
                  f"by {who}; {len(spans)} codings shown; generated {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    return DocumentView(spans, memos, paragraphs, provenance)  # type: ignore[arg-type]
