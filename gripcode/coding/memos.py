"""Memos: a researcher's notes on the project, a document, a code or one coding."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session, aliased

from gripcode.coding.coders import find_coder, get_or_create_coder
from gripcode.coding.service import find_code
from gripcode.corpus.documents import find_document
from gripcode.db.audit import record_event
from gripcode.db.models import Code, Coder, Coding, Document, Memo
from gripcode.errors import GripcodeError, NotFoundError

__all__ = ["LIST_COLUMNS", "add_memo", "list_memos", "remove_memo"]

LIST_COLUMNS = ("id", "target", "title", "text", "coder", "created_at")
_MAX_TITLE = 300


def _find_coding(session: Session, coding_id: int) -> Coding:
    coding = session.get(Coding, coding_id)
    if coding is None:
        raise NotFoundError(f"no coding with id {coding_id}")
    return coding


def add_memo(session: Session, text: str, *, coder: str, project: bool = False, document: str | None = None,
             code: str | None = None, coding: int | None = None, title: str | None = None) -> Memo:
    """Attach a memo by ``coder`` to exactly one of the project, a document (id or unique title), a code
    (its id in the codebook) or a coding (its number)."""
    given = [name for name, value in (("project", project or None), ("document", document), ("code", code),
                                      ("coding", coding)) if value is not None]
    if len(given) != 1:
        raise GripcodeError("a memo is about exactly one of the project, a document, a code or a coding"
                            + (f" (got {' and '.join(given)})" if given else ""))
    text = text.strip()
    if not text:
        raise GripcodeError("the memo is empty")
    title = title.strip() if title else None
    if title and len(title) > _MAX_TITLE:
        raise GripcodeError(f"a memo title has at most {_MAX_TITLE} characters; this one has {len(title)}")

    memo = Memo(target=given[0], title=title or None, text=text)
    about: dict[str, Any] = {}
    if document is not None:
        memo.document_id = about["document"] = find_document(session, document).id
    elif code is not None:
        found = find_code(session, code, for_coding=False)
        memo.code_id, about["code"] = found.id, found.slug
    elif coding is not None:
        memo.coding_id = about["coding"] = _find_coding(session, coding).id
    memo.coder = get_or_create_coder(session, coder, actor=coder)
    session.add(memo)
    session.flush()
    record_event(session, coder, "memo.added", "memo", memo.id, target=memo.target, **about, title=memo.title)
    return memo


def _memos_query() -> tuple[Select[Any], Any]:
    on_coding = aliased(Coding)
    query = (select(Memo.id, Memo.target, Memo.title, Memo.text, Coder.name.label("coder"), Memo.created_at,
                    Memo.document_id, Document.title.label("document_title"), Code.slug.label("code_slug"),
                    Memo.coding_id)
             .join(Coder, Memo.coder_id == Coder.id)
             .outerjoin(Document, Memo.document_id == Document.id)
             .outerjoin(Code, Memo.code_id == Code.id)
             .outerjoin(on_coding, Memo.coding_id == on_coding.id)
             .order_by(Memo.created_at, Memo.id))
    return query, on_coding


def _target_label(row: Any) -> str:
    if row.target == "document":
        return f"document {row.document_id}: {row.document_title}"
    if row.target == "code":
        return f"code {row.code_slug}"
    if row.target == "coding":
        return f"coding {row.coding_id}"
    return "project"


def list_memos(session: Session, *, document: str | None = None, code: str | None = None,
               coding: int | None = None, coder: str | None = None) -> list[dict[str, Any]]:
    """Memos, oldest first. A document or code filter also finds memos on codings in that document or of
    that code, since those are notes about it too. Filters combine."""
    query, on_coding = _memos_query()
    conditions: list[ColumnElement[bool]] = []
    if document is not None:
        doc_id = find_document(session, document).id
        conditions.append(or_(Memo.document_id == doc_id, on_coding.document_id == doc_id))
    if code is not None:
        code_id = find_code(session, code, for_coding=False).id
        conditions.append(or_(Memo.code_id == code_id, on_coding.code_id == code_id))
    if coding is not None:
        conditions.append(Memo.coding_id == _find_coding(session, coding).id)
    if coder is not None:
        conditions.append(Memo.coder_id == find_coder(session, coder).id)
    rows = session.execute(query.where(*conditions)).all()
    return [{"id": row.id, "target": _target_label(row), "title": row.title, "text": row.text,
             "coder": row.coder, "created_at": row.created_at} for row in rows]


def remove_memo(session: Session, memo_id: int, *, actor: str) -> dict[str, Any]:
    """Delete memo ``memo_id``; returns what it was (target and title) for the message."""
    query, _ = _memos_query()
    row = session.execute(query.where(Memo.id == memo_id)).first()
    if row is None:
        raise NotFoundError(f"no memo with id {memo_id}; see `gripcode memo list`")
    removed = {"id": row.id, "target": _target_label(row), "title": row.title, "coder": row.coder}
    memo = session.get(Memo, memo_id)
    session.delete(memo)
    session.flush()
    # The text goes into the log so a memo removed by mistake can be written again.
    record_event(session, actor, "memo.removed", "memo", memo_id, target=removed["target"], title=row.title,
                 coder=row.coder, text=row.text)
    return removed
