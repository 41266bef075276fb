"""Cross-case comparison: codes x groups (cases, document kinds, languages or a case attribute).

Measures, all aggregated in SQL:

- ``documents``: documents in the group with the code at least once;
- ``share``: that number over the group's documents (after the document filters);
- ``codings``: codings of the code in the group;
- ``coverage``: the share of the group's characters the code covers (overlapping codings of one code, by
  several coders for instance, count once: the union of their spans, computed with window functions);
- ``per10k``: codings per 10,000 words of the group's documents.

With ``rollup`` a parent code also counts the codings of all its descendants (a recursive query over the
code tree), so a theme can be compared as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from typing import TYPE_CHECKING

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gripcode.analysis.filters import (
    Filters,
    check_names,
    codes_in_scope,
    coding_conditions,
    document_conditions,
    group_column,
    join_group,
    resolve_filters,
)
from gripcode.db.models import Code, Coding, Document
from gripcode.errors import AnalysisError
from gripcode.export.grid import Grid, grid_frame, label_text

if TYPE_CHECKING:
    import pandas as pd

MEASURES = ("documents", "share", "codings", "coverage", "per10k")
MEASURE_LABELS = {"documents": "documents coded", "share": "share of documents", "codings": "codings",
                  "coverage": "share of characters", "per10k": "codings per 10,000 words"}


def code_tree_map(session: Session, *, rollup: bool) -> Any:
    """A selectable (ancestor_id, code_id): every code maps to itself, and with ``rollup`` to every ancestor."""
    direct = select(Code.id.label("ancestor_id"), Code.id.label("code_id"))
    if not rollup:
        return direct.subquery("code_map")
    tree = direct.cte("tree", recursive=True)
    child = select(tree.c.ancestor_id, Code.id).join(Code, Code.parent_id == tree.c.code_id)
    return tree.union_all(child)


def denominators_query(session: Session, filters: Filters, by: str) -> Any:
    """Documents, characters and words per group (after the document filters)."""
    group, target = group_column(session, by)
    query = join_group(select(group.label("grp"), func.count(Document.id).label("n_docs"),
                              func.coalesce(func.sum(func.length(Document.text)), 0).label("chars"),
                              func.coalesce(func.sum(Document.word_count), 0).label("words"))
                       .select_from(Document), by, target)
    return query.where(document_conditions(filters)).group_by(group)


def _denominators(session: Session, filters: Filters, by: str) -> pd.DataFrame:
    import pandas as pd

    rows = session.execute(denominators_query(session, filters, by)).all()
    frame = pd.DataFrame(rows, columns=["grp", "n_docs", "chars", "words"]).set_index("grp")
    return frame.astype("int64")


def _coding_rows(filters: Filters, *columns: Any) -> Any:
    """SELECT ``columns`` FROM codings with the filters; documents are joined only when a filter needs them."""
    query = select(*columns).select_from(Coding)
    if filters.restricts_documents:
        query = query.join(Document, Document.id == Coding.document_id)
    return query.where(coding_conditions(filters, with_codes=False))


def counts_query(session: Session, filters: Filters, by: str, *, rollup: bool = False) -> Any:
    """The GROUP BY behind documents, share, codings and per10k: one row per (code, group).

    Codings are first counted per (code, document), which an index on (status, code, document) answers
    without reading the table, and only those counts are joined to documents, groups and the code tree."""
    group, target = group_column(session, by)
    code_map = code_tree_map(session, rollup=rollup)
    per_document = _coding_rows(filters, Coding.code_id, Coding.document_id, func.count().label("n")) \
        .group_by(Coding.code_id, Coding.document_id).subquery("per_document")
    query = (select(code_map.c.ancestor_id.label("code_id"), group.label("grp"),
                    func.count(func.distinct(per_document.c.document_id)).label("documents"),
                    func.sum(per_document.c.n).label("codings"))
             .select_from(per_document)
             .join(code_map, code_map.c.code_id == per_document.c.code_id)
             .join(Document, Document.id == per_document.c.document_id))
    query = join_group(query, by, target)
    if filters.codes:
        query = query.where(code_map.c.ancestor_id.in_(select(Code.id).where(Code.slug.in_(filters.codes))))
    return query.group_by(code_map.c.ancestor_id, group)


def coverage_query(session: Session, filters: Filters, by: str, *, rollup: bool = False) -> Any:
    """Characters covered per (code, group), overlapping spans of one code counted once.

    In a document, with a code's spans ordered by start, each span adds what reaches beyond the furthest end
    of the spans before it: ``max(0, end - max(start, previous furthest end))``. Every span before it starts
    no later, so whatever they cover past this start is one stretch up to that furthest end; one window
    function over an index in (status, document, code, start, end) order gives the union."""
    group, target = group_column(session, by)
    if rollup:
        code_map = code_tree_map(session, rollup=rollup)
        code_id = code_map.c.ancestor_id
        spans = _coding_rows(filters, Coding.document_id, code_id.label("code_id"), Coding.start,
                             Coding.end).join(code_map, code_map.c.code_id == Coding.code_id)
    else:  # each coding counts for its own code: the index order needs no join
        code_id = Coding.code_id
        spans = _coding_rows(filters, Coding.document_id, Coding.code_id, Coding.start, Coding.end)
    if filters.codes:
        spans = spans.where(code_id.in_(select(Code.id).where(Code.slug.in_(filters.codes))))
    spans = spans.subquery("spans")
    furthest = func.max(spans.c.end).over(partition_by=(spans.c.document_id, spans.c.code_id),
                                          order_by=(spans.c.start, spans.c.end), rows=(None, -1))
    marked = select(spans, furthest.label("prev_end")).subquery("marked")
    added = case((marked.c.prev_end.is_(None) | (marked.c.prev_end <= marked.c.start), marked.c.end - marked.c.start),
                 (marked.c.prev_end < marked.c.end, marked.c.end - marked.c.prev_end), else_=0)
    # Summed per (document, code) first, so only those sums, not every span, are joined to their group.
    per_document = (select(marked.c.document_id, marked.c.code_id, func.sum(added).label("covered"))
                    .group_by(marked.c.document_id, marked.c.code_id).subquery("per_document"))
    query = (select(per_document.c.code_id, group.label("grp"), func.sum(per_document.c.covered).label("covered"))
             .select_from(per_document).join(Document, Document.id == per_document.c.document_id))
    return join_group(query, by, target).group_by(per_document.c.code_id, group)


def compare_grid(session: Session, filters: Filters | None = None, *, by: str = "case",
                 measures: Sequence[str] = MEASURES, rollup: bool = False, **criteria: Any) -> Grid:
    """What :func:`compare_cases` returns, as a :class:`Grid` of plain values built straight from the query rows
    (the command line renders it without loading pandas). Missing values (a share of a group without
    characters or words) are None."""
    filters = resolve_filters(filters, criteria)
    check_names(session, filters)
    measures = list(measures)
    unknown = [m for m in measures if m not in MEASURES]
    if unknown or not measures:
        raise AnalysisError(f"unknown measure(s) {', '.join(unknown) or '(none given)'}; use {', '.join(MEASURES)}")
    # PostgreSQL sums are Decimals: made plain numbers here.
    sizes = {grp: (int(n_docs), int(chars), int(words))
             for grp, n_docs, chars, words in session.execute(denominators_query(session, filters, by)).tuples()}
    codes = codes_in_scope(session, filters)
    groups = sorted(sizes, key=str)
    documents: dict[tuple[int, Any], int] = {}
    codings: dict[tuple[int, Any], int] = {}
    covered: dict[tuple[int, Any], float] = {}
    if {"documents", "share", "codings", "per10k"} & set(measures):
        for code_id, grp, n_documents, n_codings in session.execute(
                counts_query(session, filters, by, rollup=rollup)).tuples():
            documents[(code_id, grp)], codings[(code_id, grp)] = int(n_documents), int(n_codings)
    if "coverage" in measures:
        for code_id, grp, characters in session.execute(coverage_query(session, filters, by, rollup=rollup)).tuples():
            covered[(code_id, grp)] = float(characters)

    def ratio(count: float, total: int, scale: int = 1) -> float | None:
        return None if total == 0 else count / total * scale

    def value(code_id: int, grp: Any, measure: str) -> int | float | None:
        key = (code_id, grp)
        n_docs, chars, words = sizes[grp]
        if measure == "documents":
            return documents.get(key, 0)
        if measure == "codings":
            return codings.get(key, 0)
        if measure == "share":
            return ratio(float(documents.get(key, 0)), n_docs)
        if measure == "coverage":
            return ratio(covered.get(key, 0.0), chars)
        return ratio(float(codings.get(key, 0)), words, 10_000)

    columns = [(grp, measure) for grp in groups for measure in measures]
    single = len(measures) == 1
    return Grid(index_names=["code"], column_names=[by] if single else [by, "measure"],
                column_keys=[(label_text(grp),) if single else (label_text(grp), measure) for grp, measure in columns],
                row_keys=[(slug,) for _, slug in codes],
                values=[[value(code_id, grp, measure) for grp, measure in columns] for code_id, _ in codes],
                numeric=[True] * len(columns))


def compare_cases(session: Session, filters: Filters | None = None, *, by: str = "case",
                  measures: Sequence[str] = MEASURES, rollup: bool = False, **criteria: Any) -> pd.DataFrame:
    """Codes (rows, in codebook order) x groups; with several measures the columns are (group, measure)."""
    measures = list(measures)
    grid = compare_grid(session, filters, by=by, measures=measures, rollup=rollup, **criteria)
    frame = grid_frame(grid)
    # Counts are whole numbers, the rest floats with NaN where missing, also in a column without rows. A column's
    # measure is its second label, or the one measure asked for (its only label is the group, whatever its name).
    keys = grid.column_keys
    measure_of = [key[1] for key in keys] if len(measures) > 1 else [measures[0]] * len(keys)
    dtypes = ["int64" if measure in ("documents", "codings") else "float64" for measure in measure_of]
    return frame.astype(dict(zip(frame.columns, dtypes, strict=True))) if dtypes else frame


def group_sizes(session: Session, filters: Filters | None = None, *, by: str = "case") -> pd.DataFrame:
    """Documents, characters and words per group: the denominators of the shares."""
    return _denominators(session, filters or Filters(), by)
