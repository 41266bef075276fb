"""Taking back a removal: a removed coding, and the memos written on it, stored again.

The workbench copies a coding before it removes it; undoing the removal writes the copy back under its old
number (or a new one, where SQLite has given the old number to another coding since) with its coder, origin,
status, review, timestamps and memos, after the same checks a new coding passes: its code must still be active (a sync
may have merged or retired it meanwhile) and no coding of the same code, coder and span may have taken its
place. The audit log records ``coding.restored`` with the number it had.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.coding.coders import find_coder
from gripcode.coding.service import find_code, get_coding
from gripcode.db.audit import record_event
from gripcode.db.models import Coder, Coding, Memo
from gripcode.db.tombstones import clear_tombstones
from gripcode.errors import CodingError

# The columns a restored coding takes over as they were (ids of code and coders are looked up by name again).
_KEPT = ("document_id", "start", "end", "quote", "origin", "status", "confidence", "rule_ref", "model_ref",
         "codebook_version_id", "memo", "refi_guid", "reviewed_at", "created_at")


@dataclass(frozen=True)
class MemoCopy:
    title: str | None
    text: str
    coder: str
    created_at: dt.datetime
    refi_guid: str | None


@dataclass(frozen=True)
class CodingCopy:
    """Everything needed to store a removed coding again."""

    coding_id: int
    code: str
    coder: str
    reviewed_by: str | None
    values: dict[str, Any]
    memos: tuple[MemoCopy, ...]


def copy_coding(session: Session, coding_id: int) -> CodingCopy:
    """A copy of coding ``coding_id`` and the memos written on it, taken before it is removed."""
    coding = get_coding(session, coding_id)
    memos = session.execute(select(Memo, Coder.name).join(Memo.coder).where(Memo.coding_id == coding_id)
                            .order_by(Memo.id)).tuples().all()
    return CodingCopy(
        coding_id=coding.id, code=coding.code.slug, coder=coding.coder.name,
        reviewed_by=coding.reviewed_by.name if coding.reviewed_by else None,
        values={name: getattr(coding, name) for name in _KEPT},
        memos=tuple(MemoCopy(m.title, m.text, name, m.created_at, m.refi_guid) for m, name in memos))


def restore_coding(session: Session, copy: CodingCopy, *, actor: str) -> Coding:
    """Store the removed coding ``copy`` again (under its old number if that is free); returns it."""
    code = find_code(session, copy.code)
    coder = find_coder(session, copy.coder)
    values = copy.values
    clash = session.scalar(select(Coding.id).where(
        Coding.document_id == values["document_id"], Coding.code_id == code.id, Coding.coder_id == coder.id,
        Coding.start == values["start"], Coding.end == values["end"]))
    if clash is not None:
        raise CodingError(f"coding {clash} already has that code, coder and span; nothing was restored")
    reviewer = find_coder(session, copy.reviewed_by).id if copy.reviewed_by else None
    number = copy.coding_id if session.get(Coding, copy.coding_id) is None else None
    coding = Coding(id=number, code=code, coder=coder, reviewed_by_id=reviewer, **values)
    session.add(coding)
    session.flush()
    for memo in copy.memos:
        session.add(Memo(target="coding", coding_id=coding.id, coder=find_coder(session, memo.coder),
                         title=memo.title, text=memo.text, created_at=memo.created_at, refi_guid=memo.refi_guid))
    session.flush()
    # Stored again under its GUID: no longer removed, for a merge (the removed version joins its history).
    clear_tombstones(session.connection(), "coding", [(coding.refi_guid, coding.version)])
    clear_tombstones(session.connection(), "memo", [(memo.refi_guid, None) for memo in copy.memos])
    record_event(session, actor, "coding.restored", "coding", coding.id, restored_from=copy.coding_id,
                 document=coding.document_id, code=code.slug, coder=coder.name, start=coding.start, end=coding.end,
                 memos=len(copy.memos))
    return coding
