"""Bulk inserts of plain row tuples, for the tables that take thousands of rows at once (units, suggestions),
and bulk reads of plain values (``fetch_rows``).

SQLAlchemy's executemany processes every parameter of every row in Python; these rows are already in the
column types the driver takes, so they go to the driver directly: through COPY with psycopg 3 (a third of the
time of an INSERT per row), otherwise as multi-row INSERTs. On SQLite a multi-row INSERT is about twice as fast
as executemany, which steps the statement once per row and takes the interpreter lock back after each step;
with a thread storing beside a busy one, those hand-overs cost more than the inserts. So the statements are
as long as the connection allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, DateTime, Table, bindparam, func, select
from sqlalchemy.sql import Select

from gripcode.db.identity import generated_values

T = TypeVar("T")

# Ids per `IN (...)`: far below the bound values a statement may hold (32,766 on SQLite, 65,535 on PostgreSQL).
IDS_PER_STATEMENT = 5_000


def chunks(values: Sequence[T], size: int = IDS_PER_STATEMENT) -> Iterator[Sequence[T]]:
    """``values`` in slices of at most ``size``, for statements with one bound value per id."""
    for i in range(0, len(values), size):
        yield values[i:i + size]


# Bound values per multi-row INSERT where the driver does not say how many a statement may hold: under the 999
# that SQLite builds before 3.32 allow (100 rows of units).
_SAFE_PARAMETERS = 800
# At most this many where it does: SQLite's default limit since 3.32. Fewer, longer statements matter when a
# thread stores beside a busy one: each statement lets go of the interpreter lock and must wait to take it back.
_MAX_PARAMETERS = 32_766


def parameters_per_statement(connection: Connection) -> int:
    """How many values one multi-row INSERT on ``connection`` may bind."""
    driver_connection = connection.connection.driver_connection
    if connection.dialect.driver == "pysqlite" and hasattr(driver_connection, "getlimit"):
        import sqlite3

        return max(1, min(driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), _MAX_PARAMETERS))
    return _SAFE_PARAMETERS


def insert_rows(connection: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]],
                constants: Mapping[str, Any] | None = None, behind: CopyBehind | None = None) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``, each also with the values of
    ``constants`` (column: value, the same for every row); returns how many. With ``behind``, a COPY is sent
    from its thread (see :class:`CopyBehind`)."""
    if not rows:
        return 0
    fixed = dict(constants or {})
    generated = generated_values(table, {*columns, *fixed})
    if generated:
        # Stable identities (and versions) that a column default would give: bulk inserts bypass those.
        columns = [*columns, *(column for column, _ in generated)]
        makers = [make for _, make in generated]
        rows = [(*row, *(make() for make in makers)) for row in rows]
    quoted = ", ".join(f'"{column}"' for column in (*columns, *fixed))
    same = tuple(fixed.values())
    if connection.dialect.driver == "psycopg":
        driver_connection = connection.connection.driver_connection

        def send() -> None:
            with driver_connection.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + same if same else row)

        if behind is not None:
            behind.run(send)
        else:
            send()
        return len(rows)
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    limit = parameters_per_statement(connection)
    if same and connection.dialect.name == "sqlite" and limit >= len(same) + len(columns):
        # A row's own values only; the constants are bound once per statement, in the SELECT list (SQLite
        # numbers its markers before those of the VALUES rows, and names their columns column1, column2, ...).
        # For suggestions that is half the values to bind.
        selected = ", ".join([*(f"column{i + 1}" for i in range(len(columns))), *([marker] * len(same))])
        head = f"INSERT INTO {table} ({quoted}) SELECT {selected} FROM (VALUES "
        tail, width, lead = ")", len(columns), same
    else:
        if same:
            rows = [row + same for row in rows]
        head, tail, width, lead = f"INSERT INTO {table} ({quoted}) VALUES ", "", len(columns) + len(same), ()
    row_marks = f"({', '.join([marker] * width)})"
    step = max(1, (limit - len(lead)) // width)
    done = 0
    while done < len(rows):
        # Full statements of ``step`` rows, then the rest in statements an eighth as long, and so on: a few
        # statement texts in all, where one per remainder would fill the driver's cache of prepared statements
        # (128 on SQLite, each of them large).
        whole = (len(rows) - done) // step * step
        if whole:
            sql = head + ", ".join([row_marks] * step) + tail
            connection.exec_driver_sql(sql, [tuple(chain(lead, chain.from_iterable(rows[i:i + step])))
                                             for i in range(done, done + whole, step)])
            done += whole
        step = max(1, step // 8)
    return len(rows)


def fetch_rows(connection: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as the driver returns them. SQLAlchemy builds a Row object for every row, which
    costs more than the query when a read returns hundreds of thousands of ids and offsets; for such reads of
    plain values (integers, text) the compiled statement goes to the driver's cursor instead."""
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    arguments: Any = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(compiled.string, arguments)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def values_present(connection: Connection, column: Column[Any], values: Sequence[Any]) -> set[Any]:
    """Which of ``values`` (as the driver takes them: text, numbers) the ``column`` holds. The statements go to
    the driver as they are: SQLAlchemy renders an ``IN`` list parameter by parameter, which took longer than the
    look-ups themselves (200,000 GUIDs: 0.4 s on SQLite against 0.1 s, 3 s on PostgreSQL). On PostgreSQL the
    values are bound as one array (``= ANY``), elsewhere as ``IN`` lists of ``IDS_PER_STATEMENT``."""
    if not values:
        return set()
    head = f'SELECT "{column.name}" FROM {column.table.name} WHERE "{column.name}"'
    if connection.dialect.driver == "psycopg":
        return set(connection.exec_driver_sql(f"{head} = ANY(%(values)s)", {"values": list(values)}).scalars())
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    found: set[Any] = set()
    for part in chunks(values):
        found.update(connection.exec_driver_sql(f"{head} IN ({', '.join([marker] * len(part))})",
                                                tuple(part)).scalars())
    return found


def insert_numbered(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` (mappings with the same keys, every column without a database default among them: column
    defaults set in Python are not applied) and return their ids in order.

    On SQLite the ids are given here, following the largest one, as SQLite itself would: a write transaction
    holds the database's write lock, so nobody numbers rows in between, and the rows then go as multi-row
    INSERTs (``insert_rows``) with their values bound as the columns' types bind them; SQLite would otherwise
    need an INSERT ... RETURNING per row to report ids in order. Elsewhere: INSERT ... RETURNING in order."""
    if not rows:
        return []
    if connection.dialect.name != "sqlite":
        return list(connection.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True),
                                       list(rows)).scalars().all())
    rows = _with_defaults(connection, table, rows)
    columns = list(rows[0])
    dialect = connection.dialect
    processors = [_remembered(process) if _is_timestamp(table.c[column].type) else process
                  for column in columns
                  for process in [table.c[column].type.dialect_impl(dialect).bind_processor(dialect)]]
    first = (connection.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    ids = list(range(first, first + len(rows)))
    processed = [(place + 1, process) for place, process in enumerate(processors) if process is not None]
    values: list[tuple[Any, ...]] = []
    for number, row in zip(ids, rows):
        value = [number, *(row[column] for column in columns)]
        for place, process in processed:  # only the columns whose type changes the value (timestamps, JSON)
            if value[place] is not None:
                value[place] = process(value[place])
        values.append(tuple(value))
    insert_rows(connection, table.name, ["id", *columns], values)
    return ids


def insert_numbered_rows(connection: Connection, table: Table, columns: Sequence[str],
                         rows: Sequence[tuple[Any, ...]], constants: Mapping[str, Any] | None = None,
                         behind: CopyBehind | None = None) -> list[int]:
    """Insert ``rows`` (tuples of Python values in the order of ``columns``, each also with the values of
    ``constants``) into ``table`` and return their ids in order: :func:`insert_numbered` for rows as tuples, where
    a dictionary per row (and a column default called per row) cost more than the insert. Every column without a
    database default is given (column defaults set in Python are not applied; a GUID or version left out is
    generated as by ``insert_rows``). Values are bound as the columns' types bind them (a timestamp processed once
    per distinct value).

    On SQLite the ids follow the largest one (see :func:`insert_numbered`); on PostgreSQL they are drawn from the
    id column's sequence in one statement, sorted, and the rows go by COPY with them, where INSERT ... RETURNING
    sends every row's values through SQLAlchemy and a statement per page of rows; with ``behind``, that COPY
    is sent from its thread (:class:`CopyBehind`) and the ids are returned before it ends."""
    if not rows:
        return []
    dialect = connection.dialect
    if dialect.name != "sqlite" and dialect.driver != "psycopg":
        names = [*columns, *(constants or {})]
        same = tuple((constants or {}).values())
        return insert_numbered(connection, table, [dict(zip(names, (*row, *same))) for row in rows])
    processors = [_processor(table, column, dialect) for column in columns]
    fixed = {column: value if value is None or (process := _processor(table, column, dialect)) is None
             else process(value) for column, value in (constants or {}).items()}
    if dialect.name == "sqlite":
        first = (connection.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        ids = list(range(first, first + len(rows)))
    else:
        sequence = connection.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table.name}', 'id')").scalar()
        ids = sorted(connection.exec_driver_sql("SELECT nextval(%(s)s::regclass) FROM generate_series(1, %(n)s)",
                                                {"s": sequence, "n": len(rows)}).scalars().all())
    processed = [(place + 1, process) for place, process in enumerate(processors) if process is not None]
    if processed:
        values: list[tuple[Any, ...]] = []
        for number, row in zip(ids, rows):
            value = [number, *row]
            for place, process in processed:  # only the columns whose type changes the value (timestamps, JSON)
                if value[place] is not None:
                    value[place] = process(value[place])
            values.append(tuple(value))
    else:
        values = [(number, *row) for number, row in zip(ids, rows)]
    insert_rows(connection, table.name, ["id", *columns], values, fixed, behind)
    return ids


class CopyBehind:
    """COPY statements sent from a thread of their own while the caller goes on with work that needs no
    database, such as reading and placing the next batch of rows (PostgreSQL; on other backends ``run`` runs
    the insert at once). The server's part of a COPY (checking every row, growing every index) is most of the
    time of a bulk insert, and the client would otherwise wait for it idle. One COPY at a time, on the
    caller's connection and in its transaction: ``wait`` (which raises the COPY's error, if it failed) before
    the connection is used for anything else. Leaving the block waits too; when the block fails, the COPY is
    waited for (its own error dropped) before the failure goes on to the rollback."""

    def __init__(self, connection: Connection) -> None:
        self.threaded = connection.dialect.driver == "psycopg"
        self._pool: Any = None
        self._pending: Any = None

    def run(self, send: Callable[[], None]) -> None:
        if not self.threaded:
            send()
            return
        self.wait()
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="gripcode-copy")
        self._pending = self._pool.submit(send)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> CopyBehind:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                self.wait()
            else:
                with suppress(Exception):
                    self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)


def _processor(table: Table, column: str, dialect: Any) -> Callable[[Any], Any] | None:
    """How the column's type binds a value on ``dialect`` (None: as it is); a timestamp's, once per value."""
    kind = table.c[column].type
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    return _remembered(process) if _is_timestamp(kind) else process


class _DefaultContext:
    """What a context-sensitive column default asks of SQLAlchemy's execution context."""

    def __init__(self, connection: Connection, column: Any, row: Mapping[str, Any]) -> None:
        self.connection, self.current_column, self._row = connection, column, row

    def get_current_parameters(self) -> Mapping[str, Any]:
        return self._row


def _with_defaults(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
                   ) -> Sequence[Mapping[str, Any]]:
    """``rows`` with the Python-side defaults of the columns they leave out that have one which cannot be
    skipped (a NOT NULL column without a server default: stable identities), as an INSERT through SQLAlchemy
    would give them."""
    given = set(rows[0])
    missing = [c for c in table.columns if c.name not in given and c.default is not None and not c.nullable
               and c.server_default is None and not c.primary_key and c.name in ("refi_guid", "version")]
    if not missing:
        return rows
    filled = []
    for row in rows:
        values = dict(row)
        for column in missing:
            default = column.default
            values[column.name] = (default.arg(_DefaultContext(connection, column, values))  # type: ignore[union-attr]
                                   if default.is_callable else default.arg)  # type: ignore[union-attr]
        filled.append(values)
    return filled


def _is_timestamp(kind: Any) -> bool:
    return isinstance(kind, DateTime) or isinstance(getattr(kind, "impl", None), DateTime)


def _remembered(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``process`` for a column of timestamps, each distinct value processed once: rows imported together
    share a few timestamps, and SQLite's processor formats each one in Python."""
    if process is None:
        return None
    done: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        found = done.get(value, done)
        if found is done:
            found = done[value] = process(value)
        return found

    return remembered


def set_text_by_id(connection: Connection, table: Table, column: str, pairs: Sequence[tuple[int, str]]) -> None:
    """Set the text ``column`` of the rows of ``table`` with the given ids (``(id, value)`` pairs). On
    PostgreSQL the pairs go by COPY into a temporary table and one UPDATE ... FROM sets them all, where an
    UPDATE per row costs a round trip each; elsewhere one executemany."""
    if not pairs:
        return
    if connection.dialect.driver == "psycopg":
        staged = f"gripcode_set_{table.name}_{column}"
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {staged} (id integer PRIMARY KEY, value text) "
                                   "ON COMMIT DROP")
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {staged} (id, value) FROM STDIN") as copy:
                for pair in pairs:
                    copy.write_row(pair)
        connection.exec_driver_sql(f'UPDATE {table.name} SET "{column}" = {staged}.value FROM {staged} '
                                   f"WHERE {table.name}.id = {staged}.id")
        connection.exec_driver_sql(f"DROP TABLE {staged}")
        return
    connection.execute(table.update().where(table.c.id == bindparam("row_id")).values({column: bindparam("value")}),
                       [{"row_id": row_id, "value": value} for row_id, value in pairs])


# Pages SQLite may keep in memory while a bulk import writes (KiB): its default, 2 MiB, holds a fraction of a
# unique index on random GUIDs (200,000 codings: 10 MiB), so that most inserts read and spill one of its pages.
BULK_CACHE_KIB = 32 * 1024


@contextmanager
def bulk_cache(connection: Connection, kib: int = BULK_CACHE_KIB) -> Iterator[None]:
    """Within the block, SQLite may keep up to ``kib`` KiB of pages in memory (unless its cache is as large
    already), and afterwards its cache size is as it was; nothing on other backends. Only the memory used and
    the time taken change, never what is stored."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    if before is None or (-before if before < 0 else before * 4) >= kib:  # (positive: pages, of 4 KiB or more)
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    except BaseException:
        # The block's error is what matters: a connection too broken to take the pragma is discarded anyway.
        with suppress(Exception):
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")
        raise
    connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


# Rows a write must have added before the planner's statistics are refreshed after it.
ANALYZE_AFTER_ROWS = 1_000
# Where a write notes the tables whose statistics to refresh once it commits (see ``db/engine.transaction``).
PENDING_ANALYZE = "gripcode.analyze"


def refresh_statistics(connection: Connection, rows: int, *tables: Table) -> None:
    """After a bulk write of ``rows`` rows, PostgreSQL's statistics of ``tables`` are refreshed (``ANALYZE``)
    once the write commits, by :func:`gripcode.db.engine.transaction`: outside the write's transaction, so that
    the lock ANALYZE takes does not make a concurrent import wait for this one to end. Without them the planner
    took a table just filled with two million codings for an empty one, and read it whole for every batch of
    documents that co-occurrence, agreement and the exporters ask for, until autovacuum (off on some servers, a
    minute late on others) analysed it. SQLite's planner keeps no such statistics unless asked."""
    if rows < ANALYZE_AFTER_ROWS or connection.dialect.name != "postgresql":
        return
    connection.info.setdefault(PENDING_ANALYZE, set()).update(table.name for table in tables)


# Rows from which a load into an empty PostgreSQL table may check its foreign keys once, after it.
CHECK_KEYS_ONCE_FROM = 50_000
# How long the load waits for the locks that dropping the keys takes before it checks row by row instead.
KEY_LOCK_WAIT = "1s"
# Lock not available (lock_timeout), deadlock detected: the load goes on checking row by row.
_LOCK_STATES = {"55P03", "40P01"}


@contextmanager
def foreign_keys_checked_once(connection: Connection, table: Table, rows: int) -> Iterator[bool]:
    """A load of ``rows`` rows into ``table`` inside the block has its foreign keys checked once, when the block
    ends, instead of row by row: on PostgreSQL, when the load is large (``CHECK_KEYS_ONCE_FROM``), the table is
    empty, and this connection's role owns the table and the tables its keys refer to. Yields whether it does.

    PostgreSQL checks a foreign key with a query per inserted row (an internal trigger); for 200,000 codings and
    their four keys that was a third of the time of an ``import qdpx`` (4.7 s of 14 s). The keys are dropped in
    the caller's transaction and made again as they were (``pg_get_constraintdef``) at the end of the block,
    which checks every row in one join per key: what PostgreSQL's manual advises for loading a table
    ("Populating a Database") and what ``pg_restore`` does. Nothing changes for others until the commit; a
    failure anywhere rolls the drop back with the rest (the caller's transaction must roll back when the block
    fails); a row that breaks a key fails the block as it would have failed its insert.

    Dropping a key locks the table and the tables it refers to against every other session, readers included,
    until the transaction ends. That is why callers use it only where nobody has anything to read yet (a
    project made from a .qdpx file: ``import qdpx`` into a project without documents), never for loads into a
    project people work in; and when another session holds one of those tables even so, the block waits at most
    ``KEY_LOCK_WAIT`` and then checks row by row. On SQLite, rows are checked as they are inserted (in this
    process, cheaply)."""
    if connection.dialect.driver != "psycopg" or rows < CHECK_KEYS_ONCE_FROM:
        yield False
        return
    name = table.name
    keys = connection.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %(t)s::regclass "
        "AND contype = 'f' ORDER BY conname", {"t": name}).all()
    # Only a table's owner may drop its keys (and make them again on the tables they refer to).
    owned = connection.exec_driver_sql(
        "SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c WHERE c.oid = %(t)s::regclass "
        "OR c.oid IN (SELECT confrelid FROM pg_constraint WHERE conrelid = %(t)s::regclass AND contype = 'f')",
        {"t": name}).scalar()
    empty = connection.exec_driver_sql(f'SELECT NOT EXISTS (SELECT 1 FROM "{name}")').scalar()
    if not keys or not owned or not empty or not _drop_keys(connection, name, [key for key, _ in keys]):
        yield False
        return
    yield True
    for key, definition in keys:
        connection.exec_driver_sql(f'ALTER TABLE "{name}" ADD CONSTRAINT "{key}" {definition}')


def _drop_keys(connection: Connection, table: str, keys: list[str]) -> bool:
    """Drop ``keys`` of ``table`` if their locks come within ``KEY_LOCK_WAIT``; else leave them, and the
    transaction as it was (a savepoint)."""
    from sqlalchemy.exc import OperationalError

    waited = connection.exec_driver_sql("SELECT current_setting('lock_timeout')").scalar()
    connection.exec_driver_sql("SAVEPOINT gripcode_keys")
    try:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{KEY_LOCK_WAIT}'")
        for key in keys:
            connection.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{key}"')
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) not in _LOCK_STATES:
            raise
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT gripcode_keys")  # the lock wait is undone with it
        connection.exec_driver_sql("RELEASE SAVEPOINT gripcode_keys")
        return False
    connection.exec_driver_sql("SELECT set_config('lock_timeout', %(v)s, true)", {"v": waited})
    connection.exec_driver_sql("RELEASE SAVEPOINT gripcode_keys")
    return True
