"""Typeset PDFs with known paragraphs, for testing how the PDF reader rebuilds them.

Text is set the way a word processor or LaTeX sets it: justified lines (the last line of a paragraph ragged),
paragraphs separated by space or by a first-line indent, headings in a larger bold font, one or two columns,
running headers, page numbers in the footer, and paragraphs flowing on to the next column or page. A ``|`` in
a word is a point where it may be broken when it does not fit on the line; it then prints as ``-`` at the end
of the line (after a word's own hyphen, as in ``rare-|earth``, nothing is added).

``Typeset.lines`` records every line as printed, so a test can check that a break it relies on really fell
where it meant it to (``hyphenated_at`` finds a filler that makes it fall there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF

PAGE_WIDTH = 210.0  # A4, millimetres
PAGE_HEIGHT = 297.0


@dataclass
class Typeset:
    columns: int = 1
    gutter: float = 10.0
    margin: float = 20.0
    font: str = "Times"
    size: float = 11.0
    heading_size: float = 14.0
    leading: float = 1.25  # line pitch as a multiple of the font size
    paragraph_space: float = 0.8  # extra space between paragraphs, in lines (0: indent instead)
    indent: float = 0.0  # first-line indent in mm
    header: str | None = None  # running header; "{page}" is replaced by the page number
    page_numbers: bool = False  # a centred page number at the foot of each page
    footer: str | None = None  # a running footer line above the page number
    height: float = PAGE_HEIGHT
    unicode_font: str | None = None  # a TrueType file, for text beyond Latin-1
    lines: list[str] = field(default_factory=list)
    placed: list[tuple[int, int, int, str]] = field(default_factory=list)  # block, page, column, line
    pages: int = 0
    blocks: int = 0  # headings and paragraphs set so far

    def __post_init__(self) -> None:
        self.pdf = FPDF(unit="mm", format=(PAGE_WIDTH, self.height))
        if self.unicode_font:
            self.pdf.add_font("Body", "", self.unicode_font)
            self.pdf.add_font("Body", "B", self.unicode_font)
            self.font = "Body"
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(self.margin, self.margin, self.margin)
        self._column = 0
        self._y = 0.0
        self._new_page()

    # -- geometry
    @property
    def column_width(self) -> float:
        usable = PAGE_WIDTH - 2 * self.margin
        return (usable - (self.columns - 1) * self.gutter) / self.columns

    def _column_x(self) -> float:
        return self.margin + self._column * (self.column_width + self.gutter)

    def _pitch(self, size: float) -> float:
        return size * self.leading * 25.4 / 72

    @property
    def _top(self) -> float:
        return self.margin + (10.0 if self.header else 0.0)

    @property
    def _bottom(self) -> float:
        return self.height - self.margin - (10.0 if self.page_numbers or self.footer else 0.0)

    def _new_page(self) -> None:
        self.pdf.add_page()
        self.pages += 1
        page = self.pages
        self.pdf.set_font(self.font, size=9)
        if self.header:
            self.pdf.text(self.margin, self.margin, self.header.replace("{page}", str(page)))
        if self.footer:
            self.pdf.text(self.margin, self.height - self.margin - 4, self.footer)
        if self.page_numbers:
            label = str(page)
            width = self.pdf.get_string_width(label)
            self.pdf.text((PAGE_WIDTH - width) / 2, self.height - self.margin + 2, label)
        self._column = 0
        self._y = self._page_top = self._top

    def _advance(self, pitch: float) -> None:
        """Move to the next line, continuing in the next column or on the next page when this one is full."""
        if self._y + pitch > self._bottom:
            if self._column + 1 < self.columns:
                self._column += 1
                self._y = self._page_top
            else:
                self._new_page()
        self._y += pitch

    def _space(self, lines: float, size: float) -> None:
        if self._y > self._top + 0.01:  # no space at the head of a column
            self._y += lines * self._pitch(size)

    # -- content
    def title(self, text: str) -> None:
        """A bold title over the whole width of the page, above the columns."""
        self.pdf.set_font(self.font, style="B", size=self.heading_size + 4)
        pitch = self._pitch(self.heading_size + 4)
        self._y += pitch
        width = self.pdf.get_string_width(text)
        self.pdf.text((PAGE_WIDTH - width) / 2, self._y, text)
        self.lines.append(text)
        self._y += pitch * 0.5
        self._page_top = self._y

    def heading(self, text: str) -> None:
        self._space(1.0, self.size)
        self.pdf.set_font(self.font, style="B", size=self.heading_size)
        self._set(text, self.heading_size, style="B", indent=0.0)
        self._space(0.3, self.size)

    def paragraph(self, text: str) -> None:
        self._space(self.paragraph_space, self.size)
        self._set(text, self.size, style="", indent=self.indent)

    def _set(self, text: str, size: float, style: str, indent: float) -> None:
        """Set ``text`` greedily in justified lines, breaking a word at a ``|`` point when it does not fit."""
        self.blocks += 1
        self.pdf.set_font(self.font, style=style, size=size)
        line: list[str] = []
        first = True

        def room() -> float:
            return self.column_width - (indent if first else 0.0)

        def fits(words: list[str]) -> bool:
            return self.pdf.get_string_width(" ".join(words)) <= room()

        pending = text.split()
        while pending:
            word = pending.pop(0)
            whole = word.replace("|", "")
            if not line or fits([*line, whole]):
                line.append(whole)
                continue
            points = [i for i, char in enumerate(word) if char == "|"]
            for point in reversed(points):
                head = word[:point].replace("|", "")
                head = head if head.endswith("-") else head + "-"
                if fits([*line, head]):
                    line.append(head)
                    pending.insert(0, word[point + 1:])
                    break
            else:
                pending.insert(0, word)
            self._line(line, size, first, indent, justify=True)
            first = False
            line = []
        if line:
            self._line(line, size, first, indent, justify=False)

    def _line(self, words: list[str], size: float, first: bool, indent: float, justify: bool) -> None:
        self._advance(self._pitch(size))
        x = self._column_x() + (indent if first else 0.0)
        room = self.column_width - (indent if first else 0.0)
        natural = sum(self.pdf.get_string_width(word) for word in words)
        gaps = len(words) - 1
        gap = (room - natural) / gaps if justify and gaps else self.pdf.get_string_width(" ")
        for word in words:
            self.pdf.text(x, self._y, word)
            x += self.pdf.get_string_width(word) + gap
        self.lines.append(" ".join(words))
        self.placed.append((self.blocks - 1, self.pages, self._column, " ".join(words)))

    def pages_of(self, block: int) -> set[int]:
        """The pages on which the ``block``-th heading or paragraph (from 0) was set."""
        return {page for index, page, _, _ in self.placed if index == block}

    def save(self, path: Path) -> Path:
        self.pdf.output(str(path))
        return path


def plain(text: str) -> str:
    """A fixture paragraph as the reader should return it: break points removed."""
    return text.replace("|", "")


FILLER = [*["during", "the", "long", "years", "of", "low", "prices", "the", "separation", "plants", "of", "the", "south", "kept", "working", "at", "a", "loss"],
          *["while", "the", "northern", "group", "bought", "ore", "from", "small", "mines"]]


def breaking_at(template: str, ending: str, **settings: object) -> str:
    """``template`` with ``{filler}`` replaced by as many filler words as make one of its lines end with
    ``ending`` when set with ``settings`` (a paragraph breaks the same wherever on the page it stands)."""
    for count in range(len(FILLER) + 1):
        text = template.format(filler=" ".join(FILLER[:count]))
        trial = Typeset(**settings)  # type: ignore[arg-type]
        trial.paragraph(text)
        if any(line.endswith(ending) for line in trial.lines):
            return text
    raise AssertionError(f"no filler makes a line of {template!r} end with {ending!r}")
