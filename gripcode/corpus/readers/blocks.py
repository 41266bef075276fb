"""The text of a structured document (a web page, .docx, .odt) built from its blocks in reading order.

Each block (a paragraph, a heading, a list item, a table row) becomes one paragraph of the text, separated
from the next by a blank line, so that it becomes one paragraph unit; a line break inside a block stays a
single ``\\n``. Footnotes and endnotes are referred to in the text as ``[1]``, ``[2]``, ... (numbered
together, in the order the text refers to them) and follow the last block as paragraphs of their own,
``[Note 1] text``. Headings' spans go to ``metadata["headings"]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from gripcode.corpus.limits import ReadLimits, extracted_text_too_long
from gripcode.corpus.normalize import normalise_text
from gripcode.errors import DocumentImportError

BLOCK_SEPARATOR = "\n\n"
# How deep the readers walk a document's XML (spans in spans, lists in lists, sections, tables in cells):
# word processors write a few dozen levels, lxml parses 256 at most, and the walk stays far from Python's
# recursion limit.
MAX_NESTING = 300
CELL_SEPARATOR = " | "
_BLANK_LINES = re.compile(r"\n[^\S\n]*(?:\n[^\S\n]*)+")


def note_reference(number: int) -> str:
    """The mark in the text where note ``number`` is referred to."""
    return f"[{number}]"


def note_paragraph(number: int, text: str) -> str:
    """The paragraph a note becomes at the end of the text (only its mark when the note is empty)."""
    return f"[Note {number}] {text}" if text else f"[Note {number}]"


def row_text(cells: list[str]) -> str:
    """A table row: each cell's text on one line, empty cells left out, the rest joined by `` | ``."""
    return CELL_SEPARATOR.join(joined for joined in (" ".join(cell.split()) for cell in cells) if joined)


def nested_too_deeply(name: str) -> DocumentImportError:
    """The error for a document whose elements are nested deeper than ``MAX_NESTING``."""
    return DocumentImportError(
        f"{name}: its text is nested more than {MAX_NESTING} elements deep (spans, lists, sections or tables "
        "inside each other); the file may be damaged. Open it in a word processor and save it again.")


def collect_into(lines: list[str]) -> Callable[..., None]:
    """A sink for blocks, in place of ``Blocks.add``, that keeps their texts in ``lines``: a note's paragraphs
    become the lines of one block."""

    def add(text: str, heading: bool = False) -> None:
        lines.append(text)

    return add


@dataclass
class Blocks:
    """The blocks of one document as they are read, and its notes in the order they are referred to."""

    name: str
    limits: ReadLimits
    blocks: list[tuple[str, bool]] = field(default_factory=list)  # (text, is a heading)
    notes: list[str] = field(default_factory=list)
    _chars: int = 0
    _taken_in: int = 0

    def add(self, text: str, heading: bool = False) -> None:
        """One block; one that is empty once stripped is left out."""
        text = _block(text)
        if text:
            self._count(len(text))
            self.blocks.append((text, heading))

    def new_note(self) -> int:
        """Reserve the next note number (its text comes with ``set_note``), so that notes are numbered in the
        order the text refers to them even when a note's own text is read later."""
        self.notes.append("")
        return len(self.notes)

    def set_note(self, number: int, text: str) -> None:
        text = _block(text)
        self._count(len(text))
        self.notes[number - 1] = text

    def make_room(self, chars: int) -> None:
        """Refuse the document now if ``chars`` more characters would take it past the limit: before a reader
        writes out what the file stores once for many times (a repeated table row)."""
        if self._chars + chars > self.limits.max_bytes:
            raise extracted_text_too_long(self.name, self.limits.max_bytes, self.limits)

    def take_in(self, chars: int) -> None:
        """Count ``chars`` characters a reader is about to build a block from (a run of text, or spaces the file
        stores as a count), and refuse the document once all it has built passes the limit: text collected
        for a note or a table cell is held before it is a block, and spaces stored as a count are written out
        only after this."""
        self._taken_in += chars
        if self._taken_in > self.limits.max_bytes:
            raise extracted_text_too_long(self.name, self.limits.max_bytes, self.limits)

    def _count(self, chars: int) -> None:
        self.make_room(chars)
        self._chars += chars

    def text_and_headings(self) -> tuple[str, list[list[int]]]:
        """The document's text, and the ``[start, end]`` spans of its headings."""
        parts: list[str] = []
        headings: list[list[int]] = []
        position = 0
        paragraphs = [*self.blocks, *((note_paragraph(n, note), False) for n, note in enumerate(self.notes, 1))]
        for text, heading in paragraphs:
            if parts:
                position += len(BLOCK_SEPARATOR)
            parts.append(text)
            if heading:
                headings.append([position, position + len(text)])
            position += len(text)
        return BLOCK_SEPARATOR.join(parts), headings


def _block(text: str) -> str:
    """A block's text normalised, stripped, without NULs, and without blank lines (which would split it into
    several paragraphs)."""
    text = normalise_text(text.replace("\x00", "")).strip()
    return _BLANK_LINES.sub("\n", text) if "\n" in text else text
