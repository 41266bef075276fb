"""gripcode autocode"""

from __future__ import annotations

import sys
import time

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import echo_suggestion_counts
from gripcode.db.models import DOCUMENT_KINDS


class _Jobs(click.ParamType):
    name = "N|auto"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return None
        if text.isdigit():
            return int(text)
        self.fail(f"{value!r} is not a number of worker processes (0 or more) or 'auto'", param, ctx)


_JOBS = _Jobs()


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@click.command("autocode")
@click.option("--codes", help="Only these code ids (comma separated); default every active code with rules.")
@click.option("--case", help="Only documents of this case.")
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS), help="Only documents of this kind.")
@click.option("--doc", help="Only this document (id or title).")
@click.option("--dry-run", is_flag=True, help="Count what would be suggested; store nothing.")
@click.option("--jobs", type=_JOBS, default="auto", show_default=True,
              help="Worker processes that run spaCy beside the database writer (0: all in this process; auto: "
                   "one per core, at most 4, when there are two or more cores and at least 500 documents to do).")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True,
              help="Documents per batch (and per commit).")
@click.option("--chinese", type=click.Choice(["char", "jieba"]), default="char", show_default=True,
              help="How Chinese text is split into tokens (jieba must be installed).")
@click.option("--progress/--no-progress", default=None, help="A progress bar [default: on a terminal].")
@pass_app
def autocode(app: App, codes: str | None, case: str | None, kind: str | None, doc: str | None, dry_run: bool,
             jobs: int | None, batch_size: int, chinese: str, progress: bool | None) -> None:
    """Run the synced codebook's rules and store what they find as suggestions to review.

    Suggestions are made by the coder rules@<codebook hash>, widened to each code's unit, and count nowhere
    until accepted with `gripcode review`. Running again adds nothing new; an interrupted run resumes.
    """
    from gripcode.nlp.autocode import autocode as run  # the NLP layer: only for this command

    engine = app.engine()
    show = progress if progress is not None else sys.stderr.isatty()
    started, state = time.perf_counter(), {"docs": 0, "words": 0}
    bar_cm = click.progressbar(length=1, label="autocode", file=sys.stderr) if show else None

    def tick(docs: int, words: int) -> None:
        state["docs"] += docs
        state["words"] += words
        if bar_cm is not None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            bar_cm.label = (f"autocode {state['docs']} docs, {state['docs'] / elapsed:,.0f} docs/s, "
                            f"{state['words'] / elapsed:,.0f} words/s")
            bar_cm.render_progress()

    report = run(engine, actor=app.coder, codes=_split(codes), case=case, kind=kind, doc=doc, dry_run=dry_run,
                 jobs=jobs, batch_size=batch_size, trained=app.settings.pipelines, chinese=chinese, progress=tick)
    if bar_cm is not None:
        click.echo("", err=True)
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    rate = report.words / report.seconds if report.seconds else 0.0
    verb = "Would add" if dry_run else "Added"
    click.echo(f"{verb} {report.suggestions} suggestion(s) from {report.matches} rule match(es) in "
               f"{report.documents} document(s) ({report.words:,} words, {rate:,.0f} words/s) as {report.coder}")
    if report.already_done:
        click.echo(f"{report.already_done} document(s) were already done by this codebook version; skipped")
    echo_suggestion_counts(report, dry_run=dry_run, replaced="older codebook versions")


COMMANDS = [autocode]
