"""Printing listings as an aligned table, JSON or CSV; one place so every listing behaves the same."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import numbers
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from gripcode.export.spreadsheet import neutralise_formula

F = TypeVar("F", bound=Callable[..., Any])
LIST_FORMATS = ("table", "json", "csv")


def format_option(formats: Sequence[str] = LIST_FORMATS, default: str = "table") -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(formats), case_sensitive=False),
        default=default,
        show_default=True,
        help="Output format; json prints only JSON on stdout.",
    )


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else "nan"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(_plain(value))


def _csv_cell(value: Any) -> Any:
    # Numbers are written as numbers (a negative score stays a number); every other cell goes through the
    # exports' formula guard, so a title such as =HYPERLINK(...) cannot run when the CSV is opened.
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return _cell(value)
    return neutralise_formula(_cell(value))


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[_cell(row.get(c)).replace("\n", " ") for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_plain)


def emit_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, *, empty: str = "") -> None:
    """Print rows in the chosen format; JSON and CSV carry every column even when there are no rows."""
    if fmt == "json":
        click.echo(to_json([{c: _plain(r.get(c)) for c in columns} for r in rows]))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_csv_cell(r.get(c)) for c in columns] for r in rows])
        click.echo(buf.getvalue(), nl=False)
    elif not rows and empty:
        click.echo(empty)
    else:
        click.echo(render_table(rows, columns))


def table_output_options(fn: F) -> F:
    """--format and -o for commands that write analysis tables (every format of gripcode.export.tables)."""
    from gripcode.export.formats import TABLE_FORMATS

    fn = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                      help="Write to this file instead of the terminal (needed for xlsx).")(fn)
    return click.option("--format", "fmt", type=click.Choice(list(TABLE_FORMATS)), default="table",
                        show_default=True, help="Table format; json prints only JSON on stdout.")(fn)


def emit_table(df: Any, fmt: str, output: Path | None, provenance: Any, **options: Any) -> None:
    """Print an analysis table, or write it to ``output`` and say so on stderr (stdout stays clean)."""
    from gripcode.export.tables import write_table

    data = write_table(df, fmt, output, provenance, **options)
    if data is None:
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(data.decode("utf-8"), nl=False)


def echo_suggestion_counts(report: Any, *, dry_run: bool, replaced: str) -> None:
    """The lines `autocode` and `model suggest` share after their headline: repeats not stored again, waiting
    suggestions of ``replaced`` removed, and the new suggestions per code."""
    if report.already_present:
        click.echo(f"{report.already_present} suggestion(s) already present or reviewed; not repeated")
    if report.stale_removed:
        click.echo(f"{'Would remove' if dry_run else 'Removed'} {report.stale_removed} unreviewed suggestion(s) "
                   f"of {replaced}")
    for code, n in sorted(report.per_code.items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"  {n:6d}  {code}")
