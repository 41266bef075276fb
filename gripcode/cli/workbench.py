"""gripcode workbench"""

from __future__ import annotations

import click

from gripcode.cli.context import App, pass_app
from gripcode.coding import review as rv
from gripcode.coding.worklist import find_sample
from gripcode.corpus.documents import find_document
from gripcode.db.engine import transaction
from gripcode.errors import GripcodeError
from gripcode.workbench.keys import KEYMAP

_ABOUT = """\
Read documents and code their passages in a full-screen app, in the terminal or (with --serve) in a web browser.

DOC (an id or a title) opens first; without it, the first document. Every action is saved at once, in one
transaction with its event in the audit log, as the --coder (give it before the command: gripcode --coder ana
workbench). The text shows the codings that count (with --review the suggestions too) in their codes' colours,
overlaps underlined and marked in the margin, and reads other coders' new codings every few seconds (--refresh).

--sample N codes the units of a blind validation sample (drawn by `gripcode validate CODER --against A,B --sample
K`, which prints its number): only the sample's documents are listed, its units are marked in the margin, space
and b go from one to the next, and, as with --blind, nothing of the machine's or other coders' work is shown.

--serve runs a web server (textual-serve) that gives every browser tab the same app, coding as the --coder. It
has no login: it listens on 127.0.0.1 unless --host says otherwise; reach it through an SSH tunnel (ssh -L
8000:127.0.0.1:8000 server) or an authenticating proxy (see the README).
"""


def _help() -> str:
    """The command's help: what it does, then the key map (kept as written, not rewrapped)."""
    sections = ["\b\n" + heading + ":\n" + "\n".join(f"  {keys:<22}{what}" for keys, what in rows)
                for heading, rows in KEYMAP]
    return _ABOUT + "\n" + "\n\n".join(sections)


@click.command("workbench", help=_help())
@click.argument("doc", required=False)
@click.option("--review", is_flag=True, help="Go through the suggestions waiting for review, one by one.")
@click.option("--code", help="Review only suggestions of this code id.")
@click.option("--origin", type=click.Choice(rv.MACHINE_ORIGINS), help="Review only rule or only model suggestions.")
@click.option("--by", "machine", metavar="CODER", help="Review only the suggestions of this machine coder "
              "(rules@..., model@...).")
@click.option("--order", type=click.Choice(rv.ORDERS), help="Review order: position (default), confidence "
              "(surest first) or uncertainty (closest to 0.5 first).")
@click.option("--blind", is_flag=True, help="A reliability round: show only your own codings and memos, and no "
              "counts of other coders' work.")
@click.option("--sample", "sample_id", type=click.IntRange(min=1), metavar="N",
              help="Code the units of blind validation sample N (implies --blind).")
@click.option("--refresh", "refresh_seconds", type=click.FloatRange(0, 3600), default=5.0, show_default=True,
              metavar="SECONDS", help="Read other coders' new codings this often (0: only with r).")
@click.option("--serve", is_flag=True, help="Serve the app to web browsers instead of running it here.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve: the address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="With --serve: the port to listen on.")
@click.option("--public-url", metavar="URL", help="With --serve behind a proxy: the address browsers use.")
@pass_app
def workbench(app: App, doc: str | None, review: bool, code: str | None, origin: str | None, machine: str | None,
              order: str | None, blind: bool, sample_id: int | None, refresh_seconds: float, serve: bool, host: str, port: int,
              public_url: str | None) -> None:
    given = [name for name, value in (("--code", code), ("--origin", origin), ("--by", machine), ("--order", order))
             if value is not None]
    if given and not review:
        raise GripcodeError(f"{' and '.join(given)} {'goes' if len(given) == 1 else 'go'} with --review")
    if review and (blind or sample_id is not None):
        raise GripcodeError(f"{'--blind' if blind else '--sample'} hides other coders' work and --review shows the "
                            "machine coders' suggestions: use one of them")
    engine = app.engine()
    queue = None
    with transaction(engine, write=False) as session:
        if doc is not None:
            doc = str(find_document(session, doc).id)
        if sample_id is not None:
            find_sample(session, sample_id)
        if review:
            queue = rv.pending(session, code=code, doc=doc, origin=origin, order=order or "position",
                               coder=machine)
    if queue is not None and not queue:
        click.echo("No suggestions wait for review.")
        return
    if serve:
        from gripcode.workbench.serve import serve as serve_app

        arguments = [*([doc] if doc else []), *(["--review"] if review else []), *(["--blind"] if blind else []),
                     *(["--sample", str(sample_id)] if sample_id is not None else []),
                     *(option for name, value in (("--code", code), ("--origin", origin), ("--by", machine),
                                                  ("--order", order)) if value is not None for option in (name, value)),
                     "--refresh", f"{refresh_seconds:g}"]
        click.echo(f"Serving the workbench for {app.coder} on http://{host}:{port} (Ctrl+C stops it)")
        serve_app(arguments, db_url=app.settings.db_url, coder=app.coder, host=host, port=port, public_url=public_url)
        return
    from gripcode.workbench.app import ReviewQueue, WorkbenchApp

    WorkbenchApp(engine, app.coder, doc=doc, blind=blind, review=ReviewQueue(queue) if queue else None,
                 sample=sample_id, refresh_seconds=refresh_seconds).run()


COMMANDS = [workbench]
