"""Coders: the people and machine coders every coding and memo is attributed to.

A person is whoever runs a command (``--coder``, ``GRIPCODE_CODER`` or the login name); machine coders are
named after what produced their codings: ``rules@<codebook hash>`` for the rule matcher and
``model@<model hash>`` for a trained classifier, so suggestions from different rule sets or models never
pool under one name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gripcode.db.audit import record_event
from gripcode.db.models import CODER_KINDS, Coder, Coding, Memo
from gripcode.errors import GripcodeError, NotFoundError

__all__ = [
    "LIST_COLUMNS",
    "add_coder",
    "coder_kind_for",
    "find_coder",
    "get_or_create_coder",
    "list_coders",
]

LIST_COLUMNS = ("name", "kind", "codings", "memos", "first_activity", "last_activity")

# Machine coders are recognised by the prefix of their name.
_KIND_PREFIXES = {"rules@": "rules", "model@": "model", "llm@": "llm", "import@": "import"}
_MAX_NAME = 200


def coder_kind_for(name: str) -> str:
    """The kind a coder named ``name`` has when none is given: ``rules@...`` is rules, ``model@...`` model."""
    for prefix, kind in _KIND_PREFIXES.items():
        if name.startswith(prefix):
            return kind
    return "person"


def _clean(name: str, kind: str | None) -> tuple[str, str]:
    name = name.strip()
    if not name:
        raise GripcodeError("a coder needs a name")
    if len(name) > _MAX_NAME:
        raise GripcodeError(f"a coder name has at most {_MAX_NAME} characters; {name[:40]!r}... has {len(name)}")
    kind = kind or coder_kind_for(name)
    if kind not in CODER_KINDS:
        raise GripcodeError(f"coder kind {kind!r} is unknown; use one of {', '.join(CODER_KINDS)}")
    return name, kind


def _by_name(session: Session, name: str) -> Coder | None:
    return session.scalars(select(Coder).where(Coder.name == name)).first()


def _create(session: Session, name: str, kind: str, actor: str) -> Coder:
    coder = Coder(name=name, kind=kind)
    # A savepoint, so that on a team server two commands creating the same coder at once do not fail:
    # the loser of the race rolls back to it and uses the row the winner committed.
    try:
        with session.begin_nested():
            session.add(coder)
            session.flush()
    except IntegrityError:
        existing = _by_name(session, name)
        if existing is None:
            raise
        return existing
    record_event(session, actor, "coder.added", "coder", coder.id, name=name, kind=kind)
    return coder


def get_or_create_coder(session: Session, name: str, kind: str | None = None, *,
                        actor: str | None = None) -> Coder:
    """The coder called ``name``, created (and a ``coder.added`` event recorded) if it is new.

    ``kind`` defaults to what the name says (``rules@...``, ``model@...``, else a person). ``actor`` is who
    is working, for the audit log; it defaults to the coder itself. The returned coder has an id.
    """
    name, new_kind = _clean(name, kind)
    coder = _by_name(session, name)
    if coder is None:
        return _create(session, name, new_kind, actor or name)
    if kind is not None and coder.kind != kind:
        raise GripcodeError(f"coder {name!r} is a {coder.kind} coder, not a {kind} coder")
    return coder


def add_coder(session: Session, name: str, kind: str | None = None, *, actor: str) -> Coder:
    """Add a new coder; a name that exists already is an error (``get_or_create_coder`` accepts it)."""
    name, kind = _clean(name, kind)
    existing = _by_name(session, name)
    if existing is not None:
        raise GripcodeError(f"coder {name!r} exists already (a {existing.kind} coder); see `gripcode coder list`")
    return _create(session, name, kind, actor)


def find_coder(session: Session, name: str) -> Coder:
    coder = _by_name(session, name.strip())
    if coder is None:
        known = session.scalars(select(Coder.name).order_by(Coder.name)).all()
        hint = f"known coders: {', '.join(known)}" if known else "there are no coders yet"
        raise NotFoundError(f"no coder {name!r}; {hint}")
    return coder


def _earliest(*values: dt.datetime | None) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _latest(*values: dt.datetime | None) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def list_coders(session: Session) -> list[dict[str, Any]]:
    """Every coder with how many codings and memos they made and when they first and last worked.

    Activity is making a coding, reviewing a suggestion or writing a memo. Later changes to a coding do not
    count for its coder: whoever reviewed or edited it may be someone else.
    """
    codings = {row.coder_id: row for row in session.execute(
        select(Coding.coder_id, func.count().label("n"), func.min(Coding.created_at).label("first"),
               func.max(Coding.created_at).label("last")).group_by(Coding.coder_id))}
    reviews = {row.reviewed_by_id: row for row in session.execute(
        select(Coding.reviewed_by_id, func.min(Coding.reviewed_at).label("first"),
               func.max(Coding.reviewed_at).label("last"))
        .where(Coding.reviewed_by_id.is_not(None)).group_by(Coding.reviewed_by_id))}
    memos = {row.coder_id: row for row in session.execute(
        select(Memo.coder_id, func.count().label("n"), func.min(Memo.created_at).label("first"),
               func.max(Memo.created_at).label("last")).group_by(Memo.coder_id))}
    rows = []
    for coder in session.scalars(select(Coder).order_by(Coder.name)):
        c, r, m = codings.get(coder.id), reviews.get(coder.id), memos.get(coder.id)
        rows.append({
            "name": coder.name,
            "kind": coder.kind,
            "codings": c.n if c else 0,
            "memos": m.n if m else 0,
            "first_activity": _earliest(*(x.first for x in (c, r, m) if x)),
            "last_activity": _latest(*(x.last for x in (c, r, m) if x)),
        })
    return rows
