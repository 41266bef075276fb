"""gripcode agreement [disagreements]"""

from __future__ import annotations

from pathlib import Path

import click

from gripcode.cli.context import App
from gripcode.cli.output import emit_table, table_output_options
from gripcode.db.engine import transaction
from gripcode.db.models import DOCUMENT_KINDS


# The units of gripcode.reliability.units, named here so the command line starts without NumPy (a test keeps
# the two in step).
UNIT_CHOICES = ("sentence", "paragraph", "turn", "document", "character")


def _selection_options(required: bool):  # type: ignore[no-untyped-def]
    # The group's own options are optional so that `agreement disagreements ...` can be reached; the group
    # checks them itself when it runs without a subcommand.
    return lambda fn: _add_selection_options(fn, required)


def _add_selection_options(fn, required: bool):  # type: ignore[no-untyped-def]
    for option in reversed([
        click.option("--coders", required=required, metavar="A,B[,C...]",
                     help="The coders to compare (two or more)."),
        click.option("--unit", type=click.Choice(UNIT_CHOICES), required=required,
                     help="What one decision is about: a sentence, paragraph, turn, document or character."),
        click.option("--codes", metavar="X,Y", help="Only these code ids (default: every code they applied)."),
        click.option("--case", help="Only documents of this case."),
        click.option("--kind", type=click.Choice(DOCUMENT_KINDS), help="Only documents of this kind."),
        click.option("--doc", help="Only this document (id or title)."),
    ]):
        fn = option(fn)
    return fn


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@click.group("agreement", invoke_without_command=True)
@_selection_options(required=False)
@table_output_options
@click.pass_context
def agreement_group(ctx: click.Context, coders: str | None, unit: str | None, codes: str | None, case: str | None,
                    kind: str | None, doc: str | None, fmt: str, output: Path | None) -> None:
    """Agreement between coders per code and overall: percent agreement, Cohen's kappa (two coders),
    Fleiss' kappa, Krippendorff's alpha, and unitized alpha at --unit character.

    Only accepted codings count (manual ones and accepted suggestions), only in documents every named coder
    worked on. See gripcode/docs/agreement.md for what each number means.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not coders or not unit:
        raise click.UsageError("give --coders A,B and --unit (or a subcommand such as disagreements)")
    import pandas as pd

    from gripcode.analysis.provenance import project_provenance
    from gripcode.reliability.agreement import compute_agreement

    app: App = ctx.find_object(App)
    filters = {"unit": unit, "codes": _split(codes), "case": case, "kind": kind, "document": doc}
    with transaction(app.engine(), write=False) as session:
        result = compute_agreement(session, _split(coders) or [], unit, codes=_split(codes), case=case,
                                   kind=kind, doc=doc)
        provenance = project_provenance(session, f"Intercoder agreement per code at the {unit} unit",
                                        filters=filters, coders=result.selection.coders, notes=result.notes,
                                        machine_coders=result.selection.coders)
    df = pd.DataFrame(result.rows, columns=result.columns)
    emit_table(df, fmt, output, provenance, index=False, caption=f"Agreement of {', '.join(result.selection.coders)}",
               label="tab:agreement")


@agreement_group.command("disagreements")
@_selection_options(required=True)
@table_output_options
@click.pass_obj
def disagreements_(app: App, coders: str, unit: str, codes: str | None, case: str | None, kind: str | None,
                   doc: str | None, fmt: str, output: Path | None) -> None:
    """List the units where the coders' codes differ, with the text and each coder's codes."""
    import pandas as pd

    from gripcode.analysis.provenance import project_provenance
    from gripcode.reliability.disagreements import disagreements

    filters = {"unit": unit, "codes": _split(codes), "case": case, "kind": kind, "document": doc}
    with transaction(app.engine(), write=False) as session:
        rows, columns = disagreements(session, _split(coders) or [], unit, codes=_split(codes), case=case,
                                      kind=kind, doc=doc, text_limit=None if fmt in ("csv", "xlsx", "json") else 300)
        provenance = project_provenance(session, f"Units where coders disagree ({unit})", filters=filters,
                                        coders=columns[4:-1], machine_coders=columns[4:-1])
    emit_table(pd.DataFrame(rows, columns=columns), fmt, output, provenance, index=False,
               caption="Disagreements for adjudication", label="tab:disagreements")


COMMANDS = [agreement_group]
