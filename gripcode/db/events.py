"""Reading the audit log: filters for `gripcode log` and a one-line summary of an event's details."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.db.models import Event
from gripcode.errors import GripcodeError

__all__ = ["LIST_COLUMNS", "list_events", "parse_since", "summarise_details"]

LIST_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "details")

_SPAN = re.compile(r"^\s*(\d+)\s*(m|mins?|minutes?|h|hours?|d|days?|w|weeks?)\s*$", re.IGNORECASE)
_SHORT_LIST = 5
_SHORT_TEXT = 40
_SUMMARY = 120


def parse_since(value: str, now: dt.datetime | None = None) -> dt.datetime:
    """A moment from ``2024-05-01``, ``2024-05-01T14:30`` (UTC unless it carries an offset, as the log is
    shown in UTC) or a span back from ``now``: ``30m``, ``2h``, ``3d``, ``1w``."""
    span = _SPAN.match(value)
    if span:
        amount, unit = int(span.group(1)), span.group(2).lower()[0]
        delta = {"m": dt.timedelta(minutes=amount), "h": dt.timedelta(hours=amount),
                 "d": dt.timedelta(days=amount), "w": dt.timedelta(weeks=amount)}[unit]
        now = now or dt.datetime.now(dt.timezone.utc)
        return (now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)) - delta
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise GripcodeError(f"{value!r} is not a date (2024-05-01), a date and time (2024-05-01T14:30) "
                            "or a span back from now (30m, 2h, 3d, 1w)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def list_events(session: Session, since: dt.datetime | None = None, actor: str | None = None,
                action: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Audit events, newest first. ``action`` is a prefix: ``coding`` finds ``coding.applied`` and others."""
    if limit is not None and limit < 1:
        raise GripcodeError(f"the limit must be at least 1, not {limit}")
    query = select(Event).order_by(Event.at.desc(), Event.id.desc())
    if since is not None:
        query = query.where(Event.at >= since)
    if actor is not None:
        query = query.where(Event.actor == actor)
    if action is not None:
        query = query.where(Event.action.startswith(action, autoescape=True))
    if limit is not None:
        query = query.limit(limit)
    return [{"at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity, "entity_id": e.entity_id,
             "details": dict(e.details or {})} for e in session.scalars(query)]


def _short(value: Any) -> str:
    if isinstance(value, list):
        if len(value) > _SHORT_LIST:
            return f"{len(value)} items"
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    text = str(value).replace("\n", " ")
    return text if len(text) <= _SHORT_TEXT else text[:_SHORT_TEXT - 1] + "…"


def summarise_details(details: dict[str, Any]) -> str:
    """``key=value`` pairs on one line, long lists counted and long texts cut, for a table cell."""
    text = ", ".join(f"{key}={_short(value)}" for key, value in details.items() if value not in (None, "", [], {}))
    return text if len(text) <= _SUMMARY else text[:_SUMMARY - 1] + "…"
