"""The ``gripcode`` command: global options, and the one place errors become ``Error: ...`` and exit 1."""

from __future__ import annotations

import sys
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from gripcode import __version__
from gripcode.cli.context import App
from gripcode.config import load_settings
from gripcode.errors import GripcodeError


class GripGroup(click.Group):
    """Every failure a user can cause exits 1 with ``Error: ...``; usage errors too (click's default is 2)."""

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name or "gripcode", complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.ClickException as exc:
            exc.show()
            code = 1
        except click.Abort:
            click.echo("Aborted!", err=True)
            code = 1
        except GripcodeError as exc:
            click.echo(f"Error: {exc}", err=True)
            code = 1
        except OperationalError as exc:
            click.echo(f"Error: the database could not be used: {exc.orig}", err=True)
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=GripGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", envvar="GRIPCODE_DB", metavar="URL",
              help="Database URL or SQLite file [env GRIPCODE_DB; default sqlite:///gripcode.db].")
@click.option("--coder", envvar="GRIPCODE_CODER", metavar="NAME",
              help="Who is working [env GRIPCODE_CODER; default your login name].")
@click.version_option(__version__, prog_name="gripcode")
@click.pass_context
def cli(ctx: click.Context, db: str | None, coder: str | None) -> None:
    """gripcode: qualitative coding for comparative research.

    Import documents per case, code them against a YAML codebook, check agreement and export
    cross-case tables. Start with `gripcode demo`.
    """
    app = App(load_settings(db=db, coder=coder))
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    from gripcode.cli import (
        agreement, analysis, autocode, cases, codebook, coders, coding, database, demo, documents, exchange, imports, integrity, memos,
        model, review,
    )

    for module in (cases, codebook, database, demo, documents, imports, coding, coders, memos, integrity, autocode,
                   review, model, agreement, analysis, exchange):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    cli.main(prog_name="gripcode")
