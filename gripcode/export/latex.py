"""LaTeX helpers shared by the table exporters: escaping text and writing booktabs tables.

Exported tables are fragments meant for ``\\input{...}`` in a paper, so they carry no preamble; the first
comment lines say which packages the preamble needs. Cells are passed in as LaTeX (build them with
:func:`latex_escape`), so a caller can still add ``\\textbf`` or ``\\emph`` around escaped text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# <, > and | are not special to TeX, but in the default OT1 font encoding they print as other glyphs
# (¡, ¿, —), so they are written as text commands that work in every encoding; " is an active
# shorthand character under several babel languages (German, Dutch, ...), and \textquotedbl exists only in
# T1 (pdfLaTeX's default OT1 stops with an error), so it is the straight quote of the typewriter font, which
# has one at code 34 in OT1 and T1 alike.
_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': r"\texttt{\char34}",
}
_SPECIAL_RE = re.compile("[" + re.escape("".join(_SPECIALS)) + "]")
_LINE_BREAK_RE = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")

# \newline (unlike \\) ends a line inside a p{} cell without ending the table row, and it takes no optional
# argument, so a following "[" in the text is not read as a length.
NEWLINE = "\\newline "


def latex_escape(text: str, *, newline: str = NEWLINE) -> str:
    """``text`` as LaTeX that prints it literally.

    The ten characters TeX treats specially (``\\ { } $ & # ^ _ % ~``) and ``< > | "`` are escaped. Line
    breaks become ``newline`` (``\\newline`` by default, right for p{} table cells; pass ``" "`` for
    captions and other places where a forced break is not allowed). Blank lines collapse into one break:
    an empty line would end the paragraph, which a table cell or caption cannot take.
    """
    lines = [line.strip() for line in _LINE_BREAK_RE.split(text.strip())]
    escaped = [_SPECIAL_RE.sub(lambda m: _SPECIALS[m.group()], line) for line in lines if line]
    return newline.join(escaped)


def latex_label(*parts: str) -> str:
    """A ``\\label`` key from free text: characters other than letters, digits, ``: . -`` become ``-``."""
    key = ":".join(re.sub(r"[^a-z0-9.:-]+", "-", part.lower()).strip("-") for part in parts)
    return key or "table"


def needs_unicode_engine(text: str) -> bool:
    """Whether ``text`` has letters beyond Latin (Cyrillic, CJK, ...) that pdfLaTeX cannot set by default."""
    return any(ord(ch) > 0x24F and unicodedata.category(ch).startswith("L") for ch in text)


@dataclass(frozen=True)
class LatexColumn:
    """One table column.

    ``width`` is a fraction of ``\\linewidth`` for a ragged-right paragraph column (text); without it the
    column is a plain ``l``/``c``/``r`` column (``align``), right for counts and percentages.
    """

    header: str
    width: float | None = None
    align: str = "l"

    def spec(self, font: str = "") -> str:
        if self.width is None:
            return self.align
        # The fraction includes the column's padding, so widths that sum to 1 fill the line exactly.
        # Justified text in narrow columns leaves wide gaps between words; ragged right reads better.
        return (
            f">{{{font}\\raggedright\\arraybackslash}}"
            f"p{{\\dimexpr {self.width:.3f}\\linewidth-2\\tabcolsep\\relax}}"
        )


@dataclass(frozen=True)
class LatexRow:
    """A body row: ``cells`` are LaTeX; ``space_before`` adds booktabs' \\addlinespace to start a group."""

    cells: Sequence[str]
    space_before: bool = False


def required_packages(columns: Sequence[LatexColumn], *, long: bool, landscape: bool = False) -> list[str]:
    packages = ["booktabs"]
    if any(column.width is not None for column in columns):
        packages.append("array")
    if long:
        packages.append("longtable")
        if landscape:
            packages.append("pdflscape")  # rotates the pages a long table runs over
    else:
        packages.append("graphicx")  # \resizebox, should the table still be wider than the line
        if landscape:
            packages.append("rotating")  # sidewaystable
    return sorted(packages)


def preamble_comments(packages: Iterable[str], body: str) -> list[str]:
    """Comment lines for the top of a fragment: the packages it needs and, if so, the engine."""
    lines = [f"% Requires in the preamble: \\usepackage{{{','.join(packages)}}}"]
    if needs_unicode_engine(body):
        lines.append(
            "% Contains non-Latin script: compile with XeLaTeX or LuaLaTeX (fontspec) and fonts that cover it"
        )
    return lines


def _row(cells: Sequence[str], ncols: int) -> str:
    if len(cells) != ncols:
        raise ValueError(f"a row has {len(cells)} cells; the table has {ncols} columns")
    first = cells[0]
    # A "[" right after the previous row's \\ would be read as that \\'s optional length.
    if first.startswith("["):
        first = "{}" + first
    return " & ".join([first, *cells[1:]]) + r" \\"


def booktabs_table(
    columns: Sequence[LatexColumn],
    rows: Sequence[LatexRow],
    *,
    caption: str,
    label: str,
    short_caption: str | None = None,
    long: bool = False,
    font: str = "",
    size: str = "",
    landscape: bool = False,
    comments: Sequence[str] = (),
) -> str:
    """A booktabs table (\\toprule, \\midrule, \\bottomrule) ready for ``\\input``.

    ``long=True`` gives a ``longtable`` that breaks across pages and repeats its header with a
    "(continued)" caption; otherwise a ``table`` float with a ``tabular``. ``caption`` and
    ``short_caption`` (the List of Tables entry) are LaTeX. ``font`` (e.g. ``\\footnotesize``) applies to
    the paragraph columns only, so the caption keeps the document's size; ``size`` (the same kind of
    command) applies to the whole table body. ``landscape=True`` sets the table on a rotated page
    (``sidewaystable``; a long table in pdflscape's ``landscape``). A float's tabular is scaled down to
    ``\\linewidth`` should it still be wider (never up). ``comments`` are written as ``%`` lines after the
    package note.
    """
    ncols = len(columns)
    spec = "".join(column.spec(font) for column in columns)
    header = _row([latex_escape(column.header) for column in columns], ncols)
    body: list[str] = []
    for index, row in enumerate(rows):
        if row.space_before and index > 0:
            body.append(r"\addlinespace")
        body.append(_row(row.cells, ncols))
    short = f"[{short_caption}]" if short_caption is not None else ""

    if long:
        lines = [
            *([r"\begin{landscape}"] if landscape else []),
            *([r"\begingroup" + size] if size else []),
            f"\\begin{{longtable}}{{{spec}}}",
            f"\\caption{short}{{{caption}}}\\label{{{label}}}\\\\",
            r"\toprule",
            header,
            r"\midrule",
            r"\endfirsthead",
            f"\\caption[]{{{short_caption or caption} (continued)}}\\\\",
            r"\toprule",
            header,
            r"\midrule",
            r"\endhead",
            r"\midrule",
            f"\\multicolumn{{{ncols}}}{{r}}{{\\emph{{Continued on next page}}}}\\\\",
            r"\endfoot",
            r"\bottomrule",
            r"\endlastfoot",
            *body,
            r"\end{longtable}",
            *([r"\endgroup"] if size else []),
            *([r"\end{landscape}"] if landscape else []),
        ]
    else:
        env = "sidewaystable" if landscape else "table"
        lines = [
            f"\\begin{{{env}}}" + ("" if landscape else "[htbp]"),
            r"\centering",
            f"\\caption{short}{{{caption}}}\\label{{{label}}}",
            *([size] if size else []),
            # Shrinks the table to the line only if it is wider (a narrower page, a two-column journal).
            r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
            f"\\begin{{tabular}}{{{spec}}}",
            r"\toprule",
            header,
            r"\midrule",
            *body,
            r"\bottomrule",
            r"\end{tabular}}",
            f"\\end{{{env}}}",
        ]
    text = "\n".join(lines)
    head = preamble_comments(required_packages(columns, long=long, landscape=landscape), text)
    head.extend(f"% {line}" for comment in comments for line in comment.splitlines())
    return "\n".join([*head, text]) + "\n"


_REQUIRES_RE = re.compile(r"^% Requires in the preamble: \\usepackage\{([^}]*)\}$")


def join_fragments(fragments: Sequence[str]) -> str:
    """Several tables (the parts of a split one) as one fragment, with one set of comments at the top.

    The package line names what any part needs (one part may have a quote column that needs ``array``),
    the engine note appears if any part has non-Latin text, and the first part's other comments follow.
    """
    if len(fragments) == 1:
        return fragments[0]
    packages: set[str] = set()
    engine: list[str] = []
    others: list[str] = []
    bodies: list[str] = []
    for number, text in enumerate(fragments):
        lines = text.split("\n")
        head = next((i for i, line in enumerate(lines) if not line.startswith("% ")), len(lines))
        for line in lines[:head]:
            match = _REQUIRES_RE.match(line)
            if match:
                packages.update(match.group(1).split(","))
            elif "XeLaTeX" in line:
                engine += [] if line in engine else [line]
            elif number == 0:
                others.append(line)
        bodies.append("\n".join(lines[head:]))
    requires = f"% Requires in the preamble: \\usepackage{{{','.join(sorted(packages))}}}"
    return "\n".join([requires, *engine, *others, *bodies])
