"""Analysis tables (agreement, comparisons, matrices, co-occurrence, retrievals) as terminal text or files.

:func:`render_table` turns a DataFrame into one of :data:`TABLE_FORMATS`; :func:`write_table` writes it
or returns it for stdout. Every format carries the table's :class:`~gripcode.export.provenance.Provenance`.
Every format is rendered from the same :class:`~gripcode.export.grid.Grid` of plain values; LaTeX, the
longest renderer, lives in :mod:`gripcode.export.latex_table`.

MultiIndex. Row levels always become one label column each (headed by the level names), in every
format. Column levels depend on what the format can show:

- table, html, xlsx, latex keep one header row per level, with a spanning label over the columns that
  share it (terminal: written across them; HTML: ``colspan``; Excel: merged cells; LaTeX:
  ``\\multicolumn`` with ``\\cmidrule``). Repeated outer row labels are left blank (HTML: ``rowspan``)
  in table, html and latex; Excel repeats them, so sorting and filtering keep every row labelled.
- csv, json, markdown have a single header row: column labels are flattened as ``"level1 / level2"``
  (empty levels left out).

Formats:

- table: aligned plain text for a terminal, numbers right-aligned, provenance as ``# `` lines after it.
- csv: UTF-8 without BOM. The caption and provenance come first as lines starting with ``# ``, so
  ``pandas.read_csv(path, comment="#")`` reads the table back; every string is quoted (a ``#`` inside a
  quoted cell is data, not a comment), numbers are not, and missing values are empty. Strings that a
  spreadsheet would run as a formula get a leading apostrophe (:func:`neutralise_formula`); numbers such
  as ``-0.12`` are written as numbers.
- xlsx: sheet ``table`` (bold, frozen header rows and label columns, fitted widths, wrapped long text,
  numbers with a number format, strings stored as text, never as formulas, those that start like a formula
  as written with Excel's quote-prefix style rather than CSV's apostrophe, which Excel would show) and
  sheet ``provenance`` (field, value).
- latex: a booktabs fragment for ``\\input``; a ``table`` float, or a ``longtable`` above 40 rows so
  long retrievals break across pages. Caption = caption (or ``provenance.what``) + ``provenance.short()``;
  the full provenance and the packages needed are comment lines at the top. A table wider than the page
  is set smaller, on a landscape page, or split into several tables that repeat the row labels
  (:mod:`gripcode.export.latex_fit` decides which).
- markdown: a GitHub-flavoured table, then the provenance in italics, one fact per line.
- html: a standalone HTML5 page with inline CSS and nothing loaded from the network.
- json: ``{"provenance": {...}, "caption": ..., "columns": [...], "index_columns": k, "rows": [[...]]}``:
  the same rectangle as the CSV, whose first ``k`` columns are the row labels; missing values and
  infinities are ``null``, dates ISO 8601.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gripcode.errors import AnalysisError
from gripcode.export.files import write_output
from gripcode.export.formats import TABLE_FORMATS
from gripcode.export.grid import (
    Grid,
    RenderOptions,
    column_spans,
    display_text,
    header_rows,
    is_number,
    key_runs,
    label_text,
    sparse_row_keys,
    to_grid,
    widen_for_spans,
    without_row_keys,
)
from gripcode.export.latex_table import render_latex
from gripcode.export.markdown import markdown_escape_cell, markdown_table
from gripcode.export.provenance import Provenance
from gripcode.export.spreadsheet import neutralise_formula, runs_as_formula

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TABLE_FORMATS", "neutralise_formula", "render_table", "write_table"]

_XLSX_MAX_WIDTH = 60
_XLSX_MAX_CELL = 32767  # Excel refuses longer cell texts
_LINE_BREAK_RE = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    return _LINE_BREAK_RE.sub(" ", text).replace("\t", " ")


# ------------------------------------------------------------------------------------------------ terminal


def _width(text: str) -> int:
    # CJK characters take two terminal cells, combining marks none; len() would misalign zh tables.
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text
    )


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def _render_text(grid: Grid, prov: Provenance, opts: RenderOptions) -> bytes:
    header = [[_one_line(c) for c in row] for row in header_rows(grid)]
    body = [
        [_one_line(display_text(v, opts.digits)) for v in (*keys, *values)]
        for keys, values in zip(sparse_row_keys(grid.row_keys), grid.values, strict=True)
    ]
    k, ncols = grid.k, grid.k + len(grid.column_keys)
    widths = [max((_width(row[j]) for row in [header[-1], *body]), default=0) for j in range(ncols)]
    for row in header[:-1]:
        for j in range(k):
            widths[j] = max(widths[j], _width(row[j]))
    spans = column_spans(grid)
    widen_for_spans(widths, header, spans, _width, 2)
    right = [False] * k + grid.numeric
    lines = [_one_line(opts.caption)] if opts.caption else []
    for level, level_spans in enumerate(spans):
        cells = [_pad(header[level][j], widths[j]) for j in range(k)]
        cells += [_pad(header[level][a], sum(widths[a:b]) + 2 * (b - a - 1)) for a, b in level_spans]
        lines.append("  ".join(cells).rstrip())
    for row in [header[-1], ["-" * w for w in widths], *body]:
        lines.append("  ".join(_pad(c, w, r) for c, w, r in zip(row, widths, right, strict=True)).rstrip())
    lines += [f"# {line}" for line in prov.lines()]
    return ("\n".join(lines) + "\n").encode("utf-8")


# ------------------------------------------------------------------------------------------------ CSV, JSON


def _csv_comment(line: str) -> str:
    # A spreadsheet that ignores the "#" convention splits the comment at commas (or semicolons, in some
    # locales), so each piece is neutralised on its own; double quotes would open a quoted field.
    parts = re.split(r"([,;])", line.replace('"', "'"))
    return "# " + "".join(str(neutralise_formula(part)) for part in parts)


def _csv_value(value: Any) -> Any:
    if type(value) is str:
        return neutralise_formula(value)
    if value is None or is_number(value) or isinstance(value, bool):
        return value
    return neutralise_formula(label_text(value))


def _render_csv(grid: Grid, prov: Provenance, opts: RenderOptions) -> bytes:
    buffer = io.StringIO(newline="")
    comments = ([opts.caption] if opts.caption else []) + prov.lines()
    buffer.writelines(_csv_comment(_one_line(line)) + "\n" for line in comments)
    # QUOTE_NONNUMERIC quotes every string and leaves numbers bare, so a "#" inside a label cannot be
    # taken for a comment and numbers stay numbers in every reader.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow([neutralise_formula(h) for h in grid.header()])
    writer.writerows([_csv_value(v) for v in row] for row in grid.rows())
    return buffer.getvalue().encode("utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return label_text(value)


def _render_json(grid: Grid, prov: Provenance, opts: RenderOptions) -> bytes:
    data = {
        "provenance": prov.to_dict(),
        "caption": opts.caption,
        "columns": grid.header(),
        "index_columns": grid.k,
        "rows": [[_json_value(v) for v in row] for row in grid.rows()],
    }
    return (json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")


# ------------------------------------------------------------------------------------------------ Markdown

_MD_INLINE_RE = re.compile(r"([\\`*_\[\]<>~&])")


def _md_inline(text: str) -> str:
    # Provenance sits inside *...*: escaping the characters that open emphasis, code, links, HTML or
    # entities keeps a "*" or "[" in a filter value from changing the markup. Line-start markers (#, -)
    # need no escape, since every line starts with "*".
    return _MD_INLINE_RE.sub(r"\\\1", _one_line(text).strip())


def _render_markdown(grid: Grid, prov: Provenance, opts: RenderOptions) -> bytes:
    header = [markdown_escape_cell(h) for h in grid.header()]
    rows = [[markdown_escape_cell(display_text(v, opts.digits)) for v in row] for row in grid.rows()]
    align = "l" * grid.k + "".join("r" if n else "l" for n in grid.numeric)
    parts = [f"**{_md_inline(opts.caption)}**\n"] if opts.caption else []
    parts.append(markdown_table(header, rows, align=align))
    parts.append("  \n".join(f"*{_md_inline(line)}*" for line in prov.lines()) + "\n")
    return "\n".join(parts).encode("utf-8")


# ------------------------------------------------------------------------------------------------ HTML

_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1a1a1a}
table{border-collapse:collapse;font-size:.9rem}
caption{caption-side:top;text-align:left;font-weight:600;margin-bottom:.5rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;vertical-align:top;text-align:left}
thead th{border-bottom:2px solid #333}
thead th[colspan]{text-align:center}
.num{text-align:right;font-variant-numeric:tabular-nums}
footer{margin-top:1rem;font-size:.8rem;color:#555}
footer p{margin:.1rem 0}"""


def _h(text: str) -> str:
    return "<br>".join(html.escape(line, quote=True) for line in _LINE_BREAK_RE.split(text))


def _tr(cells: Iterable[str]) -> str:
    return "<tr>" + "".join(cells) + "</tr>"


def _render_html(grid: Grid, prov: Provenance, opts: RenderOptions) -> bytes:
    k, header = grid.k, header_rows(grid)
    num = [""] * k + [' class="num"' if n else "" for n in grid.numeric]
    head = []
    for level, level_spans in enumerate(column_spans(grid)):
        cells = [f"<th>{_h(header[level][j])}</th>" for j in range(k)]
        for a, b in level_spans:
            span = f' colspan="{b - a}"' if b - a > 1 else ""
            cells.append(f'<th scope="colgroup"{span}>{_h(header[level][a])}</th>')
        head.append(_tr(cells))
    head.append(_tr(f'<th scope="col"{c}>{_h(t)}</th>' for t, c in zip(header[-1], num, strict=True)))
    # rowspan for outer row levels: the label cell is written once, at the start of its stretch.
    starts = [dict(key_runs(grid.row_keys, level + 1)) for level in range(k - 1)]
    body = []
    for i, (keys, values) in enumerate(zip(grid.row_keys, grid.values, strict=True)):
        cells = []
        for level, value in enumerate(keys):
            if level < k - 1:
                if i not in starts[level]:
                    continue
                span = starts[level][i] - i
                rowspan = f' rowspan="{span}"' if span > 1 else ""
                cells.append(f'<th scope="rowgroup"{rowspan}>')
            else:
                cells.append('<th scope="row">')
            cells[-1] += _h(display_text(value, opts.digits)) + "</th>"
        cells += [f"<td{c}>{_h(display_text(v, opts.digits))}</td>" for v, c in zip(values, num[k:])]
        body.append(_tr(cells))
    title = opts.caption or prov.what
    footer = "\n".join(f"<p>{_h(line)}</p>" for line in prov.lines())
    # The CSP forbids every load from anywhere, so even a crafted label could not make the page call out.
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_h(_one_line(title))}</title>
<style>\n{_CSS}\n</style>
</head>
<body>
<table>
<caption>{_h(title)}</caption>
<thead>\n{chr(10).join(head)}\n</thead>
<tbody>\n{chr(10).join(body)}\n</tbody>
</table>
<footer>\n{footer}\n</footer>
</body>
</html>
"""
    return page.encode("utf-8")


# ------------------------------------------------------------------------------------------------ Excel


def _render_xlsx(grid: Grid, prov: Provenance, opts: RenderOptions) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    float_format = "0." + "0" * opts.digits if opts.digits else "0"

    def put(cell: Cell, value: Any) -> str:
        """Store ``value`` in ``cell``; returns the text it shows, for fitting the column width."""
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)  # Excel has no time zones
        if value is None:
            return ""
        if isinstance(value, int):  # bool included: Excel has a boolean type
            cell.value, cell.number_format = value, "General" if isinstance(value, bool) else "0"
        elif isinstance(value, float) and math.isfinite(value):
            cell.value, cell.number_format = value, float_format
        elif isinstance(value, (dt.datetime, dt.date)):
            cell.value = value
            cell.number_format = "yyyy-mm-dd hh:mm:ss" if isinstance(value, dt.datetime) else "yyyy-mm-dd"
        else:
            text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", label_text(value))
            if not text:
                return ""
            cell.value = text[:_XLSX_MAX_CELL]
            cell.data_type = "s"  # text, whatever it starts with: never a formula
            if runs_as_formula(text):
                # Excel shows an apostrophe in a stored string literally; the cell style's quote prefix is
                # its own "typed as text" mark: shown as written, and kept as text if the cell is edited.
                cell.quotePrefix = True
            if len(text) > _XLSX_MAX_WIDTH or "\n" in text:
                cell.alignment = wrap
            return text
        return display_text(value, opts.digits)

    wb = Workbook()
    ws = wb.active
    ws.title = "table"
    header, k = header_rows(grid), grid.k
    widths = [0] * (k + len(grid.column_keys))
    for r, row in enumerate(header, start=1):
        last = r == len(header)
        for c, text in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            shown = put(cell, text)
            cell.font = bold
            if last or c <= k:  # a merged label spans several columns and does not size one of them
                widths[c - 1] = max(widths[c - 1], len(shown))
    spans = column_spans(grid)
    for level, level_spans in enumerate(spans):
        for a, b in level_spans:
            ws.cell(row=level + 1, column=a + 1).alignment = Alignment(horizontal="center")
            if b - a > 1:
                ws.merge_cells(start_row=level + 1, start_column=a + 1, end_row=level + 1, end_column=b)
    first = len(header) + 1
    for r, row in enumerate(grid.rows(), start=first):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            shown = put(cell, value)
            if c <= k:
                cell.font = bold
            widths[c - 1] = max(widths[c - 1], *(len(line) for line in shown.split("\n")))
    widen_for_spans(widths, header, spans, len, 0)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), _XLSX_MAX_WIDTH)
    ws.freeze_panes = ws.cell(row=first, column=k + 1).coordinate
    if widths:
        last_cell = ws.cell(row=first - 1 + len(grid.values), column=len(widths)).coordinate
        ws.auto_filter.ref = f"A{first - 1}:{last_cell}"

    sheet = wb.create_sheet("provenance")
    pairs = ([("Caption", opts.caption)] if opts.caption else []) + prov.items()
    for r, (key, value) in enumerate([("Field", "Value"), *pairs], start=1):
        put(sheet.cell(row=r, column=1), key)
        put(sheet.cell(row=r, column=2), value)
        sheet.cell(row=r, column=2).alignment = wrap
        if r == 1:
            sheet.cell(row=1, column=1).font = sheet.cell(row=1, column=2).font = bold
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 100
    sheet.freeze_panes = "A2"

    wb.properties.title = _one_line(opts.caption or prov.what)
    wb.properties.creator = "gripcode"
    wb.properties.created = prov.generated_at.replace(tzinfo=None)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------ public

_RENDERERS: dict[str, Callable[[Grid, Provenance, RenderOptions], bytes]] = {
    "table": _render_text,
    "csv": _render_csv,
    "xlsx": _render_xlsx,
    "latex": render_latex,
    "markdown": _render_markdown,
    "html": _render_html,
    "json": _render_json,
}


def _format_key(fmt: str) -> str:
    key = fmt.strip().lower()
    if key not in _RENDERERS:
        raise AnalysisError(f"unknown table format {fmt!r}: use {', '.join(TABLE_FORMATS)}")
    return key


def render_table(
    df: pd.DataFrame | Grid,
    fmt: str,
    provenance: Provenance,
    *,
    caption: str | None = None,
    label: str | None = None,
    index: bool = True,
    float_digits: int = 3,
) -> bytes:
    """``df`` as the bytes of a ``fmt`` file (one of :data:`TABLE_FORMATS`; text formats are UTF-8).

    ``df`` is a DataFrame or a :class:`~gripcode.export.grid.Grid` of plain values built straight from query
    rows (what the command line's compare, retrieve and framework matrix give, so that they never load pandas).

    ``caption`` titles the table (LaTeX, HTML and Markdown title, first line of terminal output, first
    comment line in CSV; LaTeX and HTML fall back to ``provenance.what``). ``label`` is the LaTeX
    ``\\label`` key, lower-cased, with characters other than letters, digits and ``: . -`` made ``-``.
    ``index=False`` leaves the row labels out. Floats are shown with ``float_digits`` decimals in the
    display formats (and as the Excel number format); CSV and JSON keep full precision. Raises
    :class:`AnalysisError` for an unknown format, bad ``float_digits`` or a table without columns.
    """
    key = _format_key(fmt)
    if isinstance(float_digits, bool) or not isinstance(float_digits, int) or not 0 <= float_digits <= 15:
        raise AnalysisError(f"float_digits must be a whole number from 0 to 15, not {float_digits!r}")
    if isinstance(df, Grid):
        grid = df if index else without_row_keys(df)
    else:
        grid = to_grid(df, index=index)
    if not grid.k and not grid.column_keys:
        raise AnalysisError("the table has no columns to show")
    return _RENDERERS[key](grid, provenance, RenderOptions(caption, label, float_digits))


def write_table(
    df: pd.DataFrame | Grid,
    fmt: str,
    out: Path | None,
    provenance: Provenance,
    *,
    caption: str | None = None,
    label: str | None = None,
    index: bool = True,
    float_digits: int = 3,
) -> bytes | None:
    """Write the table to ``out``, or return its bytes for stdout when ``out`` is None.

    The file is rendered completely before it is opened. ``xlsx`` is binary and needs ``out``. Raises
    :class:`AnalysisError` for an unknown format, xlsx without a file, or a path that cannot be written.
    """
    key = _format_key(fmt)
    if out is None and key == "xlsx":
        raise AnalysisError("xlsx is a binary format and cannot be printed: give a file, -o FILE.xlsx")
    data = render_table(
        df, key, provenance, caption=caption, label=label, index=index, float_digits=float_digits
    )
    if out is None:
        return data
    write_output(out, data, error=AnalysisError)
    return None
