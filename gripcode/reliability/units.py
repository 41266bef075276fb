"""The unit tables agreement is computed on, read from the project in SQL.

A unit is a stored sentence, paragraph or speaker turn, a whole document, or (for unitized alpha) the
character. A coder *applied* a code to a unit when at least one of the coder's counted codings (status
accepted: manual ones, and suggestions a person accepted) of that code overlaps the unit by one character
or more. Only documents that every named coder worked on (made at least one counted coding in) take part.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from gripcode.coding.coders import find_coder
from gripcode.coding.service import find_code
from gripcode.coding.unit_marks import DOCUMENTS_PER_BATCH, marked_units
from gripcode.corpus.documents import document_ids
from gripcode.db.bulk import fetch_rows
from gripcode.db.models import COUNTED_STATUS as COUNTED
from gripcode.db.models import Code, Coding, Document, Unit
from gripcode.errors import AnalysisError

UNIT_CHOICES = ("sentence", "paragraph", "turn", "document", "character")


@dataclass
class Selection:
    coders: list[str]
    coder_ids: list[int]
    unit: str
    documents: list[int]  # the documents every coder worked on, in the filters
    left_out: dict[str, list[int]] = field(default_factory=dict)  # reason -> document ids
    code_ids: dict[int, str] = field(default_factory=dict)  # id -> slug, the codes compared


def select_documents(session: Session, coders: list[str], unit: str, *, codes: list[str] | None = None,
                     case: str | None = None, kind: str | None = None, doc: str | None = None,
                     among: Collection[int] | None = None) -> Selection:
    """The documents every coder worked on (within the filters, and within ``among`` if given: a round's)."""
    if unit not in UNIT_CHOICES:
        raise AnalysisError(f"unit {unit!r} is not one of {', '.join(UNIT_CHOICES)}")
    names = list(dict.fromkeys(c.strip() for c in coders if c.strip()))
    if len(names) < 2:
        raise AnalysisError("agreement needs at least two coders: --coders A,B")
    coder_ids = [find_coder(session, name).id for name in names]
    in_scope = document_ids(session, case=case, kind=kind, doc=doc)
    if among is not None:
        allowed = set(among)
        in_scope = [d for d in in_scope if d in allowed]
    worked = defaultdict(set)
    for doc_id, coder_id in session.execute(
            select(Coding.document_id, Coding.coder_id).where(Coding.status == COUNTED,
                                                              Coding.coder_id.in_(coder_ids)).distinct()).tuples():
        worked[doc_id].add(coder_id)
    selection = Selection(names, coder_ids, unit, [])
    for doc_id in in_scope:
        have = worked.get(doc_id, set())
        if len(have) == len(coder_ids):
            selection.documents.append(doc_id)
        elif not have:
            selection.left_out.setdefault("coded by none of them", []).append(doc_id)
        else:
            missing = ", ".join(n for n, i in zip(names, coder_ids) if i not in have)
            selection.left_out.setdefault(f"not coded by {missing}", []).append(doc_id)
    if unit == "turn" and selection.documents:
        with_turns = set(session.scalars(select(Unit.document_id).where(
            Unit.kind == "turn", Unit.document_id.in_(selection.documents)).distinct()))
        without = [d for d in selection.documents if d not in with_turns]
        if without:
            selection.left_out["no speaker turns"] = without
            selection.documents = [d for d in selection.documents if d in with_turns]
    if not selection.documents:
        raise AnalysisError(f"no document was coded by all of {', '.join(names)}"
                            + (" (with the filters given)" if (case or kind or doc) else ""))
    if codes:
        selection.code_ids = {find_code(session, c, for_coding=False).id: c for c in codes}
    else:  # every code any of the coders applied in these documents
        selection.code_ids = dict(session.execute(
            select(Code.id, Code.slug).where(Code.id.in_(
                select(Coding.code_id).where(Coding.status == COUNTED, Coding.coder_id.in_(coder_ids),
                                             Coding.document_id.in_(selection.documents))))
            .order_by(Code.position)).tuples().all())
    return selection


def _counted(selection: Selection, *, documents: bool = True):  # type: ignore[no-untyped-def]
    """The counted codings of the selection's coders and codes; ``documents=False`` leaves the documents to a
    query that names a batch of them (repeating an IN list of every document in each batch's query made the
    work grow with the square of the documents)."""
    conditions = [Coding.status == COUNTED, Coding.coder_id.in_(selection.coder_ids),
                  Coding.code_id.in_(list(selection.code_ids))]
    if documents:
        conditions.append(Coding.document_id.in_(selection.documents))
    return and_(*conditions)


def unit_presence(session: Session, selection: Selection) -> tuple[list[int], dict[tuple[int, int], set[int]]]:
    """All unit ids (in text order) and, for each (unit, code) someone applied, the set of coder ids."""
    if selection.unit == "document":
        units = list(selection.documents)
        rows = session.execute(select(Coding.document_id, Coding.code_id, Coding.coder_id)
                               .where(_counted(selection)).distinct()).tuples()
    else:
        units = list(session.scalars(select(Unit.id).where(
            Unit.kind == selection.unit, Unit.document_id.in_(selection.documents))
            .order_by(Unit.document_id, Unit.seq)))
        rows = marked_units(session, selection.unit, selection.documents, _counted(selection, documents=False),
                            Coding.code_id, Coding.coder_id)
    presence: dict[tuple[int, int], set[int]] = defaultdict(set)
    for unit_id, code_id, coder_id in rows:
        presence[(unit_id, code_id)].add(coder_id)
    return units, presence


def unit_patterns(session: Session, selection: Selection) -> tuple[int, dict[int, Counter[tuple[int, ...]]]]:
    """How many units there are, and for each code how many units carry each pattern of decisions (which of
    the coders, in the selection's order, applied the code), leaving out the units nobody coded. Read a batch
    of documents at a time, each (unit, code) noting its coders as bits of one number, so memory holds a
    batch; ``unit_presence`` gives the same decisions whole."""
    bit = {coder_id: 1 << i for i, coder_id in enumerate(selection.coder_ids)}
    pattern_of: dict[int, tuple[int, ...]] = {}
    patterns: dict[int, Counter[tuple[int, ...]]] = {code_id: Counter() for code_id in selection.code_ids}
    counted = _counted(selection, documents=False)
    units = 0
    for first in range(0, len(selection.documents), DOCUMENTS_PER_BATCH):
        batch = sorted(selection.documents[first:first + DOCUMENTS_PER_BATCH])
        rows: Iterable[tuple[Any, ...]]
        if selection.unit == "document":
            units += len(batch)
            rows = fetch_rows(session.connection(), select(Coding.document_id, Coding.code_id, Coding.coder_id)
                              .where(counted, Coding.document_id.in_(batch)).distinct())
        else:
            units += session.scalar(select(func.count(Unit.id)).where(
                Unit.kind == selection.unit, Unit.document_id.in_(batch))) or 0
            rows = marked_units(session, selection.unit, batch, counted, Coding.code_id, Coding.coder_id)
        presence: dict[tuple[int, int], int] = {}
        for unit_id, code_id, coder_id in rows:
            key = (unit_id, code_id)
            presence[key] = presence.get(key, 0) | bit[coder_id]
        for (_, code_id), mask in presence.items():
            pattern = pattern_of.get(mask)
            if pattern is None:
                pattern = pattern_of[mask] = tuple(int(bool(mask & bit[c])) for c in selection.coder_ids)
            patterns[code_id][pattern] += 1
    return units, patterns


Stretches = dict[int, dict[int, list[tuple[int, int]]]]  # code id -> coder id -> merged (start, end)


def character_batches(session: Session, selection: Selection) -> tuple[int, Iterator[tuple[int, Stretches]]]:
    """The documents laid end to end as one continuum: its length, and its pieces a batch of documents at a
    time, in order. A piece is where it ends and, per code and coder, the merged stretches they coded in the
    batch's documents (a coder's overlapping codings of one code count once), in offsets of the continuum.
    A stretch that runs to the end of a batch and one that starts the next are not joined here (see
    ``character_segments``). The pieces are read from the database as they are asked for, so memory holds
    one batch."""
    lengths = dict(session.execute(select(Document.id, func.length(Document.text))
                                   .where(Document.id.in_(selection.documents))).tuples().all())
    offset, offsets = 0, {}
    for doc_id in selection.documents:
        offsets[doc_id] = offset
        offset += lengths[doc_id]
    counted = _counted(selection, documents=False)

    def pieces() -> Iterator[tuple[int, Stretches]]:
        for first in range(0, len(selection.documents), DOCUMENTS_PER_BATCH):
            batch = selection.documents[first:first + DOCUMENTS_PER_BATCH]
            raw: dict[int, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
            for doc_id, code_id, coder_id, start, end in fetch_rows(session.connection(), select(
                    Coding.document_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end)
                    .where(counted, Coding.document_id.in_(batch))):
                if end > lengths[doc_id]:  # the schema cannot forbid it; it would run into the next document
                    raise AnalysisError(f"a coding in document {doc_id} ends at {end}, past the document's end "
                                        f"({lengths[doc_id]} characters): run `gripcode check`")
                raw[code_id][coder_id].append((offsets[doc_id] + start, offsets[doc_id] + end))
            yield (offsets[batch[-1]] + lengths[batch[-1]],
                   {code_id: {coder_id: merge(spans) for coder_id, spans in by_coder.items()}
                    for code_id, by_coder in raw.items()})

    return offset, pieces()


def character_segments(session: Session, selection: Selection) -> tuple[int, Stretches]:
    """The continuum of ``character_batches`` whole: its length and, per code and coder, the merged stretches
    they coded in all its documents. Batch after batch: a later document's stretches lie after an earlier
    one's, so only a stretch that touches the batch before it can join that batch's last one. Holds every
    stretch of the project; agreement reads ``character_batches`` instead."""
    length, pieces = character_batches(session, selection)
    merged: dict[int, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for _, stretches in pieces:
        for code_id, by_coder in stretches.items():
            for coder_id, more in by_coder.items():
                so_far = merged[code_id][coder_id]
                if so_far and more[0][0] <= so_far[-1][1]:
                    so_far[-1] = (so_far[-1][0], max(so_far[-1][1], more[0][1]))
                    more = more[1:]
                so_far.extend(more)
    return length, {code: dict(by_coder) for code, by_coder in merged.items()}


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
