"""Widening or narrowing any coding to the sentence, paragraph or turn around it (the workbench's w and n).

A suggestion waiting for review is reshaped as `gripcode review` does it (it stays open for a decision); any
other coding moves through :func:`~gripcode.coding.service.edit_coding`, so it keeps its code, coder and memo,
its quote follows the new span, and the audit log records a ``coding.edited`` event.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gripcode.coding import review
from gripcode.coding.service import edit_coding, get_coding
from gripcode.coding.units import reshaped_span, unit_index
from gripcode.db.models import UNIT_KINDS, Coding
from gripcode.errors import CodingError


def reshape_coding(session: Session, coding_id: int, unit: str, *, narrow: bool, actor: str,
                   at: int | None = None) -> tuple[Coding, tuple[int, int]]:
    """Widen coding ``coding_id`` to the ``unit``s covering it, or narrow it to the one inside it that holds
    offset ``at`` (the first otherwise). Returns the coding and its span before."""
    if unit not in UNIT_KINDS:
        raise CodingError(f"unit {unit!r} is not one of {', '.join(UNIT_KINDS)}")
    coding = get_coding(session, coding_id)
    before = (coding.start, coding.end)
    if coding.status == "suggested" and coding.origin in review.MACHINE_ORIGINS:
        return review.reshape(session, coding_id, unit, narrow=narrow, reviewer=actor, at=at), before
    index = unit_index(session, coding.document_id, unit)
    start, end = reshaped_span(index, coding.document.text, coding.start, coding.end, unit, narrow=narrow, at=at)
    edited, _ = edit_coding(session, coding_id, actor=actor, span=f"{start}:{end}")
    return edited, before
