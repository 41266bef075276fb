"""The documents a coder works through: each with its words and how many codings the coder (and everyone) made
in it, filtered by case, kind, language and whether the coder has coded it yet; and the units of a blind
validation sample (`gripcode validate ... --sample N`), with which of them the coder has coded."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from gripcode.db.bulk import chunks
from gripcode.db.models import (
    COUNTED_STATUS,
    Case,
    Coder,
    Coding,
    Document,
    Unit,
    ValidationSample,
    ValidationSampleUnit,
)
from gripcode.errors import NotFoundError


def document_filters(session: Session) -> dict[str, list[str]]:
    """The values the filters can take: the project's cases, document kinds and languages."""
    return {
        "case": list(session.scalars(select(Case.name).order_by(Case.name))),
        "kind": list(session.scalars(select(Document.kind).distinct().order_by(Document.kind))),
        "language": list(session.scalars(select(Document.language).distinct().order_by(Document.language))),
    }


def coder_documents(session: Session, coder: str, *, case: str | None = None, kind: str | None = None,
                    language: str | None = None, coded_by_me: bool | None = None,
                    others: bool = True, only: Collection[int] | None = None) -> list[dict[str, Any]]:
    """Documents in id order with ``words``, ``mine`` (the codings by ``coder`` that count) and, unless ``others``
    is False (a blind round), ``codings`` (by everyone). ``coded_by_me`` keeps the documents ``coder`` has coded
    (True) or has not (False); ``only`` keeps these document ids (a sample's)."""
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
    if only is not None:
        query = query.where(Document.id.in_(sorted(only)))
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


@dataclass(frozen=True)
class SampleUnit:
    """One unit of a blind sample: where it is, and whether the coder has a coding that counts overlapping it."""

    doc_id: int
    start: int
    end: int
    seq: int
    coded: bool


@dataclass(frozen=True)
class SampleWork:
    sample_id: int
    unit: str
    machine: str
    units: tuple[SampleUnit, ...]

    @property
    def doc_ids(self) -> list[int]:
        return list(dict.fromkeys(u.doc_id for u in self.units))

    @property
    def coded(self) -> int:
        return sum(u.coded for u in self.units)


def find_sample(session: Session, sample_id: int) -> ValidationSample:
    sample = session.get(ValidationSample, sample_id)
    if sample is None:
        known = list(session.scalars(select(ValidationSample.id).order_by(ValidationSample.id)))
        raise NotFoundError(f"no validation sample {sample_id}" + (
            f" (the project has {', '.join(map(str, known))})" if known
            else " (draw one with `gripcode validate CODER --against A,B --sample N`)"))
    return sample


def sample_work(session: Session, sample_id: int, coder: str) -> SampleWork:
    """The units of blind sample ``sample_id`` in text order (by document, then position), each marked coded when
    ``coder`` has an accepted or manual coding overlapping it."""
    sample = find_sample(session, sample_id)
    machine = session.get(Coder, sample.coder_id)
    rows = session.execute(select(Unit.id, Unit.document_id, Unit.start, Unit.end, Unit.seq)
                           .join(ValidationSampleUnit, ValidationSampleUnit.unit_id == Unit.id)
                           .where(ValidationSampleUnit.sample_id == sample.id)
                           .order_by(Unit.document_id, Unit.start, Unit.id)).tuples().all()
    coded: set[int] = set()
    me = session.scalar(select(Coder.id).where(Coder.name == coder))
    if me is not None:
        for chunk in chunks([row[0] for row in rows]):
            coded.update(session.scalars(
                select(Unit.id).join(Coding, and_(Coding.document_id == Unit.document_id, Coding.start < Unit.end,
                                                  Coding.end > Unit.start))
                .where(Unit.id.in_(chunk), Coding.coder_id == me, Coding.status == COUNTED_STATUS).distinct()))
    return SampleWork(sample.id, sample.unit, machine.name if machine else "?",
                      tuple(SampleUnit(doc_id, start, end, seq, unit_id in coded)
                            for unit_id, doc_id, start, end, seq in rows))
