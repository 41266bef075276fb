"""One document with its codes: highlighted in a terminal, or as a standalone HTML page.

Pure functions over the document text, its paragraph spans and its codings; the caller reads them from
the database. Offsets are gripcode's half-open code-point offsets into the stored text. Codes overlap
freely, so the text is cut at every span boundary into segments that each know which codings cover
them; a coding that runs over a paragraph break shows in every paragraph it touches.
"""

from __future__ import annotations

import html
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "PALETTE",
    "CodedSpan",
    "MemoNote",
    "Segment",
    "code_color",
    "render_html",
    "render_terminal",
    "split_segments",
]


@dataclass(frozen=True)
class CodedSpan:
    """One coding: ``text[start:end]`` coded ``code_id`` by ``coder``."""

    start: int
    end: int
    code_id: str
    code_name: str
    color: str | None
    coder: str
    memo: str | None = None


@dataclass(frozen=True)
class MemoNote:
    """A memo to show with the document; ``target_label`` says what it is attached to."""

    title: str | None
    text: str
    coder: str
    target_label: str


@dataclass(frozen=True)
class Segment:
    """A stretch ``[start, end)`` covered by the same codings throughout, innermost (shortest) first."""

    start: int
    end: int
    spans: tuple[CodedSpan, ...]

    @property
    def code_ids(self) -> frozenset[str]:
        return frozenset(span.code_id for span in self.spans)


# Mid-saturation colours that stay apart from each other and carry black or white text.
PALETTE: tuple[str, ...] = (
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
    "#b3de69", "#fccde5", "#bc80bd", "#ccebc5", "#ffed6f", "#d9d9d9",
)
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_RESET = "\x1b[0m"
_UNDERLINE = "\x1b[4m"
_MAX_STRIPES = 4


def code_color(code_id: str, color: str | None) -> str:
    """The code's colour as ``#rrggbb``; a code without a usable one gets a palette colour fixed by its id."""
    found = _HEX.fullmatch(color.strip()) if color else None
    if found:
        digits = found.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return "#" + digits[:6].lower()
    # crc32 rather than hash(): the colour must not change between runs.
    return PALETTE[zlib.crc32(code_id.encode("utf-8")) % len(PALETTE)]


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16)


def _dark_text(hex_color: str) -> bool:
    """Whether black text reads better than white on this background (WCAG relative luminance)."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in _rgb(hex_color))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    # The luminance at which black and white text have the same contrast ratio.
    return luminance > 0.179


def split_segments(spans: Iterable[CodedSpan], start: int, end: int) -> list[Segment]:
    """``[start, end)`` cut at every boundary of the spans that touch it, uncoded stretches included."""
    inside = [span for span in spans if span.start < end and span.end > start and span.start < span.end]
    bounds = {start, end}
    for span in inside:
        bounds.add(max(span.start, start))
        bounds.add(min(span.end, end))
    points = sorted(bounds)
    segments: list[Segment] = []
    for left, right in zip(points, points[1:]):
        covering = [span for span in inside if span.start <= left and span.end >= right]
        covering.sort(key=lambda span: (span.end - span.start, span.start, span.code_id, span.coder))
        segments.append(Segment(left, right, tuple(covering)))
    return segments


def _codes_in(spans: Iterable[CodedSpan], start: int, end: int) -> list[tuple[CodedSpan, list[str]]]:
    """The codes applied within ``[start, end)``, in order of first appearance, each with its coders."""
    coders: dict[str, list[str]] = {}
    first: dict[str, CodedSpan] = {}
    for span in sorted(spans, key=lambda span: (span.start, span.end, span.code_id)):
        if span.start < end and span.end > start and span.start < span.end:
            first.setdefault(span.code_id, span)
            names = coders.setdefault(span.code_id, [])
            if span.coder not in names:
                names.append(span.coder)
    return [(first[code_id], coders[code_id]) for code_id in first]


# Terminal ------------------------------------------------------------------------------------------


def _ansi_style(hex_color: str, underline: bool) -> str:
    red, green, blue = _rgb(hex_color)
    fore = "0;0;0" if _dark_text(hex_color) else "255;255;255"
    return f"\x1b[48;2;{red};{green};{blue}m\x1b[38;2;{fore}m" + (_UNDERLINE if underline else "")


def _styled(piece: str, style: str) -> str:
    # Ending the style before each line break keeps the background from running to the terminal's edge.
    return "\n".join(f"{style}{line}{_RESET}" if line else "" for line in piece.split("\n"))


def _coloured_paragraph(text: str, segments: list[Segment]) -> str:
    # Neighbouring segments that look the same are written as one run, with one pair of escapes.
    runs: list[tuple[str, str]] = []
    for segment in segments:
        style = ""
        if segment.spans:
            inner = segment.spans[0]
            style = _ansi_style(code_color(inner.code_id, inner.color), len(segment.code_ids) > 1)
        piece = text[segment.start: segment.end]
        if runs and runs[-1][0] == style:
            runs[-1] = (style, runs[-1][1] + piece)
        else:
            runs.append((style, piece))
    return "".join(_styled(piece, style) if style else piece for style, piece in runs)


def _bracketed_paragraph(text: str, spans: Sequence[CodedSpan], start: int, end: int) -> str:
    """The paragraph with every coded stretch in ⟦ ⟧ and the code's id after the closing bracket."""
    # One pair of brackets per code and stretch, however many coders applied it there.
    marks = sorted({(max(s.start, start), min(s.end, end), s.code_id) for s in spans
                    if s.start < end and s.end > start and s.start < s.end})
    opens: dict[int, list[tuple[int, int, str]]] = {}
    closes: dict[int, list[tuple[int, int, str]]] = {}
    for mark in marks:
        opens.setdefault(mark[0], []).append(mark)
        closes.setdefault(mark[1], []).append(mark)
    parts: list[str] = []
    points = sorted({start, end, *opens, *closes})
    for left, right in zip(points, points[1:] + [end]):
        # Inner stretches close before outer ones, and outer ones open before inner ones.
        for mark in sorted(closes.get(left, []), key=lambda m: (m[0], m[2]), reverse=True):
            parts.append(f"⟧{{{mark[2]}}}")
        for mark in sorted(opens.get(left, []), key=lambda m: (-m[1], m[2])):
            parts.append("⟦")
        parts.append(text[left:right])
    return "".join(parts)


def _terminal_codes_line(codes: list[tuple[CodedSpan, list[str]]], color: bool) -> str:
    listed = []
    for span, coders in codes:
        name = span.code_id
        if color:
            name = _styled(name, _ansi_style(code_color(span.code_id, span.color), False))
        listed.append(f"{name} ({', '.join(coders)})")
    return "   codes: " + ", ".join(listed)


def render_terminal(
    text: str, spans: Sequence[CodedSpan], paragraphs: Sequence[tuple[int, int]], *, color: bool
) -> str:
    """The document paragraph by paragraph as ``[N] text``, coded text highlighted, codes listed below.

    With ``color``, coded text gets its code's colour as a 24-bit background (the innermost code's where
    codes overlap, underlined); without, it is set in ⟦ ⟧ followed by ``{code-id}`` and no escape codes.
    """
    blocks: list[str] = []
    for number, (start, end) in enumerate(paragraphs, start=1):
        if color:
            body = _coloured_paragraph(text, split_segments(spans, start, end))
        else:
            body = _bracketed_paragraph(text, spans, start, end)
        block = f"[{number}] {body}"
        codes = _codes_in(spans, start, end)
        if codes:
            block += "\n" + _terminal_codes_line(codes, color)
        blocks.append(block)
    return "\n\n".join(blocks)


# HTML ----------------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    # A character reference for the colon keeps user text from spelling a URL in the page's source;
    # browsers show and copy it as the plain colon.
    return html.escape(value, quote=True).replace("://", "&#58;//")


_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.6; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
.meta, .codes, .memo-meta, footer { font-family: system-ui, sans-serif; font-size: .85rem; color: #555; }
.para { white-space: pre-wrap; margin: 1.2rem 0 .2rem; }
.num { font-family: system-ui, sans-serif; font-size: .8rem; color: #888; margin-right: .4rem; }
.codes { margin: 0 0 1rem 1.5rem; }
mark { padding: .05rem 0; border-radius: 2px; }
mark.overlap { text-decoration: underline dotted; }
.swatch { display: inline-block; width: 1.2rem; height: .9rem; border: 1px solid #999;
          vertical-align: middle; }
table.legend { border-collapse: collapse; font-family: system-ui, sans-serif; font-size: .9rem; }
table.legend th, table.legend td { text-align: left; padding: .2rem .8rem .2rem 0; }
table.legend td.count { text-align: right; }
article.memo { margin: 1rem 0; }
article.memo h3 { font-size: 1rem; margin: 0; }
.memo-text { white-space: pre-wrap; margin: .3rem 0; }
footer { margin-top: 3rem; border-top: 1px solid #ccc; padding-top: .5rem; white-space: pre-wrap; }
""".strip()


def _mark(text: str, segment: Segment) -> str:
    piece = _escape(text[segment.start: segment.end])
    if not segment.spans:
        return piece
    colours = []
    for span in segment.spans:
        colour = code_color(span.code_id, span.color)
        if colour not in colours:
            colours.append(colour)
    background = colours[0]
    style = f"background:{background};color:{'#000' if _dark_text(background) else '#fff'}"
    # The other codes' colours show as stripes along the bottom edge, one per code.
    stripes = [f"inset 0 -{3 * index}px 0 {colour}" for index, colour in enumerate(colours[1:], start=1)]
    if stripes:
        style += ";box-shadow:" + ",".join(stripes[:_MAX_STRIPES])
    labels = []
    for span in segment.spans:
        label = f"{span.code_name} [{span.code_id}], {span.coder}"
        labels.append(label + (f": {span.memo}" if span.memo else ""))
    classes = ' class="overlap"' if len(segment.code_ids) > 1 else ""
    codes = " ".join(sorted(segment.code_ids))
    return (f'<mark{classes} style="{style}" data-codes="{_escape(codes)}" '
            f'title="{_escape("; ".join(labels))}">{piece}</mark>')


def _html_paragraph(number: int, text: str, spans: Sequence[CodedSpan], start: int, end: int) -> str:
    body = "".join(_mark(text, segment) for segment in split_segments(spans, start, end))
    lines = [f'<p class="para" id="p{number}"><span class="num">[{number}]</span>{body}</p>']
    codes = _codes_in(spans, start, end)
    if codes:
        listed = ", ".join(
            f'<span class="swatch" style="background:{code_color(span.code_id, span.color)}"></span> '
            f"{_escape(span.code_id)} ({_escape(', '.join(coders))})"
            for span, coders in codes
        )
        lines.append(f'<p class="codes">codes: {listed}</p>')
    return "\n".join(lines)


def _legend(spans: Sequence[CodedSpan]) -> str:
    counts: dict[str, int] = {}
    first: dict[str, CodedSpan] = {}
    for span in spans:
        counts[span.code_id] = counts.get(span.code_id, 0) + 1
        first.setdefault(span.code_id, span)
    if not counts:
        return '<p class="meta">No codings on this document.</p>'
    rows = []
    for code_id in sorted(first, key=lambda key: (first[key].code_name.casefold(), key)):
        span = first[code_id]
        rows.append(
            f'<tr><td><span class="swatch" style="background:{code_color(code_id, span.color)}"></span></td>'
            f"<td>{_escape(span.code_name)}</td><td><code>{_escape(code_id)}</code></td>"
            f'<td class="count">{counts[code_id]}</td></tr>'
        )
    head = "<tr><th></th><th>Code</th><th>Id</th><th>Codings</th></tr>"
    return f'<table class="legend">\n{head}\n' + "\n".join(rows) + "\n</table>"


def _memos(memos: Sequence[MemoNote]) -> str:
    if not memos:
        return '<p class="meta">No memos.</p>'
    articles = []
    for memo in memos:
        title = _escape(memo.title) if memo.title else "Memo"
        articles.append(
            f'<article class="memo"><h3>{title}</h3>'
            f'<p class="memo-meta">on {_escape(memo.target_label)}, by {_escape(memo.coder)}</p>'
            f'<div class="memo-text">{_escape(memo.text)}</div></article>'
        )
    return "\n".join(articles)


def render_html(
    title: str,
    meta_line: str,
    text: str,
    spans: Sequence[CodedSpan],
    paragraphs: Sequence[tuple[int, int]],
    memos: Sequence[MemoNote],
    provenance: str,
) -> str:
    """A standalone HTML5 page: numbered paragraphs with coded text marked, a legend, memos, provenance.

    Styles are inline and nothing is loaded from the network, so the file opens the same offline and
    can be archived with a paper's data. Every value from the project is HTML-escaped.
    """
    paragraphs_html = "\n".join(
        _html_paragraph(number, text, spans, start, end)
        for number, (start, end) in enumerate(paragraphs, start=1)
    )
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_escape(title)}</title>
<style>
{_CSS}
</style>
</head>
<body>
<header>
<h1>{_escape(title)}</h1>
<p class="meta">{_escape(meta_line)}</p>
</header>
<main>
{paragraphs_html}
</main>
<section id="legend">
<h2>Codes</h2>
{_legend(spans)}
</section>
<section id="memos">
<h2>Memos</h2>
{_memos(memos)}
</section>
<footer>{_escape(provenance)}</footer>
</body>
</html>
"""
