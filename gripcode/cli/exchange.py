"""gripcode export qdpx | gripcode import qdpx (REFI-QDA projects)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
import click

from gripcode.cli import imports
from gripcode.cli.context import App, pass_app
from gripcode.cli.output import to_json
from gripcode.db.engine import transaction

_ORIGIN_CHOICES = ["auto", "gripcode", "qualcoder", "maxqda", "nvivo", "atlasti"]
_TOOL_NAMES = {"nvivo": "NVivo", "atlasti": "ATLAS.ti", "maxqda": "MAXQDA", "qualcoder": "QualCoder",
               "gripcode": "gripcode", "unknown": "an unnamed program"}


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


def _print_import(report: Any) -> None:
    how = "as given" if report.origin_given else "from the file"
    click.echo(f"Read {report.file} (written by {_TOOL_NAMES.get(report.origin, report.origin)}, {how})")
    click.echo(f"documents: {len(report.documents_added)} added, {len(report.documents_reused)} already in the "
               "project (their codings attached to them)")
    version = f" as codebook version {report.codebook_version}" if report.codebook_version else ""
    click.echo(f"codes: {len(report.codes_added)} added{version}, {report.codes_reused} already in the project")
    click.echo(f"cases: {len(report.cases_added)} added, {len(report.cases_reused)} already in the project"
               + (" (from sets of sources)" if report.cases_from_sets else ""))
    click.echo(f"coders: {len(report.coders_added)} added" + (f" ({', '.join(report.coders_added)})"
                                                             if report.coders_added else ""))
    whole = f", {report.codings_whole_source} of them on whole sources" if report.codings_whole_source else ""
    click.echo(f"codings: {report.codings_added} added{whole}, {report.codings_present} already present")
    click.echo(f"memos: {report.memos_added} added, {report.memos_present} already present")
    if report.placed_by:
        click.echo("positions: " + "; ".join(f"{n} selection(s) counted in {label}"
                                             for label, n in report.placed_by.most_common()))
        confirmed = [(how_, n) for how_, n in report.confirmed_by.most_common() if how_ != "unconfirmed"]
        if confirmed:
            click.echo("  confirmed by " + ", ".join(f"{how_}: {n}" for how_, n in confirmed))
        if report.confirmed_by["unconfirmed"]:
            click.echo(f"  {report.confirmed_by['unconfirmed']} placed without confirmation (no name to compare, "
                       "not on word boundaries under any convention), e.g.:")
            for example in report.unconfirmed_examples:
                click.echo(f"    {example}")
    if report.unplaced:
        click.echo(f"not placed: {report.unplaced} selection(s) could not be placed and were not imported, e.g.:")
        for example in report.unplaced_examples:
            click.echo(f"  {example}")
    if report.non_text:
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(report.non_text.items()))
        click.echo(f"not text: {listed} not imported ({report.non_text_codings} coding(s) on them)")
    for line in report.sources_without_text:
        click.echo(f"no text: {line}")
    for line in report.warnings:
        click.echo(f"note: {line}")


@imports.import_group.command("qdpx")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--origin", type=click.Choice(_ORIGIN_CHOICES), default="auto", show_default=True,
              help="The program that wrote FILE; decides how positions are counted first (auto: from the file).")
@click.option("--sets-as-cases", is_flag=True,
              help="Make sets of sources cases even when the file has cases (without cases they always are).")
@click.option("--lang", "language", default="en", show_default=True,
              help="Language of documents whose language the file does not give.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
def import_qdpx_command(app: App, file: Path, origin: str, sets_as_cases: bool, language: str, as_json: bool) -> None:
    """Import a REFI-QDA project FILE (.qdpx from NVivo, ATLAS.ti, MAXQDA, QualCoder or gripcode), in one
    transaction, into this project, empty or not.

    Documents already in the project (same text) are reused, codes with the same GUID are reused and new ones
    synced as a codebook version, coders are matched by name. Codings are stored as accepted, origin import.
    Selections whose place cannot be confirmed, and selections or sources that are not text, are reported.
    """
    from gripcode.exchange import import_qdpx

    with transaction(app.engine()) as session:
        report = import_qdpx(session, file, actor=app.coder, origin=origin, sets_as_cases=sets_as_cases,
                             language=language)
    if as_json:
        click.echo(to_json(report.as_dict()))
        return
    _print_import(report)


COMMANDS = [export_group]
