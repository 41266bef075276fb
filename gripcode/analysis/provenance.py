"""Provenance of an analysis, filled in from the project: which codebook version and database it used."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gripcode.codebook.versions import latest_version
from gripcode.db.models import COUNTED_STATUSES
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


def project_provenance(session: Session, what: str, *, filters: dict[str, Any] | None = None,
                       coders: tuple[str, ...] | list[str] = (), statuses: tuple[str, ...] = COUNTED_STATUSES,
                       notes: tuple[str, ...] | list[str] = ()) -> Provenance:
    engine = session.get_bind()
    return Provenance(what=what, codebook=codebook_label(session), filters=dict(filters or {}),
                      coders=tuple(coders), statuses=tuple(statuses),
                      database=database_label(engine) if isinstance(engine, Engine) else None,
                      notes=tuple(notes))
