"""How a LaTeX table fits the page: estimated widths, and the layout a journal accepts for a wide table.

A table that is wider than the text block runs into the margin (pdfLaTeX's "Overfull \\hbox"), which no
journal prints. The writer estimates every column's width from the Computer Modern (and Latin Modern)
glyph widths and takes the first layout that fits, in the order a copy editor would try them:

1. the text block upright, at the document's size, then ``\\small`` and ``\\footnotesize``;
2. a landscape page (``sidewaystable``, or ``landscape`` for a table that breaks across pages), from the
   document's size down to ``\\scriptsize`` (7 pt, the smallest that journals print);
3. otherwise the columns are split into several tables on landscape pages at ``\\footnotesize``, each
   repeating the row labels and saying which part it is.

A smaller font comes with proportionally smaller column padding (``\\tabcolsep``), as in a scaled table.

Paragraph columns (long quotes) take what the one-line columns leave, but never less than their longest
word, nor less than :data:`MIN_PARAGRAPH_PT`. The estimates are for the text block of the standard classes
at 10 pt (``article``, ``report``: 345 pt wide, 550 pt high). Floats are wrapped in a ``\\resizebox`` that
shrinks them only if they are still wider than the line, so they fit any other page too (a two-column
journal's column, say); a ``longtable`` cannot be boxed, so it relies on the estimate alone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

PORTRAIT_PT = 345.0  # \textwidth of article/report at 10pt, letter or A4 paper
LANDSCAPE_PT = 550.0  # their \textheight: the line width of a rotated page
TABCOLSEP_PT = 6.0  # LaTeX's default padding on each side of a column
MIN_PARAGRAPH_PT = 90.0  # narrower paragraph columns hold two or three words a line
_BUDGET = 0.96  # the estimate leaves a little room for what it does not know (kerning, fonts)

# (font command, its size relative to the document's 10pt, the width of its glyphs relative to cmr10's): the
# smaller optical sizes of Computer Modern (cmr9, cmr8, cmr7) are drawn wider than cmr10 scaled down.
NORMAL, SMALL = ("", 1.0, 1.0), (r"\small", 0.9, 0.925)
FOOTNOTE, SCRIPT = (r"\footnotesize", 0.8, 0.85), (r"\scriptsize", 0.7, 0.8)
_TRIES = [(False, NORMAL), (False, SMALL), (False, FOOTNOTE),
          (True, NORMAL), (True, SMALL), (True, FOOTNOTE), (True, SCRIPT)]  # fmt: skip
_SPLIT = (True, FOOTNOTE)

# Advance widths of cmr10 in em (10pt); letters with accents take their base letter's width.
_EM = {
    **dict.fromkeys("0123456789", 0.5),
    **dict(zip("abcdefghijklmnopqrstuvwxyz", [0.5, 0.556, 0.444, 0.556, 0.444, 0.306, 0.5, 0.556, 0.278,
                                               0.306, 0.528, 0.278, 0.833, 0.556, 0.5, 0.556, 0.528, 0.392,
                                               0.394, 0.389, 0.556, 0.528, 0.722, 0.528, 0.528, 0.444])),
    **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", [0.75, 0.708, 0.722, 0.764, 0.681, 0.653, 0.785, 0.75, 0.361,
                                               0.514, 0.778, 0.625, 0.917, 0.75, 0.778, 0.681, 0.778, 0.736,
                                               0.556, 0.722, 0.75, 0.75, 1.028, 0.75, 0.75, 0.611])),
    " ": 0.333, ".": 0.278, ",": 0.278, ":": 0.278, ";": 0.278, "!": 0.278, "?": 0.472, "'": 0.278,
    "(": 0.389, ")": 0.389, "[": 0.278, "]": 0.278, "/": 0.5, "%": 0.833, "&": 0.778, "+": 0.778,
    "=": 0.778, "*": 0.5, "#": 0.833, "$": 0.5, "@": 0.75, "_": 0.5, "|": 0.278, "<": 0.5, ">": 0.5,
    "-": 0.333, "\u2013": 0.5, "\u2014": 1.0, "\u201c": 0.5, "\u201d": 0.5, "\u2018": 0.278, "\u2019": 0.278,
}  # fmt: skip
_OTHER_EM = 0.6  # Greek, Cyrillic and symbols the table does not list: about a capital's width


def text_width(text: str, scale: float = 1.0) -> float:
    """Estimated width in points of ``text`` on one line at ``scale`` times 10pt."""
    em = 0.0
    if text[:1] == "-" and text[1:2].isdigit():
        em += 0.778 - 0.333  # a negative number is set with a math minus, wider than a hyphen
    for ch in text:
        if ch in _EM:
            em += _EM[ch]
        elif unicodedata.combining(ch):
            continue
        elif unicodedata.east_asian_width(ch) in "WF":
            em += 1.0  # CJK: a full em each
        else:
            base = unicodedata.normalize("NFD", ch)[0]
            em += _EM.get(base, _OTHER_EM)
    return em * 10.0 * scale


def longest_word(text: str, scale: float = 1.0) -> float:
    """The widest piece of ``text`` that a line cannot break (words; TeX breaks after a hyphen)."""
    pieces = text.replace("-", "- ").split()
    return max((text_width(p, scale) for p in pieces), default=0.0)


@dataclass(frozen=True)
class FitColumn:
    """What the layout needs to know of one column: its cells (header included) as plain text."""

    texts: Sequence[str]
    paragraph: bool  # long text in a ragged-right paragraph column

    # Measured once at 10pt: a layout is tried at several sizes, and widths scale with the size.
    @cached_property
    def _natural(self) -> float:
        return max((text_width(line) for t in self.texts for line in t.split("\n")), default=0.0)

    @cached_property
    def _word(self) -> float:
        return max((longest_word(t) for t in self.texts), default=0.0) if self.paragraph else self._natural

    def natural(self, scale: float) -> float:
        return self._natural * scale

    def minimum(self, scale: float) -> float:
        if not self.paragraph:
            return self.natural(scale)
        return min(self._natural, max(self._word, MIN_PARAGRAPH_PT)) * scale


@dataclass(frozen=True)
class TablePart:
    """One table of the layout: its columns (indices, row labels first) and, for paragraph columns, the
    share of ``\\linewidth`` each takes (padding included)."""

    columns: tuple[int, ...]
    shares: dict[int, float]


@dataclass(frozen=True)
class Layout:
    size: str  # font command for the table body ("" = the document's size)
    scale: float  # that size relative to 10pt; \tabcolsep is scaled alike
    landscape: bool
    parts: tuple[TablePart, ...]

    def setup(self) -> str:
        """The commands that set the table's size: the font, and column padding to match."""
        if not self.size:
            return ""
        return f"{self.size}\\setlength{{\\tabcolsep}}{{{TABCOLSEP_PT * self.scale:g}pt}}"


def _shares(columns: Sequence[FitColumn], chosen: Sequence[int], scale: float, nominal: float, line: float,
            extra: Sequence[float]) -> dict[int, float] | None:
    """Paragraph column shares if ``chosen`` fits ``line`` with glyphs ``scale`` times cmr10's; None if not."""
    pad = 2 * TABCOLSEP_PT * nominal  # the writer sets \tabcolsep in proportion to the font size
    budget = line * _BUDGET - pad * len(chosen)
    fixed = [j for j in chosen if not columns[j].paragraph]
    para = [j for j in chosen if columns[j].paragraph]
    budget -= sum(max(columns[j].natural(scale), extra[j] * scale) for j in fixed)
    least = {j: max(columns[j].minimum(scale), extra[j] * scale) for j in para}
    if budget < sum(least.values()):
        return None
    most = {j: max(columns[j].natural(scale), least[j]) for j in para}
    room = budget - sum(least.values())
    want = sum(most[j] - least[j] for j in para)
    widths = {j: least[j] + (most[j] - least[j]) * min(1.0, room / want if want else 0.0) for j in para}
    return {j: (w + pad) / line for j, w in widths.items()}


def _pack(
    head: tuple[int, ...], units: Sequence[Sequence[int]], fits: Callable[[Sequence[int]], bool]
) -> list[list[int]]:
    """The units (columns that belong together) in as few parts as fit, the parts as even as possible."""
    greedy: list[list[Sequence[int]]] = [[]]
    for unit in units:
        if greedy[-1] and not fits([*head, *(j for u in greedy[-1] for j in u), *unit]):
            greedy.append([])
        greedy[-1].append(unit)
    # Greedy packing leaves a short last part (12 columns and 1); the same number of parts with the units
    # dealt out evenly reads better, where that fits too.
    count = len(greedy)
    bounds = [round(i * len(units) / count) for i in range(count + 1)]
    even = [list(units[a:b]) for a, b in zip(bounds, bounds[1:])]
    chosen = even if all(fits([*head, *(j for u in part for j in u)]) for part in even) else greedy
    return [[j for unit in part for j in unit] for part in chosen]


def choose_layout(
    columns: Sequence[FitColumn],
    labels: int,
    extra: Sequence[float] | None = None,
    groups: Sequence[Sequence[int]] | None = None,
) -> Layout:
    """The first layout (see the module docstring) in which the table fits.

    ``labels`` is how many leading columns are row labels, repeated in every part of a split table.
    ``extra`` is a minimum width per column at 10pt, for headers spanning several columns. ``groups`` are
    runs of columns under one spanning header: a split keeps each group whole where the group fits a page.
    """
    extra = list(extra) if extra is not None else [0.0] * len(columns)
    everything = tuple(range(len(columns)))
    for landscape, (size, nominal, scale) in _TRIES:
        shares = _shares(columns, everything, scale, nominal, LANDSCAPE_PT if landscape else PORTRAIT_PT, extra)
        if shares is not None:
            return Layout(size, nominal, landscape, (TablePart(everything, shares),))
    landscape, (size, nominal, scale) = _SPLIT
    head = everything[:labels]

    def fits(chosen: Sequence[int]) -> bool:
        return _shares(columns, chosen, scale, nominal, LANDSCAPE_PT, extra) is not None

    units: list[Sequence[int]] = []
    for group in groups or [[j] for j in everything[labels:]]:
        # A group too wide for one page is split column by column like the rest.
        units += [group] if fits([*head, *group]) else [[j] for j in group]
    out = []
    for part in _pack(head, units, fits):
        chosen = (*head, *part)
        shares = _shares(columns, chosen, scale, nominal, LANDSCAPE_PT, extra)
        if shares is None:  # one column wider than the page on its own: its paragraphs take what is left
            para = [j for j in chosen if columns[j].paragraph]
            shares = {j: max(0.1, 1.0 - 0.15 * (len(chosen) - len(para))) / len(para) for j in para}
        out.append(TablePart(chosen, shares))
    return Layout(size, nominal, landscape, tuple(out))
