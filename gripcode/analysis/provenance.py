"""Provenance of an analysis, filled in from the project: which codebook version and database it used."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Engine, exists, select
from sqlalchemy.orm import Session

from gripcode.codebook.versions import latest_version
from gripcode.db.models import COUNTED_STATUSES, MACHINE_CODER_KINDS, Coder, Coding, Document, LlmRun
from gripcode.export.provenance import Provenance


def codebook_label(session: Session) -> str | None:
    version = latest_version(session)
    if version is None:
        return None
    return f"{version.name}, version {version.id}, hash {version.content_hash[:12]}, synced {version.synced_at:%Y-%m-%d}"


def database_label(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def machine_notes(session: Session, *, names: Sequence[str] | None = None,
                  codings: ColumnElement[bool] | None = None) -> list[str]:
    """A note for each machine coder among ``names``, or among the coders of the codings ``codings`` selects
    (a condition on ``codings`` and ``documents``): what the machine is and, for a language-model coder, its runs
    (model, endpoint, parameters, prompt hash, codebook version, when, units sent)."""
    if names is not None:
        query = select(Coder).where(Coder.name.in_(list(names)))
    elif codings is not None:  # asked per machine coder (there are few), so people's codings are never read
        query = select(Coder).where(exists(
            select(Coding.id).join(Document, Document.id == Coding.document_id).where(Coding.coder_id == Coder.id,
                                                                                    codings)))
    else:
        return []
    notes = []
    for coder in session.scalars(query.where(Coder.kind.in_(MACHINE_CODER_KINDS)).order_by(Coder.name)):
        if coder.kind == "rules":
            notes.append(f"machine coder {coder.name}: the codebook's rules (`gripcode autocode`)")
        elif coder.kind == "model":
            notes.append(f"machine coder {coder.name}: a text classifier trained on the project (`gripcode model`)")
        else:
            runs = session.scalars(select(LlmRun).where(LlmRun.coder_id == coder.id).order_by(LlmRun.id)).all()
            described = "; ".join(
                f"run {run.id} {run.started_at:%Y-%m-%d %H:%M} UTC, {run.status}, model {run.model} at "
                f"{run.endpoint}, " + ", ".join(f"{k} {v}" for k, v in run.parameters.items())
                + f", prompt hash {run.prompt_hash[:12]}, codebook version {run.codebook_version_id}, "
                f"{run.units_sent} unit(s) sent, {run.units_cached} from the cache, {run.malformed} malformed"
                for run in runs)
            notes.append(f"machine coder {coder.name}: a language model; {described or 'no runs recorded'} "
                         "(`gripcode llm runs RUN` shows the prompt)")
    return notes


def project_provenance(session: Session, what: str, *, filters: dict[str, Any] | None = None,
                       coders: tuple[str, ...] | list[str] = (), statuses: tuple[str, ...] = COUNTED_STATUSES,
                       notes: tuple[str, ...] | list[str] = (), machine_coders: Sequence[str] | None = None,
                       codings: ColumnElement[bool] | None = None) -> Provenance:
    """The provenance of a table drawn from the project. With ``machine_coders`` (names) or ``codings`` (the
    condition that selected the table's codings), the machine coders among them are named in notes."""
    engine = session.get_bind()
    machine = machine_notes(session, names=machine_coders, codings=codings)
    return Provenance(what=what, codebook=codebook_label(session), filters=dict(filters or {}),
                      coders=tuple(coders), statuses=tuple(statuses),
                      database=database_label(engine) if isinstance(engine, Engine) else None,
                      notes=(*notes, *machine))
