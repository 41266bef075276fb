"""A project's own identity and what it knows of where it came from (``project_info``), and the tables the team
layer reads by GUID."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from gripcode.db.identity import new_guid
from gripcode.db.models import ProjectInfo

__all__ = ["project_id", "read_info", "write_info"]


def read_info(connection: Connection) -> dict[str, Any]:
    """Every key of ``project_info``; JSON values decoded."""
    info: dict[str, Any] = {}
    for key, value in connection.execute(select(ProjectInfo.key, ProjectInfo.value)):
        try:
            info[key] = json.loads(value)
        except ValueError:
            info[key] = value
    return info


def write_info(connection: Connection, key: str, value: Any) -> None:
    table = ProjectInfo.__table__
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if connection.execute(select(ProjectInfo.key).where(ProjectInfo.key == key)).first() is None:
        connection.execute(table.insert().values(key=key, value=text))
    else:
        connection.execute(table.update().where(table.c.key == key).values(value=text))


def project_id(connection: Connection) -> str:
    """The project's own GUID (made by the migration that introduced it; made here if it is missing)."""
    found = connection.execute(select(ProjectInfo.value).where(ProjectInfo.key == "project_id")).scalar()
    if found is None:
        found = new_guid()
        write_info(connection, "project_id", found)
    return str(found)
