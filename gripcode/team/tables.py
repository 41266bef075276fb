"""Reading rows of a table from one project and writing them into another, with the values as SQLAlchemy's
types give and take them (timestamps, JSON), in bulk (``db/bulk.insert_rows``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from gripcode.db.bulk import insert_rows

__all__ = ["write_rows"]


def write_rows(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert ``rows`` (Python values, as a SQLAlchemy select returns them, in the order of ``columns``)."""
    if not rows:
        return 0
    dialect = connection.dialect
    if dialect.driver == "psycopg":
        # COPY takes Python values as they are, except JSON, which goes as its text.
        json_at = [i for i, c in enumerate(columns) if table.c[c].type._type_affinity.__name__ == "JSON"]
        if json_at:
            rows = [tuple(json.dumps(v) if i in json_at and v is not None else v for i, v in enumerate(row))
                    for row in rows]
        return insert_rows(connection, table.name, columns, [tuple(row) for row in rows])
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    values = [tuple(process(v) if process is not None and v is not None else v for process, v in zip(processors, row))
              for row in rows]
    return insert_rows(connection, table.name, columns, values)
