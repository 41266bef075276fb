"""Retrieval: the coded segments themselves, with their context, for reading and quoting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gripcode.analysis.compare import code_tree_map
from gripcode.analysis.filters import Filters, check_names, coding_conditions, resolve_filters
from gripcode.db.models import Case, Code, Coder, Coding, Document
from gripcode.errors import AnalysisError
from gripcode.export.grid import Grid

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["coding_id", "doc_id", "document", "case", "kind", "language", "date", "code", "code_name", "coder", "status",
           "start", "end", "before", "quote", "after", "memo"]


NUMERIC = {"doc_id", "start", "end"}
BRIEF = ["doc_id", "code", "coder", "quote"]  # what a terminal line per segment shows
BRIEF_QUOTE = 100  # characters of the quote on that line


def retrieve(session: Session, filters: Filters | None = None, *, context: int = 120, rollup: bool = False,
             limit: int | None = None, **criteria: Any) -> pd.DataFrame:
    """One row per coding (indexed by its id), in document and text order, with ``context`` characters before
    and after it. See :func:`retrieve_grid`."""
    import pandas as pd

    grid = retrieve_grid(session, filters, context=context, rollup=rollup, limit=limit, **criteria)
    frame = pd.DataFrame([[key[0], *row] for key, row in zip(grid.row_keys, grid.values, strict=True)],
                         columns=COLUMNS)
    return frame.set_index("coding_id")


def retrieve_grid(session: Session, filters: Filters | None = None, *, context: int = 120, rollup: bool = False,
                  limit: int | None = None, **criteria: Any) -> Grid:
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
    rows = session.execute(query).tuples().all()
    return Grid(index_names=["coding_id"], column_names=[""], column_keys=[(name,) for name in COLUMNS[1:]],
                row_keys=[(row[0],) for row in rows], values=[list(row[1:]) for row in rows],
                numeric=[bool(rows) and name in NUMERIC for name in COLUMNS[1:]])


def brief(grid: Grid) -> Grid:
    """A retrieval as a terminal shows it, a line per segment: document, code, coder and the quote's first
    characters on one line (the other formats carry every column)."""
    names = [key[0] for key in grid.column_keys]
    picked = [names.index(name) for name in BRIEF]
    quote = BRIEF.index("quote")
    values = [[row[j] for j in picked] for row in grid.values]
    for row in values:
        row[quote] = " ".join(row[quote].split())[:BRIEF_QUOTE]
    return Grid(index_names=grid.index_names, column_names=grid.column_names,
                column_keys=[grid.column_keys[j] for j in picked], row_keys=grid.row_keys, values=values,
                numeric=[grid.numeric[j] for j in picked])
