"""gripcode model train|evaluate|suggest|list"""

from __future__ import annotations

from typing import Any

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import echo_suggestion_counts, emit_rows, format_option
from gripcode.db.engine import transaction
from gripcode.db.models import DOCUMENT_KINDS
from gripcode.nlp import classifier
from gripcode.nlp.training_data import DEFAULT_HELD_OUT, DEFAULT_MIN_UNITS, UNIT_CHOICES

_SCORE_COLUMNS = ("precision", "recall", "f1", "model_precision", "model_recall", "model_f1", "rules_precision",
                  "rules_recall", "rules_f1", "macro_f1")
_SHOWN = 8  # codes named when some are left out of training
# A model can learn dozens of codes; a table row names the first few, JSON and CSV carry them all.
_TABLE_CODES = 60


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _dashes(rows: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """Scores that cannot be measured (or codes without rules) as "-" in tables and CSV; JSON keeps null."""
    if fmt == "json":
        return rows
    return [{k: ("-" if v is None and k in _SCORE_COLUMNS else v) for k, v in row.items()} for row in rows]


@click.group("model")
def model_group() -> None:
    """Text classifiers that learn the codes from the project's codings and suggest them elsewhere.

    A model (spaCy textcat_multilabel, bag of words) learns from the sentences or paragraphs of coded
    documents, labelled by accepted codings; it is named model@<hash of its training data> and stored in the
    project. Its suggestions carry a confidence and count nowhere until accepted with `gripcode review`.
    """


@model_group.command("train")
@click.option("--unit", type=click.Choice(UNIT_CHOICES), default="sentence", show_default=True,
              help="What the model classifies.")
@click.option("--codes", help="Only these code ids (comma separated); default every active code with enough "
                              "positive units.")
@click.option("--epochs", type=click.IntRange(min=1), default=classifier.DEFAULT_EPOCHS, show_default=True,
              help="Passes over the training units.")
@click.option("--batch-size", type=click.IntRange(min=1), default=classifier.DEFAULT_BATCH_SIZE,
              show_default=True, help="Units per update.")
@click.option("--seed", type=int, default=classifier.DEFAULT_SEED, show_default=True,
              help="Seed of the shuffling and of the held-out split.")
@click.option("--held-out", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=DEFAULT_HELD_OUT,
              show_default=True, help="Share of the documents researchers coded themselves kept aside for evaluation.")
@click.option("--min-units", type=click.IntRange(min=1), default=DEFAULT_MIN_UNITS, show_default=True,
              help="Positive units a code needs among the training documents to be learned.")
@pass_app
def train(app: App, unit: str, codes: str | None, epochs: int, batch_size: int, seed: int, held_out: float,
          min_units: int) -> None:
    """Train a classifier on the manual and accepted codings and store it in the project.

    A unit of a coded document is labelled with a code when an accepted coding of it covers at least half of
    the unit or lies inside it (any coder's; accepted suggestions count too). A fixed share of the documents
    researchers coded themselves is held out, and the model's precision, recall and F1 on their units, against
    the researchers' own codings, are printed. Codes need --min-units positive units among the training
    documents. Training again on the same data and settings gives the same model name and replaces the
    stored model.
    """
    report = classifier.train_model(app.engine(), actor=app.coder, unit=unit, codes=_split(codes), epochs=epochs,
                                    batch_size=batch_size, seed=seed, held_out=held_out, min_units=min_units)
    languages = ", ".join(f"{lang} {n}" for lang, n in report.languages.items())
    click.echo(f"{'Replaced' if report.replaced else 'Stored'} {report.name}: {len(report.codes)} code(s) learned "
               f"from {report.train_units} {unit}s of {report.documents - report.held_out_documents} document(s) "
               f"({languages} units in all)")
    if report.left_out:
        ranked = sorted(report.left_out.items(), key=lambda item: (-item[1], item[0]))
        listed = ", ".join(f"{code} {n}" for code, n in ranked[:_SHOWN])
        more = f" and {len(ranked) - _SHOWN} more" if len(ranked) > _SHOWN else ""
        click.echo(f"Left out, with fewer than {min_units} positive {unit}s: {listed}{more}")
    click.echo(f"Trained in {report.seconds:.2f} s ({report.seconds_per_epoch:.3f} s/epoch, {report.epochs} epochs); "
               f"model size {report.payload_bytes / 1024:,.0f} KiB")
    avg = report.averages
    click.echo(f"Held out: {report.held_out_units} {unit}s of {report.scored_documents} document(s) coded by "
               f"researchers: macro F1 {_f(avg['macro_f1'])}, micro F1 {_f(avg['micro_f1'])} (threshold "
               f"{classifier.DEFAULT_THRESHOLD})")
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    rows = [{"code": code, "train_units": report.positives.get(code, 0), "held_out_units": s.units,
             "precision": s.precision, "recall": s.recall, "f1": s.f1} for code, s in report.scores.items()]
    emit_rows(_dashes(rows, "table"), ("code", "train_units", "held_out_units", "precision", "recall", "f1"), "table")


@model_group.command("evaluate")
@click.argument("model", required=False)
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=classifier.DEFAULT_THRESHOLD,
              show_default=True, help="Score from which the model says a code applies.")
@format_option()
@pass_app
def evaluate(app: App, model: str | None, threshold: float, fmt: str) -> None:
    """Precision, recall and F1 per code of MODEL (default: the newest) and of the rules, on held-out units.

    The units are those of the documents held out when the model was trained that researchers coded
    themselves, labelled by today's manual and imported codings (accepted suggestions would favour the rules
    that made them). A unit is rule-positive for a code when the synced codebook's rules match inside it.
    "-" marks codes without rules and scores that cannot be measured (precision of a code never predicted,
    recall and F1 of a code no held-out unit has). Averages: micro pools every decision, macro is the mean
    over the codes with positive held-out units.
    """
    ev = classifier.evaluate_model(app.engine(), model, threshold)
    for warning in ev.warnings:
        click.echo(f"Warning: {warning}", err=True)
    rows = _dashes(classifier.evaluation_rows(ev), fmt)
    if fmt == "table":
        click.echo(f"{ev.name} on {ev.held_out_units} held-out {ev.unit}s of {ev.held_out_documents} document(s), "
                   f"threshold {threshold:g}")
    emit_rows(rows, classifier.EVALUATION_COLUMNS, fmt)


@model_group.command("suggest")
@click.argument("model", required=False)
@click.option("--codes", help="Only these code ids (comma separated); default every code the model learned.")
@click.option("--case", help="Only documents of this case.")
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS), help="Only documents of this kind.")
@click.option("--doc", help="Only this document (id or title).")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=classifier.DEFAULT_THRESHOLD,
              show_default=True, help="Lowest score that is suggested.")
@click.option("--dry-run", is_flag=True, help="Count what would be suggested; store nothing.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Documents read and classified at a time.")
@pass_app
def suggest(app: App, model: str | None, codes: str | None, case: str | None, kind: str | None, doc: str | None,
            threshold: float, dry_run: bool, batch_size: int) -> None:
    """Store MODEL's (default: the newest) codes on units as suggestions with its score as confidence.

    Suggestions are made by the coder model@<hash>, one per unit and code, and count nowhere until accepted
    with `gripcode review`, which can order them by uncertainty. Units already coded with the code, and
    suggestions made, accepted or rejected before, are not suggested again; unreviewed suggestions of other
    models for the same codes are replaced.
    """
    report = classifier.suggest_codings(app.engine(), actor=app.coder, name=model, codes=_split(codes), case=case,
                                        kind=kind, doc=doc, threshold=threshold, dry_run=dry_run,
                                        batch_size=batch_size)
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    verb = "Would add" if dry_run else "Added"
    click.echo(f"{verb} {report.suggestions} suggestion(s) on {report.units} unit(s) of {report.documents} "
               f"document(s) as {report.model} (threshold {threshold:g}, {report.seconds:.2f} s)")
    if report.already_coded:
        click.echo(f"{report.already_coded} unit(s) already coded with the suggested code; not suggested")
    echo_suggestion_counts(report, dry_run=dry_run, replaced="other models")


@model_group.command("list")
@format_option()
@pass_app
def list_(app: App, fmt: str) -> None:
    """List the stored models, newest first, with their units, codes and held-out macro F1."""
    with transaction(app.engine(), write=False) as session:
        rows = classifier.list_models(session)
    if fmt == "table":
        for row in rows:
            listed = f"{len(row['codes'])}: {', '.join(row['codes'])}"
            row["codes"] = listed if len(listed) <= _TABLE_CODES else listed[:_TABLE_CODES - 3] + "..."
    emit_rows(_dashes(rows, fmt), classifier.LIST_COLUMNS, fmt, empty="No models yet: gripcode model train")


COMMANDS = [model_group]
