"""gripcode init | db upgrade|downgrade|current | backup"""

from __future__ import annotations

from pathlib import Path

import click

from gripcode.cli.context import App, pass_app
from gripcode.db import migrate


@click.command("init")
@pass_app
def init(app: App) -> None:
    """Create a new project database at the newest schema (the only command that makes a SQLite file)."""
    engine = app.engine(check_schema=False, create=True)
    where = engine.url.render_as_string(hide_password=True)
    outcome = migrate.init_database(engine)
    click.echo(f"{where} is already a gripcode project" if outcome == "already" else f"Created a gripcode project in {where}")


@click.group("db")
def db_group() -> None:
    """Schema migrations of the project database."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@click.option("--no-backup", is_flag=True, help="Do not copy a SQLite file before upgrading.")
@pass_app
def upgrade(app: App, revision: str, no_backup: bool) -> None:
    """Upgrade the schema to REVISION (default: the newest); an older SQLite file is backed up first."""
    engine = app.engine(check_schema=False)
    before = migrate.current_revision(engine)
    backup = migrate.upgrade(engine, revision, backup=not no_backup)
    if backup:
        click.echo(f"Backed up the database to {backup}")
    click.echo(f"Schema: {before or 'empty'} -> {migrate.current_revision(engine)}")


@db_group.command("downgrade")
@click.argument("revision")
@pass_app
def downgrade(app: App, revision: str) -> None:
    """Downgrade the schema to REVISION ("base" removes every table)."""
    engine = app.engine(check_schema=False)
    before = migrate.current_revision(engine)
    migrate.downgrade(engine, revision)
    click.echo(f"Schema: {before or 'empty'} -> {migrate.current_revision(engine) or 'empty'}")


@db_group.command("current")
@pass_app
def current(app: App) -> None:
    """Show the database's schema revision and the newest one."""
    rev = migrate.current_revision(app.engine(check_schema=False))
    head = migrate.head_revision()
    click.echo(f"{rev or 'empty'} (newest: {head}{', up to date' if rev == head else ''})")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def backup(app: App, file: Path) -> None:
    """Write a consistent copy of the database to FILE (SQLite backup API, or pg_dump)."""
    dest = migrate.backup_database(app.engine(check_schema=False), file)
    click.echo(f"Backed up to {dest}")


COMMANDS = [init, db_group, backup]
