"""What a PDF page prints around its text: running headers and footers, page numbers, footnotes.

Rows are the fragments of a page on one baseline (``gripcode.corpus.pdf_layout`` builds them), top to bottom.
A row at the top or the foot of a page is a running header or footer when a row with the same words (digits
aside) stands at about the same height on at least half of the pages, and a page number when a row that is
only a number ("12", "Page 3 of 10", "- iv -") stands there on at least half of the pages. A line that is a
year or a short word at the foot of one page is therefore text, and so is a footnote such as "3 Ibid., p. 12."
that recurs at a different height, or with a number that does not count up with the pages.

Footnotes are the rows at the foot of a page set smaller than the body text, below the body: they are taken out
of the flow (so that a paragraph running on to the next page stays whole) and given back to be placed after
the text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

# Up to this many rows at the top and at the foot of a page may be running headers, footers or page numbers.
RUNNING_ROWS = 2
# Rows at about the same height: baselines within this many points fall in one bucket (and its neighbours).
_HEIGHT_BUCKET = 4.0
# Footnotes are set at most this share of the body size.
_NOTE_SIZE = 0.9

_PAGE_NUMBER = re.compile(
    r"^[\s\-–—.·|\[\]()]*(?:(?:page|p\.|pág\.?|página|seite|стр\.?|страница|第)\s*)?"
    r"(?:\d{1,5}|[ivxlcdm]{1,8})(?:\s*(?:of|/|de|из|von)\s*\d{1,5})?\s*(?:页)?[\s\-–—.·|\[\]()]*$",
    re.IGNORECASE,
)


_LEADING_NUMBER = re.compile(r"^(\d{1,5})\b")


class Placed(Protocol):
    text: str
    baseline: float
    size: float


@dataclass
class Furniture:
    """What was taken off the pages."""

    headers: list[str] = field(default_factory=list)  # each once, as first printed
    footers: list[str] = field(default_factory=list)
    labels: list[str | None] = field(default_factory=list)  # the page number printed on each page
    notes: list[list[list[Placed]]] = field(default_factory=list)  # each page's footnote rows


def row_text(row: Sequence[Placed]) -> str:
    return " ".join(" ".join(fragment.text for fragment in row).split())


def _signature(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _key(row: Sequence[Placed], side: str) -> tuple[str, str]:
    text = row_text(row)
    return side, ("#page" if _PAGE_NUMBER.match(text) else _signature(text))


def _bucket(row: Sequence[Placed]) -> int:
    return round(row[0].baseline / _HEIGHT_BUCKET)


def take_running(rows: list[list[list[Placed]]]) -> Furniture:
    """Remove running headers, footers and page numbers from each page's ``rows`` (in place)."""
    pages_with_text = sum(1 for page_rows in rows if page_rows)
    needed = max(2, (pages_with_text + 1) // 2)
    # For each key (side and words), the heights at which it stands on each page, and the number it starts
    # with on each page.
    seen: dict[tuple[str, str], Counter[int]] = {}
    leading: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for number, page_rows in enumerate(rows):
        found: set[tuple[tuple[str, str], int]] = set()
        for side, candidates in (("top", page_rows[:RUNNING_ROWS]), ("foot", page_rows[-RUNNING_ROWS:])):
            for row in candidates:
                key = _key(row, side)
                found.add((key, _bucket(row)))
                first = _LEADING_NUMBER.match(row_text(row))
                if first and key[1] != "#page":
                    leading.setdefault(key, []).append((number, int(first.group(1))))
        for key, bucket in found:
            seen.setdefault(key, Counter())[bucket] += 1
    # A line that starts with a number counting up with the pages ("4 | Annual report") runs with the pages;
    # one whose number goes its own way ("3 Ibid., p. 12.") is a footnote.
    footnotes = {key for key, numbers in leading.items() if len({n - page for page, n in numbers}) > 1}

    def recurs(row: Sequence[Placed], side: str) -> bool:
        key = _key(row, side)
        heights = seen.get(key)
        if not heights or key in footnotes:
            return False
        bucket = _bucket(row)
        return heights[bucket - 1] + heights[bucket] + heights[bucket + 1] >= needed

    furniture = Furniture()
    for page_rows in rows:
        label: str | None = None
        for side in ("top", "foot"):
            for _ in range(RUNNING_ROWS):
                if len(page_rows) < 2:
                    break
                row = page_rows[0] if side == "top" else page_rows[-1]
                if not recurs(row, side):
                    break
                text = row_text(row)
                if _PAGE_NUMBER.match(text):
                    label = label or text.strip(" -–—.·|[]()")
                else:
                    kept = furniture.headers if side == "top" else furniture.footers
                    if text not in kept:
                        kept.append(text)
                page_rows.pop(0 if side == "top" else -1)
        furniture.labels.append(label)
    return furniture


def body_size(rows: list[list[list[Placed]]]) -> float:
    """The size most of the text is set in (weighted by characters)."""
    weights: Counter[float] = Counter()
    for page_rows in rows:
        for row in page_rows:
            for fragment in row:
                weights[round(fragment.size * 2) / 2] += len(fragment.text)
    return weights.most_common(1)[0][0] if weights else 10.0


def take_notes(rows: list[list[list[Placed]]], body: float, furniture: Furniture) -> None:
    """Remove footnotes, the smaller rows below a page's body text, from ``rows`` into ``furniture.notes``."""
    for page_rows in rows:
        notes: list[list[Placed]] = []
        while len(page_rows) > len(notes) + 1:
            row = page_rows[-1 - len(notes)]
            if max(fragment.size for fragment in row) > _NOTE_SIZE * body:
                break
            notes.append(row)
        above = page_rows[-1 - len(notes)] if notes else None
        # the notes stand apart from the body: lower than one body line below it
        if notes and above is not None and notes[-1][0].baseline - above[0].baseline > 1.3 * body:
            del page_rows[len(page_rows) - len(notes):]
            furniture.notes.append(list(reversed(notes)))
        else:
            furniture.notes.append([])
