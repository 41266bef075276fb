"""Finding accepted values in text, and mapping offsets from a text to the text with the values replaced.

Values match as whole words where their script has words (a name inside a longer word is left alone), in any
whitespace between their words, and, for words in Cyrillic, with the common case endings of Russian and Kazakh
names (Петров, Петрова, Петровым). Chinese and Japanese values match wherever they occur.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Case endings that Russian (and Russified Kazakh) names take; a name ending in one of the vowels or soft signs
# below changes its last letter (Мария, Марии, Марию).
_CYRILLIC_ENDINGS = ("ого", "его", "ому", "ему", "ой", "ей", "ом", "ем", "ым", "им", "ую", "юю", "ая", "ий",
                     "а", "я", "у", "ю", "е", "и", "ы", "й", "ь")
_CYRILLIC_STEM_LAST = "аяйь"
_ENDING_PATTERN = "(?:" + "|".join(_CYRILLIC_ENDINGS) + ")"


def _is_cjk(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))


def _is_cyrillic(word: str) -> bool:
    return bool(word) and all("CYRILLIC" in unicodedata.name(ch, "") for ch in word if ch.isalpha())


def _word_pattern(word: str, inflect: bool) -> str:
    if inflect and _is_cyrillic(word) and word[-1:].isalpha() and len(word) >= 4:
        stem = word[:-1] if word[-1].lower() in _CYRILLIC_STEM_LAST else word
        return re.escape(stem) + _ENDING_PATTERN + "?"
    return re.escape(word)


def value_pattern(value: str, *, inflect: bool = True) -> str:
    """The regular expression for one value (without a group)."""
    words = value.split()
    body = r"\s+".join(_word_pattern(w, inflect) for w in words)
    first, last = value.strip()[:1], value.strip()[-1:]
    if first and (first.isalnum() or first == "_") and not _is_cjk(first):
        body = r"(?<!\w)" + body
    if last and (last.isalnum() or last == "_") and not _is_cjk(last):
        body = body + r"(?!\w)"
    return body


@dataclass(frozen=True)
class Replacement:
    start: int
    end: int
    value: str  # what replaces text[start:end]
    entity: int  # the entity's id in the review state


class ValueMatcher:
    """All accepted values at once: one regular expression, longest values first."""

    def __init__(self, values: Sequence[tuple[str, str, int]]) -> None:
        """``values``: (value, replacement, entity id)."""
        usable = sorted({(v.strip(), r, e) for v, r, e in values if v.strip()}, key=lambda t: (-len(t[0]), t[0]))
        self._targets = [(r, e) for _, r, e in usable]
        self._regex = (re.compile("|".join(f"({value_pattern(v)})" for v, _, _ in usable))
                       if usable else None)

    def __bool__(self) -> bool:
        return self._regex is not None

    def find(self, text: str) -> Iterator[Replacement]:
        if self._regex is None or not text:
            return
        for match in self._regex.finditer(text):
            if match.end() == match.start():
                continue
            replacement, entity = self._targets[(match.lastindex or 1) - 1]
            yield Replacement(match.start(), match.end(), replacement, entity)

    def replace(self, text: str) -> str:
        """``text`` with every value replaced (for titles, memos, metadata: anything not indexed by offsets)."""
        if self._regex is None or not text:
            return text
        return self._regex.sub(lambda m: self._targets[(m.lastindex or 1) - 1][0], text)


def apply_replacements(text: str, replacements: Sequence[Replacement]) -> str:
    parts, position = [], 0
    for rep in replacements:
        parts.append(text[position:rep.start])
        parts.append(rep.value)
        position = rep.end
    parts.append(text[position:])
    return "".join(parts)


class OffsetMap:
    """Old offsets to new ones for a text whose ``replacements`` (sorted, not overlapping) were made.

    Outside a replaced value an offset moves by what the replacements before it added or removed. An offset
    inside one snaps to its edges: a start to the new value's start, an end to its end, so a passage that began
    or ended in a name now begins or ends with its pseudonym.
    """

    def __init__(self, replacements: Sequence[Replacement]) -> None:
        self.starts = [r.start for r in replacements]
        self.ends = [r.end for r in replacements]
        self.new_starts: list[int] = []
        self.new_ends: list[int] = []
        shift = 0
        for rep in replacements:
            self.new_starts.append(rep.start + shift)
            shift += len(rep.value) - (rep.end - rep.start)
            self.new_ends.append(rep.end + shift)

    def __bool__(self) -> bool:
        return bool(self.starts)

    def map(self, position: int, side: str) -> tuple[int, bool]:
        """(new offset, whether it snapped) for ``position``; ``side`` is "start" or "end"."""
        i = bisect.bisect_right(self.starts, position) - 1
        if i < 0:
            return position, False
        if position >= self.ends[i]:
            return position + (self.new_ends[i] - self.ends[i]), False
        if position == self.starts[i]:
            return self.new_starts[i], False
        return (self.new_starts[i] if side == "start" else self.new_ends[i]), True

    def span(self, start: int, end: int) -> tuple[int, int, bool]:
        new_start, snapped_start = self.map(start, "start")
        new_end, snapped_end = self.map(end, "end")
        return new_start, new_end, snapped_start or snapped_end
