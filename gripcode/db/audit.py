"""The audit log: one helper so every write records who did what in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gripcode.db.models import Event


def record_event(session: Session, actor: str, action: str, entity: str | None = None,
                 entity_id: int | None = None, **details: Any) -> None:
    session.add(Event(actor=actor, action=action, entity=entity, entity_id=entity_id, details=details))
