"""Where a coding goes when it is widened or narrowed to stored units (sentences, paragraphs, turns).

One rule for suggestions under review (`gripcode review`, w and n) and for any coding in the workbench: widening
takes the smallest run of units covering the coding; narrowing takes one whole unit inside it, preferring the
one at the reader's cursor, then the one holding the rule's term, then the first.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from gripcode.errors import CodingError
from gripcode.nlp.pipelines import UnitIndex
from gripcode.nlp.suggestions import load_unit_indexes


def unit_index(session: Session, doc_id: int, unit: str) -> UnitIndex:
    """The document's units of kind ``unit``; CodingError if it has none."""
    index = load_unit_indexes(session, [doc_id], [unit]).get((doc_id, unit))
    if index is None:
        raise CodingError(f"document {doc_id} has no {unit} units")
    return index


def reshaped_span(index: UnitIndex, text: str, start: int, end: int, unit: str, *, narrow: bool,
                  term: str | None = None, at: int | None = None, what: str = "coding") -> tuple[int, int]:
    """The span ``[start, end)`` takes widened to the ``unit``s covering it, or narrowed to one ``unit`` inside
    it (the one holding offset ``at``, else the one where ``term`` occurs, else the first). ``what`` names the
    coding in the messages (a suggestion under review, say)."""
    if narrow:
        inside = [(s, e) for s, e in index.spans if s >= start and e <= end]
        if not inside:
            raise CodingError(f"no whole {unit} lies inside this {what}; widen instead")
        at_cursor = [(s, e) for s, e in inside if at is not None and s <= at < e]
        holding = [(s, e) for s, e in inside if term and re.search(re.escape(term), text[s:e], re.IGNORECASE)]
        new = (at_cursor or holding or inside)[0]
    else:
        new = index.cover(start, end)
    if new == (start, end):
        raise CodingError(f"the {what} already is that {unit}")
    return new
