"""gripcode case add|set|list"""

from __future__ import annotations

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option
from gripcode.corpus.cases import add_case, list_cases, update_case
from gripcode.db.engine import transaction

ATTR_HELP = "An attribute key=value (number, yyyy-mm-dd date or text); key:number=... forces a type. Repeatable."


@click.group("case")
def case_group() -> None:
    """Cases: the units of comparison (countries, firms), with typed attributes."""


@case_group.command("add")
@click.argument("name")
@click.option("--attr", "attrs", multiple=True, metavar="KEY=VALUE", help=ATTR_HELP)
@click.option("--description", help="A sentence on what the case is.")
@pass_app
def add(app: App, name: str, attrs: tuple[str, ...], description: str | None) -> None:
    """Add a case NAME."""
    with transaction(app.engine()) as session:
        add_case(session, name, list(attrs), app.coder, description)
    click.echo(f"Added case {name}" + (f" with {len(attrs)} attribute(s)" if attrs else ""))


@case_group.command("set")
@click.argument("name")
@click.option("--attr", "attrs", multiple=True, required=True, metavar="KEY=VALUE", help=ATTR_HELP)
@pass_app
def set_(app: App, name: str, attrs: tuple[str, ...]) -> None:
    """Set or change attributes of case NAME."""
    with transaction(app.engine()) as session:
        update_case(session, name, list(attrs), app.coder)
    click.echo(f"Updated case {name}")


@case_group.command("list")
@format_option()
@pass_app
def list_(app: App, fmt: str) -> None:
    """List cases with their attributes and document counts."""
    with transaction(app.engine(), write=False) as session:
        rows = list_cases(session)
    emit_rows(rows, ["case", "documents", "attributes"], fmt, empty="No cases yet: gripcode case add NAME")


COMMANDS = [case_group]
