"""gripcode review [accept|reject]"""

from __future__ import annotations

import textwrap

import click

from gripcode.cli.context import App, pass_app
from gripcode.coding import review as rv
from gripcode.db.engine import transaction
from gripcode.db.models import UNIT_KINDS
from gripcode.errors import GripcodeError, NotFoundError

HELP = """\
  a  accept            r  reject             c CODE  give it another code and accept
  w KIND  widen to sentence|paragraph|turn   n KIND  narrow to one sentence|paragraph|turn inside it
  m TEXT  memo on this coding   s  skip   b  back   u  undo the last decision   ?  help   q  quit"""


def _filters(fn):  # type: ignore[no-untyped-def]
    for option in reversed([
        click.option("--code", help="Only suggestions of this code id."),
        click.option("--doc", help="Only this document (id or title)."),
        click.option("--origin", type=click.Choice(rv.MACHINE_ORIGINS),
                     help="Only rule, model or language-model suggestions."),
        click.option("--coder", "--by", "machine", metavar="MACHINE",
                     help="Only the suggestions of this machine coder (llm@..., rules@..., model@...). Who reviews "
                          "is gripcode's own --coder, before the command."),
    ]):
        fn = option(fn)
    return fn


@click.group("review", invoke_without_command=True)
@_filters
@click.option("--order", type=click.Choice(rv.ORDERS), default="position", show_default=True,
              help="position: in text order; confidence: surest first; uncertainty: closest to 0.5 first.")
@click.pass_context
def review_group(ctx: click.Context, code: str | None, doc: str | None, origin: str | None, machine: str | None,
                 order: str) -> None:
    """Go through suggestions one by one: accept, reject, recode, widen or narrow them.

    Suggestions from rules and models count in analyses and agreement only once accepted; the reviewer (the
    --coder) is recorded on each decision. `gripcode review accept|reject` decides many at once.
    """
    if ctx.invoked_subcommand is not None:
        return
    app: App = ctx.find_object(App)
    engine = app.engine()
    with transaction(engine, write=False) as session:
        queue = rv.pending(session, code=code, doc=doc, origin=origin, order=order, coder=machine)
    if not queue:
        click.echo("No suggestions wait for review.")
        return
    click.echo(f"{len(queue)} suggestion(s) to review as {app.coder}. Type ? for help.\n{HELP}\n")
    _walk(app, queue)


def _show(app: App, coding_id: int, position: int, total: int) -> None:
    with transaction(app.engine(), write=False) as session:
        d = rv.describe(session, coding_id)
    source = d["rule"] or d["model"] or d["by"]
    confidence = f", confidence {d['confidence']:.2f}" if d["confidence"] is not None else ""
    click.echo(f"[{position}/{total}] {d['code']} ({d['name']}) from {d['origin']} {source}{confidence}"
               f"  [{d['status']}]")
    click.echo(f"  document {d['document']}, {d['start']}:{d['end']}")
    for line in d["text"].splitlines():
        click.echo(textwrap.fill(line, 100, initial_indent="  ", subsequent_indent="  ") if line else "")


def _walk(app: App, queue: list[int]) -> None:
    position, undo = 0, []
    while 0 <= position < len(queue):
        coding_id = queue[position]
        try:
            _show(app, coding_id, position + 1, len(queue))
        except NotFoundError:
            # An autocode run since the queue was listed dropped it (it was still waiting): not an error, the
            # rest of the pass is still there. Out of the queue, so "b" and undo keep to what is left.
            click.echo(f"Suggestion {coding_id} is gone (a later autocode run removed it); skipped.")
            del queue[position]
            undo = [(back_to - (back_to > position), snap) for back_to, snap in undo]
            continue
        try:
            line = click.prompt("review", default="", show_default=False, prompt_suffix="> ").strip()
        except (EOFError, click.Abort):
            click.echo("\nSaved. Bye.")
            return
        command, _, arg = line.partition(" ")
        arg = arg.strip()
        if command == "q":
            click.echo("Saved. Bye.")
            return
        if command == "?":
            click.echo(HELP)
            continue
        if command in ("", "s"):
            position += 1
            continue
        if command == "b":
            position = max(position - 1, 0)
            continue
        try:
            with transaction(app.engine()) as session:
                if command == "u":
                    if not undo:
                        click.echo("Nothing to undo.")
                        continue
                    back_to, snap = undo.pop()
                    rv.restore(session, snap, actor=app.coder)
                    position = back_to
                    click.echo(f"Undone: coding {snap.coding_id} is {snap.values['status']} again.")
                    continue
                before = rv.snapshot(rv.find_suggestion(session, coding_id, pending_only=False))
                advance = True
                if command == "a":
                    rv.decide(session, coding_id, "accept", reviewer=app.coder)
                    message = "Accepted."
                elif command == "r":
                    rv.decide(session, coding_id, "reject", reviewer=app.coder)
                    message = "Rejected."
                elif command == "c" and arg:
                    coding = rv.recode(session, coding_id, arg, reviewer=app.coder)
                    message = f"Accepted as {coding.code.slug}."
                elif command in ("w", "n") and arg in UNIT_KINDS:
                    rv.reshape(session, coding_id, arg, narrow=command == "n", reviewer=app.coder)
                    message, advance = f"{'Narrowed' if command == 'n' else 'Widened'} to {arg}.", False
                elif command == "m" and arg:
                    rv.set_memo(session, coding_id, arg, reviewer=app.coder)
                    message, advance = "Memo saved.", False
                else:
                    click.echo("Not understood. Type ? for help.")
                    continue
        except GripcodeError as exc:
            click.echo(f"Not saved: {exc}")
            continue
        undo.append((position, before))
        click.echo(message)
        if advance:
            position += 1
    click.echo("No more suggestions in this pass. Everything is saved.")


def _bulk(decision: str):  # type: ignore[no-untyped-def]
    @click.command(decision)
    @_filters
    @click.option("--min-confidence", type=click.FloatRange(0, 1),
                  help="Only model suggestions at least this sure (rule suggestions carry no confidence).")
    @click.option("--validated", is_flag=True,
                  help="Only codes whose latest validation of --coder (`gripcode validate`) passed --min-alpha.")
    @click.option("--min-alpha", type=click.FloatRange(-1, 1), default=None,
                  help="With --validated: the lowest acceptable lower bound of alpha's 95% interval [0.8].")
    @pass_app
    def command(app: App, code: str | None, doc: str | None, origin: str | None, machine: str | None,
                min_confidence: float | None, validated: bool, min_alpha: float | None) -> None:
        if min_alpha is not None and not validated:
            raise click.UsageError("--min-alpha goes with --validated")
        if validated and not machine:
            raise click.UsageError("--validated needs the machine coder: --coder llm@... (or rules@..., model@...)")
        with transaction(app.engine()) as session:
            code_ids = None
            if validated:
                from gripcode.reliability.validation_gate import passing_codes

                gate = passing_codes(session, machine or "", 0.8 if min_alpha is None else min_alpha)
                for line in gate.lines():
                    click.echo(line)
                code_ids = gate.passed_ids
            n = rv.decide_many(session, decision, reviewer=app.coder, code=code, origin=origin, doc=doc,
                               min_confidence=min_confidence, coder=machine, code_ids=code_ids)
            left = (rv.count_without_confidence(session, code=code, origin=origin, doc=doc, coder=machine)
                    if min_confidence is not None else 0)
        click.echo(f"{'Accepted' if decision == 'accept' else 'Rejected'} {n} suggestion(s) as {app.coder}")
        if left:
            click.echo(f"{left} rule suggestion(s) left waiting: rule suggestions carry no confidence, so "
                       f"--min-confidence leaves them out (choose them with --code or --doc)")

    command.help = (f"{decision.capitalize()} every waiting suggestion that matches --code, --doc, --coder and "
                    f"--min-confidence (at least one of them), in one transaction. With --validated, only of the "
                    f"codes whose latest validation of the machine coder passed (lower bound of alpha's interval at "
                    f"least --min-alpha).")
    return command


review_group.add_command(_bulk("accept"))
review_group.add_command(_bulk("reject"))

COMMANDS = [review_group]
