"""Paragraphs rebuilt from where a PDF's text sits on its pages.

A PDF holds positioned pieces of text, not paragraphs. This module takes each page's fragments (a run of text
on one baseline, with its extent and font size, as ``gripcode.corpus.readers.pdf`` reads them) and rebuilds
what a reader sees:

- running headers and footers, page numbers and footnotes are taken out of the flow
  (``gripcode.corpus.pdf_furniture``); footnotes come back after the text, each a paragraph of its own;
- columns are found as a vertical gutter that no line crosses, and read one after the other; a line that
  spans the gutter (a title over both columns) is read where it stands;
- lines are joined into paragraphs; a paragraph ends where the next line starts further down than the line
  pitch, is indented, is a heading (larger or bold type), begins with a bullet, or where the line ended early
  (the next line's first word would have fitted on it, which is why a typesetter broke the paragraph there).
  A paragraph that runs on to the next column or page stays one paragraph;
- a word hyphenated at a line's end is rejoined unless the document writes it with its hyphen elsewhere:
  ``indus-`` + ``trialisation`` gives ``industrialisation``, ``rare-`` + ``earth`` stays ``rare-earth`` when
  ``rare-earth`` occurs elsewhere or, failing that, when both halves occur as words of their own (of three
  letters or more); otherwise the halves are joined. The rule errs where the typesetter broke a word into
  two words the document also uses alone and the whole word occurs nowhere else (``under-standing``): the
  hyphen stays. No rule without a dictionary tells that from ``rare-earth``.

Coordinates are in points from the top left of the page.
"""

from __future__ import annotations

import bisect
import itertools
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from gripcode.corpus.pdf_furniture import body_size, take_notes, take_running

# A line's fragments must share a baseline within this share of the font size.
_SAME_BASELINE = 0.4
# A gutter must be this wide (in font sizes) and leave this share of the page's lines, and at least three, on
# each side (the last page of a two-column text may hold a few lines in its second column).
_GUTTER_WIDTH = 0.5
_COLUMN_SHARE = 0.05
# A line starts a new paragraph when it stands this much further below the last than the usual line pitch.
_PARAGRAPH_GAP = 1.3
# A heading is set at least this much larger than the body text.
_HEADING_SIZE = 1.12
_INDENT = 0.8  # font sizes

_BULLETS = ("•", "◦", "▪", "▫", "■", "□", "●", "○", "–", "—", "·", "‣", "⁃", "*", "- ")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
_WORD = re.compile(r"\w+(?:[-‐]\w+)*")
_LINE_END_HYPHEN = re.compile(r"(\w[\w\-‐]*?)[-‐\u00ad]$")
_FIRST_WORD = re.compile(r"\w+")
# A footnote begins with its number or mark.
_NOTE_START = re.compile(r"^(?:\d{1,3}|[*†‡§¶]+)\s*\S")
# A list item's marker: "1.", "(a)", "iv)".
_NUMBERED = re.compile(r"^(?:\(?\d{1,3}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s", re.IGNORECASE)


@dataclass
class Fragment:
    """Text on one baseline, as the PDF placed it."""

    text: str
    x0: float
    x1: float
    baseline: float
    size: float
    bold: bool = False
    first_word: float = 0.0  # width of the fragment's first word


@dataclass
class Page:
    width: float
    height: float
    fragments: list[Fragment]
    turned: str | None = None  # text set at an angle, kept out of the lines


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    baseline: float
    size: float
    bold: bool
    first_word: float
    page: int
    page_width: float
    column: tuple[int, int, int, int] = (0, 0, 0, 1)  # page, region, index, columns in the region
    left: float = 0.0  # the column's left edge
    right: float = 0.0  # the right edge of the lines that start where this one starts
    note: bool = False  # a footnote's line


@dataclass
class LaidOut:
    """A document's text as paragraphs, and what was taken out of it."""

    paragraphs: list[str]
    page_spans: list[list[int]]  # [start, end) of each page's text in "\n\n".join(paragraphs)
    headers: list[str] = field(default_factory=list)  # running headers, each once, as first printed
    footers: list[str] = field(default_factory=list)
    page_labels: list[str | None] = field(default_factory=list)  # the page number printed on each page
    columns: list[int] = field(default_factory=list)  # columns found on each page
    notes: list[list[int]] = field(default_factory=list)  # [start, end, page] of each footnote paragraph
    turned: list[list[int | str]] = field(default_factory=list)  # [page, text] set at an angle

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def lay_out(pages: Sequence[Page]) -> LaidOut:
    """Paragraphs of ``pages`` in reading order; see the module's description."""
    rows = [_rows(page.fragments) for page in pages]
    furniture = take_running(rows)
    body = body_size(rows)
    take_notes(rows, body, furniture)
    found = [_page_gutters(page, page_rows) for page, page_rows in zip(pages, rows)]
    usual = Counter(tuple(round(g) for g in gutters) for gutters in found if gutters).most_common(1)
    lines: list[_Line] = []
    columns: list[int] = []
    for number, (page, page_rows, gutters) in enumerate(zip(pages, rows, found)):
        if not gutters and usual and page_rows:
            # a page of too few lines to show its own gutter (the last page of a two-column paper) takes the
            # document's, if no line crosses it
            gutters = _fitting(page_rows, [float(g) for g in usual[0][0]])
        page_lines, count = _reading_order(number, page, page_rows, gutters)
        lines += page_lines
        columns.append(count)
    for number, note_rows in enumerate(furniture.notes):
        lines += [_line(row, number, pages[number].width, (number, -1, 0, 1), note=True) for row in note_rows]
    _column_edges(lines)
    laid = _paragraphs(lines, len(pages), body)
    laid.headers, laid.footers, laid.page_labels, laid.columns = (furniture.headers, furniture.footers,
                                                                   furniture.labels, columns)
    laid.turned = [[number + 1, page.turned] for number, page in enumerate(pages) if page.turned]
    return laid


# -- rows: fragments on one baseline, across the whole page

def _rows(fragments: Iterable[Fragment]) -> list[list[Fragment]]:
    rows: list[list[Fragment]] = []
    for fragment in sorted(fragments, key=lambda f: (f.baseline, f.x0)):
        if rows and abs(fragment.baseline - rows[-1][0].baseline) <= _SAME_BASELINE * max(fragment.size, 1.0):
            rows[-1].append(fragment)
        else:
            rows.append([fragment])
    for row in rows:
        row.sort(key=lambda f: f.x0)
    return rows


# -- columns and reading order on one page

def _page_gutters(page: Page, rows: list[list[Fragment]]) -> list[float]:
    fragments = [f for row in rows for f in row]
    if not fragments:
        return []
    return _gutters(fragments, 0.0, page.width, statistics.median(f.size for f in fragments))


def _gutters(fragments: Sequence[Fragment], lo: float, hi: float, size: float) -> list[float]:
    """x positions between ``lo`` and ``hi`` that no fragment (or almost none) crosses, with text on both
    sides: the gutters between columns, left to right. One sweep over the fragments' edges finds the stretches
    that few fragments cover, so a page of many fragments (a table) costs n log n, not n squared."""
    inside = [f for f in fragments if f.x1 > lo and f.x0 < hi]
    lines = len({round(f.baseline) for f in inside})
    if lines < 6:
        return []
    width = hi - lo
    allowed = max(1, lines // 10)  # a title or a figure caption may span the columns
    starts = sorted(f.x0 for f in inside)
    ends = sorted(f.x1 for f in inside)
    events = sorted([(max(f.x0, lo), 1) for f in inside] + [(min(f.x1, hi), -1) for f in inside])
    best: tuple[int, float, float] | None = None  # crossings, -gap width, x
    cover, run_start, run_most = 0, None, 0
    for index, (x, delta) in enumerate(events):
        cover += delta
        after = events[index + 1][0] if index + 1 < len(events) else hi
        if after <= x:
            continue
        # the stretch [x, after) is covered by ``cover`` fragments
        if cover <= allowed:
            if run_start is None:
                run_start, run_most = x, cover
            run_most = max(run_most, cover)
            gap_start, gap_end = run_start, after
            middle = (gap_start + gap_end) / 2
            if (gap_end - gap_start >= _GUTTER_WIDTH * size and lo + 0.25 * width <= middle <= hi - 0.25 * width):
                left = bisect.bisect_right(ends, middle)
                right = len(starts) - bisect.bisect_left(starts, middle)
                if min(left, right) >= max(3, _COLUMN_SHARE * len(inside)):
                    key = (run_most, -(gap_end - gap_start), middle)
                    if best is None or key < best:
                        best = key
        else:
            run_start = None
    if best is None:
        return []
    middle = best[2]
    return _gutters(fragments, lo, middle, size) + [middle] + _gutters(fragments, middle, hi, size)


def _fitting(rows: list[list[Fragment]], gutters: list[float]) -> list[float]:
    """``gutters`` if no fragment of ``rows`` crosses one and text stands on both sides of each, else none."""
    fragments = [f for row in rows for f in row]
    for gutter in gutters:
        if any(f.x0 < gutter < f.x1 for f in fragments):
            return []
        if not any(f.x1 <= gutter for f in fragments) or not any(f.x0 >= gutter for f in fragments):
            return []
    return gutters


def _reading_order(number: int, page: Page, rows: list[list[Fragment]],
                   gutters: list[float]) -> tuple[list[_Line], int]:
    if not rows:
        return [], 0
    if not gutters:
        return [_line(row, number, page.width, (number, 0, 0, 1)) for row in rows], 1
    bounds = [float("-inf"), *gutters, float("inf")]
    count = len(gutters) + 1
    lines: list[_Line] = []
    region = 0
    pending: list[list[list[Fragment]]] = [[] for _ in range(count)]

    def flush() -> None:
        for index, column_rows in enumerate(pending):
            lines.extend(_line(row, number, page.width, (number, region, index, count)) for row in column_rows if row)
            column_rows.clear()

    for row in rows:
        split: list[list[Fragment]] = [[] for _ in range(count)]
        spanning = False
        for fragment in row:
            index = next((i for i in range(count) if bounds[i] <= fragment.x0 and fragment.x1 <= bounds[i + 1]),
                         None)
            if index is None:
                spanning = True
                break
            split[index].append(fragment)
        if spanning:
            flush()
            region += 1
            lines.append(_line(row, number, page.width, (number, region, 0, 1)))
            region += 1
            continue
        for index, part in enumerate(split):
            if part:
                pending[index].append(part)
    flush()
    return lines, count


def _join_fragments(fragments: Sequence[Fragment]) -> str:
    text = fragments[0].text
    for before, after in itertools.pairwise(fragments):
        if _CJK.match(text[-1:]) and _CJK.match(after.text[:1]) and after.x0 - before.x1 < 0.5 * after.size:
            text += after.text
        else:
            text += " " + after.text
    return text


def _line(row: Sequence[Fragment], page: int, width: float, column: tuple[int, int, int, int],
          note: bool = False) -> _Line:
    first = row[0]
    size = max(row, key=lambda f: len(f.text)).size
    return _Line(text=_join_fragments(row), x0=first.x0, x1=row[-1].x1, baseline=first.baseline, size=size,
                 bold=all(f.bold for f in row), first_word=first.first_word, page=page, page_width=width,
                 column=column, note=note)


def _right_edge(ends: Sequence[float]) -> float:
    """Where lines end when they are full: the furthest end shared, within 3 points, by at least two lines and a
    tenth of them, so that one line running into the margin (a long address) does not move it."""
    ordered = sorted(ends, reverse=True)
    needed = max(2, len(ordered) // 10)
    if len(ordered) < needed:
        return ordered[0]
    negated = [-end for end in ordered]  # ascending, for bisect
    for index, end in enumerate(ordered):
        if bisect.bisect_right(negated, -(end - 3.0)) - index >= needed:
            return end
    return ordered[0]


def _column_edges(lines: list[_Line]) -> None:
    """Each line learns its column's left edge, and the right edge of the lines in its column that start
    where it starts (a block quote's lines end before the column's edge); a column of few lines borrows the
    edges usual for its place on the page."""
    by_column: dict[tuple[int, int, int, int], list[_Line]] = {}
    for line in lines:
        by_column.setdefault(line.column, []).append(line)
    usual: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for key, members in by_column.items():
        if len(members) >= 4:
            usual.setdefault((key[2], key[3]), []).append(
                (min(m.x0 for m in members), _right_edge([m.x1 for m in members])))
    for key, members in by_column.items():
        left, right = min(m.x0 for m in members), _right_edge([m.x1 for m in members])
        typical = usual.get((key[2], key[3]))
        if len(members) < 4 and typical:
            left = min(left, statistics.median(edge[0] for edge in typical))
            right = max(right, statistics.median(edge[1] for edge in typical))
        elif len(members) < 4 and key[3] == 1:
            # a page of a few lines, in a document of such pages: margins are usually alike on both sides
            right = max(right, members[0].page_width - left)
        blocks: dict[int, list[_Line]] = {}
        for member in members:
            blocks.setdefault(round(member.x0 / 2), []).append(member)
        for member in members:
            member.left, member.right = left, right
            block = blocks[round(member.x0 / 2)]
            if member.x0 > left + 2.0 and len(block) >= 2:
                member.right = min(right, _right_edge([m.x1 for m in block]))


# -- paragraphs

def _pitch(lines: Sequence[_Line], body: float) -> float:
    steps = [after.baseline - before.baseline for before, after in itertools.pairwise(lines)
             if after.column == before.column and abs(after.size - body) < 0.5 and abs(before.size - body) < 0.5
             and 0 < after.baseline - before.baseline < 3 * body]
    return statistics.median(steps) if steps else 1.2 * body


def _is_heading(line: _Line, body: float, body_bold: bool) -> bool:
    if line.size >= _HEADING_SIZE * body:
        return True
    return line.bold and not body_bold and len(line.text) < 150


def _starts_paragraph(before: _Line, line: _Line, body: float, pitch: float, body_bold: bool) -> bool:
    heading, heading_before = _is_heading(line, body, body_bold), _is_heading(before, body, body_bold)
    same_column = line.column == before.column
    if heading != heading_before:
        return True
    scale = line.size / body if body else 1.0
    if same_column:
        step = line.baseline - before.baseline
        if step <= 0 or step > _PARAGRAPH_GAP * pitch * max(scale, before.size / body if body else 1.0):
            return True
    if heading:
        return abs(line.size - before.size) > 0.5 or not same_column
    if line.text.startswith(_BULLETS) or _NUMBERED.match(line.text):
        return True
    indent = _INDENT * line.size
    hanging = (before.text.startswith(_BULLETS) or _NUMBERED.match(before.text)) and same_column
    if line.x0 > line.left + indent and (not same_column or line.x0 > before.x0 + indent) and not (
            hanging and line.x0 <= before.x0 + 4 * line.size):
        return True
    if _ends_with_hyphen(before.text):
        return False
    space = 0.25 * line.size
    # a line in Chinese or Japanese breaks after any character
    first_word = min(line.first_word, line.size) if _CJK.match(line.text[:1]) else line.first_word
    return before.x1 + space + first_word < before.right - 0.5


def _ends_with_hyphen(text: str) -> bool:
    return bool(_LINE_END_HYPHEN.search(text))


class _Vocabulary:
    """The document's words as printed inside lines (not the halves of words broken at a line's end)."""

    def __init__(self, lines: Sequence[_Line]) -> None:
        self.words: Counter[str] = Counter()
        broken = False
        for line in lines:
            words = _WORD.findall(line.text.lower())
            if broken and words:
                words = words[1:]
            broken = _ends_with_hyphen(line.text)
            if broken and words:
                words = words[:-1]
            self.words.update(words)
            # the parts of a hyphenated compound are words of their own too
            self.words.update(part for word in words if "-" in word for part in word.split("-"))

    def keeps_hyphen(self, left: str, right: str) -> bool:
        left, right = left.lower(), right.lower()
        hyphenated = self.words[f"{left}-{right}"]
        joined = self.words[f"{left}{right}"]
        if hyphenated or joined:
            return hyphenated >= joined
        # Failing that, a compound of two words the document uses on their own (``rare`` and ``earth``)
        # keeps its hyphen; halves of one or two letters (``co-operation``, ``in-formation``) do not count.
        last = left.rsplit("-", 1)[-1]
        return len(last) >= 3 and len(right) >= 3 and bool(self.words[last] and self.words[right])


def _join(text: str, line: str, vocabulary: _Vocabulary) -> str:
    match = _LINE_END_HYPHEN.search(text)
    if match and line[:1].isalnum():
        right = _FIRST_WORD.match(line)
        if line[:1].islower() and right and not vocabulary.keeps_hyphen(match.group(1), right.group(0)):
            return text[: match.end(1)] + line
        return text[: match.end(1)] + "-" + line
    if _CJK.match(text[-1:]) and _CJK.match(line[:1]):
        return text + line
    return text + " " + line


def _paragraphs(lines: list[_Line], page_count: int, body: float) -> LaidOut:
    pitch = _pitch(lines, body)
    body_bold = sum(len(line.text) for line in lines if line.bold) > 0.5 * sum(len(line.text) for line in lines)
    vocabulary = _Vocabulary(lines)
    paragraphs: list[str] = []
    current = ""
    offset = 0  # where ``current`` starts in the joined text
    spans: list[list[int]] = [[-1, -1] for _ in range(page_count)]
    notes: list[list[int]] = []
    before: _Line | None = None
    for line in lines:
        new = (before is None or line.note != before.note or line.page != before.page and line.note
               or (_NOTE_START.match(line.text) is not None if line.note
                   else _starts_paragraph(before, line, body, pitch, body_bold)))
        if new:
            if current:
                paragraphs.append(current)
                offset += len(current) + 2
            current = line.text
            start = offset
            if line.note:
                notes.append([start, start, line.page])
        else:
            joined = _join(current, line.text, vocabulary)
            start = offset + len(joined) - len(line.text)
            current = joined
        end = offset + len(current)
        if line.note:
            notes[-1][1] = end
        else:
            span = spans[line.page]
            if span[0] < 0:
                span[0] = start
                if before is not None and before.page != line.page and not before.note:
                    # a hyphen dropped where a word ran on to this page shortens the page before
                    spans[before.page][1] = min(spans[before.page][1], start)
            span[1] = end
        before = line
    if current:
        paragraphs.append(current)
    _fill_empty_pages(spans)
    return LaidOut(paragraphs, spans, notes=notes)


def _fill_empty_pages(spans: list[list[int]]) -> None:
    """A page without text gets an empty span where the text stands between its neighbours."""
    position = 0
    for span in spans:
        if span[0] < 0:
            span[0] = span[1] = position
        else:
            position = span[1]
