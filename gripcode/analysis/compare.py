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

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gripcode.analysis.filters import (
    Filters,
    check_names,
    coding_conditions,
    document_conditions,
    group_column,
    join_group,
    resolve_filters,
)
from gripcode.db.models import Code, Coding, Document
from gripcode.errors import AnalysisError

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
    rows = session.execute(denominators_query(session, filters, by)).all()
    frame = pd.DataFrame(rows, columns=["grp", "n_docs", "chars", "words"]).set_index("grp")
    return frame.astype("int64")


def _codes_in_scope(session: Session, filters: Filters) -> list[tuple[int, str]]:
    query = select(Code.id, Code.slug).where(Code.status == "active").order_by(Code.position, Code.id)
    if filters.codes:
        query = select(Code.id, Code.slug).where(Code.slug.in_(filters.codes)).order_by(Code.position, Code.id)
    return [tuple(row) for row in session.execute(query).tuples()]  # type: ignore[misc]


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
    code_map = code_tree_map(session, rollup=rollup)
    spans = _coding_rows(filters, Coding.document_id, code_map.c.ancestor_id.label("code_id"), Coding.start,
                         Coding.end).join(code_map, code_map.c.code_id == Coding.code_id)
    if filters.codes:
        spans = spans.where(code_map.c.ancestor_id.in_(select(Code.id).where(Code.slug.in_(filters.codes))))
    spans = spans.subquery("spans")
    furthest = func.max(spans.c.end).over(partition_by=(spans.c.document_id, spans.c.code_id),
                                          order_by=(spans.c.start, spans.c.end), rows=(None, -1))
    marked = select(spans, furthest.label("prev_end")).subquery("marked")
    added = case((marked.c.prev_end.is_(None) | (marked.c.prev_end <= marked.c.start), marked.c.end - marked.c.start),
                 (marked.c.prev_end < marked.c.end, marked.c.end - marked.c.prev_end), else_=0)
    query = (select(marked.c.code_id, group.label("grp"), func.sum(added).label("covered"))
             .select_from(marked).join(Document, Document.id == marked.c.document_id))
    return join_group(query, by, target).group_by(marked.c.code_id, group)


def compare_cases(session: Session, filters: Filters | None = None, *, by: str = "case",
                  measures: Sequence[str] = ("documents", "share", "codings", "coverage", "per10k"),
                  rollup: bool = False, **criteria: Any) -> pd.DataFrame:
    """Codes (rows, in codebook order) x groups; with several measures the columns are (group, measure)."""
    filters = resolve_filters(filters, criteria)
    check_names(session, filters)
    unknown = [m for m in measures if m not in MEASURES]
    if unknown or not measures:
        raise AnalysisError(f"unknown measure(s) {', '.join(unknown) or '(none given)'}; use {', '.join(MEASURES)}")
    denominators = _denominators(session, filters, by)
    codes = _codes_in_scope(session, filters)
    slug = dict(codes)
    groups = sorted(denominators.index, key=str)
    frames: dict[str, pd.DataFrame] = {}
    if {"documents", "share", "codings", "per10k"} & set(measures):
        counts = pd.DataFrame(session.execute(counts_query(session, filters, by, rollup=rollup)).all(),
                              columns=["code_id", "grp", "documents", "codings"])
        for measure in ("documents", "codings"):  # PostgreSQL sums are Decimals: make them plain numbers
            frames[measure] = counts.astype({measure: "int64"}).pivot(index="code_id", columns="grp", values=measure)
    if "coverage" in measures:
        covered = pd.DataFrame(session.execute(coverage_query(session, filters, by, rollup=rollup)).all(),
                               columns=["code_id", "grp", "covered"])
        frames["covered"] = covered.astype({"covered": "float64"}).pivot(index="code_id", columns="grp",
                                                                          values="covered")
    index = pd.Index([code_id for code_id, _ in codes], name="code_id")

    def shaped(name: str) -> pd.DataFrame:
        frame = frames.get(name, pd.DataFrame())
        return frame.reindex(index=index, columns=groups).fillna(0).astype(float)

    out = {}
    for measure in measures:
        if measure == "documents":
            out[measure] = shaped("documents").astype(int)
        elif measure == "codings":
            out[measure] = shaped("codings").astype(int)
        elif measure == "share":
            out[measure] = shaped("documents").div(denominators["n_docs"].reindex(groups).replace(0, float("nan")), axis=1)
        elif measure == "coverage":
            out[measure] = shaped("covered").div(denominators["chars"].reindex(groups).replace(0, float("nan")), axis=1)
        else:
            out[measure] = shaped("codings").div(denominators["words"].reindex(groups).replace(0, float("nan")), axis=1) * 10_000
    if len(measures) == 1:
        table = out[measures[0]]
    else:
        table = pd.concat(out, axis=1).swaplevel(0, 1, axis=1)
        table = table.reindex(columns=pd.MultiIndex.from_product([groups, list(measures)]))
        table.columns.names = [by, "measure"]
    table.index = pd.Index([slug[i] for i in table.index], name="code")
    if len(measures) == 1:
        table.columns.name = by
    return table


def group_sizes(session: Session, filters: Filters | None = None, *, by: str = "case") -> pd.DataFrame:
    """Documents, characters and words per group: the denominators of the shares."""
    return _denominators(session, filters or Filters(), by)
