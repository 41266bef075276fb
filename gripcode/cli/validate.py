"""gripcode validate"""

from __future__ import annotations

from pathlib import Path

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_table, table_output_options
from gripcode.db.engine import transaction
from gripcode.db.models import DOCUMENT_KINDS


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@click.command("validate")
@click.argument("coder")
@click.option("--against", required=True, metavar="A,B[,C...]", help="The people whose coding the machine is held to.")
@click.option("--unit", type=click.Choice(["sentence", "paragraph", "turn"]), default="paragraph",
              show_default=True, help="What one decision is about.")
@click.option("--reference", metavar="CODER",
              help="An adjudicated coding to compare the machine with (default: the people's majority).")
@click.option("--codes", metavar="X,Y", help="Only these code ids.")
@click.option("--case", help="Only documents of this case.")
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS), help="Only documents of this kind.")
@click.option("--doc", help="Only this document (id or title).")
@click.option("--sample", "sample_size", type=click.IntRange(min=1), metavar="N",
              help="Draw N units, stratified by case, kind and the machine's decision, for the people to code blind; "
                   "list them and record the sample, on which later validations of this coder are computed.")
@click.option("--all-units", is_flag=True, help="Ignore a recorded sample: every unit the people and machine coded.")
@click.option("--bootstrap", "samples", type=click.IntRange(min=100), default=1000, show_default=True,
              help="Bootstrap samples for alpha's confidence interval.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap and of --sample.")
@table_output_options
@pass_app
def validate(app: App, coder: str, against: str, unit: str, reference: str | None, codes: str | None,
             case: str | None, kind: str | None, doc: str | None, sample_size: int | None, all_units: bool,
             samples: int, seed: int, fmt: str, output: Path | None) -> None:
    """Validate a machine coder (llm@..., rules@..., model@...) against people, code by code.

    Per code: Cohen's kappa, Krippendorff's alpha with a bootstrapped 95% interval (Hayes & Krippendorff 2007),
    Gwet's AC1, and precision, recall and F1, of the machine against the adjudicated (--reference) or majority
    coding; beside them the people's own alpha, kappa and AC1. The machine's decisions are its suggestions,
    whatever their review; the people's are their accepted codings. The result is recorded, and
    `review accept --coder CODER --validated --min-alpha A` accepts suggestions only of codes whose interval's
    lower bound reaches A. What to report in a paper: gripcode/docs/agreement.md.
    """
    import pandas as pd

    from gripcode.analysis.provenance import project_provenance
    from gripcode.reliability import machine_units as mu

    engine = app.engine()
    if sample_size is not None:
        with transaction(engine) as session:
            sample, rows = mu.draw_sample(session, coder, unit, sample_size, seed=seed, actor=app.coder, case=case,
                                          kind=kind, doc=doc, codes=_split(codes))
            notes = [f"recorded as sample {sample.id}; later `gripcode validate {coder} --against ...` runs on it",
                     "code these units without looking at the machine's suggestions (blind): in the workbench, "
                     f"`gripcode --coder NAME workbench --sample {sample.id}`; or `gripcode code add DOC CODE "
                     "--unit KIND:N`, or `code import`"]
            notes += [f"stratum {name}: {drawn} of {total}" for name, (total, drawn) in sample.strata.items()]
            provenance = project_provenance(session, f"Blind sample of {sample.size} {unit} units for validating "
                                            f"{coder}", filters={"case": case, "kind": kind, "document": doc,
                                                                 "seed": seed}, coders=[coder], notes=notes)
        emit_table(pd.DataFrame(rows, columns=list(mu.SAMPLE_COLUMNS)), fmt, output, provenance, index=False,
                   caption=f"Blind sample {sample.id}", label="tab:validation-sample")
        return
    from gripcode.reliability.validation import COLUMNS, validate_code

    people = _split(against) or []
    with transaction(engine, write=False) as session:
        data = mu.validation_data(session, coder, people, unit, reference=reference, codes=_split(codes), case=case,
                                  kind=kind, doc=doc, all_units=all_units)
        rows = []
        for code_id, slug in data.codes.items():
            machine, humans, ref = data.matrices(code_id)
            rows.append(validate_code(slug, machine, humans, ref, samples=samples, seed=seed))
        notes = list(data.notes)
        notes.append(f"reference: {'the adjudicated coding of ' + reference if reference else 'the majority of ' + ', '.join(people)}"
                     + ("; units where they split evenly are ties, left out of the machine's columns" if not reference
                        else ""))
        notes.append(f"alpha_low/alpha_high: {samples} bootstrap samples (Hayes & Krippendorff 2007), seed {seed}; "
                     "humans_*: the people among themselves")
        notes.append(f"machine decisions: every suggestion of {coder}, whatever its review; people's: their "
                     "accepted codings")
        provenance = project_provenance(session, f"Validation of {coder} against people per code at the {unit} unit",
                                        filters={"unit": unit, "codes": _split(codes), "case": case, "kind": kind,
                                                 "document": doc}, coders=[coder, *people], notes=notes,
                                        machine_coders=[coder])
    with transaction(engine) as session:
        mu.record_validation(session, data, rows, actor=app.coder,
                             settings={"bootstrap": samples, "seed": seed, "confidence": 0.95,
                                       "codes": _split(codes), "case": case, "kind": kind, "doc": doc})
    emit_table(pd.DataFrame(rows, columns=list(COLUMNS)), fmt, output, provenance, index=False,
               caption=f"Validation of {coder} against {', '.join(people)}", label="tab:validation")


COMMANDS = [validate]
