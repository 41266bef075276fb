"""The document as the workbench lays it out and moves through it, without any terminal code.

- :class:`Layout` wraps the paragraphs to a width once (a blank line between paragraphs, the text's own line
  breaks kept) and maps offsets to screen lines and columns and back, so that the text pane draws only the
  lines on screen however long the document is.
- :class:`Units` answers "which sentence (paragraph, turn) is this offset in, where does the next one start".
- :class:`Highlights` cuts the text at every coding's boundaries once; each stretch knows the codings covering
  it, innermost first, so drawing a line or listing the codes under the cursor is a binary search.
- :class:`Cursor` is the reader's position and selection, moved by character, word, line, sentence or
  paragraph, and kept to the shown text (never in the gaps between paragraphs).

Offsets are gripcode's: code-point indices into the stored text. Cell widths come from Rich, so wide (CJK)
characters take two columns.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from rich.cells import cell_len

# Control characters (a tab, a form feed) are shown as one space each, so that offsets and cells stay in step.
_CONTROL = {code: " " for code in (*range(32), 127) if code != 10}
_WORD = re.compile(r"\S+\s*")


def display_text(text: str) -> str:
    """``text`` with control characters (other than line breaks) as spaces: the same length, offset for offset."""
    return text.translate(_CONTROL)


def cells(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def _fit(text: str, start: int, end: int, width: int) -> int:
    """The offset up to which ``text[start:end]`` fits in ``width`` cells (at least one character)."""
    used = 0
    for at in range(start, end):
        used += cells(text[at])
        if used > width:
            return max(at, start + 1)
    return end


class Layout:
    """Paragraphs wrapped to ``width`` cells: screen line ``y`` shows ``text[starts[y]:ends[y]]`` (a blank line
    between paragraphs has start -1); ``numbers[y]`` is the paragraph number on its first line, else 0."""

    def __init__(self, text: str, paragraphs: Sequence[tuple[int, int]], width: int) -> None:
        self.text, self.width = text, max(width, 4)
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.numbers: list[int] = []
        self.text_y: list[int] = []  # the screen line of each text line, in order
        self.text_starts: list[int] = []
        wrap = self.width - 1  # one column for the space after a line's last word (the cursor may stand there)
        for number, (start, end) in enumerate(paragraphs, start=1):
            if number > 1:
                self._add(-1, -1, 0)
            line_start, shown = start, number
            while True:  # the text's own line breaks inside a paragraph (a transcript's turns, a list) stay
                line_end = text.find("\n", line_start, end)
                if line_end < 0:
                    self._wrap(line_start, end, wrap, shown)
                    break
                self._wrap(line_start, line_end, wrap, shown)
                line_start, shown = line_end + 1, 0

    def _add(self, start: int, end: int, number: int) -> None:
        if start >= 0:
            self.text_y.append(len(self.starts))
            self.text_starts.append(start)
        self.starts.append(start)
        self.ends.append(end)
        self.numbers.append(number)

    def _wrap(self, start: int, end: int, width: int, number: int) -> None:
        text = self.text
        piece = text[start:end]
        if len(piece) <= width and (piece.isascii() or cell_len(piece) <= width):
            self._add(start, end, number)
            return
        line_start, used = start, 0
        lead = _WORD.search(text, start, end)
        if lead is not None:
            used = cells(text[start:lead.start()])
        for word in _WORD.finditer(text, start, end):
            at, after = word.start(), word.end()
            body = word.group().rstrip()
            size = cells(body)
            if used + size <= width:
                used += cells(word.group())
                continue
            if used > 0 and at > line_start:
                self._add(line_start, at, number)
                number, line_start, used = 0, at, 0
            body_end = at + len(body)
            while cells(text[line_start:body_end]) > width:  # a word longer than a line: cut it
                cut = _fit(text, line_start, body_end, width)
                self._add(line_start, cut, number)
                number, line_start = 0, cut
            used = cells(text[line_start:after])
        self._add(line_start, end, number)

    @property
    def height(self) -> int:
        return len(self.starts)

    def line_of(self, offset: int) -> int:
        """The screen line showing ``offset``."""
        index = max(bisect_right(self.text_starts, offset) - 1, 0)
        return self.text_y[index] if self.text_y else 0

    def column_of(self, offset: int) -> int:
        y = self.line_of(offset)
        start = self.starts[y]
        return cells(self.text[start:min(offset, self.ends[y])]) + max(0, offset - self.ends[y])

    def last_on_line(self, y: int) -> int:
        """The last cursor position on line ``y``: its end where the line ends a paragraph or at a line break,
        else the last character (the end is where the next line starts)."""
        end = self.ends[y]
        following = y + 1
        if following < len(self.starts) and self.starts[following] == end:
            return max(end - 1, self.starts[y])
        return end

    def offset_at(self, y: int, column: int) -> int:
        """The cursor position shown at ``column`` of line ``y`` (a blank line: the start of the next text line)."""
        y = min(max(y, 0), len(self.starts) - 1) if self.starts else 0
        if not self.starts:
            return 0
        if self.starts[y] < 0:
            below = bisect_left(self.text_y, y)
            return self.starts[self.text_y[min(below, len(self.text_y) - 1)]]
        start, last = self.starts[y], self.last_on_line(y)
        used = 0
        for at in range(start, min(last, self.ends[y])):
            used += cells(self.text[at])
            if used > column:
                return at
        return last


class Units:
    """Units of one kind (sentences, paragraphs or turns) in text order."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [start for start, _ in ordered]
        self.ends = [end for _, end in ordered]

    def __bool__(self) -> bool:
        return bool(self.starts)

    def index_at(self, offset: int) -> int | None:
        """The unit holding ``offset`` (its end counts as inside), else the next one, else None."""
        index = bisect_right(self.starts, offset) - 1
        if index >= 0 and offset <= self.ends[index]:
            return index
        return index + 1 if index + 1 < len(self.starts) else None

    def at(self, offset: int) -> tuple[int, int] | None:
        index = self.index_at(offset)
        return None if index is None else (self.starts[index], self.ends[index])

    def next_start(self, offset: int) -> int | None:
        index = bisect_right(self.starts, offset)
        return self.starts[index] if index < len(self.starts) else None

    def previous_start(self, offset: int) -> int | None:
        index = bisect_left(self.starts, offset) - 1
        return self.starts[index] if index >= 0 else None


@dataclass(frozen=True)
class Stretch:
    """``[start, end)`` covered by the codings ``cover`` (indexes into the codings), innermost first."""

    start: int
    end: int
    cover: tuple[int, ...]


class Highlights:
    """The text cut at every boundary of ``spans`` (start, end pairs, one per coding)."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        opening: dict[int, list[int]] = {}
        closing: dict[int, list[int]] = {}
        for index, (start, end) in enumerate(spans):
            if end > start:
                opening.setdefault(start, []).append(index)
                closing.setdefault(end, []).append(index)
        points = sorted({*opening, *closing})
        # Innermost first: each coding's rank in that order, once; the codings open at a point are kept as a
        # sorted list of ranks, so no stretch sorts its own.
        order = sorted(range(len(spans)), key=lambda i: (spans[i][1] - spans[i][0], spans[i][0], i))
        rank = [0] * len(spans)
        for position, index in enumerate(order):
            rank[index] = position
        active: list[int] = []
        self.stretches: list[Stretch] = []
        for point, following in pairwise(points):
            for index in closing.get(point, ()):
                del active[bisect_left(active, rank[index])]
            for index in opening.get(point, ()):
                insort(active, rank[index])
            if active:
                self.stretches.append(Stretch(point, following, tuple([order[r] for r in active])))
        self._starts = [s.start for s in self.stretches]
        self._ends = [s.end for s in self.stretches]

    def covering(self, offset: int) -> tuple[int, ...]:
        index = bisect_right(self._starts, offset) - 1
        if index >= 0 and offset < self._ends[index]:
            return self.stretches[index].cover
        return ()

    def within(self, start: int, end: int) -> list[Stretch]:
        """The stretches that overlap ``[start, end)``, in order."""
        found = []
        index = bisect_right(self._ends, start)
        while index < len(self.stretches) and self._starts[index] < end:
            found.append(self.stretches[index])
            index += 1
        return found

    def codings_within(self, start: int, end: int) -> list[int]:
        """The codings touching ``[start, end)``, outermost first (as they open)."""
        seen: dict[int, None] = {}
        for stretch in self.within(start, end):
            for index in reversed(stretch.cover):
                seen.setdefault(index, None)
        return list(seen)


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


class Cursor:
    """The reader's position in the text, and the selection's other end (``anchor``; None: no selection)."""

    def __init__(self, text: str, paragraphs: Sequence[tuple[int, int]]) -> None:
        self.text = text
        self.paragraphs = Units(paragraphs)
        self.offset = paragraphs[0][0] if paragraphs else 0
        self.anchor: int | None = None

    @property
    def selection(self) -> tuple[int, int] | None:
        """The selected span, half-open, with the whitespace at its ends left out; None if nothing is selected."""
        if self.anchor is None or self.anchor == self.offset:
            return None
        start, end = sorted((self.anchor, self.offset))
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return (start, end) if end > start else None

    def clamp(self, offset: int, *, forward: bool = True) -> int:
        """``offset`` moved into the shown text: a position between paragraphs goes to the next paragraph's start
        (or back to the previous one's end)."""
        paragraphs = self.paragraphs
        if not paragraphs:
            return 0
        offset = min(max(offset, paragraphs.starts[0]), paragraphs.ends[-1])
        index = bisect_right(paragraphs.starts, offset) - 1
        if index >= 0 and offset <= paragraphs.ends[index]:
            return offset
        if forward and index + 1 < len(paragraphs.starts):
            return paragraphs.starts[index + 1]
        return paragraphs.ends[max(index, 0)]

    def move_to(self, offset: int, *, select: bool = False, forward: bool = True) -> None:
        if select and self.anchor is None:
            self.anchor = self.offset
        elif not select:
            self.anchor = None
        self.offset = self.clamp(offset, forward=forward)

    def right(self) -> int:
        paragraphs = self.paragraphs
        index = paragraphs.index_at(self.offset)
        if index is not None and self.offset >= paragraphs.ends[index] and index + 1 < len(paragraphs.starts):
            return paragraphs.starts[index + 1]
        return self.offset + 1

    def left(self) -> int:
        paragraphs = self.paragraphs
        index = paragraphs.index_at(self.offset)
        if index is not None and self.offset <= paragraphs.starts[index] and index > 0:
            return paragraphs.ends[index - 1]
        return self.offset - 1

    def word_right(self) -> int:
        """The end of the word at or after the cursor."""
        text, at = self.text, self.offset
        while at < len(text) and not _is_word(text[at]):
            at += 1
        while at < len(text) and _is_word(text[at]):
            at += 1
        return at

    def word_left(self) -> int:
        """The start of the word before the cursor (or of the one it is in)."""
        text, at = self.text, self.offset
        while at > 0 and not _is_word(text[at - 1]):
            at -= 1
        while at > 0 and _is_word(text[at - 1]):
            at -= 1
        return at
