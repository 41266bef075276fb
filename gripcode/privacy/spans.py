"""Finding accepted values in text, and mapping offsets from a text to the text with the values replaced.

Values match in any letter case (ELLISON, ellison, ПЕТРОВ) and in Unicode's composed form (NFC), whatever form
the value was given in. They match as whole words where their script has words: a name inside a longer word is
left alone, but digits, ``_``, ``.`` and ``-`` end a word, so file names and addresses are caught
(``Ellison_2012.wav``, ``margaret-ellison``, ``margaret.ellison``, ``MargaretEllison``). Between a value's words
any whitespace, or one ``.``, ``_`` or ``-``, may stand; straight and curly apostrophes and the hyphens are the
same. A value with accents also matches without them (Tomás, Tomas). Words in Cyrillic take the common case
endings of Russian and Kazakh names (Петров, Петрова, Петровым, Петровых). Chinese and Japanese values match
wherever they occur, with or without spaces between their characters.

Where two values overlap (``Ana Lima`` and ``Lima Santos`` in ``Ana Lima Santos``) the whole stretch is one
replacement, by the pseudonym of the longest value in it.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Case endings that Russian (and Russified Kazakh) names take; a name ending in one of the vowels or soft signs
# below changes its last letter (Мария, Марии, Марию).
_CYRILLIC_ENDINGS = ("ыми", "ими", "ами", "ями", "ого", "его", "ому", "ему", "ой", "ей", "ом", "ем", "ым", "им", "ую",
                     "юю", "ая", "ий", "ых", "их",
                     "а", "я", "у", "ю", "е", "и", "ы", "й", "ь")
_CYRILLIC_STEM_LAST = "аяйь"
_ENDING_PATTERN = "(?:" + "|".join(_CYRILLIC_ENDINGS) + ")"


def _is_cjk(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))


def _is_cyrillic(word: str) -> bool:
    return bool(word) and all("CYRILLIC" in unicodedata.name(ch, "") for ch in word if ch.isalpha())


_APOSTROPHES = "'’ʼ‘"
_HYPHENS = "-‐‑"
_CHAR_CLASSES = {**{ch: "['’ʼ‘]" for ch in _APOSTROPHES}, **{ch: "[-‐‑]" for ch in _HYPHENS}}
# Between the words of a value: whitespace, one of . _ - (file names, addresses, slugs), or nothing where a
# lower-case letter meets an upper-case one (MargaretEllison).
_SEPARATOR = (r"(?:\s+|[._\-‐‑]|(?-i:(?<=[a-zß-ÿа-яё])"
              r"(?=[A-ZÀ-ÞА-ЯЁ])))")
_NOT_LETTER_BEFORE = r"(?<![^\W\d_])"
_NOT_LETTER_AFTER = r"(?![^\W\d_])"
_NOT_ALNUM_BEFORE = r"(?<![^\W_])"
_NOT_ALNUM_AFTER = r"(?![^\W_])"


def _escape(word: str) -> str:
    return "".join(_CHAR_CLASSES.get(ch) or re.escape(ch) for ch in word)


def _word_pattern(word: str, inflect: bool) -> str:
    if inflect and _is_cyrillic(word) and word[-1:].isalpha() and len(word) >= 4:
        stem = word[:-1] if word[-1].lower() in _CYRILLIC_STEM_LAST else word
        return _escape(stem) + _ENDING_PATTERN + "?"
    if word and all(_is_cjk(ch) for ch in word):
        return r"\s?".join(_escape(ch) for ch in word)
    return _escape(word)


def normal(value: str) -> str:
    """A value or text in the form values are matched in: NFC, whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def _edge(ch: str, before: bool) -> str:
    if not ch or _is_cjk(ch):
        return ""
    if ch.isalpha():
        return _NOT_LETTER_BEFORE if before else _NOT_LETTER_AFTER
    if ch.isalnum():  # a digit: a number inside a longer number is another number
        return _NOT_ALNUM_BEFORE if before else _NOT_ALNUM_AFTER
    return ""


def value_pattern(value: str, *, inflect: bool = True) -> str:
    """The regular expression for one value (without a group; compile it with re.IGNORECASE)."""
    value = normal(value)
    words = [w for w in re.split(r"[\s_\-\u2010\u2011]+", value) if w]
    body = _SEPARATOR.join(_word_pattern(w, inflect) for w in words)
    return _edge(value[:1], True) + body + _edge(value[-1:], False)


def without_accents(value: str) -> str:
    """``value`` with the accents of Latin letters taken off (Tomás -> Tomas); other scripts stay."""
    parts = []
    for ch in unicodedata.normalize("NFD", value):
        if unicodedata.combining(ch) and parts and parts[-1].isascii():
            continue
        parts.append(ch)
    return unicodedata.normalize("NFC", "".join(parts))


@dataclass(frozen=True)
class Replacement:
    start: int
    end: int
    value: str  # what replaces text[start:end]
    entity: int  # the entity's id in the review state


class ValueMatcher:
    """All accepted values at once: one regular expression tried at every position (so overlapping values are
    all seen), longest values first; overlapping matches are merged into one replacement."""

    def __init__(self, values: Sequence[tuple[str, str, int]]) -> None:
        """``values``: (value, replacement, entity id)."""
        forms: set[tuple[str, str, int]] = set()
        for value, replacement, entity in values:
            value = normal(value)
            if value:
                forms.add((value, replacement, entity))
                plain = without_accents(value)
                if plain != value:
                    forms.add((plain, replacement, entity))
        usable = sorted(forms, key=lambda t: (-len(t[0]), t[0], t[2]))
        self._targets = [(r, e) for _, r, e in usable]
        self._regex = (re.compile("(?=" + "|".join(f"({value_pattern(v)})" for v, _, _ in usable) + ")",
                                  re.IGNORECASE) if usable else None)

    def __bool__(self) -> bool:
        return self._regex is not None

    def find(self, text: str) -> Iterator[Replacement]:
        """The replacements in ``text`` (which should be NFC, as the project stores texts), sorted and not
        overlapping."""
        if self._regex is None or not text:
            return
        current: tuple[int, int, int] | None = None  # start, end, index of the longest value in the stretch
        longest = 0
        for match in self._regex.finditer(text):
            index = (match.lastindex or 1) - 1
            start, end = match.span(index + 1)
            if end == start:
                continue
            if current is not None and start < current[1]:  # overlaps the stretch so far: one replacement
                if end - start > longest:
                    longest = end - start
                    current = (current[0], max(current[1], end), index)
                else:
                    current = (current[0], max(current[1], end), current[2])
                continue
            if current is not None:
                yield Replacement(current[0], current[1], *self._targets[current[2]])
            current, longest = (start, end, index), end - start
        if current is not None:
            yield Replacement(current[0], current[1], *self._targets[current[2]])

    def replace(self, text: str) -> str:
        """``text`` with every value replaced (for titles, memos, metadata: anything not indexed by offsets).
        A text with nothing to replace comes back as it was; one with replacements comes back in NFC."""
        if self._regex is None or not text:
            return text
        composed = unicodedata.normalize("NFC", text)
        replacements = list(self.find(composed))
        return apply_replacements(composed, replacements) if replacements else text


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


class SlugMatcher:
    """Accepted values in the slug form codes' ids take (``hartwell-metals``, ``tomas-ferreira``, ``olga-petrenko``
    for Ольга Петренко), replaced by the slug of the pseudonym (``organisation-a``)."""

    def __init__(self, values: Sequence[tuple[str, str, int]]) -> None:
        from gripcode.codebook.refi_common import slug_from_name

        targets: dict[str, str] = {}
        for value, pseudonym, entity in values:
            slug = slug_from_name(value, "", prefix="")
            if slug.startswith("-") or len(slug) < 2:  # no Latin or Cyrillic letters: no slug form
                continue
            targets.setdefault(slug, slug_from_name(pseudonym, f"pseudonym {entity}", prefix="pseudonym"))
        self._targets = targets
        order = sorted(targets, key=lambda s: (-len(s), s))
        self._regex = (re.compile("|".join(f"(?<![a-z0-9])({'[-_.]'.join(map(re.escape, slug.split('-')))})"
                                           "(?![a-z0-9])" for slug in order)) if order else None)
        self._order = order

    def replace(self, slug: str) -> str:
        if self._regex is None:
            return slug
        return self._regex.sub(lambda m: self._targets[self._order[(m.lastindex or 1) - 1]], slug)
