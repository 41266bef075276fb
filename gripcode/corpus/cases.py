"""Cases and their typed attributes (number, date, text)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from gripcode.db.audit import record_event
from gripcode.db.models import ATTRIBUTE_TYPES, Case, CaseAttribute, Document
from gripcode.errors import GripcodeError, NotFoundError

_KEY_RE = re.compile(r"^[A-Za-z_][\w.-]*$")


def parse_attribute(spec: str) -> tuple[str, str, Any]:
    """``key=value`` with the type inferred (number, ISO date, else text), or ``key:type=value`` to force it."""
    if "=" not in spec:
        raise GripcodeError(f"attribute {spec!r} must look like key=value (or key:number=value)")
    key, raw = spec.split("=", 1)
    key, _, forced = key.strip().partition(":")
    if not _KEY_RE.match(key):
        raise GripcodeError(f"attribute name {key!r} must start with a letter and hold letters, digits, _ . -")
    raw = raw.strip()
    if forced and forced not in ATTRIBUTE_TYPES:
        raise GripcodeError(f"attribute type {forced!r} is unknown; use {', '.join(ATTRIBUTE_TYPES)}")
    kinds = [forced] if forced else ["number", "date", "text"]
    for kind in kinds:
        try:
            if kind == "number":
                return key, kind, float(raw.replace("_", ""))
            if kind == "date":
                return key, kind, dt.date.fromisoformat(raw)
            return key, kind, raw
        except ValueError:
            if forced:
                raise GripcodeError(f"attribute {key}: {raw!r} is not a {forced}") from None
    raise AssertionError("text always parses")


def set_attributes(case: Case, specs: list[str]) -> None:
    existing = {a.key: a for a in case.attributes}
    for spec in specs:
        key, kind, value = parse_attribute(spec)
        attr = existing.get(key) or CaseAttribute(key=key)
        attr.value_type = kind
        attr.value_text = value if kind == "text" else None
        attr.value_number = value if kind == "number" else None
        attr.value_date = value if kind == "date" else None
        if key not in existing:
            case.attributes.append(attr)
            existing[key] = attr


def add_case(session: Session, name: str, attributes: list[str], actor: str, description: str | None = None) -> Case:
    name = name.strip()
    if not name:
        raise GripcodeError("a case needs a name")
    if session.scalar(select(Case).where(Case.name == name)) is not None:
        raise GripcodeError(f"case {name!r} exists already; use `gripcode case set` to change its attributes")
    case = Case(name=name, description=description)
    session.add(case)
    set_attributes(case, attributes)
    session.flush()
    record_event(session, actor, "case.added", "case", case.id, name=name, attributes=attributes)
    return case


def get_case(session: Session, name: str) -> Case:
    case = session.scalar(select(Case).where(Case.name == name))
    if case is None:
        known = session.scalars(select(Case.name).order_by(Case.name)).all()
        hint = f"; known cases: {', '.join(known)}" if known else "; no cases yet"
        raise NotFoundError(f"unknown case {name!r}{hint} (add it with `gripcode case add`)")
    return case


def update_case(session: Session, name: str, attributes: list[str], actor: str) -> Case:
    case = get_case(session, name)
    set_attributes(case, attributes)
    record_event(session, actor, "case.changed", "case", case.id, attributes=attributes)
    return case


def list_cases(session: Session) -> list[dict[str, Any]]:
    counts = dict(session.execute(select(Document.case_id, func.count()).group_by(Document.case_id)).all())
    rows = []
    for case in session.scalars(select(Case).options(selectinload(Case.attributes)).order_by(Case.name)):
        rows.append({
            "case": case.name,
            "documents": counts.get(case.id, 0),
            "attributes": {a.key: (a.value.isoformat() if isinstance(a.value, dt.date) else a.value) for a in case.attributes},
        })
    return rows
