"""Stable identities: every case, document, code, coder, coding and memo carries a GUID from the moment it is
made (``refi_guid``, the identifier the REFI-QDA exchange writes), so that two copies of a project are compared
and merged by identity, never by name or position.

Codings also carry a ``version``: a new random value at every change of what they say (set by a database
trigger, whoever changes the row), the superseded one kept in ``team_history``; a removed coding or memo leaves a
row in ``team_tombstones``. A merge tells from these which copy changed a coding, and a coding one copy removed
from one it never had.

GUIDs of rows that have a natural key are derived from it (a case's or a coder's name, a code's slug, a
document's text fingerprint), so that two copies that make the same case, coder, code or document on their own
give it the same identity; the others are new (``new_guids``: time-ordered, with random bits). A derived GUID
that some other row already holds (a case made again after one of that name was given another name) is replaced
by a new one.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["GUID_NAMESPACE", "GUID_TABLES", "derived_default", "new_guid", "new_guids", "new_version", "new_versions",
           "generated_values"]

GUID_NAMESPACE = uuid.UUID("7d1f3c2e-5b8a-4f61-9c3e-2a6b0d4e8f17")
# The tables whose rows carry a stable identity, and the name the merge gives each kind of row.
GUID_TABLES = {"cases": "case", "documents": "document", "codes": "code", "coders": "coder", "codings": "coding",
               "memos": "memo"}


def new_guid() -> str:
    return new_guids(1)[0]


_MS_SHIFT = 80
_VERSION_BITS = 0x7 << 76  # version 7
_VARIANT_BITS = 0b10 << 62  # RFC 9562's variant
_COUNTER_LIMIT = 1 << 42
_guid_clock = threading.Lock()
_last_ms = 0
_counter = 0


def new_guids(count: int) -> list[str]:
    """``count`` new GUIDs, in the layout of RFC 9562's version 7: the time in milliseconds, then a 42-bit counter
    that starts at a random value each millisecond, then 32 random bits. GUIDs made one after another (in one
    process) sort in the order they were made, so a unique index on them grows at its end; random (version 4)
    GUIDs land anywhere in it, and once the index outgrew the cache each insert read a page back: two million
    codings took three times as long to insert (9.4 s against 3.2 s for the index alone on SQLite). They are
    GUIDs like any other to REFI-QDA and to the programs that read its files."""
    global _last_ms, _counter
    with _guid_clock:
        now = time.time_ns() // 1_000_000
        if now > _last_ms:
            _last_ms, _counter = now, int.from_bytes(os.urandom(6), "big") >> 7  # 41 random bits
        if _counter + count >= _COUNTER_LIMIT:  # spent (or the clock went back): the next millisecond's
            _last_ms, _counter = _last_ms + 1, int.from_bytes(os.urandom(6), "big") >> 7
        ms, first = _last_ms, _counter
        _counter += count
    noise = os.urandom(4 * count)
    head = (ms << _MS_SHIFT) | _VERSION_BITS | _VARIANT_BITS
    guids = []
    for n in range(count):
        counter = first + n
        value = (head | (counter >> 30) << 64 | (counter & 0x3FFFFFFF) << 32
                 | int.from_bytes(noise[4 * n:4 * n + 4], "big"))
        digits = f"{value:032x}"
        guids.append(f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}")
    return guids


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
