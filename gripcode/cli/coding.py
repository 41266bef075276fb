"""gripcode code add|rm|edit|import|session, gripcode codings list"""

from __future__ import annotations

from pathlib import Path

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option
from gripcode.coding.csv_import import import_codings_csv
from gripcode.coding.locate import context_snippet
from gripcode.coding.service import LIST_COLUMNS, apply_coding, edit_coding, list_codings, remove_coding
from gripcode.db.engine import transaction
from gripcode.db.models import CODING_ORIGINS, CODING_STATUSES, UNIT_KINDS


def _place_options(fn):  # type: ignore[no-untyped-def]
    for option in reversed([
        click.option("--quote", help="Text to find in the document (exact, else ignoring whitespace)."),
        click.option("--occurrence", type=click.IntRange(min=1), help="Which match of --quote (1 = first)."),
        click.option("--span", metavar="START:END", help="Character offsets, end exclusive."),
        click.option("--unit", metavar="KIND:N", help="A stored unit: paragraph:N, sentence:N or turn:N."),
    ]):
        fn = option(fn)
    return fn


@click.group("code")
def code_group() -> None:
    """Apply, change and remove codings by hand."""


@code_group.command("add")
@click.argument("doc")
@click.argument("code")
@_place_options
@click.option("--memo", help="A note on this coding.")
@pass_app
def add(app: App, doc: str, code: str, quote: str | None, occurrence: int | None, span: str | None,
        unit: str | None, memo: str | None) -> None:
    """Code a passage of DOC (id or title) with CODE (a code id), as the --coder.

    Say where with exactly one of --quote TEXT [--occurrence N], --span START:END or --unit KIND:N.
    """
    with transaction(app.engine()) as session:
        coding, placement = apply_coding(session, doc, code, coder=app.coder, memo=memo, quote=quote,
                                         occurrence=occurrence, span=span, unit=unit)
        text = coding.document.text
        message = (f"Coding {coding.id}: {code} on document {coding.document_id} {coding.start}:{coding.end} "
                   f"by {app.coder} (found by {placement.how})\n  {context_snippet(text, coding.start, coding.end)}")
    click.echo(message)


@code_group.command("rm")
@click.argument("coding_ids", nargs=-1, type=int, required=True)
@pass_app
def rm(app: App, coding_ids: tuple[int, ...]) -> None:
    """Remove the codings with these ids (all or none); the audit log keeps what they were."""
    with transaction(app.engine()) as session:
        removed = [remove_coding(session, cid, actor=app.coder) for cid in coding_ids]
    for cid, info in zip(coding_ids, removed):
        click.echo(f"Removed coding {cid}: {info['code']} on document {info['document']} {info['start']}:{info['end']}")


@code_group.command("edit")
@click.argument("coding_id", type=int)
@click.option("--code", help="Give the coding this code instead.")
@_place_options
@click.option("--memo", help="Replace the coding's memo ('' clears it).")
@pass_app
def edit(app: App, coding_id: int, code: str | None, quote: str | None, occurrence: int | None,
         span: str | None, unit: str | None, memo: str | None) -> None:
    """Change a coding's code, its place (--quote, --span or --unit) or its memo."""
    with transaction(app.engine()) as session:
        _, changes = edit_coding(session, coding_id, actor=app.coder, code=code, quote=quote,
                                 occurrence=occurrence, span=span, unit=unit, memo=memo)
    click.echo(f"Coding {coding_id}: " + "; ".join(changes))


@code_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@pass_app
def import_(app: App, file: Path) -> None:
    """Import codings from a CSV with columns document, code, and quote [occurrence] or start,end or unit;
    optional coder (default --coder) and memo. All rows or none: every bad row is reported."""
    with transaction(app.engine()) as session:
        report = import_codings_csv(session, file, default_coder=app.coder, actor=app.coder)
    skipped = f"; {report.skipped} already present, skipped" if report.skipped else ""
    click.echo(f"Imported {report.added} coding(s) by {', '.join(report.coders) or '-'}{skipped}")


@code_group.command("session")
@click.argument("doc")
@click.option("--unit", type=click.Choice(UNIT_KINDS), default="paragraph", show_default=True,
              help="What to walk through.")
@click.option("--from", "start_at", type=click.IntRange(min=1), default=1, show_default=True,
              help="Start at this unit number.")
@pass_app
def session_(app: App, doc: str, unit: str, start_at: int) -> None:
    """Walk through DOC unit by unit, typing code ids to apply; every action is saved at once.

    At the prompt: code ids (space or comma separated), Enter or s to skip, b back, g N go to unit N,
    m TEXT memo, u undo, ? help, q quit. In an open reliability round the --coder codes in, only their own
    codings and memos are shown.
    """
    from gripcode.coding.session import HELP, CodingSession
    from gripcode.corpus.documents import find_document
    from gripcode.team.rounds_access import blind_documents

    with transaction(app.engine(), write=False) as session:
        doc_id = find_document(session, doc).id
        blind_round = blind_documents(session, app.coder, [doc_id]).get(doc_id)
    walk = CodingSession(app.engine(), str(doc_id), unit=unit, coder=app.coder, start_at=start_at,
                         blind_round=blind_round)
    _enable_completion(walk.codes)
    click.echo(f"Coding as {app.coder}. Type ? for help.\n{HELP}\n")
    while not walk.done:
        click.echo(walk.view())
        try:
            line = click.prompt("codes", default="", show_default=False, prompt_suffix="> ")
        except (EOFError, click.Abort):
            click.echo("\nSaved. Bye.")
            return
        reply = walk.handle(line)
        if reply:
            click.echo(reply)
        click.echo("")


def _enable_completion(codes: list[str]) -> None:
    """Tab-completes code ids where the terminal has readline; silently does nothing elsewhere."""
    import sys

    if not sys.stdin.isatty():
        return
    try:
        import readline
    except ImportError:
        return

    def complete(text: str, state: int) -> str | None:
        matches = [c for c in codes if c.startswith(text)]
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.set_completer_delims(" ,")
    readline.parse_and_bind("tab: complete")


@click.group("codings")
def codings_group() -> None:
    """List codings."""


@codings_group.command("list")
@click.option("--doc", help="Only this document (id or title).")
@click.option("--code", help="Only this code id.")
@click.option("--coder", "coder_name", help="Only this coder.")
@click.option("--case", help="Only documents of this case.")
@click.option("--status", type=click.Choice(CODING_STATUSES), help="Only this status.")
@click.option("--origin", type=click.Choice(CODING_ORIGINS), help="Only this origin.")
@format_option()
@pass_app
def list_(app: App, doc: str | None, code: str | None, coder_name: str | None, case: str | None,
          status: str | None, origin: str | None, fmt: str) -> None:
    """List codings with their document, code, coder, offsets, quote, origin, status and memo.

    On the documents of an open reliability round that the --coder codes in, only their own codings are listed.
    """
    from gripcode.team.rounds_access import blind_documents

    with transaction(app.engine(), write=False) as session:
        blind = blind_documents(session, app.coder)
        rows = list_codings(session, doc=doc, code=code, coder=coder_name, case=case, status=status, origin=origin,
                            blind_for=app.coder, blind_documents=list(blind))
    if blind:
        rounds = ", ".join(sorted(set(blind.values())))
        click.echo(f"Note: round {rounds} is open and {app.coder} codes in it: other coders' codings of its "
                   f"{len(blind)} document(s) are not listed.", err=True)
    columns = list(LIST_COLUMNS)
    if fmt == "table":
        rows = [{**r, "quote": r["quote"][:60] + ("…" if len(r["quote"]) > 60 else "")} for r in rows]
        columns = [c for c in columns if c not in ("doc_id", "confidence")]
    emit_rows(rows, columns, fmt, empty="No codings match.")


COMMANDS = [code_group, codings_group]
