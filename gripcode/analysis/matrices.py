"""Co-occurrence and code-document matrices, aggregated in SQL (the framework matrix is in
:mod:`gripcode.analysis.framework`).

- :func:`cooccurrence`: codes x codes. ``by="overlap"`` counts pairs of codings of the two codes whose
  spans overlap in a document; ``by="unit"`` counts units (paragraphs, sentences, turns or documents) that
  carry both codes. The diagonal holds each code's own count (codings, or units with the code).
- :func:`code_document_matrix`: documents x codes, 1 where the document has the code: for QCA or R.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from gripcode.analysis.compare import code_tree_map
from gripcode.analysis.filters import (
    Filters,
    check_names,
    codes_in_scope,
    coding_conditions,
    document_conditions,
    resolve_filters,
)
from gripcode.coding.unit_marks import DOCUMENTS_PER_BATCH, marked_units
from gripcode.db.bulk import chunks, fetch_rows
from gripcode.db.models import Case, Coder, Coding, Document, status_among
from gripcode.errors import AnalysisError

COOCCURRENCE_MODES = ("overlap", "unit")
COOCCURRENCE_UNITS = ("paragraph", "sentence", "turn", "document")


def cooccurrence(session: Session, filters: Filters | None = None, *, by: str = "overlap",
                 unit: str = "paragraph", **criteria: Any) -> pd.DataFrame:
    filters = resolve_filters(filters, criteria)
    check_names(session, filters)
    if by not in COOCCURRENCE_MODES:
        raise AnalysisError(f"co-occurrence by {by!r}: use {' or '.join(COOCCURRENCE_MODES)}")
    codes = codes_in_scope(session, filters)
    ids = [i for i, _ in codes]
    if by == "overlap":
        counts = _overlap_counts(session, filters, ids)
    else:
        if unit not in COOCCURRENCE_UNITS:
            raise AnalysisError(f"unit {unit!r}: use {', '.join(COOCCURRENCE_UNITS)}")
        counts = _unit_counts(session, filters, unit, ids)
    slugs = [s for _, s in codes]
    return pd.DataFrame(counts, index=pd.Index(slugs, name="code"), columns=pd.Index(slugs, name="code"))


def _documents(session: Session, filters: Filters) -> list[int]:
    """The documents in scope, in id order: co-occurrence reads and counts ``DOCUMENTS_PER_BATCH`` of them at a
    time, so memory holds one batch's codings however many the project has (a pair of codings or a unit lies in
    one document)."""
    return list(session.scalars(select(Document.id).where(document_conditions(filters)).order_by(Document.id)))


def _overlap_counts(session: Session, filters: Filters, ids: list[int]) -> np.ndarray:
    """Codes x codes: pairs of codings of two different codes whose spans overlap (each pair once in each
    direction); the diagonal, each code's codings. One pass over the codings in text order per document keeps
    the codings still open, so the work grows with the codings and their overlaps, not their square."""
    position = {code_id: i for i, code_id in enumerate(ids)}
    counts = np.zeros((len(ids), len(ids)), dtype=np.int64)
    pairs: dict[tuple[int, int], int] = {}
    for batch in chunks(_documents(session, filters), DOCUMENTS_PER_BATCH):
        rows = fetch_rows(session.connection(), select(Coding.document_id, Coding.start, Coding.end, Coding.code_id)
                          .join(Document, Document.id == Coding.document_id)
                          .where(coding_conditions(filters), Coding.code_id.in_(ids), Coding.document_id.in_(batch))
                          .order_by(Coding.document_id, Coding.start))
        document, open_codings = None, []
        for doc_id, start, end, code_id in rows:
            code = position[code_id]
            counts[code, code] += 1
            if doc_id != document:
                document, open_codings = doc_id, []
            open_codings = [(other_end, other) for other_end, other in open_codings if other_end > start]
            for _, other in open_codings:
                if other != code:
                    pairs[(other, code)] = pairs.get((other, code), 0) + 1
            open_codings.append((end, code))
    for (first, second), n in pairs.items():
        counts[first, second] += n
        counts[second, first] += n
    return counts


def _unit_counts(session: Session, filters: Filters, unit: str, ids: list[int]) -> np.ndarray:
    """Codes x codes: units that carry both codes; the diagonal, units with the code. A batch's (unit, code)
    pairs make a sparse units x codes matrix M, and M'M counts them all at once; a unit lies in one document,
    so the counts of the batches add up."""
    from scipy import sparse

    counts = np.zeros((len(ids), len(ids)), dtype=np.int64)
    lookup = np.zeros(max(ids, default=0) + 1, dtype=np.int64)
    lookup[ids] = np.arange(len(ids))
    conditions = and_(coding_conditions(filters), Coding.code_id.in_(ids))
    for batch in chunks(_documents(session, filters), DOCUMENTS_PER_BATCH):
        if unit == "document":
            found = set(fetch_rows(session.connection(), select(Coding.document_id, Coding.code_id)
                                   .join(Document, Document.id == Coding.document_id)
                                   .where(conditions, Coding.document_id.in_(batch))))
        else:
            found = set(marked_units(session, unit, batch, conditions, Coding.code_id))
        if not found:
            continue
        pairs = np.array(list(found), dtype=np.int64).reshape(-1, 2)
        _, unit_index = np.unique(pairs[:, 0], return_inverse=True)
        marks = sparse.csr_matrix((np.ones(len(pairs), dtype=np.int64), (unit_index, lookup[pairs[:, 1]])),
                                  shape=(unit_index.max() + 1, len(ids)))
        counts += np.asarray((marks.T @ marks).todense(), dtype=np.int64)
    return counts


def _on(alias: Any, filters: Filters) -> Any:
    """``coding_conditions`` for an aliased codings table (the two sides of a co-occurrence pair)."""
    parts = [status_among(alias.status, filters.statuses), document_conditions(filters)]
    if filters.coders:
        parts.append(alias.coder_id.in_(select(Coder.id).where(Coder.name.in_(filters.coders))))
    return and_(*parts)


def code_document_matrix(session: Session, filters: Filters | None = None, *, rollup: bool = False,
                         **criteria: Any) -> pd.DataFrame:
    """Documents (rows: id, title, case, kind) x codes, 1 where the document has the code (0 otherwise)."""
    filters = resolve_filters(filters, criteria)
    check_names(session, filters)
    codes = codes_in_scope(session, filters)
    code_map = code_tree_map(session, rollup=rollup)
    present = (select(Coding.document_id, code_map.c.ancestor_id).join(code_map, code_map.c.code_id == Coding.code_id)
               .join(Document, Document.id == Coding.document_id)
               .where(coding_conditions(filters, with_codes=False)).distinct())
    has = {(d, c) for d, c in session.execute(present).tuples()}
    docs = session.execute(select(Document.id, Document.title, Case.name, Document.kind)
                           .outerjoin(Case, Case.id == Document.case_id)
                           .where(document_conditions(filters)).order_by(Document.id)).all()
    index = pd.MultiIndex.from_tuples([(d, t, c or "", k) for d, t, c, k in docs],
                                      names=["doc_id", "title", "case", "kind"])
    return pd.DataFrame([[int((d, cid) in has) for cid, _ in codes] for d, *_ in docs],
                        index=index, columns=pd.Index([s for _, s in codes], name="code"))
