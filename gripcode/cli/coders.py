"""gripcode coder add|list"""

from __future__ import annotations

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option
from gripcode.coding.coders import LIST_COLUMNS, add_coder, list_coders
from gripcode.db.engine import transaction
from gripcode.db.models import CODER_KINDS


@click.group("coder")
def coder_group() -> None:
    """Coders: the people and machine coders that codings and memos are attributed to.

    Whoever runs a coding command (--coder, GRIPCODE_CODER or the login name) is added as a coder on first
    use; machine coders are named rules@<codebook hash> and model@<model hash>.
    """


@coder_group.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(CODER_KINDS),
              help="What kind of coder [default: rules for rules@..., model for model@..., else person].")
@pass_app
def add(app: App, name: str, kind: str | None) -> None:
    """Add a coder NAME before they start coding."""
    with transaction(app.engine()) as session:
        coder = add_coder(session, name, kind, actor=app.coder)
    click.echo(f"Added coder {coder.name} ({coder.kind})")


@coder_group.command("list")
@format_option()
@pass_app
def list_(app: App, fmt: str) -> None:
    """List coders with their numbers of codings and memos and when they first and last worked."""
    with transaction(app.engine(), write=False) as session:
        rows = list_coders(session)
    emit_rows(rows, LIST_COLUMNS, fmt, empty="No coders yet: gripcode coder add NAME")


COMMANDS = [coder_group]
