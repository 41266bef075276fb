"""Retrieval: the coded segments themselves, with their context, for reading and quoting."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gripcode.analysis.compare import code_tree_map
from gripcode.analysis.filters import Filters, check_names, coding_conditions, resolve_filters
from gripcode.db.models import Case, Code, Coder, Coding, Document
from gripcode.errors import AnalysisError

COLUMNS = ["coding_id", "doc_id", "document", "case", "kind", "language", "date", "code", "code_name", "coder", "status",
           "start", "end", "before", "quote", "after", "memo"]


def retrieve(session: Session, filters: Filters | None = None, *, context: int = 120, rollup: bool = False,
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
    frame = pd.DataFrame(session.execute(query).all(), columns=COLUMNS)
    return frame.set_index("coding_id")
