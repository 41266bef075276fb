"""Stable identities: every case, document, code, coder, coding and memo carries a GUID from the moment it is
made (``refi_guid``, the identifier the REFI-QDA exchange writes), so that two copies of a project are compared
and merged by identity, never by name or position.

Codings also carry a ``version``: a new random value at every change of what they say (set by a database
trigger, whoever changes the row), the superseded one kept in ``team_history``; a removed coding or memo leaves a
row in ``team_tombstones``. A merge tells from these which copy changed a coding, and a coding one copy removed
from one it never had.

GUIDs of rows that have a natural key are derived from it (a case's or a coder's name, a code's slug, a
document's text fingerprint), so that two copies that make the same case, coder, code or document on their own
give it the same identity; the others are random. A derived GUID that some other row already holds (a case made
again after one of that name was given another name) is replaced by a random one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["GUID_NAMESPACE", "GUID_TABLES", "derived_default", "new_guid", "new_version", "new_versions",
           "generated_values"]

GUID_NAMESPACE = uuid.UUID("7d1f3c2e-5b8a-4f61-9c3e-2a6b0d4e8f17")
# The tables whose rows carry a stable identity, and the name the merge gives each kind of row.
GUID_TABLES = {"cases": "case", "documents": "document", "codes": "code", "coders": "coder", "codings": "coding",
               "memos": "memo"}


def new_guid() -> str:
    return str(uuid.uuid4())


def new_version() -> str:
    return uuid.uuid4().hex


def new_versions(count: int) -> list[str]:
    """``count`` new versions at once for bulk inserts: 32 random hexadecimal digits each, as the triggers make
    them (``lower(hex(randomblob(16)))``), from one read of the system's random source (a UUID object per row
    took a tenth of the time of inserting the row)."""
    digits = os.urandom(16 * count).hex()
    return [digits[at:at + 32] for at in range(0, 32 * count, 32)]


def derived_guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


def derived_default(kind: str, column: str, *, check_taken: bool = False) -> Callable[[Any], str]:
    """A column default (SQLAlchemy's context-sensitive form) deriving the GUID from ``column`` of the row.
    ``check_taken`` for keys that can be given up (names of cases and coders, and slugs, which a codebook rename
    frees for a new code while the renamed code keeps its GUID): one look-up per new row, which only tables that
    grow a row at a time can afford. Texts are never given to another row."""

    def default(context: Any) -> str:
        key = context.get_current_parameters().get(column)
        if key is None:
            return new_guid()
        guid = derived_guid(kind, str(key))
        if not check_taken:
            return guid
        table = context.current_column.table
        from sqlalchemy import select

        taken = context.connection.execute(select(table.c.id).where(table.c.refi_guid == guid)).first()
        return new_guid() if taken is not None else guid

    return default


# What bulk inserts (``db/bulk.insert_rows``), which bypass column defaults, fill in when a row does not give it.
_GENERATED: dict[str, dict[str, Callable[[], str]]] = {
    "codings": {"refi_guid": new_guid, "version": new_version},
    "memos": {"refi_guid": new_guid},
}


def generated_values(table: str, given: set[str]) -> list[tuple[str, Callable[[], str]]]:
    """The generated columns of ``table`` that a bulk insert naming the columns ``given`` leaves out."""
    return [(column, make) for column, make in _GENERATED.get(table, {}).items() if column not in given]
