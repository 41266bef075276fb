"""gripcode copy-for | merge: coders' copies of a project and their work merged back."""

from __future__ import annotations

from pathlib import Path

import click

from gripcode.cli.context import App, pass_app
from gripcode.db.engine import transaction


@click.command("copy-for")
@click.argument("coder")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--docs", "docs", multiple=True, metavar="DOC[,DOC...]",
              help="Only these documents (ids or titles; repeat or separate with commas).")
@click.option("--case", "cases", multiple=True, metavar="NAME", help="Only the documents of case NAME (repeatable).")
@click.option("--blind", is_flag=True, help="Leave out the codings and memos so far (independent coding).")
@pass_app
def copy_for(app: App, coder: str, out: Path, docs: tuple[str, ...], cases: tuple[str, ...], blind: bool) -> None:
    """Write a new SQLite project OUT for CODER to work on alone: the chosen documents (default: all), the
    codebook, the coders and, unless --blind, the codings and memos so far, with the same identities as here.
    Bring the work back with `gripcode merge OUT`."""
    from gripcode.team.copy import copy_for as make_copy

    report = make_copy(app.engine(), coder, out, actor=app.coder, docs=docs, cases=cases, blind=blind)
    counts = report.counts
    click.echo(f"Wrote {out} for {report.coder}: {counts.get('documents', 0)} document(s), "
               f"{counts.get('codes', 0)} code(s), {counts.get('codings', 0)} coding(s), "
               f"{counts.get('memos', 0)} memo(s)" + (" (blind: no codings or memos)" if blind else ""))
    click.echo(f"{report.coder} works with: gripcode --db {out} --coder {report.coder} ...")


@click.command("merge")
@click.argument("other", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would change and write nothing.")
@pass_app
def merge(app: App, other: Path, dry_run: bool) -> None:
    """Bring the work in OTHER (a coder's copy, another gripcode project, or a .qdpx) into this project, in one
    transaction: new codings, edits and removals, memos, review decisions and new documents, matched by
    identity. Conflicts (the same coding changed in both) are listed and left as they are here."""
    from gripcode.team.merge import merge_project

    with transaction(app.engine(), write=not dry_run) as session:
        report = merge_project(session, other, actor=app.coder, dry_run=dry_run)
        if dry_run:
            session.rollback()
    origin = report.copied_from
    head = f"Merge of {other}" + (f" (copy for {origin.get('coder')} made {origin.get('made_at')})"
                                   if isinstance(origin, dict) else "")
    click.echo(head + (": dry run, nothing was written" if dry_run else ""))
    shown = report.lines if dry_run else [line for line in report.lines if line.startswith(("!", "note:"))]
    for line in shown:
        click.echo(f"  {line}")
    counts = {k: v for k, v in report.counts.items() if v}
    summary = ", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing new"
    click.echo(("Would change: " if dry_run else "Merged: ") + summary)
    if report.conflicts:
        click.echo(f"{len(report.conflicts)} conflict(s) left as they are here; resolve them by hand and merge again.")


COMMANDS = [copy_for, merge]
