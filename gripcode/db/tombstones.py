"""A coding or memo stored again under a GUID it had (an undone removal, a .qdpx read back, a merge) is no longer
removed: its tombstone goes, and a coding's removed version joins its history, so that a merge neither removes it
again nor takes the copy's older version for a newer one.

The few paths that store a row under a GUID that may have a tombstone call :func:`clear_tombstones` after the
insert, in the same transaction. (A trigger on every insert did the same at the cost of the insert itself.)
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, and_, delete, select

from gripcode.db.bulk import chunks, insert_rows
from gripcode.db.models import TeamHistory, TeamTombstone


def clear_tombstones(connection: Connection, entity: str, rows: Iterable[tuple[str | None, str | None]]) -> int:
    """Remove the tombstones of ``rows`` (GUID, version now) of ``entity`` ('coding' or 'memo'); a coding's removed
    version, when it differs from the one stored now, goes into ``team_history``. Returns how many were cleared."""
    if connection.execute(select(TeamTombstone.guid).where(TeamTombstone.entity == entity).limit(1)).first() is None:
        return 0  # nothing of the kind was ever removed (a new project, say): no GUID to look up
    versions = {guid: version for guid, version in rows if guid}
    found: list[tuple[str, str | None]] = []
    for part in chunks(sorted(versions)):
        found += connection.execute(select(TeamTombstone.guid, TeamTombstone.version).where(
            TeamTombstone.entity == entity, TeamTombstone.guid.in_(part))).tuples().all()
    if not found:
        return 0
    removed = [(guid, version) for guid, version in found if version is not None and version != versions[guid]]
    if entity == "coding" and removed:
        known: set[tuple[str, str]] = set()
        for part in chunks([guid for guid, _ in removed]):
            known.update(connection.execute(select(TeamHistory.guid, TeamHistory.version).where(
                TeamHistory.entity == entity, TeamHistory.guid.in_(part))).tuples().all())
        insert_rows(connection, "team_history", ["entity", "guid", "version"],
                    [(entity, guid, version) for guid, version in removed if (guid, version) not in known])
    for part in chunks([guid for guid, _ in found]):
        connection.execute(delete(TeamTombstone).where(and_(TeamTombstone.entity == entity,
                                                            TeamTombstone.guid.in_(part))))
    return len(found)
