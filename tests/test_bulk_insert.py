"""insert_rows: plain tuples to the driver (COPY with psycopg, multi-row INSERTs otherwise) store exactly what
an ordinary INSERT would, including text that COPY must escape, NULLs and a last statement that is not full."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Column, Connection, Float, Integer, MetaData, Table, Text, func, insert, select

from gripcode.db import bulk
from gripcode.db.bulk import insert_rows, parameters_per_statement
from gripcode.db.engine import make_engine

_AWKWARD = ["plain", "tab\there", "new\nline", "back\\slash", "quote ' and \"", "\\N", "", "中国 稀土", "Ω\u00a0x",
            "comma, semicolon;", "carriage\r\nreturn"]


def _table(metadata: MetaData, name: str) -> Table:
    return Table(name, metadata, Column("id", Integer, primary_key=True), Column("n", Integer),
                 Column("label", Text), Column("score", Float), Column("note", Text))


def _limit_variables(connection: Connection, limit: int | None) -> None:
    """On SQLite, bound values per statement as a build compiled with that limit would allow."""
    driver = connection.connection.driver_connection
    if limit is not None and connection.dialect.driver == "pysqlite":
        driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)


@pytest.mark.parametrize("limit", [None, 800, 999])
@pytest.mark.parametrize("count", [0, 1, 199, 200, 457])
def test_rows_arrive_as_an_insert_would_store_them(db_url: str, count: int, limit: int | None) -> None:
    """With the default limit all rows go in one statement; with a low one (SQLite before 3.32) in several, the
    last one partial."""
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
            _limit_variables(connection, limit)
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


@pytest.mark.parametrize("limit", [None, 999])
@pytest.mark.parametrize("count", [1, 333, 1000])
def test_constants_reach_every_row(db_url: str, count: int, limit: int | None) -> None:
    """Values the same for every row (``constants``) are stored in each, as if every row had carried them, also
    over several statements and a partial last one."""
    engine = make_engine(db_url)
    metadata = MetaData()
    table = _table(metadata, "bulk_const")
    metadata.drop_all(engine)
    metadata.create_all(engine)
    rows = [(i, _AWKWARD[i % len(_AWKWARD)]) for i in range(count)]
    try:
        with engine.begin() as connection:
            _limit_variables(connection, limit)
            assert insert_rows(connection, "bulk_const", ("n", "label"), rows,
                               {"score": 2.5, "note": "tab\tand 'quote'"}) == count
            insert_rows(connection, "bulk_const", ("n", "label"), [(-1, "last")], {"note": None, "score": None})
        with engine.connect() as connection:
            got = connection.execute(select(table.c.n, table.c.label, table.c.score, table.c.note)
                                     .order_by(table.c.id)).all()
        assert [tuple(row) for row in got] == [(n, label, 2.5, "tab\tand 'quote'") for n, label in rows] + \
            [(-1, "last", None, None)]
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


def test_statements_are_as_long_as_the_connection_allows(db_url: str) -> None:
    """SQLite says how many values a statement may bind (32,766 since 3.32, 999 before, or what a build set); the
    statements use that many, up to SQLite's default. Elsewhere, where COPY is not used, a safe 800."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            if connection.dialect.driver != "pysqlite":
                assert parameters_per_statement(connection) == bulk._SAFE_PARAMETERS
                return
            own = connection.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            assert parameters_per_statement(connection) == min(own, bulk._MAX_PARAMETERS)
            _limit_variables(connection, 999)
            assert parameters_per_statement(connection) == 999
            _limit_variables(connection, 250_000)
            assert parameters_per_statement(connection) == bulk._MAX_PARAMETERS
    finally:
        engine.dispose()


def test_a_few_statement_texts_serve_every_row_count(tmp_path) -> None:
    """Remainders go in statements of a few fixed lengths: a text per row count would fill SQLite's cache of
    prepared statements with large ones (and memory with them)."""
    from sqlalchemy import event

    engine = make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    metadata = MetaData()
    _table(metadata, "bulk_fast")
    metadata.create_all(engine)
    texts: set[str] = set()

    def collect(conn, cursor, statement, *rest) -> None:  # noqa: ANN001, ANN002 - SQLAlchemy's event signature
        if statement.startswith("INSERT"):
            texts.add(statement)

    event.listen(engine, "before_cursor_execute", collect)
    try:
        total = 0
        with engine.begin() as connection:
            _limit_variables(connection, 800)  # 200 rows of 4 values per statement
            for count in range(1, 420, 7):
                total += insert_rows(connection, "bulk_fast", ("n", "label", "score", "note"),
                                     [(i, "x", None, None) for i in range(count)])
            assert connection.execute(select(func.count()).select_from(metadata.tables["bulk_fast"])).scalar() == total
        assert 1 < len(texts) <= 4  # 200, 25, 3 and 1 rows
    finally:
        engine.dispose()
