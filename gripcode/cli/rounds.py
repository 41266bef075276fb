"""gripcode round start | list | status | close | disagreements | adjudicate"""

from __future__ import annotations

from typing import Any

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option, render_table, to_json
from gripcode.db.engine import transaction
from gripcode.db.models import ROUND_UNITS

AGREEMENT_SHOWN = ("code", "units", "coded_units", "percent_agreement", "cohen_kappa", "krippendorff_alpha")


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@click.group("round")
def round_group() -> None:
    """Reliability rounds: coders code the same documents blind, then agreement and adjudication.

    While a round is open its coders see only their own codings and memos on its documents (in show, codings
    list, code session and the workbench); whoever does not code in it sees everything.
    """


@round_group.command("start")
@click.argument("name")
@click.option("--coders", required=True, metavar="A,B[,C...]", help="The coders of the round (two or more; "
              "add new ones with gripcode coder add).")
@click.option("--docs", multiple=True, metavar="ID,ID...", help="Documents (ids or titles, comma separated; "
              "repeatable).")
@click.option("--case", "cases", multiple=True, help="Every document of this case (repeatable).")
@click.option("--unit", type=click.Choice(ROUND_UNITS), default="paragraph", show_default=True,
              help="What one decision is about when agreement is computed.")
@pass_app
def start(app: App, name: str, coders: str, docs: tuple[str, ...], cases: tuple[str, ...], unit: str) -> None:
    """Open round NAME: the --coders code the --docs (and --case documents) blind."""
    from gripcode.team.rounds import start_round

    with transaction(app.engine()) as session:
        started = start_round(session, name, coders=_split((coders,)), docs=_split(docs), cases=cases, unit=unit,
                              actor=app.coder)
    click.echo(f"Started round {started.name}: {', '.join(started.coders)} code {len(started.documents)} "
               f"document(s) blind, agreement by {unit}.")
    click.echo(f"Each coder works as themselves (gripcode --coder NAME ...); gripcode round close {started.name} "
               "ends the round.")


@round_group.command("list")
@format_option()
@pass_app
def list_(app: App, fmt: str) -> None:
    """List the rounds: status, unit, coders, documents; once closed, alpha and disagreements left open."""
    from gripcode.team.rounds import LIST_COLUMNS, list_rounds

    with transaction(app.engine(), write=False) as session:
        rows = list_rounds(session)
    if fmt == "table":
        rows = [{**r, **{k: f"{r[k]:%Y-%m-%d %H:%M}" for k in ("created_at", "closed_at") if r[k] is not None}}
                for r in rows]
    emit_rows(rows, LIST_COLUMNS, fmt, empty="No rounds yet: gripcode round start NAME --coders A,B --docs ...")


@round_group.command("status")
@click.argument("name", required=False)
@format_option()
@pass_app
def status(app: App, name: str | None, fmt: str) -> None:
    """How far each coder of round NAME is (every open round without NAME); once closed, its agreement and the
    disagreements not yet adjudicated.

    A coder of an open round sees only their own progress; whoever does not code in it sees every coder's.
    """
    from gripcode.team.rounds import STATUS_COLUMNS, open_round_names, round_status

    with transaction(app.engine(), write=False) as session:
        names = [name] if name else open_round_names(session)
        reports = [round_status(session, n, viewer=app.coder) for n in names]
    if fmt == "json":
        click.echo(to_json([{**r.round, "progress": r.coders, "agreement": r.agreement,
                             "disagreements": r.disagreements, "undecided": r.undecided, "notes": r.notes}
                            for r in reports]))
        return
    if not reports:
        click.echo("No open rounds (gripcode round list shows them all).")
        return
    for index, report in enumerate(reports):
        if fmt == "csv":
            emit_rows([{"round": report.round["name"], **row} for row in report.coders], ["round", *STATUS_COLUMNS],
                      "csv")
            continue
        if index:
            click.echo("")
        _print_status(report)


def _print_status(report: Any) -> None:
    from gripcode.team.rounds import STATUS_COLUMNS

    r = report.round
    when = f"closed by {r['closed_by']} on {r['closed_at']:%Y-%m-%d %H:%M} UTC" if r["status"] == "closed" else "open"
    click.echo(f"Round {r['name']} ({when}): {', '.join(r['coders'])} on {r['documents']} document(s), by {r['unit']}")
    click.echo(render_table(report.coders, STATUS_COLUMNS))
    for note in report.notes:
        click.echo(f"Note: {note}")
    if report.agreement:
        _print_agreement(report.agreement)
        click.echo(f"Disagreements: {report.disagreements}, {report.undecided} not yet adjudicated"
                   + (f" (gripcode round disagreements {r['name']} --open)" if report.undecided else ""))


def _print_agreement(agreement: dict[str, Any]) -> None:
    columns = [c for c in AGREEMENT_SHOWN if c in agreement.get("columns", AGREEMENT_SHOWN)]
    click.echo("Agreement:")
    click.echo(render_table([{c: ("nan" if row.get(c) is None and c not in ("code",) else row.get(c))
                              for c in columns} for row in agreement["rows"]], columns))
    for note in agreement.get("notes", []):
        click.echo(f"Note: {note}")


@round_group.command("close")
@click.argument("name")
@pass_app
def close(app: App, name: str) -> None:
    """Close round NAME: compute and store its agreement, list its disagreements for adjudication, and give its
    adjudication coder (adjudicated@NAME) the codings every coder agreed on."""
    from gripcode.team.rounds import adjudication_coder, close_round

    with transaction(app.engine()) as session:
        report = close_round(session, name, actor=app.coder)
    click.echo(f"Closed round {report.name}: {len(report.coders)} coders, {report.documents} document(s) coded by "
               f"all, by {report.unit}.")
    _print_agreement(report.agreement)
    click.echo(f"{report.agreed} agreed coding(s) given to {adjudication_coder(report.name)}.")
    if report.disagreements:
        click.echo(f"{report.disagreements} disagreement(s) to adjudicate: gripcode round disagreements {report.name}")
    else:
        click.echo("No disagreements.")


@round_group.command("disagreements")
@click.argument("name")
@click.option("--open", "undecided", is_flag=True, help="Only those not yet adjudicated.")
@format_option()
@pass_app
def disagreements(app: App, name: str, undecided: bool, fmt: str) -> None:
    """List the disagreements of closed round NAME: unit, code, who applied it and who did not, and the
    adjudication so far."""
    from gripcode.team.rounds import DISAGREEMENT_COLUMNS, list_disagreements

    with transaction(app.engine(), write=False) as session:
        rows = list_disagreements(session, name, undecided_only=undecided,
                                  text_limit=None if fmt in ("json", "csv") else 60)
    columns = list(DISAGREEMENT_COLUMNS)
    if fmt == "table":
        columns = [c for c in columns if c not in ("doc_id", "decided_at", "note")]
    emit_rows(rows, columns, fmt, empty="No disagreements" + (" left to adjudicate." if undecided else "."))


@round_group.command("adjudicate")
@click.argument("name")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--apply", "decision", flag_value="apply", help="The code applies to the unit.")
@click.option("--reject", "decision", flag_value="reject", help="The code does not apply to the unit.")
@click.option("--note", help="Why: kept with the decision.")
@pass_app
def adjudicate_(app: App, name: str, ids: tuple[int, ...], decision: str | None, note: str | None) -> None:
    """Decide disagreements IDS of closed round NAME, as the --coder: --apply (the adjudication coder codes the
    unit with the code) or --reject. A decision can be changed by deciding again."""
    from gripcode.errors import RoundError
    from gripcode.team.rounds import adjudicate, adjudication_coder

    if decision is None:
        raise RoundError("say --apply (the code applies to the unit) or --reject (it does not)")
    with transaction(app.engine()) as session:
        decided = adjudicate(session, name, list(ids), decision=decision, actor=app.coder, note=note)
    for d in decided:
        what = (f"applied by {adjudication_coder(name)} (coding {d.coding_id})" if d.decision == "apply"
                else "rejected")
        changed = f" (was {d.changed_from})" if d.changed_from else ""
        click.echo(f"Disagreement {d.seq}: {d.code} on document {d.document} {d.unit}: {what}{changed}")


COMMANDS = [round_group]
