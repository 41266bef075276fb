"""Which units (paragraphs, sentences, turns) the codings touch: the question agreement and co-occurrence by
unit both ask.

A join of units with codings on overlapping offsets makes the database compare every unit of a document with
every coding of it. Here both are read in text order, a batch of documents at a time, and each coding finds its
first unit by bisection and walks on while units start before it ends: the work grows with the units, the
codings and the pairs found, and memory with one batch.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from gripcode.db.bulk import fetch_rows
from gripcode.db.models import Coding, Document, Unit

# Documents whose units and codings are read at once.
DOCUMENTS_PER_BATCH = 500


def marked_units(session: Session, unit: str, documents: Sequence[int], conditions: ColumnElement[bool],
                 *payload: Any) -> Iterator[tuple[Any, ...]]:
    """``(unit id, *payload)`` for every unit of kind ``unit`` in ``documents`` that a coding meeting
    ``conditions`` overlaps (``start < unit.end and end > unit.start``), once per coding and unit; ``payload``
    are columns of the coding (``Coding.code_id``, ``Coding.coder_id``)."""
    ordered = sorted(documents)
    for first in range(0, len(ordered), DOCUMENTS_PER_BATCH):
        batch = ordered[first:first + DOCUMENTS_PER_BATCH]
        connection = session.connection()
        units = fetch_rows(connection, select(Unit.document_id, Unit.start, Unit.end, Unit.id)
                           .where(Unit.kind == unit, Unit.document_id.in_(batch))
                           .order_by(Unit.document_id, Unit.start, Unit.id))
        codings = fetch_rows(connection, select(Coding.document_id, Coding.start, Coding.end, *payload)
                             .join(Document, Document.id == Coding.document_id)  # ``conditions`` may use them
                             .where(conditions, Coding.document_id.in_(batch))
                             .order_by(Coding.document_id, Coding.start))
        by_document = {doc: list(rows) for doc, rows in itertools.groupby(units, key=lambda row: row[0])}
        for doc, rows in itertools.groupby(codings, key=lambda row: row[0]):
            spans = by_document.get(doc)
            if spans:
                yield from _overlaps(spans, rows)


def _overlaps(units: list[Any], codings: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
    starts = [row[1] for row in units]
    # the furthest end so far: units of one kind rarely overlap, but where they do none is missed
    reach = list(itertools.accumulate((row[2] for row in units), max))
    for coding in codings:
        start, end = coding[1], coding[2]
        index = bisect.bisect_right(reach, start)
        while index < len(units) and starts[index] < end:
            if units[index][2] > start:
                yield (units[index][3], *coding[3:])
            index += 1
