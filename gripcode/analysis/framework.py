"""The framework matrix: groups (cases) x codes, each cell the most representative quotes with their document
references, as in the framework method (Ritchie & Spencer). A quote is more representative the more coders
applied the code to that passage; ties go to quotes of a readable length, then text order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from gripcode.analysis.filters import (
    Filters,
    check_names,
    codes_in_scope,
    coding_conditions,
    group_column,
    join_group,
    resolve_filters,
)
from gripcode.db.models import Code, Coding, Document, status_among
from gripcode.errors import AnalysisError
from gripcode.export.grid import Grid, grid_frame

if TYPE_CHECKING:
    import pandas as pd

READABLE = 200  # characters: the quote length a matrix cell reads best at


def framework_matrix(session: Session, filters: Filters | None = None, *, by: str = "case", quotes: int = 2,
                     max_chars: int = 400, **criteria: Any) -> pd.DataFrame:
    """Groups (rows) x codes (columns); each cell holds up to ``quotes`` quotes, each followed by
    ``[document id: title]``, separated by blank lines. See :func:`framework_grid`."""
    return grid_frame(framework_grid(session, filters, by=by, quotes=quotes, max_chars=max_chars, **criteria))


def framework_grid(session: Session, filters: Filters | None = None, *, by: str = "case", quotes: int = 2,
                   max_chars: int = 400, **criteria: Any) -> Grid:
    """What :func:`framework_matrix` returns, as a :class:`Grid` of plain values (rendered without pandas)."""
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
    rows = session.execute(query).tuples().all()
    codes = [slug for _, slug in codes_in_scope(session, filters)]
    # Most representative first: chosen by more coders, then nearer a readable length, then in text order.
    rows.sort(key=lambda r: (r[0], r[1], -r[7], abs(len(r[6]) - READABLE), r[2], r[4]))
    cells: dict[tuple[str, str], list[str]] = {}
    taken: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for grp, code, doc_id, title, start, end, quote, _ in rows:
        key = (grp, code)
        chosen = taken.setdefault(key, [])
        if len(chosen) >= quotes or any(d == doc_id and s < end and e > start for d, s, e in chosen):
            continue  # the same passage coded by another coder is one quote, not two
        chosen.append((doc_id, start, end))
        text = " ".join(quote.split())
        text = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
        cells.setdefault(key, []).append(f"“{text}” [{doc_id}: {title}]")
    groups = sorted({g for g, _ in cells}, key=str)
    return Grid(index_names=[by], column_names=["code" if rows else ""], column_keys=[(code,) for code in codes],
                row_keys=[(g,) for g in groups],
                values=[[("\n\n".join(cells.get((g, c), [])) or "") for c in codes] for g in groups],
                numeric=[False] * len(codes))
