"""Markdown helpers shared by the table exporters: GitHub-flavoured (GFM) pipe tables."""

from __future__ import annotations

import re
from collections.abc import Sequence

_LINE_BREAK_RE = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")


def markdown_escape_cell(text: str) -> str:
    """``text`` as the content of one GFM table cell.

    A ``|`` would split the cell, so it is escaped; backslashes are escaped first, because in ``\\|`` the
    table parser reads ``\\\\`` as one escaped backslash and the pipe would split the cell after all. Line
    breaks become ``<br>``, since a raw newline ends the table row.
    """
    text = text.strip().replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(line.strip() for line in _LINE_BREAK_RE.split(text))


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None) -> str:
    """A GFM pipe table; cells are Markdown already (escape plain text with :func:`markdown_escape_cell`).

    ``align`` has one letter per column, ``l``, ``c`` or ``r`` (default all ``l``).
    """
    ncols = len(header)
    align = align or "l" * ncols
    if len(align) != ncols:
        raise ValueError(f"align has {len(align)} letters; the table has {ncols} columns")
    rules = {"l": ":---", "c": ":---:", "r": "---:"}
    lines = [_line(header), _line([rules[a] for a in align])]
    for row in rows:
        if len(row) != ncols:
            raise ValueError(f"a row has {len(row)} cells; the table has {ncols} columns")
        lines.append(_line(row))
    return "\n".join(lines) + "\n"


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
