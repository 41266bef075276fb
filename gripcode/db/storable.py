"""Characters a project cannot store: refused the same way on every backend, before they reach the database.

PostgreSQL cannot hold NUL (U+0000) in text at all, and no backend can hold a lone surrogate (U+D800–U+DFFF),
which has no UTF-8 form; SQLite would keep the NUL silently, so the same project would behave differently
on the two. Every value written through a session is checked as it is flushed, and bulk inserts check their
rows with :func:`refuse_in_rows`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from gripcode.errors import GripcodeError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What to call an object in a message: its first attribute of these that has a value.
_NAMES = ("slug", "title", "name", "id")


class UnstorableTextError(GripcodeError):
    """Text holding a character no backend can store."""


def find_unstorable(value: Any) -> tuple[int, str] | None:
    """The first unstorable character in ``value`` (a string, or lists and mappings of them): where and which."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        return (found.start(), found.group()) if found else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            hit = find_unstorable(key) or find_unstorable(item)
            if hit:
                return hit
    elif isinstance(value, (list, tuple)):
        for item in value:
            hit = find_unstorable(item)
            if hit:
                return hit
    return None


def _refuse(where: str, hit: tuple[int, str]) -> None:
    position, char = hit
    what = "a NUL character (U+0000)" if char == "\x00" else f"a lone surrogate (U+{ord(char):04X})"
    raise UnstorableTextError(f"{where} contains {what} at position {position}, which a gripcode project cannot "
                              "store; remove it and try again (nothing was changed)")


def refuse_in_rows(rows: Iterable[Mapping[str, Any]], what: str, name_key: str = "title") -> None:
    """For bulk inserts: refuse the first row with an unstorable character in any of its values."""
    for row in rows:
        for column, value in row.items():
            hit = find_unstorable(value)
            if hit:
                _refuse(f"the {column} of {what} {row.get(name_key)!r}", hit)


def _object_name(obj: Any) -> str:
    kind = obj.__class__.__name__.lower()
    for attr in _NAMES:
        value = getattr(obj, attr, None)
        if value:
            return f"{kind} {value!r}" if attr != "id" else f"{kind} {value}"
    return f"a new {kind}"


@event.listens_for(Session, "before_flush")
def _check_flush(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in [*session.new, *session.dirty]:
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            history = state.attrs[attr.key].history
            for value in history.added or ():
                hit = find_unstorable(value)
                if hit:
                    _refuse(f"the {attr.key} of {_object_name(obj)}", hit)
