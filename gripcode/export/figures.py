"""Figures for papers: a heatmap of a code × case (or code × code) table, as PNG, SVG or PDF.

Drawn with matplotlib's object interface on an Agg canvas: no display is needed, and pyplot's global
state (current figure, backend) is never touched, so figures can be drawn from any thread or server.
The output is deterministic for SVG (fixed ``svg.hashsalt``, no date) and PDF (no creation date), so
re-running an unchanged analysis gives byte-identical files that version control does not flag. Text
stays text in SVG (``svg.fonttype: none``): labels remain searchable and editable in a vector editor.
PDF fonts are embedded as TrueType (Type 42), which journals accept where Type 3 is refused.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gripcode.errors import AnalysisError
from gripcode.export.files import write_output
from gripcode.export.provenance import Provenance

__all__ = ["FIGURE_SUFFIXES", "heatmap"]

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
_MAX_LABEL = 45
_MISSING_GLYPH_RE = re.compile(r"Glyph (\d+) .*missing from")
_MAX_INCHES = 40.0
# Tried after DejaVu Sans (matplotlib's own font, Latin/Cyrillic) for Chinese labels, if installed.
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei")


def _label(key: Any) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    text = " / ".join(str(part) for part in parts if part is not None and str(part) != "")
    text = _literal(" ".join(text.split()))
    # A label longer than this would squeeze the cells; the table exports keep the full text.
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "\u2026"


def _literal(text: str) -> str:
    # matplotlib reads text between two "$" as math; codes and titles are shown as written.
    return text.replace("$", r"\$")


def _font_families() -> list[str]:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    # Only installed fonts are listed: a missing family makes matplotlib log a warning on every text.
    return ["DejaVu Sans", *(name for name in _CJK_FONTS if name in installed)]


def _text_colour(rgba: tuple[float, float, float, float]) -> str:
    """Black or white, whichever contrasts more with the cell colour (WCAG relative luminance)."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in rgba[:3])
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    # Contrast with black (L + 0.05) / 0.05 equals contrast with white 1.05 / (L + 0.05) at L ~ 0.179.
    return "black" if luminance > 0.179 else "white"


def _values(df: pd.DataFrame) -> np.ndarray:
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise AnalysisError("nothing to plot: the table is empty")
    try:
        values = df.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise AnalysisError("a heatmap needs numbers in every cell; this table has text") from None
    return values


def heatmap(
    df: pd.DataFrame,
    out: Path,
    provenance: Provenance,
    *,
    title: str,
    value_label: str,
    fmt_values: str = "{:.2f}",
    cmap: str = "viridis",
) -> None:
    """Write ``df`` as a heatmap to ``out``; the suffix (.png, .svg, .pdf) picks the format.

    Rows and columns are labelled with the index and column labels (a MultiIndex level by level, joined
    with " / "), column labels rotated; the index and column *names* become the axis titles. Each cell
    shows its value formatted with ``fmt_values`` in black or white for contrast; missing values are
    left blank on a grey cell. ``value_label`` names the colour bar; ``provenance.short()`` is a small
    footnote. The figure grows with the number of rows and columns. Raises :class:`AnalysisError` for an
    unsupported suffix, an unknown colour map, a table without numbers, or a path that cannot be written.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FIGURE_SUFFIXES:
        raise AnalysisError(
            f"cannot write a figure as {out.name!r}: use a file name ending in {', '.join(FIGURE_SUFFIXES)}"
        )
    values = _values(df)
    try:
        fmt_values.format(1.5)
    except (ValueError, IndexError, KeyError):
        raise AnalysisError(f"the value format {fmt_values!r} cannot format a number") from None

    import matplotlib

    try:
        colour_map = matplotlib.colormaps[cmap]
    except KeyError:
        raise AnalysisError(f"unknown colour map {cmap!r}; e.g. viridis, magma, Blues, RdBu") from None

    rc = {
        "svg.hashsalt": "gripcode",
        "svg.fonttype": "none",
        "pdf.fonttype": 42,
        "font.family": _font_families(),
        "font.size": 9,
    }
    # Saving reads the SVG/PDF settings too, so it happens inside the context.
    with matplotlib.rc_context(rc), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = _draw(df, values, provenance, title, value_label, fmt_values, colour_map, suffix)
    missing: set[str] = set()
    for warning in caught:
        match = _MISSING_GLYPH_RE.search(str(warning.message))
        if match:
            missing.add(chr(int(match.group(1))))
        else:
            warnings.warn(warning.message, stacklevel=2)
    # SVG keeps text as text, which the viewer sets with its own fonts; PNG and PDF would show boxes.
    if missing and suffix != ".svg":
        # matplotlib warns once per glyph and draw; one sentence that says what to do is enough.
        sample = "".join(sorted(missing)[:10])
        warnings.warn(
            f"no installed font has the characters {sample!r}: they show as boxes in {out.name}; install a "
            "font that covers them (e.g. Noto Sans CJK) and draw the figure again",
            stacklevel=2,
        )
    write_output(out, data, error=AnalysisError)


def _draw(
    df: pd.DataFrame,
    values: np.ndarray,
    provenance: Provenance,
    title: str,
    value_label: str,
    fmt_values: str,
    colour_map: Any,
    suffix: str,
) -> bytes:
    """The heatmap as the bytes of a ``suffix`` file."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    nrows, ncols = values.shape
    rows = [_label(key) for key in df.index]
    columns = [_label(key) for key in df.columns]
    row_space = 0.3 + 0.065 * max(len(label) for label in rows)  # inches for the row labels
    column_space = 0.3 + 0.05 * max(len(label) for label in columns)  # rotated 45°
    width = min(_MAX_INCHES, max(4.5, row_space + 0.6 * ncols + 1.4))
    height = min(_MAX_INCHES, max(3.0, column_space + 0.4 * nrows + 1.0))

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    masked = np.ma.masked_invalid(values)
    colour_map = colour_map.with_extremes(bad="#e0e0e0")
    image = axes.imshow(masked, cmap=colour_map, vmin=low, vmax=high, aspect="auto", interpolation="nearest")

    axes.set_xticks(range(ncols), labels=columns, rotation=45, ha="right", rotation_mode="anchor")
    axes.set_yticks(range(nrows), labels=rows)
    axes.tick_params(length=0)
    axes.set_xlabel(_label(tuple(df.columns.names)))
    axes.set_ylabel(_label(tuple(df.index.names)))
    axes.set_title(_literal(title), fontsize=11)
    for spine in axes.spines.values():
        spine.set_visible(False)

    cell_font = max(5.0, min(9.0, 80.0 / max(nrows, ncols)))
    for i in range(nrows):
        for j in range(ncols):
            value = values[i, j]
            if not math.isfinite(value):
                continue
            colour = _text_colour(colour_map(image.norm(value)))
            text = _literal(fmt_values.format(value))
            axes.text(j, i, text, ha="center", va="center", color=colour, fontsize=cell_font)

    colour_bar = figure.colorbar(image, ax=axes, shrink=0.8)
    colour_bar.set_label(_literal(value_label))
    colour_bar.outline.set_visible(False)

    wrap = max(40, int(width * 72 / (7 * 0.55)))  # characters per line at 7 pt
    footnote = _literal("\n".join(textwrap.wrap(provenance.short(), wrap)))
    # Below the figure area; bbox_inches="tight" at saving grows the canvas to include it.
    figure.text(0.01, 0.0, footnote, fontsize=7, color="#555555", ha="left", va="top")

    # The full provenance also goes into the file's metadata, where it survives cropping the footnote.
    description = "\n".join(provenance.lines())
    metadata = {
        ".png": {"Title": title, "Description": description, "Software": "gripcode"},
        ".svg": {"Title": title, "Description": description, "Date": None},
        ".pdf": {"Title": title, "Subject": description, "CreationDate": None},
    }[suffix]
    buffer = io.BytesIO()
    figure.savefig(buffer, format=suffix[1:], dpi=200, bbox_inches="tight", pad_inches=0.15, metadata=metadata)
    return buffer.getvalue()
