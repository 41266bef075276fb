"""gripcode init | db upgrade|downgrade|current | backup"""

from __future__ import annotations

from pathlib import Path

import click

from gripcode.cli.context import App, pass_app
from gripcode.db import migrate
from gripcode.db.engine import sqlite_path


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
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--no-backup", is_flag=True, help="Do not copy a SQLite file before downgrading.")
@pass_app
def downgrade(app: App, revision: str, yes: bool, no_backup: bool) -> None:
    """Downgrade the schema to REVISION ("base" removes every table); a SQLite file is backed up first.

    A downgrade drops the tables and columns of later schemas with their data, so it asks first.
    """
    engine = app.engine(check_schema=False)
    where = engine.url.render_as_string(hide_password=True)
    before = migrate.current_revision(engine)
    if before is None:
        click.echo(f"{where} has no gripcode schema; nothing to downgrade.")
        return
    migrate.downgrade_steps(revision, before)  # an unknown revision is an error before the question
    if not yes:
        if sqlite_path(engine) is None or no_backup:
            copy = "No copy is made first (`gripcode backup FILE` makes one)."
        else:
            copy = "A copy of the file is made first."
        click.confirm(f"Downgrade {where} from schema {before} to {revision}? Tables and columns of the later "
                      f"schemas are dropped with their data. {copy} Continue?", abort=True)
    backup = migrate.downgrade(engine, revision, backup=not no_backup)
    if backup:
        click.echo(f"Backed up the database to {backup}")
    click.echo(f"Schema: {before} -> {migrate.current_revision(engine) or 'empty'}")


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
