"""gripcode compare | matrix | cooccur | retrieve"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_table, table_output_options
from gripcode.db.engine import transaction
from gripcode.db.models import CODING_STATUSES, DOCUMENT_KINDS


def _filter_options(fn):  # type: ignore[no-untyped-def]
    for option in reversed([
        click.option("--codes", metavar="X,Y", help="Only these code ids (comma separated)."),
        click.option("--case", "cases", multiple=True, help="Only documents of this case (repeatable)."),
        click.option("--kind", "kinds", multiple=True, type=click.Choice(DOCUMENT_KINDS),
                     help="Only documents of this kind (repeatable)."),
        click.option("--lang", "languages", multiple=True, help="Only documents in this language (repeatable)."),
        click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Only documents dated on or after."),
        click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Only documents dated on or before."),
        click.option("--coder", "coders", multiple=True, help="Only this coder's codings (repeatable)."),
        click.option("--status", "statuses", multiple=True, type=click.Choice(CODING_STATUSES),
                     help="Count codings with this status (repeatable) [default: accepted]."),
    ]):
        fn = option(fn)
    return fn


def _filters(options: dict[str, Any]) -> Any:
    from gripcode.analysis.filters import make_filters

    codes = [c.strip() for c in (options.pop("codes") or "").split(",") if c.strip()]
    return make_filters(codes=codes, cases=options.pop("cases"), kinds=options.pop("kinds"),
                        languages=options.pop("languages"), date_from=options.pop("date_from"),
                        date_to=options.pop("date_to"), coders=options.pop("coders"),
                        statuses=options.pop("statuses") or None)


def _provenance(session: Any, what: str, filters: Any, notes: tuple[str, ...] = (), **extra: Any) -> Any:
    from gripcode.analysis.filters import coding_conditions
    from gripcode.analysis.provenance import project_provenance

    return project_provenance(session, what, filters={**filters.describe(), **extra}, coders=filters.coders,
                              statuses=filters.statuses, notes=notes, codings=coding_conditions(filters))


def _figure(df: Any, figure: Path | None, provenance: Any, title: str, value_label: str, fmt_values: str) -> None:
    if figure is None:
        return
    from gripcode.export.figures import heatmap

    heatmap(df, figure, provenance, title=title, value_label=value_label, fmt_values=fmt_values)
    click.echo(f"Wrote {figure}", err=True)


@click.command("compare")
@click.option("--by", default="case", show_default=True, metavar="case|kind|language|attr:KEY",
              help="What to compare: cases, document kinds, languages, or a case attribute.")
@click.option("--measure", "measures", multiple=True,
              type=click.Choice(["documents", "share", "codings", "coverage", "per10k"]),
              help="Repeatable [default: documents, share, codings, coverage, per10k].")
@click.option("--rollup", is_flag=True, help="Count each code's descendants' codings with it.")
@click.option("--test", "with_test", is_flag=True,
              help="Add a chi-square or Fisher exact test of each code's presence across the groups (exploratory).")
@click.option("--correction", type=click.Choice(["holm", "fdr_bh", "none"]), default="holm", show_default=True,
              help="Multiple-comparison correction for --test.")
@_filter_options
@table_output_options
@click.option("--figure", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw a heatmap of the first measure (.png, .svg or .pdf).")
@pass_app
def compare(app: App, by: str, measures: tuple[str, ...], rollup: bool, with_test: bool, correction: str,
            fmt: str, output: Path | None, figure: Path | None, **options: Any) -> None:
    """Codes x cases (or kinds, languages, a case attribute): documents coded, their share, codings,
    coverage (share of characters) and codings per 10,000 words."""
    from gripcode.analysis.compare import MEASURE_LABELS, compare_cases, compare_grid

    measures = measures or ("documents", "share", "codings", "coverage", "per10k")
    filters = _filters(options)
    with transaction(app.engine(), write=False) as session:
        table: Any
        notes: tuple[str, ...] = ()
        if with_test or figure is not None:  # the statistics and the figure work on a DataFrame
            table = compare_cases(session, filters, by=by, measures=measures, rollup=rollup)
            first = table if len(measures) == 1 else table.xs(measures[0], axis=1, level="measure")
        else:  # plain rows: rendered without loading pandas
            table = compare_grid(session, filters, by=by, measures=measures, rollup=rollup)
        if with_test:
            table, notes = _with_tests(session, table, filters, by, measures, rollup, correction)
        provenance = _provenance(session, f"Cross-case comparison of codes by {by}", filters, notes, by=by,
                                 measures=list(measures), rollup=rollup)
    emit_table(table, fmt, output, provenance, caption=f"Codes by {by}", label=f"tab:compare-{by}")
    if figure is not None:
        _figure(first, figure, provenance, f"Codes by {by}: {MEASURE_LABELS[measures[0]]}",
                MEASURE_LABELS[measures[0]], "{:.0f}" if measures[0] in ("documents", "codings") else "{:.2f}")


def _with_tests(session: Any, table: Any, filters: Any, by: str, measures: tuple[str, ...], rollup: bool,
                correction: str) -> tuple[Any, tuple[str, ...]]:
    """The comparison with a presence test per code joined on (exploratory, ``--test``)."""
    import pandas as pd

    from gripcode.analysis.compare import compare_cases, group_sizes
    from gripcode.analysis.significance import NOTE, presence_tests

    coded = table if measures == ("documents",) else compare_cases(session, filters, by=by, measures=["documents"],
                                                                    rollup=rollup)
    tests = presence_tests(coded, group_sizes(session, filters, by=by)["n_docs"], correction=correction)
    if isinstance(table.columns, pd.MultiIndex):
        tests.columns = pd.MultiIndex.from_product([["test"], tests.columns])
    return table.join(tests), (NOTE.format(method=correction),)


@click.command("matrix")
@click.option("--type", "kind_of", type=click.Choice(["framework", "code-document"]), default="framework",
              show_default=True, help="framework: groups x codes with quotes; code-document: documents x codes, 0/1.")
@click.option("--by", default="case", show_default=True, metavar="case|kind|language|attr:KEY",
              help="Rows of a framework matrix.")
@click.option("--quotes", type=click.IntRange(min=1), default=2, show_default=True, help="Quotes per cell.")
@click.option("--rollup", is_flag=True, help="code-document: a parent code is present where a descendant is.")
@_filter_options
@table_output_options
@pass_app
def matrix(app: App, kind_of: str, by: str, quotes: int, rollup: bool, fmt: str, output: Path | None,
           **options: Any) -> None:
    """A framework matrix (cases x codes, each cell the most representative quotes with their documents)
    or a code-document matrix (documents x codes, 1 where the document has the code) for QCA or R."""
    filters = _filters(options)
    with transaction(app.engine(), write=False) as session:
        table: Any
        if kind_of == "framework":
            from gripcode.analysis.framework import framework_grid

            table = framework_grid(session, filters, by=by, quotes=quotes)
            what = f"Framework matrix: {by} x codes, up to {quotes} quotes per cell"
        else:
            from gripcode.analysis.matrices import code_document_matrix

            table = code_document_matrix(session, filters, rollup=rollup)
            what = "Code-document matrix (1: the document has the code)"
        provenance = _provenance(session, what, filters, by=by if kind_of == "framework" else None)
    emit_table(table, fmt, output, provenance, caption=what, label=f"tab:{kind_of}-matrix")


@click.command("cooccur")
@click.option("--by", type=click.Choice(["overlap", "unit"]), default="overlap", show_default=True,
              help="overlap: pairs of codings whose spans overlap; unit: units that carry both codes.")
@click.option("--unit", type=click.Choice(["paragraph", "sentence", "turn", "document"]), default="paragraph",
              show_default=True, help="The unit for --by unit.")
@_filter_options
@table_output_options
@click.option("--figure", type=click.Path(dir_okay=False, path_type=Path), help="Also draw a heatmap (.png, .svg, .pdf).")
@pass_app
def cooccur(app: App, by: str, unit: str, fmt: str, output: Path | None, figure: Path | None, **options: Any) -> None:
    """Codes x codes: how often two codes occur together (the diagonal holds each code's own count)."""
    from gripcode.analysis.matrices import cooccurrence

    filters = _filters(options)
    what = ("Co-occurrence: overlapping codings" if by == "overlap"
            else f"Co-occurrence: {unit}s carrying both codes")
    with transaction(app.engine(), write=False) as session:
        table = cooccurrence(session, filters, by=by, unit=unit)
        provenance = _provenance(session, what, filters, by=by, unit=unit if by == "unit" else None)
    emit_table(table, fmt, output, provenance, caption=what, label="tab:cooccurrence")
    _figure(table, figure, provenance, what, "count", "{:.0f}")


@click.command("retrieve")
@click.option("--context", type=click.IntRange(min=0), default=120, show_default=True,
              help="Characters of context before and after each segment.")
@click.option("--rollup", is_flag=True, help="A code also retrieves its descendants' codings.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many segments.")
@_filter_options
@table_output_options
@pass_app
def retrieve_(app: App, context: int, rollup: bool, limit: int | None, fmt: str, output: Path | None,
              **options: Any) -> None:
    """The coded segments with their context, document, case, code and coder, in text order."""
    from gripcode.analysis.retrieve import brief, retrieve_grid

    filters = _filters(options)
    with transaction(app.engine(), write=False) as session:
        table = retrieve_grid(session, filters, context=context, rollup=rollup, limit=limit)
        provenance = _provenance(session, "Coded segments with context", filters, context=context, rollup=rollup)
    if fmt == "table":  # a terminal line per segment: the full columns are in the other formats
        table = brief(table)
    emit_table(table, fmt, output, provenance, caption="Coded segments", label="tab:segments")


COMMANDS = [compare, matrix, cooccur, retrieve_]
