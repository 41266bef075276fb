"""Alembic environment for gripcode.

gripcode calls Alembic programmatically (``gripcode.db.migrate``) and hands over its own connection in
``config.attributes["connection"]``; running ``alembic`` by hand with ``-x db=URL`` works too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from gripcode.db.engine import make_engine
from gripcode.db.models import Base, UTCDateTime

target_metadata = Base.metadata


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Keep migration scripts free of gripcode imports: UTCDateTime is a plain timezone-aware DateTime.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("db") or context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("gripcode migrations run online only: pass -x db=URL")
run_migrations_online()
