"""The document pane: the text with paragraph numbers, speakers, codings in their codes' colours, the cursor and
the selection. It draws only the lines on screen (Textual's line API), from a layout made once per width, so a
document of 100,000 words opens and scrolls as fast as a short one."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import MouseDown, MouseMove, MouseUp, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gripcode.coding.workspace import ShownCoding, Workspace
from gripcode.workbench.textmodel import Cursor, Highlights, Layout, Units, cells, display_text

_NUMBER = Style(color="#8a8a8a")
_SPEAKER = Style(color="#d7af5f", bold=True)
_SELECTED = Style(color="#ffffff", bgcolor="#5f00d7", bold=True)  # apart from every pastel of the palette
_CURSOR = Style(reverse=True)
_TO_CODE = Style(color="#ffd75f", bold=True)  # a line of a sample unit not coded yet
_CODED = Style(color="#5faf5f")  # a line of a sample unit coded
_STRIPES = 4
_SPEAKER_WIDTH = 12


def _readable_on(hex_color: str) -> str:
    """Black or white, whichever reads better on ``hex_color`` (WCAG relative luminance)."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(int(hex_color[i:i + 2], 16)) for i in (1, 3, 5))
    return "#000000" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.179 else "#ffffff"


@lru_cache(maxsize=512)
def _coding_style(color: str, *, overlap: bool, suggested: bool, current: bool) -> Style:
    if suggested and not current:  # a suggestion waiting for review: the code's colour on the text, underlined
        return Style(color=color, underline=True, italic=True)
    return Style(color=_readable_on(color), bgcolor=color, underline=overlap or current, bold=current)


class TextView(ScrollView, can_focus=True):
    """The text of one document; the reader's cursor and selection live here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move('left')", "char", show=False),
        Binding("right", "move('right')", "char", show=False),
        Binding("shift+left", "move('left', True)", show=False),
        Binding("shift+right", "move('right', True)", show=False),
        Binding("ctrl+left,alt+left", "move('word_left')", show=False),
        Binding("ctrl+right,alt+right", "move('word_right')", show=False),
        Binding("ctrl+shift+left,alt+shift+left", "move('word_left', True)", show=False),
        Binding("ctrl+shift+right,alt+shift+right", "move('word_right', True)", show=False),
        Binding("up", "move('up')", show=False),
        Binding("down", "move('down')", show=False),
        Binding("shift+up", "move('up', True)", show=False),
        Binding("shift+down", "move('down', True)", show=False),
        Binding("left_square_bracket", "move('sentence_back')", show=False),
        Binding("right_square_bracket", "move('sentence_on')", show=False),
        Binding("left_curly_bracket", "move('paragraph_back')", show=False),
        Binding("right_curly_bracket", "move('paragraph_on')", show=False),
        Binding("home", "move('home')", show=False),
        Binding("end", "move('end')", show=False),
        Binding("shift+home", "move('home', True)", show=False),
        Binding("shift+end", "move('end', True)", show=False),
        Binding("g,ctrl+home", "move('first')", show=False),
        Binding("G,ctrl+end", "move('last')", show=False),
        Binding("pageup", "move('page_up')", show=False),
        Binding("pagedown", "move('page_down')", show=False),
        Binding("v", "toggle_selecting", "select", show=False),
        Binding("s", "select_unit('sentence')", show=False),
        Binding("p", "select_unit('paragraph')", show=False),
        Binding("t", "select_unit('turn')", show=False),
    ]

    class Moved(Message):
        """The cursor or the selection changed."""

    class Notice(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, coder: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.coder = coder
        self.workspace: Workspace | None = None
        self.text = ""
        self.paragraphs: list[tuple[int, int]] = []
        self.units: dict[str, Units] = {}
        self.cursor = Cursor("", [])
        self.lines: Layout | None = None
        self.codings: tuple[ShownCoding, ...] = ()
        self.highlights = Highlights([])
        self.selecting = False
        self.target_id: int | None = None  # the suggestion under review
        self._turn = 0  # which of the codings under the cursor is the current one (`o` turns it)
        self._here_key: tuple[int, ...] = ()
        self._column: int | None = None  # the column up and down keep to
        self._dragging = False
        self._speakers: dict[int, str] = {}  # screen line -> the speaker whose turn starts there
        self._hidden_speakers: list[tuple[int, str]] = []  # turns whose text does not name their speaker
        self._speaker_width = 0
        self.marked: list[tuple[int, int, bool]] = []  # a blind sample's units here: start, end, coded
        self._marked_starts: list[int] = []

    # ------------------------------------------------------------------------------------------ content

    def show_document(self, workspace: Workspace, *, at: int | None = None) -> None:
        self.workspace = workspace
        self.text = display_text(workspace.text)
        spans = [(p.start, p.end) for p in workspace.paragraphs]
        if not spans and workspace.text.strip():
            spans = [(0, len(workspace.text))]
        self.paragraphs = spans
        self.units = {"paragraph": Units(spans), "sentence": Units([(u.start, u.end) for u in workspace.sentences]),
                      "turn": Units([(u.start, u.end) for u in workspace.turns])}
        self.cursor = Cursor(self.text, spans)
        self.selecting = False
        self._column = None
        hidden = [(u.start, u.speaker) for u in workspace.turns
                  if u.speaker and not workspace.text.startswith(u.speaker, u.start)]
        self._speaker_width = min(max((len(name) for _, name in hidden), default=0), _SPEAKER_WIDTH)
        self._hidden_speakers = hidden
        self.lines = None
        self.set_codings(workspace.shown.codings)
        self._relayout()
        if at is not None:
            self.cursor.move_to(at)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._follow_cursor()

    def set_codings(self, codings: Sequence[ShownCoding]) -> None:
        self.codings = tuple(codings)
        self.highlights = Highlights([(c.start, c.end) for c in self.codings])
        self.refresh()

    def mark_units(self, spans: Sequence[tuple[int, int, bool]]) -> None:
        """Mark these units (start, end, whether coded) in the margin beside the line numbers: a blind sample's."""
        marked = sorted(spans)
        if marked != self.marked:
            self.marked = marked
            self._marked_starts = [start for start, _, _ in marked]
            self.refresh()

    def select_span(self, start: int, end: int) -> None:
        """Select ``[start, end)`` with the cursor at its end (s, p and t select a unit so)."""
        if self.workspace is None:
            return
        self.cursor.anchor, self.cursor.offset = start, end
        self._moved()

    def _mark(self, start: int, end: int) -> Segment:
        """The margin mark of the line ``[start, end)``: ▸ beside a sample unit to code, ✓ beside one coded. The
        units of one kind do not overlap, so the last one starting on or before the line's end is the only one
        that can reach it."""
        index = bisect_right(self._marked_starts, max(end - 1, start)) - 1
        if index >= 0 and self.marked[index][1] > start:
            coded = self.marked[index][2]
            return Segment("✓" if coded else "▸", _CODED if coded else _TO_CODE)
        return Segment(" ")

    @property
    def gutter_width(self) -> int:
        return 6 + (self._speaker_width + 1 if self._speaker_width else 0)

    @property
    def text_width(self) -> int:
        return max(self.scrollable_content_region.width - self.gutter_width - _STRIPES - 1, 8)

    def _relayout(self) -> None:
        if self.workspace is None or not self.is_mounted:
            return
        width = self.text_width
        if self.lines is not None and self.lines.width == width:
            return
        self.lines = Layout(self.text, self.paragraphs, width)
        self._speakers = {self.lines.line_of(start): name[:_SPEAKER_WIDTH] for start, name in self._hidden_speakers}
        self.virtual_size = Size(self.scrollable_content_region.width, self.lines.height)
        self.refresh()

    def on_resize(self, event: Resize) -> None:
        self._relayout()
        self._follow_cursor()

    # ------------------------------------------------------------------------------- codings at the cursor

    def codings_here(self) -> list[ShownCoding]:
        """The codings covering the cursor: the suggestion under review first, then the coder's own, innermost
        first."""
        covering = [self.codings[i] for i in self.highlights.covering(self.cursor.offset)]
        covering.sort(key=lambda c: (c.id != self.target_id, c.coder != self.coder, c.end - c.start, c.start))
        return covering

    @property
    def current(self) -> ShownCoding | None:
        here = self.codings_here()
        key = tuple(c.id for c in here)
        if key != self._here_key:
            self._here_key, self._turn = key, 0
        return here[self._turn % len(here)] if here else None

    def turn_current(self) -> ShownCoding | None:
        """Make the next coding under the cursor the current one."""
        if self.current is not None:
            self._turn += 1
            self.refresh()
        return self.current

    def select_coding(self, coding_id: int) -> None:
        """Put the cursor at the start of coding ``coding_id`` and make it the current one."""
        found = next((c for c in self.codings if c.id == coding_id), None)
        if found is None:
            return
        self.cursor.move_to(found.start)
        here = self.codings_here()
        self._here_key = tuple(c.id for c in here)
        self._turn = next((i for i, c in enumerate(here) if c.id == coding_id), 0)
        self._moved()

    # ------------------------------------------------------------------------------------------- moving

    def _target(self, where: str) -> tuple[int, bool]:
        """Where a move goes, and whether it goes forward (for a position between paragraphs)."""
        cursor, layout, offset = self.cursor, self.lines, self.cursor.offset
        sentences = self.units["sentence"] or self.units["paragraph"]
        paragraphs = self.units["paragraph"]
        first = paragraphs.starts[0] if paragraphs else 0
        last = paragraphs.ends[-1] if paragraphs else 0
        if where == "left":
            return cursor.left(), False
        if where == "right":
            return cursor.right(), True
        if where == "word_left":
            return cursor.word_left(), False
        if where == "word_right":
            return cursor.word_right(), True
        if where == "sentence_back":
            found = sentences.previous_start(offset)
            return (first if found is None else found), False
        if where == "sentence_on":
            found = sentences.next_start(offset)
            return (last if found is None else found), True
        if where == "paragraph_back":
            found = paragraphs.previous_start(offset)
            return (first if found is None else found), False
        if where == "paragraph_on":
            found = paragraphs.next_start(offset)
            return (last if found is None else found), True
        if where == "first":
            return first, False
        if where == "last":
            return last, True
        if layout is None:
            return offset, True
        y = layout.line_of(offset)
        if where == "home":
            return layout.starts[y], False
        if where == "end":
            return layout.last_on_line(y), True
        step = {"up": -1, "down": 1, "page_up": -max(self.size.height - 1, 1),
                "page_down": max(self.size.height - 1, 1)}[where]
        target = min(max(y + step, 0), layout.height - 1)
        while 0 < target < layout.height - 1 and layout.starts[target] < 0:
            target += 1 if step > 0 else -1
        return layout.offset_at(target, self._column or 0), step > 0

    def action_move(self, where: str, select: bool = False) -> None:
        if self.workspace is None:
            return
        if where not in ("up", "down", "page_up", "page_down"):
            self._column = None
        elif self._column is None and self.lines is not None:
            self._column = self.lines.column_of(self.cursor.offset)
        target, forward = self._target(where)
        self.cursor.move_to(target, select=select or self.selecting, forward=forward)
        self._moved()

    def action_toggle_selecting(self) -> None:
        self.selecting = not self.selecting
        if self.selecting and self.cursor.anchor is None:
            self.cursor.anchor = self.cursor.offset
        elif not self.selecting and self.cursor.anchor == self.cursor.offset:
            self.cursor.anchor = None
        self._moved()

    def action_select_unit(self, kind: str) -> None:
        if self.workspace is None:
            return
        span = self.units[kind].at(self.cursor.offset)
        if span is None:
            self.post_message(self.Notice(f"This document has no {kind} units."))
            return
        self.select_span(*span)

    def clear_selection(self) -> bool:
        """Drop the selection (and selection mode); whether there was one."""
        had = self.cursor.anchor is not None or self.selecting
        self.cursor.anchor, self.selecting = None, False
        if had:
            self._moved()
        return had

    def move_cursor(self, offset: int) -> None:
        self.cursor.move_to(offset)
        self._moved()

    def _moved(self) -> None:
        self._follow_cursor()
        self.refresh()
        self.post_message(self.Moved())

    def _follow_cursor(self) -> None:
        if self.lines is None:
            return
        y = self.lines.line_of(self.cursor.offset)
        top, height = round(self.scroll_y), max(self.scrollable_content_region.height, 1)
        if y < top:
            self.scroll_to(y=y, animate=False, immediate=True)
        elif y >= top + height:
            self.scroll_to(y=y - height + 1, animate=False, immediate=True)

    # -------------------------------------------------------------------------------------------- mouse

    def _offset_at(self, event: MouseDown | MouseMove | MouseUp) -> int | None:
        if self.lines is None:
            return None
        where = event.get_content_offset(self)
        if where is None:
            return None
        return self.lines.offset_at(where.y + round(self.scroll_y), max(where.x - self.gutter_width, 0))

    def on_mouse_down(self, event: MouseDown) -> None:
        offset = self._offset_at(event)
        if offset is None:
            return
        self.focus()
        self.cursor.move_to(offset)
        self.cursor.anchor = self.cursor.offset
        self._dragging = True
        self.capture_mouse()
        self._moved()

    def on_mouse_move(self, event: MouseMove) -> None:
        if not self._dragging:
            return
        offset = self._offset_at(event)
        if offset is not None and offset != self.cursor.offset:
            self.cursor.offset = self.cursor.clamp(offset)
            self._moved()

    def on_mouse_up(self, event: MouseUp) -> None:
        if not self._dragging:
            return
        self._dragging = False
        self.release_mouse()
        if self.cursor.anchor == self.cursor.offset:
            self.cursor.anchor = None
        self._moved()

    # ---------------------------------------------------------------------------------------- drawing

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        layout = self.lines
        line = round(self.scroll_y) + y
        if layout is None or line >= layout.height:
            if layout is None and y == 0 and self.workspace is None:
                return Strip([Segment(" No document open: choose one in the documents pane.", _NUMBER)]) \
                    .adjust_cell_length(width)
            return Strip.blank(width)
        start, end = layout.starts[line], layout.ends[line]
        number = layout.numbers[line]
        if self.marked and start >= 0:  # a blind sample's unit: its mark beside the number
            gutter = [Segment(f"{number:>4}" if number else " " * 4, _NUMBER), self._mark(start, end), Segment(" ")]
        else:
            gutter = [Segment(f"{number:>4}  " if number else " " * 6, _NUMBER)]
        if self._speaker_width:
            speaker = self._speakers.get(line, "")
            gutter.append(Segment(speaker.ljust(self._speaker_width + 1), _SPEAKER))
        if start < 0:
            return Strip(gutter).adjust_cell_length(width)
        body = self._render_text(start, end, line)
        used = sum(cells(segment.text) for segment in body)
        text_width = self.text_width
        pad = [Segment(" " * (text_width - used))] if used < text_width else []
        strip = Strip([*gutter, *body, *pad]).crop(0, self.gutter_width + text_width)
        return Strip([*strip, Segment(" "), *self._stripes(start, end)]).adjust_cell_length(width)

    def _render_text(self, start: int, end: int, line: int) -> list[Segment]:
        text, cursor = self.text, self.cursor.offset
        stretches = self.highlights.within(start, end)
        selected = None
        if self.cursor.anchor is not None and self.cursor.anchor != cursor:
            selected = (min(self.cursor.anchor, cursor), max(self.cursor.anchor, cursor))
        current = self.current
        points = {start, end}
        for stretch in stretches:
            points.update((max(stretch.start, start), min(stretch.end, end)))
        if selected:
            points.update(min(max(p, start), end) for p in selected)
        if start <= cursor < end:
            points.update((cursor, cursor + 1))
        segments: list[Segment] = []
        index = 0
        ordered = sorted(points)
        for left, right in pairwise(ordered):
            while index < len(stretches) and stretches[index].end <= left:
                index += 1
            cover = stretches[index].cover if index < len(stretches) and stretches[index].start <= left else ()
            style = Style()
            if cover:
                shown = [self.codings[i] for i in cover]
                counted = [c for c in shown if c.status != "suggested" or c.id == self.target_id]
                top = next((c for c in shown if current is not None and c.id == current.id), None) \
                    or (counted or shown)[0]
                style = _coding_style(top.color, overlap=len(shown) > 1, suggested=top.status == "suggested",
                                      current=current is not None and top.id == current.id)
            if selected and selected[0] <= left < selected[1]:
                style += _SELECTED
            if left == cursor:
                style += _CURSOR
            segments.append(Segment(text[left:right], style))
        if cursor == end and self.lines is not None and self.lines.last_on_line(line) == end:
            segments.append(Segment(" ", _CURSOR))  # the cursor after the line's last character
        return segments

    def _stripes(self, start: int, end: int) -> list[Segment]:
        """A mark in the margin for each coding on the line, in its code's colour: overlaps show as several."""
        found = self.highlights.codings_within(start, end)
        marks = [Segment("▌", Style(color=self.codings[i].color)) for i in found[:_STRIPES]]
        if len(found) > _STRIPES:
            marks[-1] = Segment("+", _NUMBER)
        return marks + [Segment(" " * (_STRIPES - len(marks)))]
