"""gripcode memo add|list|rm"""

from __future__ import annotations

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option
from gripcode.coding.memos import LIST_COLUMNS, add_memo, list_memos, remove_memo
from gripcode.db.engine import transaction

# Long memos would stretch every row of a table; JSON and CSV carry the whole text.
_TABLE_TEXT = 80


@click.group("memo")
def memo_group() -> None:
    """Memos: notes on the project, a document, a code or a coding."""


@memo_group.command("add")
@click.argument("text")
@click.option("--project", is_flag=True, help="A memo on the whole project.")
@click.option("--doc", "document", metavar="DOC", help="A memo on document DOC (an id or a unique title).")
@click.option("--code", metavar="CODE", help="A memo on code CODE (its id in the codebook).")
@click.option("--coding", type=int, metavar="ID", help="A memo on coding ID.")
@click.option("--title", help="A short title for the memo.")
@pass_app
def add(app: App, text: str, project: bool, document: str | None, code: str | None, coding: int | None,
        title: str | None) -> None:
    """Write memo TEXT (or - to read it from standard input) on exactly one of --project, --doc, --code
    or --coding. The memo is signed by the current coder (--coder)."""
    given = [flag for flag, value in (("--project", project or None), ("--doc", document), ("--code", code),
                                      ("--coding", coding)) if value is not None]
    if len(given) != 1:
        raise click.UsageError("say what the memo is about with exactly one of --project, --doc, --code or "
                               "--coding" + (f" (got {' and '.join(given)})" if given else ""))
    if text == "-":
        with click.open_file("-") as stdin:
            text = stdin.read()
    with transaction(app.engine()) as session:
        memo = add_memo(session, text, coder=app.coder, project=project, document=document, code=code,
                        coding=coding, title=title)
        on = {"project": "the project", "document": f"document {memo.document_id}", "code": f"code {code}",
              "coding": f"coding {coding}"}[memo.target]
    click.echo(f"Added memo {memo.id} on {on}")


@memo_group.command("list")
@click.option("--doc", "document", metavar="DOC", help="Memos on document DOC and on codings in it.")
@click.option("--code", metavar="CODE", help="Memos on code CODE and on codings with it.")
@click.option("--coding", type=int, metavar="ID", help="Memos on coding ID.")
@click.option("--coder", metavar="NAME", help="Memos written by NAME.")
@format_option()
@pass_app
def list_(app: App, document: str | None, code: str | None, coding: int | None, coder: str | None,
          fmt: str) -> None:
    """List memos, oldest first; filters combine. A table shows the start of long texts."""
    with transaction(app.engine(), write=False) as session:
        rows = list_memos(session, document=document, code=code, coding=coding, coder=coder)
    if fmt == "table":
        for row in rows:
            if len(row["text"]) > _TABLE_TEXT:
                row["text"] = row["text"][:_TABLE_TEXT - 1] + "…"
    emit_rows(rows, LIST_COLUMNS, fmt, empty="No memos match.")


@memo_group.command("rm")
@click.argument("memo_id", type=int, metavar="ID")
@pass_app
def rm(app: App, memo_id: int) -> None:
    """Delete memo ID (its text stays in the audit log, `gripcode log --action memo`)."""
    with transaction(app.engine()) as session:
        removed = remove_memo(session, memo_id, actor=app.coder)
    click.echo(f"Removed memo {memo_id} ({removed['target']})")


COMMANDS = [memo_group]
