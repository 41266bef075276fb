"""The lock that orders codebook syncs against the writes that target codes.

A sync takes it alone; a coding, a review decision, a CSV or autocode batch or a model's suggestions take it
shared, and only then read the state of the codes they write to. So a sync never runs beside another sync, and
no coding can be committed on a code that a sync merged, retired or removed meanwhile: either the coding comes
first (and the sync then sees it: moves it with a merge, refuses to remove its code), or the sync does (and the
coding then finds the code's new state).

On PostgreSQL this is a transaction-level advisory lock, released at commit or rollback; waiting for it counts
against the busy timeout (lock_timeout). On SQLite every write transaction already holds the file's write lock
from its start (``BEGIN IMMEDIATE``), which orders them all, so nothing more is taken.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# The advisory lock's key: any fixed 64-bit number no other program on the database uses ("grip" in ASCII).
CODEBOOK_LOCK_KEY = 0x67726970


def lock_codebook(session: Session, *, exclusive: bool) -> None:
    """Take the codebook lock for the rest of the session's transaction (see the module's docstring)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    current = session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and held[0] is current and (held[1] or not exclusive):
        return  # taken already in this transaction (a CSV import looks up a code per row)
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {function}(:key)"), {"key": CODEBOOK_LOCK_KEY})
    session.info[_HELD] = (session.get_transaction(), exclusive)


_HELD = "gripcode_codebook_lock"  # session.info: (the transaction that holds the lock, exclusively or not)
