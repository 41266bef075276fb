"""gripcode export qdpx (REFI-QDA projects); `import qdpx` lives with the import group in imports.py."""

from __future__ import annotations

from pathlib import Path

import click

from gripcode.cli.context import App, pass_app
from gripcode.db.engine import transaction


@click.group("export")
def export_group() -> None:
    """Export the project for other programs (REFI-QDA .qdpx)."""


@export_group.command("qdpx")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--include-suggestions", is_flag=True,
              help="Also write suggestions waiting for review (default: only accepted codings).")
@click.option("--name", help="The project's name in the file (default: the codebook's name).")
@pass_app
def export_qdpx_command(app: App, file: Path, include_suggestions: bool, name: str | None) -> None:
    """Write the project as a REFI-QDA project FILE (.qdpx) for NVivo, ATLAS.ti, MAXQDA or QualCoder.

    Carries coders, the codebook, cases with their attributes, document texts, codings and memos. Positions
    are code points of the UTF-8 texts in the archive. GUIDs given to objects are stored, so exporting again
    gives the same file. See gripcode/docs/refi-qda.md for what other programs keep.
    """
    from gripcode.exchange import export_qdpx

    with transaction(app.engine()) as session:
        report = export_qdpx(session, file, include_suggestions=include_suggestions, name=name)
    statuses = " and ".join(report.statuses)
    click.echo(f"Wrote {file}: {report.documents} document(s), {report.codes} code(s), {report.codings} coding(s) "
               f"({statuses}) in {report.selections} selection(s), {report.cases} case(s), {report.users} user(s), "
               f"{report.notes} note(s)")
    if report.guids_assigned:
        click.echo(f"Stored {report.guids_assigned} new GUID(s), so the next export keeps them.")
    if report.memos_left_out:
        click.echo(f"Left out {report.memos_left_out} memo(s) on codings that were not exported.")


COMMANDS = [export_group]
