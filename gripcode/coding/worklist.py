"""The documents a coder works through: each with its words and how many codings the coder (and everyone) made
in it, filtered by case, kind, language and whether the coder has coded it yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gripcode.db.models import COUNTED_STATUS, Case, Coder, Coding, Document


def document_filters(session: Session) -> dict[str, list[str]]:
    """The values the filters can take: the project's cases, document kinds and languages."""
    return {
        "case": list(session.scalars(select(Case.name).order_by(Case.name))),
        "kind": list(session.scalars(select(Document.kind).distinct().order_by(Document.kind))),
        "language": list(session.scalars(select(Document.language).distinct().order_by(Document.language))),
    }


def coder_documents(session: Session, coder: str, *, case: str | None = None, kind: str | None = None,
                    language: str | None = None, coded_by_me: bool | None = None,
                    others: bool = True) -> list[dict[str, Any]]:
    """Documents in id order with ``words``, ``mine`` (the codings by ``coder`` that count) and, unless ``others``
    is False (a blind round), ``codings`` (by everyone). ``coded_by_me`` keeps the documents ``coder`` has coded
    (True) or has not (False)."""
    mine = (select(Coding.document_id, func.count().label("n")).join(Coder, Coding.coder_id == Coder.id)
            .where(Coder.name == coder, Coding.status == COUNTED_STATUS).group_by(Coding.document_id).subquery())
    columns = [Document.id, Document.title, Case.name.label("case"), Document.kind, Document.language,
               Document.word_count.label("words"), func.coalesce(mine.c.n, 0).label("mine")]
    query = select(*columns).outerjoin(Case, Document.case_id == Case.id).outerjoin(
        mine, mine.c.document_id == Document.id)
    if others:
        everyone = (select(Coding.document_id, func.count().label("n")).where(Coding.status == COUNTED_STATUS)
                    .group_by(Coding.document_id).subquery())
        query = query.add_columns(func.coalesce(everyone.c.n, 0).label("codings")).outerjoin(
            everyone, everyone.c.document_id == Document.id)
    if case:
        query = query.where(Case.name == case)
    if kind:
        query = query.where(Document.kind == kind)
    if language:
        query = query.where(Document.language == language)
    if coded_by_me is True:
        query = query.where(mine.c.n > 0)
    elif coded_by_me is False:
        query = query.where(mine.c.n.is_(None))
    return [dict(row._mapping) for row in session.execute(query.order_by(Document.id))]
