"""insert_rows: plain tuples to the driver (COPY with psycopg, multi-row INSERTs otherwise) store exactly what
an ordinary INSERT would, including text that COPY must escape, NULLs and a last statement that is not full."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, Table, Text, insert, select

from gripcode.db.bulk import insert_rows
from gripcode.db.engine import make_engine

_AWKWARD = ["plain", "tab\there", "new\nline", "back\\slash", "quote ' and \"", "\\N", "", "中国 稀土", "Ω\u00a0x",
            "comma, semicolon;", "carriage\r\nreturn"]


def _table(metadata: MetaData, name: str) -> Table:
    return Table(name, metadata, Column("id", Integer, primary_key=True), Column("n", Integer),
                 Column("label", Text), Column("score", Float), Column("note", Text))


@pytest.mark.parametrize("count", [0, 1, 199, 200, 457])
def test_rows_arrive_as_an_insert_would_store_them(db_url: str, count: int) -> None:
    engine = make_engine(db_url)
    metadata = MetaData()
    fast, plain = _table(metadata, "bulk_fast"), _table(metadata, "bulk_plain")
    metadata.drop_all(engine)
    metadata.create_all(engine)
    rows = [(i, _AWKWARD[i % len(_AWKWARD)], None if i % 3 else i / 7, None if i % 2 else f"n{i}")
            for i in range(count)]
    columns = ("n", "label", "score", "note")
    try:
        with engine.begin() as connection:
            assert insert_rows(connection, "bulk_fast", columns, rows) == count
            if rows:
                connection.execute(insert(plain), [dict(zip(columns, row)) for row in rows])
        with engine.connect() as connection:
            got = connection.execute(select(fast.c.n, fast.c.label, fast.c.score, fast.c.note)
                                     .order_by(fast.c.id)).all()
            expected = connection.execute(select(plain.c.n, plain.c.label, plain.c.score, plain.c.note)
                                          .order_by(plain.c.id)).all()
        assert [tuple(row) for row in got] == [tuple(row) for row in expected] == rows
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_a_failing_row_fails_the_whole_call(db_url: str) -> None:
    """A constraint violation anywhere (here in the last, partial statement) raises; with the caller's
    transaction rolled back nothing stays."""
    engine = make_engine(db_url)
    metadata = MetaData()
    table = Table("bulk_unique", metadata, Column("id", Integer, primary_key=True), Column("n", Integer, unique=True))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    try:
        with pytest.raises(Exception, match="(?i)unique"):
            with engine.begin() as connection:
                insert_rows(connection, "bulk_unique", ("n",), [(i,) for i in range(1000)] + [(5,)])
        with engine.connect() as connection:
            assert connection.execute(select(table.c.n)).all() == []
    finally:
        metadata.drop_all(engine)
        engine.dispose()
