"""gripcode docs list | show | stats"""

from __future__ import annotations

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option, render_table, to_json
from gripcode.corpus.documents import find_document, list_documents, paragraphs, project_stats
from gripcode.db.engine import transaction
from gripcode.db.models import DOCUMENT_KINDS


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
    with transaction(app.engine()) as session:
        rows = list_documents(session, case, kind, language)
    emit_rows(rows, ["id", "title", "case", "kind", "language", "date", "words", "file"], fmt,
              empty="No documents match.")


@click.command("show")
@click.argument("doc")
@pass_app
def show(app: App, doc: str) -> None:
    """Print document DOC (an id or a unique title) with paragraph numbers."""
    with transaction(app.engine()) as session:
        document = find_document(session, doc)
        case = document.case.name if document.case else "-"
        click.echo(f"# {document.id}: {document.title}")
        click.echo(f"# {document.kind}, case {case}, {document.language}, {document.date or 'no date'}, "
                   f"{document.word_count} words")
        for seq, text in paragraphs(session, document):
            click.echo(f"\n[{seq}] {text}")


@click.command("stats")
@format_option()
@pass_app
def stats(app: App, fmt: str) -> None:
    """Count cases, documents, units, codes, codings, coders and memos."""
    with transaction(app.engine()) as session:
        counts = project_stats(session)
    if fmt == "json":
        click.echo(to_json(counts))
    elif fmt == "csv":
        emit_rows([counts], list(counts), "csv")
    else:
        click.echo(render_table([{"what": k, "count": v} for k, v in counts.items()], ["what", "count"]))


COMMANDS = [docs_group, show, stats]
