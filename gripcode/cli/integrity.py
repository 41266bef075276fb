"""gripcode check | log"""

from __future__ import annotations

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option, to_json
from gripcode.coding.integrity import IntegrityReport, check_integrity
from gripcode.db.engine import transaction
from gripcode.db.events import LIST_COLUMNS, list_events, parse_since, summarise_details

PROBLEM_COLUMNS = ["kind", "coding", "document", "title", "code", "message", "stored", "expected"]


def _print_report(report: IntegrityReport) -> None:
    for problem in report.problems:
        click.echo(problem.message)
        if problem.kind in ("quote", "offsets"):
            click.echo(f"    stored quote: {to_json(problem.stored)}")
            if problem.expected is not None:
                click.echo(f"    text now:     {to_json(problem.expected)}")
    click.echo(report.summary())


@click.command("check")
@format_option()
@click.pass_context
def check(ctx: click.Context, fmt: str) -> None:
    """Prove the project is intact: every coding's quote equals the text at its offsets, offsets lie inside
    the text, every document still has the fingerprint (SHA-256) it was imported with, and nothing points
    to a missing document, code, coding or coder. Exits 1 and lists each problem if there are any."""
    app: App = ctx.ensure_object(App)
    with transaction(app.engine(), write=False) as session:
        report = check_integrity(session)
    if fmt == "json":
        click.echo(to_json(report.to_dict()))
    elif fmt == "csv":
        emit_rows([vars(p) for p in report.problems], PROBLEM_COLUMNS, "csv")
    else:
        _print_report(report)
    if not report.ok:
        click.echo(f"Error: {len(report.problems)} integrity problem(s)", err=True)
        ctx.exit(1)


@click.command("log")
@click.option("--since", metavar="WHEN", help="Only events since WHEN: a date (2024-05-01), a date and time "
                                              "(2024-05-01T14:30, UTC unless an offset is given) or a span "
                                              "back from now (30m, 2h, 3d, 1w).")
@click.option("--actor", metavar="NAME", help="Only events by NAME.")
@click.option("--action", metavar="PREFIX", help="Only actions that start with PREFIX (coding, memo.added).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N events.")
@format_option()
@pass_app
def log(app: App, since: str | None, actor: str | None, action: str | None, limit: int | None,
        fmt: str) -> None:
    """Show the audit log, newest first: who changed what, and when (UTC).

    A table sums up each event's details on one line; json and csv give them whole.
    """
    moment = parse_since(since) if since is not None else None
    with transaction(app.engine(), write=False) as session:
        rows = list_events(session, since=moment, actor=actor, action=action, limit=limit)
    if fmt == "table":
        rows = [{**row, "details": summarise_details(row["details"])} for row in rows]
    emit_rows(rows, LIST_COLUMNS, fmt, empty="No events match.")


COMMANDS = [check, log]
