"""The ``gripcode`` command: global options, and the one place errors become ``Error: ...`` and exit 1."""

from __future__ import annotations

import gc
import importlib
import shlex
import sys
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from gripcode import __version__
from gripcode.cli.context import App
from gripcode.config import load_settings
from gripcode.errors import GripcodeError


class GripGroup(click.Group):
    """Every failure a user can cause exits 1 with ``Error: ...``; usage errors too (click's default is 2).

    Commands load on first use (``LAZY_COMMANDS``).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            command = _load(cmd_name)
            if command is not None:
                self.add_command(command)
        return command

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        try:
            rv = super().main(argv, prog_name or "gripcode", complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.NoSuchOption as exc:
            hint = _global_option_hint(exc, argv)
            if hint is None:
                exc.show()
            else:
                click.echo(f"Error: {hint}", err=True)
            code = 1
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
    if _OWN_PROCESS:
        # The command and the modules it needs are loaded by now and live until exit: leaving them out of the
        # cyclic garbage collector's passes saves a tenth of a second or more on a large import or autocode run.
        gc.freeze()
    app = App(load_settings(db=db, coder=coder))
    ctx.obj = app
    ctx.call_on_close(app.close)


# The options of the `gripcode` group itself, which must come before the command's name.
GLOBAL_OPTIONS = ("--db", "--coder")


def _global_option_hint(exc: click.NoSuchOption, argv: list[str]) -> str | None:
    """For `gripcode code add ... --coder ben`: the command written the right way round, since --db and --coder
    belong to `gripcode` itself. None for any other unknown option, and for a misplaced option without its value
    (the right way round would still be wrong), so click's own error stands."""
    name = exc.option_name.split("=", 1)[0]
    if name not in GLOBAL_OPTIONS or exc.ctx is None or exc.ctx.parent is None:
        return None
    moved: list[str] = []
    rest: list[str] = []
    position = 0
    # Only the misplaced options are moved; whatever comes before the command's name stays where it is.
    command_start = _command_position(argv)
    given_before = {arg.split("=", 1)[0] for arg in argv[:command_start] if arg.split("=", 1)[0] in GLOBAL_OPTIONS}
    moved_names: list[str] = []
    while position < len(argv):
        arg = argv[position]
        option = arg.split("=", 1)[0]
        if position >= command_start and option in GLOBAL_OPTIONS:
            taken = 1 if "=" in arg else 2
            if taken == 2 and (position + 1 >= len(argv) or argv[position + 1].split("=", 1)[0] in GLOBAL_OPTIONS):
                return None
            moved += argv[position:position + taken]
            moved_names.append(option)
            position += taken
            continue
        rest.append(arg)
        position += 1
    twice = [option for option in GLOBAL_OPTIONS
             if option in moved_names and (option in given_before or moved_names.count(option) > 1)]
    if twice:
        # Moving it would give the option twice, and which value should win is the user's call, not ours.
        return (f"{twice[0]} is given twice; it is an option of gripcode itself, so give it once, "
                "before the command")
    fixed = shlex.join(["gripcode", *rest[:command_start], *moved, *rest[command_start:]])
    return (f"{name} is an option of gripcode itself, so it goes before the command: {fixed}")


def _command_position(argv: list[str]) -> int:
    """Where the command's name is in the arguments: after gripcode's own options and their values."""
    position = 0
    while position < len(argv) and argv[position].startswith("-"):
        position += 2 if argv[position] in GLOBAL_OPTIONS else 1
    return min(position, len(argv))


# Each command's module: a command loads only its own module (and what that needs), so a command does not pay
# for the imports of every other one at start-up. `tests/test_cli_foundation.py` keeps this equal to the
# COMMANDS lists of the modules.
LAZY_COMMANDS = {
    "agreement": "agreement", "autocode": "autocode", "backup": "database", "case": "cases", "check": "integrity",
    "code": "coding", "codebook": "codebook", "coder": "coders", "codings": "coding", "compare": "analysis",
    "copy-for": "team", "merge": "team",
    "cooccur": "analysis", "db": "database", "demo": "demo", "docs": "documents", "export": "exchange",
    "import": "imports", "init": "database", "llm": "llm", "log": "integrity", "matrix": "analysis",
    "memo": "memos", "model": "model", "pseudonymise": "privacy", "retrieve": "analysis", "review": "review",
    "show": "documents",
    "stats": "documents", "validate": "validate", "workbench": "workbench",
    "round": "rounds",
}


def _load(name: str) -> click.Command | None:
    module_name = LAZY_COMMANDS.get(name)
    if module_name is None:
        return None
    module = importlib.import_module(f"gripcode.cli.{module_name}")
    for command in module.COMMANDS:
        if command.name == name:
            return command
    return None


# True when the process is the `gripcode` program itself, not a caller of `cli` (tests, scripts).
_OWN_PROCESS = False


def main() -> None:
    """The `gripcode` program."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    try:
        cli.main(prog_name="gripcode")
    finally:
        # The interpreter's last collection visits every object still alive; nothing here needs it.
        gc.freeze()
