"""Analysis tables as LaTeX: booktabs fragments that fit the page, for :mod:`gripcode.export.tables`.

A ``table`` float, or a ``longtable`` above 40 rows so long retrievals break across pages. A table wider than
the page is set smaller, on a landscape page, or split into several tables that repeat the row labels
(:mod:`gripcode.export.latex_fit` decides which); upper column levels become ``\\multicolumn`` labels with
``\\cmidrule``, and repeated outer row labels are left blank.
"""

from __future__ import annotations

from typing import Any

from gripcode.export.grid import (Grid, RenderOptions, column_spans, display_text, header_rows, is_number,
                                  sparse_row_keys, subgrid)
from gripcode.export.latex import LatexColumn, LatexRow, booktabs_table, join_fragments, latex_escape, latex_label
from gripcode.export.latex_fit import TABCOLSEP_PT, FitColumn, Layout, choose_layout, text_width
from gripcode.export.provenance import Provenance

_LONGTABLE_ROWS = 40


def _latex_cell(value: Any, digits: int) -> str:
    if is_number(value) and value < 0:
        return "$-$" + display_text(-value, digits)  # a minus sign, not a hyphen
    return latex_escape(display_text(value, digits))


def _latex_layout(grid: Grid, opts: RenderOptions) -> Layout:
    """The layout in which the table fits the page (see :mod:`gripcode.export.latex_fit`)."""
    k, header = grid.k, header_rows(grid)
    texts = [[display_text(v, opts.digits) for v in row] for row in grid.rows()]
    numeric = [False] * k + grid.numeric
    # Long text (retrieved quotes) gets ragged-right paragraph columns sharing what short columns leave.
    long = [
        not numeric[j] and max((len(row[j]) for row in texts), default=0) > 40 for j in range(len(numeric))
    ]
    fit = [
        FitColumn([header[-1][j], *(row[j] for row in texts)], paragraph=long[j]) for j in range(len(numeric))
    ]
    # A label spanning several columns (an upper header level) needs them to be as wide as it is together.
    spans, extra = column_spans(grid), [0.0] * len(numeric)
    for level, level_spans in enumerate(spans):
        for a, b in level_spans:
            need = (text_width(header[level][a]) - 2 * TABCOLSEP_PT * (b - a - 1)) / (b - a)
            for j in range(a, b):
                extra[j] = max(extra[j], need)
    labels = k or 1  # without row labels, the first column names the rows, so a split table repeats it
    # A split keeps the columns under one spanning label (a case's measures) together.
    groups = [list(range(max(a, labels), b)) for a, b in spans[-1]] if spans else []
    return choose_layout(fit, labels=labels, extra=extra, groups=[g for g in groups if g] or None)


def _latex_part(
    grid: Grid, prov: Provenance, opts: RenderOptions, shares: dict[int, float], layout: Layout, part: tuple[int, int]
) -> str:
    k, header = grid.k, header_rows(grid)
    numeric = [False] * k + grid.numeric
    columns = [
        LatexColumn(text, width=shares.get(j), align="r" if is_num else "l")
        for j, (text, is_num) in enumerate(zip(header[-1], numeric, strict=True))
    ]
    sparse = sparse_row_keys(grid.row_keys)
    rows = [
        LatexRow(
            [_latex_cell(v, opts.digits) for v in (*keys, *values)],
            space_before=k > 1 and keys[0] is not None,
        )
        for keys, values in zip(sparse, grid.values, strict=True)
    ]
    upper: list[str] = []
    for level, level_spans in enumerate(column_spans(grid)):
        cells = [latex_escape(header[level][j], newline=" ") for j in range(k)]
        rules = []
        for a, b in level_spans:
            text = latex_escape(header[level][a], newline=" ")
            cells.append(text if b - a == 1 else f"\\multicolumn{{{b - a}}}{{c}}{{{text}}}")
            if text:
                rules.append(f"\\cmidrule(lr){{{a + 1}-{b}}}")
        if cells and cells[0].startswith("["):
            cells[0] = "{}" + cells[0]
        upper += [" & ".join(cells) + r" \\", *([" ".join(rules)] if rules else [])]
    index, count = part
    title = (opts.caption or prov.what).rstrip().rstrip(".")
    label = latex_label(opts.label) if opts.label else latex_label("tab", title)
    if count > 1:
        title += f" (part {index} of {count})"
        label = label if index == 1 else f"{label}-part{index}"
    note = ["Include it with \\input{...}; it is set for the text block of a 10pt article (345pt wide)."]
    if layout.size or layout.landscape or count > 1:
        how = [f"in {layout.size}"] if layout.size else []
        how += ["on a landscape page"] if layout.landscape else []
        how += [f"split into {count} tables that repeat the row labels"] if count > 1 else []
        note.append("To fit the page it is set " + ", ".join(how) + ".")
    table = booktabs_table(
        columns,
        rows,
        caption=latex_escape(f"{title}. {prov.short()}", newline=" "),
        short_caption=latex_escape(title, newline=" "),
        label=label,
        long=len(rows) > _LONGTABLE_ROWS,
        size=layout.setup(),
        landscape=layout.landscape,
        comments=[*note, *prov.lines()] if index == 1 else [],
    )
    if upper:
        # booktabs_table writes one header row; the upper column levels go right under each \toprule
        # (twice in a longtable, whose header repeats on every page). Matching whole lines cannot hit a
        # comment or a cell: those never consist of \toprule alone.
        lines = []
        for line in table.split("\n"):
            lines.append(line)
            if line == r"\toprule":
                lines += upper
        table = "\n".join(lines)
    return table


def render_latex(grid: Grid, prov: Provenance, opts: RenderOptions) -> bytes:
    """The table as one booktabs fragment, or as several when it is split to fit the page."""
    layout = _latex_layout(grid, opts)
    k, parts = grid.k, []
    for index, part in enumerate(layout.parts, start=1):
        data = [j - k for j in part.columns if j >= k] if k else list(part.columns)
        shares = {part.columns.index(j): share for j, share in part.shares.items()}
        parts.append(_latex_part(subgrid(grid, data), prov, opts, shares, layout, (index, len(layout.parts))))
    return join_fragments(parts).encode("utf-8")
