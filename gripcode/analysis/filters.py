"""The filters every analysis takes, turned into SQL conditions once.

By default only accepted codings count (manual ones, and suggestions a person accepted); suggestions never
count unless ``statuses`` asks for them explicitly. Grouping is by case, document kind, language, or any
case attribute (``attr:<key>``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, literal, select, true
from sqlalchemy.orm import Session, aliased

from gripcode.db.models import (CODING_STATUSES, COUNTED_STATUSES, DOCUMENT_KINDS, Case, CaseAttribute, Code,
                                 Coder, Coding, Document, status_among)
from gripcode.errors import AnalysisError

NO_GROUP = "(none)"


@dataclass(frozen=True)
class Filters:
    codes: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    coders: tuple[str, ...] = ()
    statuses: tuple[str, ...] = COUNTED_STATUSES
    documents: tuple[int, ...] = field(default=())

    @property
    def restricts_documents(self) -> bool:
        return bool(self.cases or self.kinds or self.languages or self.date_from or self.date_to or self.documents)

    def describe(self) -> dict[str, Any]:
        """The filters for a provenance record (empty ones are left out there)."""
        return {"codes": list(self.codes), "cases": list(self.cases), "kinds": list(self.kinds),
                "languages": list(self.languages), "from": self.date_from, "to": self.date_to,
                "documents": list(self.documents)}


def make_filters(*, codes: Sequence[str] | None = None, cases: Sequence[str] | None = None,
                 kinds: Sequence[str] | None = None, languages: Sequence[str] | None = None,
                 date_from: str | dt.date | None = None, date_to: str | dt.date | None = None,
                 coders: Sequence[str] | None = None, statuses: Sequence[str] | None = None,
                 documents: Sequence[int] | None = None) -> Filters:
    """Check and normalise filter values; dates as yyyy-mm-dd."""
    def date(value: str | dt.date | None, name: str) -> dt.date | None:
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise AnalysisError(f"{name} {value!r} is not a date (yyyy-mm-dd)") from None

    kinds = tuple(kinds or ())
    bad = [k for k in kinds if k not in DOCUMENT_KINDS]
    if bad:
        raise AnalysisError(f"unknown document kind(s) {', '.join(bad)}; use {', '.join(DOCUMENT_KINDS)}")
    statuses = tuple(statuses or COUNTED_STATUSES)
    bad = [s for s in statuses if s not in CODING_STATUSES]
    if bad:
        raise AnalysisError(f"unknown status(es) {', '.join(bad)}; use {', '.join(CODING_STATUSES)}")
    return Filters(tuple(codes or ()), tuple(cases or ()), kinds, tuple(l.lower() for l in languages or ()),
                   date(date_from, "--from"), date(date_to, "--to"), tuple(coders or ()), statuses,
                   tuple(documents or ()))


def resolve_filters(filters: Filters | None, criteria: dict[str, Any]) -> Filters:
    """``filters`` as given, or built from keyword criteria (``codes=[...], cases=[...]``) -- not both."""
    if filters is not None and criteria:
        raise AnalysisError(f"give either filters or criteria ({', '.join(criteria)}), not both")
    return filters if filters is not None else make_filters(**criteria)


def check_names(session: Session, filters: Filters) -> None:
    """Unknown codes, cases or coders are mistakes, not empty results."""
    for model, column, names, what in ((Code, Code.slug, filters.codes, "code"), (Case, Case.name, filters.cases, "case"),
                                       (Coder, Coder.name, filters.coders, "coder")):
        if names:
            known = set(session.scalars(select(column).where(column.in_(names))))
            missing = [n for n in names if n not in known]
            if missing:
                raise AnalysisError(f"no {what} called {', '.join(missing)}")


def document_conditions(filters: Filters) -> ColumnElement[bool]:
    """Conditions on ``documents`` (joined to ``cases`` as needed by the caller)."""
    parts: list[ColumnElement[bool]] = []
    if filters.cases:
        parts.append(Document.case_id.in_(select(Case.id).where(Case.name.in_(filters.cases))))
    if filters.kinds:
        parts.append(Document.kind.in_(filters.kinds))
    if filters.languages:
        parts.append(Document.language.in_(filters.languages))
    if filters.date_from:
        parts.append(Document.date >= filters.date_from)
    if filters.date_to:
        parts.append(Document.date <= filters.date_to)
    if filters.documents:
        parts.append(Document.id.in_(filters.documents))
    return and_(true(), *parts)


def coding_conditions(filters: Filters, *, with_codes: bool = True) -> ColumnElement[bool]:
    """Conditions on ``codings`` (status, coder, code) and on their documents."""
    parts: list[ColumnElement[bool]] = [status_among(Coding.status, filters.statuses),
                                         document_conditions(filters)]
    if filters.coders:
        parts.append(Coding.coder_id.in_(select(Coder.id).where(Coder.name.in_(filters.coders))))
    if with_codes and filters.codes:
        parts.append(Coding.code_id.in_(select(Code.id).where(Code.slug.in_(filters.codes))))
    return and_(*parts)


GROUPINGS = ("case", "kind", "language")


def group_column(session: Session, by: str) -> tuple[Any, Any]:
    """The SQL expression a comparison groups documents by, and the join it needs (or None)."""
    if by == "case":
        return func.coalesce(Case.name, literal(NO_GROUP)), Case
    if by == "kind":
        return Document.kind, None
    if by == "language":
        return Document.language, None
    if by.startswith("attr:") and by[5:]:
        key = by[5:]
        if session.scalar(select(CaseAttribute.id).where(CaseAttribute.key == key).limit(1)) is None:
            known = sorted(set(session.scalars(select(CaseAttribute.key))))
            raise AnalysisError(f"no case has the attribute {key!r}; attributes: {', '.join(known) or 'none'}")
        attr = aliased(CaseAttribute)
        value = func.coalesce(attr.value_text, cast(attr.value_number, String), cast(attr.value_date, String),
                              literal(NO_GROUP))
        return value, attr
    raise AnalysisError(f"cannot group by {by!r}: use case, kind, language or attr:<key>")


def join_group(query: Any, by: str, target: Any) -> Any:
    """Add the join ``group_column`` asked for to a query that already selects from ``documents``."""
    if target is None:
        return query
    if target is Case:
        return query.outerjoin(Case, Document.case_id == Case.id)
    key = by[5:]
    return query.outerjoin(target, and_(target.case_id == Document.case_id, target.key == key))


def codes_in_scope(session: Session, filters: Filters) -> list[tuple[int, str]]:
    """(id, slug) of the codes a table has a row or column for, in codebook order: those ``filters.codes`` names,
    else every active code."""
    query = select(Code.id, Code.slug).order_by(Code.position, Code.id)
    query = query.where(Code.slug.in_(filters.codes)) if filters.codes else query.where(Code.status == "active")
    return [(code_id, slug) for code_id, slug in session.execute(query).tuples()]
