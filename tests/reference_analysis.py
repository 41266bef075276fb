"""The pandas implementations of compare, retrieve and the framework matrix as they were before the tables were
built from plain rows: the reference the faster paths must reproduce exactly (tests/test_analysis_paths.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from gripcode.analysis.filters import (
    Filters,
    check_names,
    coding_conditions,
    document_conditions,
    group_column,
    join_group,
    resolve_filters,
)
from gripcode.db.models import Case, Code, Coder, Coding, Document, status_among
from gripcode.errors import AnalysisError

MEASURES = ("documents", "share", "codings", "coverage", "per10k")
READABLE = 200
RETRIEVE_COLUMNS = ["coding_id", "doc_id", "document", "case", "kind", "language", "date", "code", "code_name",
                    "coder", "status", "start", "end", "before", "quote", "after", "memo"]


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


def old_compare_cases(session: Session, filters: Filters | None = None, *, by: str = "case",
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


def old_retrieve(session: Session, filters: Filters | None = None, *, context: int = 120, rollup: bool = False,
             limit: int | None = None, **criteria: Any) -> pd.DataFrame:
    """One row per coding, in document and text order, with ``context`` characters before and after it
    (cut in SQL, so long documents are never loaded whole). With ``rollup`` a code also retrieves its
    descendants' codings."""
    filters = resolve_filters(filters, criteria)
    check_names(session, filters)
    if context < 0:
        raise AnalysisError("context must be zero or more characters")
    code_map = code_tree_map(session, rollup=rollup)
    before_start = case((Coding.start > context, Coding.start - context), else_=0)
    query = (select(Coding.id, Document.id, Document.title, Case.name, Document.kind, Document.language,
                    Document.date, Code.slug, Code.name, Coder.name, Coding.status, Coding.start, Coding.end,
                    func.substr(Document.text, before_start + 1, Coding.start - before_start), Coding.quote,
                    func.substr(Document.text, Coding.end + 1, context), Coding.memo)
             .select_from(Coding).join(Document, Document.id == Coding.document_id)
             .outerjoin(Case, Case.id == Document.case_id).join(Coder, Coder.id == Coding.coder_id)
             .where(coding_conditions(filters, with_codes=False)))
    if filters.codes:
        wanted = select(code_map.c.code_id).join(Code, Code.id == code_map.c.ancestor_id).where(
            Code.slug.in_(filters.codes))
        query = query.where(Coding.code_id.in_(wanted))
    query = query.join(Code, Code.id == Coding.code_id).order_by(Document.id, Coding.start, Coding.end, Code.position,
                                                                  Coder.name)
    if limit is not None:
        query = query.limit(limit)
    frame = pd.DataFrame(session.execute(query).all(), columns=RETRIEVE_COLUMNS)
    return frame.set_index("coding_id")


def _active_codes(session: Session, filters: Filters) -> list[tuple[int, str]]:
    query = select(Code.id, Code.slug).order_by(Code.position, Code.id)
    query = query.where(Code.slug.in_(filters.codes)) if filters.codes else query.where(Code.status == "active")
    return [tuple(r) for r in session.execute(query).tuples()]  # type: ignore[misc]


def old_framework_matrix(session: Session, filters: Filters | None = None, *, by: str = "case", quotes: int = 2,
                     max_chars: int = 400, **criteria: Any) -> pd.DataFrame:
    """Groups (rows) x codes (columns); each cell holds up to ``quotes`` quotes, each followed by
    ``[document id: title]``, separated by blank lines."""
    filters = resolve_filters(filters, criteria)
    check_names(session, filters)
    if quotes < 1:
        raise AnalysisError("a framework matrix needs at least one quote per cell")
    group, target = group_column(session, by)
    other = aliased(Coding)
    coders = (select(func.count(func.distinct(other.coder_id)))
              .where(other.document_id == Coding.document_id, other.code_id == Coding.code_id,
                     other.start < Coding.end, other.end > Coding.start, status_among(other.status, filters.statuses))
              .scalar_subquery())
    query = (select(group.label("grp"), Code.slug, Coding.document_id, Document.title, Coding.start, Coding.end,
                    Coding.quote, coders.label("coders"))
             .select_from(Coding).join(Code, Code.id == Coding.code_id).join(Document, Document.id == Coding.document_id))
    query = join_group(query, by, target).where(coding_conditions(filters))
    rows = pd.DataFrame(session.execute(query).all(),
                        columns=["grp", "code", "doc_id", "title", "start", "end", "quote", "coders"])
    codes = [slug for _, slug in _active_codes(session, filters)]
    if rows.empty:
        return pd.DataFrame(index=pd.Index([], name=by), columns=codes)
    rows["distance"] = (rows["quote"].str.len() - READABLE).abs()
    rows = rows.sort_values(["grp", "code", "coders", "distance", "doc_id", "start"],
                            ascending=[True, True, False, True, True, True])
    cells: dict[tuple[str, str], list[str]] = {}
    taken: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for grp, code, doc_id, title, start, end, quote in rows[["grp", "code", "doc_id", "title", "start", "end",
                                                             "quote"]].itertuples(index=False):
        key = (grp, code)
        chosen = taken.setdefault(key, [])
        if len(chosen) >= quotes or any(d == doc_id and s < end and e > start for d, s, e in chosen):
            continue  # the same passage coded by another coder is one quote, not two
        chosen.append((doc_id, start, end))
        text = " ".join(quote.split())
        text = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
        cells.setdefault(key, []).append(f"“{text}” [{doc_id}: {title}]")
    groups = sorted({g for g, _ in cells}, key=str)
    table = pd.DataFrame([[("\n\n".join(cells.get((g, c), [])) or "") for c in codes] for g in groups],
                         index=pd.Index(groups, name=by), columns=pd.Index(codes, name="code"))
    return table
