"""The workbench's undo stack: each step is the inverse of one action, carried out through the same library
functions as every other write (so it is one transaction with its own audit event):

- a coding applied is removed (``coding.removed``);
- a coding removed is stored again from the copy taken before (``coding.restored``, with a new number);
- a recode, a widening or narrowing, or a memo on a coding is edited back (``coding.edited``);
- a review decision (and a suggestion reshaped or given a memo) is restored as `gripcode review`'s undo does
  (``coding.review_undone``);
- a memo written is removed (``memo.removed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from gripcode.coding import review as rv
from gripcode.coding.memos import remove_memo
from gripcode.coding.service import edit_coding, remove_coding
from gripcode.coding.undo import CodingCopy, restore_coding


@dataclass
class Renumbering:
    """A coding stored again under a new number (its old one was taken meanwhile): the older undo steps that
    name the old number follow it."""

    moved: dict[int, int] = field(default_factory=dict)

    def __call__(self, coding_id: int) -> int:
        while coding_id in self.moved:
            coding_id = self.moved[coding_id]
        return coding_id


@dataclass
class UndoStep:
    """What an action did, in words (``label``), and how to take it back."""

    label: str

    def undo(self, session: Session, actor: str, ids: Renumbering) -> int | None:
        """Take the action back; returns the coding to put the cursor on, if any."""
        raise NotImplementedError


@dataclass
class RemoveApplied(UndoStep):
    coding_ids: tuple[int, ...] = ()

    def undo(self, session: Session, actor: str, ids: Renumbering) -> int | None:
        for coding_id in self.coding_ids:
            remove_coding(session, ids(coding_id), actor=actor)
        return None


@dataclass
class RestoreRemoved(UndoStep):
    copy: CodingCopy | None = None

    def undo(self, session: Session, actor: str, ids: Renumbering) -> int | None:
        assert self.copy is not None
        restored = restore_coding(session, self.copy, actor=actor)
        if restored.id != self.copy.coding_id:
            ids.moved[self.copy.coding_id] = restored.id
        return restored.id


@dataclass
class EditBack(UndoStep):
    coding_id: int = 0
    code: str | None = None
    span: tuple[int, int] | None = None
    memo: str | None = None

    def undo(self, session: Session, actor: str, ids: Renumbering) -> int | None:
        coding_id = ids(self.coding_id)
        edit_coding(session, coding_id, actor=actor, code=self.code,
                    span=f"{self.span[0]}:{self.span[1]}" if self.span else None, memo=self.memo)
        return coding_id


@dataclass
class ReviewBack(UndoStep):
    snapshot: rv.Snapshot | None = None

    def undo(self, session: Session, actor: str, ids: Renumbering) -> int | None:
        assert self.snapshot is not None
        coding_id = ids(self.snapshot.coding_id)
        rv.restore(session, rv.Snapshot(coding_id, self.snapshot.values), actor=actor)
        return coding_id


@dataclass
class RemoveMemo(UndoStep):
    memo_id: int = 0

    def undo(self, session: Session, actor: str, ids: Renumbering) -> int | None:
        remove_memo(session, self.memo_id, actor=actor)
        return None
