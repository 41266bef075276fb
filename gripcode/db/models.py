"""Typed SQLAlchemy 2.0 models of a gripcode project.

Invariants that the schema itself enforces (the rest live in the services):
- offsets are code-point indices into ``Document.text``, half-open, ``0 <= start < end``;
- every coding keeps the ``quote`` it covered when it was made;
- ``origin`` and ``status`` of codings are closed vocabularies (check constraints, not database enums, so
  migrations stay simple on SQLite and PostgreSQL alike);
- a code is never deleted while it has codings (``ondelete="RESTRICT"``); it is retired or merged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gripcode.db.identity import derived_default, new_guid, new_version

# Named constraints let Alembic's batch mode on SQLite find and alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DOCUMENT_KINDS = ("interview", "policy", "media", "other")
UNIT_KINDS = ("paragraph", "sentence", "turn")
CODE_STATUSES = ("active", "retired", "merged")
CODER_KINDS = ("person", "rules", "model", "llm", "import")
# Machine coders (rules, model, llm) make codings of their own origin; a person codes "manual".
MACHINE_CODER_KINDS = ("rules", "model", "llm")
CODING_ORIGINS = ("manual", "rule", "model", "llm", "import")
CODING_STATUSES = ("suggested", "accepted", "rejected")
# The codings that count in analyses, agreement, training data and exports: made by hand, imported, or
# suggestions a researcher accepted. A suggestion waits as "suggested" and counts nowhere until then.
COUNTED_STATUS = "accepted"
COUNTED_STATUSES = (COUNTED_STATUS,)
# The indexes for analyses hold only those codings, so the suggestions an autocoding run stores (hundreds of
# thousands on a large corpus) do not grow them. A database uses such a partial index only where the query
# implies its condition: `status = <value>` does (SQLite plans again once the value is bound; PostgreSQL plans
# with the value); SQLite does not see it in `status IN (<value>)`. Queries for waiting suggestions read the
# table instead (the review queue, `codebook show`, replacing stale suggestions: a scan, well under a second).
COUNTED_CONDITION = f"status = '{COUNTED_STATUS}'"
ATTRIBUTE_TYPES = ("text", "number", "date")
MEMO_TARGETS = ("project", "document", "code", "coding")
LLM_RUN_STATUSES = ("running", "interrupted", "incomplete", "failed", "finished")
LLM_OUTCOMES = ("answered", "cached", "malformed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def status_among(column: Any, statuses: Sequence[str]) -> ColumnElement[bool]:
    """``column`` (a codings status) is one of ``statuses``; a single status is written ``=``, so that the
    partial indexes on counted codings serve the query (see ``COUNTED_CONDITION``)."""
    distinct = tuple(dict.fromkeys(statuses))
    return column == distinct[0] if len(distinct) == 1 else column.in_(distinct)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored as UTC and always returned timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    refi_guid: Mapped[str] = mapped_column(String(40), unique=True,
                                           default=derived_default("case", "name", check_taken=True))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    attributes: Mapped[list[CaseAttribute]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseAttribute.key"
    )
    documents: Mapped[list[Document]] = relationship(back_populates="case")


class CaseAttribute(Base):
    """One typed attribute of a case; a row per attribute so analyses can group by it in SQL."""

    __tablename__ = "case_attributes"
    __table_args__ = (
        UniqueConstraint("case_id", "key", name="uq_case_attributes_case_key"),
        CheckConstraint(_in("value_type", ATTRIBUTE_TYPES), name="value_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    value_type: Mapped[str] = mapped_column(String(10))
    value_text: Mapped[str | None] = mapped_column(Text)
    value_number: Mapped[float | None] = mapped_column(Float)
    value_date: Mapped[dt.date | None] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="attributes")

    @property
    def value(self) -> str | float | dt.date | None:
        return {"text": self.value_text, "number": self.value_number, "date": self.value_date}[self.value_type]


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (CheckConstraint(_in("kind", DOCUMENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    date: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(500))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    original_name: Mapped[str | None] = mapped_column(String(500))
    # Normalised once on import (NFC, \n, no BOM) and never changed: every offset points into it.
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    refi_guid: Mapped[str] = mapped_column(String(40), unique=True, default=derived_default("document", "sha256"))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case | None] = relationship(back_populates="documents")
    units: Mapped[list[Unit]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )


class Unit(Base):
    """A precomputed segment of a document: paragraph, sentence or speaker turn."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("document_id", "kind", "seq", name="uq_units_document_kind_seq"),
        CheckConstraint(_in("kind", UNIT_KINDS), name="kind"),
        CheckConstraint("start >= 0 AND \"end\" > start", name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    seq: Mapped[int] = mapped_column(Integer)  # 1-based within (document, kind), in text order
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str | None] = mapped_column(String(200))
    begin_time: Mapped[float | None] = mapped_column(Float)  # seconds, for subtitle cues
    end_time: Mapped[float | None] = mapped_column(Float)

    document: Mapped[Document] = relationship(back_populates="units")


class CodebookVersion(Base):
    __tablename__ = "codebook_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    yaml_snapshot: Mapped[str] = mapped_column(Text)
    synced_by: Mapped[str] = mapped_column(String(200))
    synced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Code(Base):
    __tablename__ = "codes"
    __table_args__ = (CheckConstraint(_in("status", CODE_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id", ondelete="SET NULL"), index=True)
    definition: Mapped[str] = mapped_column(Text, default="")
    include: Mapped[str] = mapped_column(Text, default="")
    exclude: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    color: Mapped[str | None] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(10), default="active")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # a slug a rename gave up can be taken by a new code: the derived GUID is checked (codes are few)
    refi_guid: Mapped[str] = mapped_column(String(40), unique=True,
                                           default=derived_default("code", "slug", check_taken=True))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("codebook_versions.id", ondelete="SET NULL"))

    parent: Mapped[Code | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    merged_into: Mapped[Code | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])


class Coder(Base):
    __tablename__ = "coders"
    __table_args__ = (CheckConstraint(_in("kind", CODER_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="person")
    refi_guid: Mapped[str] = mapped_column(String(40), unique=True,
                                           default=derived_default("coder", "name", check_taken=True))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Coding(Base):
    __tablename__ = "codings"
    __table_args__ = (
        UniqueConstraint("document_id", "code_id", "coder_id", "start", "end", name="uq_codings_span"),
        CheckConstraint(_in("origin", CODING_ORIGINS), name="origin"),
        CheckConstraint(_in("status", CODING_STATUSES), name="status"),
        CheckConstraint("start >= 0 AND \"end\" > start", name="span"),
        CheckConstraint("confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="confidence"),
        # Analyses count codings per (code, document) and take the union of each code's spans per document;
        # these two indexes answer both without reading the table, for the codings that count. The status
        # leads although it is the same in every entry: the planner then searches the index on it.
        Index("ix_codings_counted_code_document", "status", "code_id", "document_id",
              sqlite_where=text(COUNTED_CONDITION), postgresql_where=text(COUNTED_CONDITION)),
        Index("ix_codings_counted_document_code_span", "status", "document_id", "code_id", "start", "end",
              sqlite_where=text(COUNTED_CONDITION), postgresql_where=text(COUNTED_CONDITION)),
        Index("ix_codings_document_start", "document_id", "start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id", ondelete="RESTRICT"))
    coder_id: Mapped[int] = mapped_column(ForeignKey("coders.id", ondelete="RESTRICT"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    quote: Mapped[str] = mapped_column(Text)  # the text at coding time; `gripcode check` compares it
    origin: Mapped[str] = mapped_column(String(10), default="manual")
    status: Mapped[str] = mapped_column(String(10), default="accepted")
    confidence: Mapped[float | None] = mapped_column(Float)
    rule_ref: Mapped[str | None] = mapped_column(String(300))
    model_ref: Mapped[str | None] = mapped_column(String(100))
    codebook_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("codebook_versions.id", ondelete="SET NULL")
    )
    memo: Mapped[str | None] = mapped_column(Text)
    refi_guid: Mapped[str] = mapped_column(String(40), unique=True, default=new_guid)
    # A new value at every change of what the coding says (a database trigger sets it; see db/identity.py).
    version: Mapped[str] = mapped_column(String(32), default=new_version)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("coders.id", ondelete="SET NULL"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    document: Mapped[Document] = relationship()
    code: Mapped[Code] = relationship()
    coder: Mapped[Coder] = relationship(foreign_keys=[coder_id])
    reviewed_by: Mapped[Coder | None] = relationship(foreign_keys=[reviewed_by_id])


class Memo(Base):
    __tablename__ = "memos"
    __table_args__ = (CheckConstraint(_in("target", MEMO_TARGETS), name="target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(10))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id", ondelete="CASCADE"), index=True)
    coding_id: Mapped[int | None] = mapped_column(ForeignKey("codings.id", ondelete="CASCADE"), index=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("coders.id", ondelete="RESTRICT"))
    title: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    refi_guid: Mapped[str] = mapped_column(String(40), unique=True, default=new_guid)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    coder: Mapped[Coder] = relationship()


class Event(Base):
    """The audit log: who changed what, and when."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50), index=True)
    entity: Mapped[str | None] = mapped_column(String(30))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AutocodeProgress(Base):
    """Documents an autocoding run has finished, so an interrupted run resumes where it stopped.

    ``scope`` names the codes the run covered ("*" for all), so a run restricted to some codes does not mark
    a document done for the others.
    """

    __tablename__ = "autocode_progress"

    coder_id: Mapped[int] = mapped_column(ForeignKey("coders.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    done_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrainedModel(Base):
    """A text classifier trained on the project's codings, stored whole so it travels with the database."""

    __tablename__ = "trained_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # model@<hash of the training data>
    language: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(12))
    codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    data_hash: Mapped[str] = mapped_column(String(64), index=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class LlmRun(Base):
    """One `gripcode llm code` run: what was asked of which model, where, and what came back.

    This is the provenance a paper cites for a language-model coder: the model and endpoint, the sampling
    parameters, the prompt (and its hash, part of the coder's name), the codebook version, the time, and how
    many units were sent, answered from the cache, or answered in a form that could not be read.
    """

    __tablename__ = "llm_runs"
    __table_args__ = (CheckConstraint(_in("status", LLM_RUN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("coders.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(500))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # temperature, seed, max_tokens, ...
    prompt_hash: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(Text)  # the instructions and codebook section, as sent
    codebook_version_id: Mapped[int | None] = mapped_column(ForeignKey("codebook_versions.id", ondelete="SET NULL"))
    unit: Mapped[str] = mapped_column(String(12))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # codes, case, kind, doc
    status: Mapped[str] = mapped_column(String(12), default="running")
    units_total: Mapped[int] = mapped_column(Integer, default=0)
    units_sent: Mapped[int] = mapped_column(Integer, default=0)
    units_cached: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    malformed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    suggestions: Mapped[int] = mapped_column(Integer, default=0)
    characters_sent: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str | None] = mapped_column(Text)


class LlmRunUnit(Base):
    """What became of one unit in a run: answered by the model, answered from the cache, or malformed. A unit
    with a row here is done, so an interrupted run resumes with the others."""

    __tablename__ = "llm_run_units"
    __table_args__ = (CheckConstraint(_in("outcome", LLM_OUTCOMES), name="outcome"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("llm_runs.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(10))
    codes: Mapped[int] = mapped_column(Integer, default=0)  # how many codes the answer gave


class LlmAnswer(Base):
    """The cache: a model's answer to one prompt (its hash covers everything sent but the unit's text) for one
    unit text, so that the same question is never sent twice. Malformed answers are kept as they came."""

    __tablename__ = "llm_answers"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    prompt_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    malformed: Mapped[bool] = mapped_column(default=False)
    codes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[code id, rationale], ...]
    raw: Mapped[str | None] = mapped_column(Text)  # the answer as received, when it could not be read
    problem: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("llm_runs.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ValidationSample(Base):
    """Units drawn for people to code blind, so that a machine coder can be validated on them."""

    __tablename__ = "validation_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("coders.id", ondelete="CASCADE"), index=True)
    unit: Mapped[str] = mapped_column(String(12))
    size: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    strata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # stratum -> (units there, drawn)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ValidationSampleUnit(Base):
    __tablename__ = "validation_sample_units"

    sample_id: Mapped[int] = mapped_column(ForeignKey("validation_samples.id", ondelete="CASCADE"),
                                           primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)


class Validation(Base):
    """A machine coder's validation against people (`gripcode validate`), per code; what
    `review accept --validated` reads."""

    __tablename__ = "validations"

    id: Mapped[int] = mapped_column(primary_key=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("coders.id", ondelete="CASCADE"), index=True)
    against: Mapped[list[str]] = mapped_column(JSON, default=list)
    unit: Mapped[str] = mapped_column(String(12))
    reference: Mapped[str] = mapped_column(String(200))
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("validation_samples.id", ondelete="SET NULL"))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # bootstrap samples, seed, level
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # code -> statistics
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProjectInfo(Base):
    """Facts about the project as a whole (``project_id``: its own identity; ``copied_from``: the project a
    coder's copy was made from, as JSON), one row per key."""

    __tablename__ = "project_info"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TeamHistory(Base):
    """A version a row had before it changed (written by a database trigger), so that a merge can tell that a
    copy's version is one this project has already moved on from."""

    __tablename__ = "team_history"

    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    guid: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), primary_key=True)


class TeamTombstone(Base):
    """A removed coding or memo (written by a database trigger, whoever removed it): the merge removes it in the
    other copy too, and tells it from a row that copy never had."""

    __tablename__ = "team_tombstones"

    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    guid: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str | None] = mapped_column(String(32))
    removed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TeamAlias(Base):
    """A coding another copy holds under its own GUID that a merge found here already (same document, code,
    coder and span) under ``target``; ``version``/``target_version``: the two versions when they were linked.
    Later merges take that copy's memos, edits and removal of the coding through it."""

    __tablename__ = "team_aliases"

    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    guid: Mapped[str] = mapped_column(String(40), primary_key=True)
    target: Mapped[str] = mapped_column(String(40))
    version: Mapped[str | None] = mapped_column(String(32))
    target_version: Mapped[str | None] = mapped_column(String(32))


ROUND_UNITS = ("paragraph", "sentence", "turn", "document")
ROUND_STATUSES = ("open", "closed")
ROUND_DECISIONS = ("apply", "reject")


class Round(Base):
    """A reliability round: named coders code the same documents blind, then agreement is computed at its unit.

    While it is open its coders see only their own codings and memos on its documents; closing it stores the
    agreement (``agreement``: the rows and notes of ``gripcode agreement``) and the disagreements to adjudicate.
    """

    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint(_in("unit", ROUND_UNITS), name="unit"),
        CheckConstraint(_in("status", ROUND_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    unit: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    agreement: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RoundCoder(Base):
    __tablename__ = "round_coders"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("coders.id", ondelete="RESTRICT"), primary_key=True,
                                          index=True)


class RoundDocument(Base):
    __tablename__ = "round_documents"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class RoundDisagreement(Base):
    """One unit and code on which a closed round's coders differed, and how it was adjudicated: whether the code
    applies (``apply``: a coding by the round's adjudication coder, ``coding_id``) or not, by whom and when."""

    __tablename__ = "round_disagreements"
    __table_args__ = (
        UniqueConstraint("round_id", "seq", name="uq_round_disagreements_round_seq"),
        CheckConstraint(_in("decision", ROUND_DECISIONS), name="decision"),
        CheckConstraint("start >= 0 AND \"end\" > start", name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # 1-based within the round: what researchers type
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    unit_seq: Mapped[int] = mapped_column(Integer)  # the unit's number in its document (1 for a whole document)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id", ondelete="RESTRICT"))
    applied_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    not_applied_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    decision: Mapped[str | None] = mapped_column(String(10))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    coding_id: Mapped[int | None] = mapped_column(ForeignKey("codings.id", ondelete="SET NULL"))
