"""gripcode docs list | show | stats"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option, render_table, to_json
from gripcode.corpus.origin import describe_origin
from gripcode.corpus.documents import find_document, list_documents, paragraphs, project_stats
from gripcode.coding.views import document_view
from gripcode.db.engine import transaction
from gripcode.export.document_view import render_html, render_terminal
from gripcode.export.files import write_output
from gripcode.db.models import COUNTED_STATUSES, DOCUMENT_KINDS
from gripcode.errors import GripcodeError


@click.group("docs")
def docs_group() -> None:
    """Documents in the project."""


@docs_group.command("list")
@click.option("--case", help="Only this case.")
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS), help="Only this kind.")
@click.option("--lang", "language", help="Only this language.")
@format_option()
@pass_app
def list_(app: App, case: str | None, kind: str | None, language: str | None, fmt: str) -> None:
    """List documents."""
    with transaction(app.engine(), write=False) as session:
        rows = list_documents(session, case, kind, language)
    emit_rows(rows, ["id", "title", "case", "kind", "language", "date", "words", "file", "source", "origin"], fmt,
              empty="No documents match.")


@click.command("show")
@click.argument("doc")
@click.option("--codes", is_flag=True, help="Highlight coded passages and list the codes of each paragraph.")
@click.option("--format", "fmt", type=click.Choice(["text", "html"]), default="text", show_default=True,
              help="html writes a standalone page (needs -o).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File for --format html.")
@click.option("--coder", "coders", multiple=True, help="Only this coder's codings (repeatable).")
@click.option("--suggestions", is_flag=True, help="Also show suggestions waiting for review.")
@click.option("--color/--no-color", default=None, help="Colours in the terminal [default: when it is a terminal].")
@pass_app
def show(app: App, doc: str, codes: bool, fmt: str, output: Path | None, coders: tuple[str, ...],
         suggestions: bool, color: bool | None) -> None:
    """Print document DOC (an id or a unique title) with paragraph numbers, optionally with its codings."""
    if fmt == "html" and output is None:
        raise click.UsageError("--format html needs -o FILE")
    from gripcode.team.rounds_access import blind_documents

    statuses = (*COUNTED_STATUSES, "suggested") if suggestions else COUNTED_STATUSES
    with transaction(app.engine(), write=False) as session:
        document = find_document(session, doc)
        round_name = blind_documents(session, app.coder, [document.id]).get(document.id)
        blind_for = app.coder if round_name is not None else None
        if blind_for is not None and set(coders) - {app.coder}:
            raise GripcodeError(f"document {document.id} is in round {round_name}, open, in which {app.coder} codes "
                                "blind: only your own codings are shown until the round is closed")
        case = document.case.name if document.case else "-"
        meta = (f"{document.kind}, case {case}, {document.language}, {document.date or 'no date'}, "
                f"{document.word_count} words")
        origin = describe_origin(document.original_name, document.source, document.date, document.meta)
        if fmt == "html" or codes:
            view = document_view(session, document, statuses=statuses, coders=coders, blind_for=blind_for)
        else:
            numbered = paragraphs(session, document)
        title, text = f"{document.id}: {document.title}", document.text
    if fmt == "html":
        write_output(output, render_html(title, f"{meta}; {origin}", text, view.spans, view.paragraphs, view.memos,
                                            view.provenance))
        click.echo(f"Wrote {output} ({len(view.spans)} codings, {len(view.memos)} memos)")
        return
    click.echo(f"# {title}\n# {meta}\n# {origin}")
    if blind_for is not None and codes:
        click.echo(f"# round {round_name} (blind): only {blind_for}'s codings and memos are shown")
    if codes:
        use_color = color if color is not None else sys.stdout.isatty()
        click.echo("\n" + render_terminal(text, view.spans, view.paragraphs, color=use_color), color=use_color)
    else:
        for seq, paragraph in numbered:
            click.echo(f"\n[{seq}] {paragraph}")


@click.command("stats")
@format_option()
@pass_app
def stats(app: App, fmt: str) -> None:
    """Count cases, documents, units, codes, codings, coders and memos."""
    with transaction(app.engine(), write=False) as session:
        counts = project_stats(session)
    if fmt == "json":
        click.echo(to_json(counts))
    elif fmt == "csv":
        emit_rows([counts], list(counts), "csv")
    else:
        click.echo(render_table([{"what": k, "count": v} for k, v in counts.items()], ["what", "count"]))


COMMANDS = [docs_group, show, stats]
