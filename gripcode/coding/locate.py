"""Finding where a coding goes: a quote, a ``START:END`` span or a unit reference in a document's text.

Offsets are gripcode's: Python string indices (code points) into the stored NFC, ``\\n``-normalised text,
half-open ``[start, end)``. Quotes arrive from the command line or a spreadsheet, often pasted from Word
or a PDF, so they are normalised the way the text was on import before they are searched for.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from gripcode.corpus.segment import paragraph_spans
from gripcode.errors import CodingError

__all__ = [
    "UNIT_KINDS",
    "QuoteMatch",
    "closest_passage",
    "context_snippet",
    "locate_quote",
    "normalise_quote",
    "parse_span",
    "parse_unit_ref",
]

UNIT_KINDS: tuple[str, ...] = ("paragraph", "sentence", "turn")

_LINE_ENDING = re.compile(r"\r\n?")
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_SPAN = re.compile(r"\s*(-?\d+)\s*:\s*(-?\d+)\s*")
_UNIT = re.compile(r"\s*([A-Za-z]+)\s*:\s*(-?\d+)\s*")

# Closest-passage search. Words longer than _MAX_PIECE (or runs of Chinese characters, which have no
# spaces) are cut into _CHUNK-character pieces so that one typo does not hide the whole word.
_MAX_PIECE = 8
_CHUNK = 4
_MAX_PIECES = 40
# A piece found more often than this says little about where the quote is.
_COMMON = 3000
_MAX_CANDIDATES = 40
_REFINE_STEPS = 16
_MIN_SIMILARITY = 0.3
_MAX_WIDEN = 20
# Character-level matching costs grow with the square of the length: longer quotes are placed by
# their first and last _PART characters.
_LONG = 200
_PART = 120
# Chinese and Japanese characters count as words of their own.
_TOKEN = re.compile(r"[\u2e80-\U0002ffff]|\w+|[^\w\s]")
_SHOWN_PASSAGE = 300


@dataclass(frozen=True)
class QuoteMatch:
    """Where a quote was found: ``text[start:end]``.

    ``exact`` is False when the quote matched only after differences in whitespace (line breaks, double
    or non-breaking spaces) were ignored; ``occurrences`` counts the places the quote matched in that mode.
    """

    start: int
    end: int
    exact: bool
    occurrences: int


def normalise_quote(quote: str) -> str:
    """The quote as the stored text would spell it: NFC, ``\\n`` line endings, no surrounding whitespace."""
    return unicodedata.normalize("NFC", _LINE_ENDING.sub("\n", quote.lstrip("\ufeff"))).strip()


def locate_quote(text: str, quote: str, occurrence: int | None = None) -> QuoteMatch:
    """Find ``quote`` in ``text``; ``occurrence`` (1-based) chooses among several matches.

    Exact matches are preferred; only when there is none is whitespace ignored. Raises
    :class:`CodingError` for an empty quote, a quote that is not in the text (naming the closest
    passage), several matches without ``occurrence``, or an ``occurrence`` out of range.
    """
    needle = normalise_quote(quote)
    if not needle:
        raise CodingError("the quote is empty: give the words to code, as they appear in the document")
    exact = True
    spans = _exact_spans(text, needle)
    if not spans:
        exact = False
        spans = _loose_spans(text, needle)
    if not spans:
        raise CodingError(_not_found_message(text, needle))
    count = len(spans)
    if occurrence is None:
        if count > 1:
            raise CodingError(_ambiguous_message(text, spans))
        occurrence = 1
    if not 1 <= occurrence <= count:
        times = "once" if count == 1 else f"{count} times"
        raise CodingError(
            f"occurrence {occurrence} does not exist: the quote occurs {times} in the document"
            + ("" if count == 1 else f"; choose --occurrence between 1 and {count}")
        )
    start, end = spans[occurrence - 1]
    return QuoteMatch(start=start, end=end, exact=exact, occurrences=count)


def _exact_spans(text: str, needle: str) -> list[tuple[int, int]]:
    # Overlapping matches count too ("na na" occurs twice in "na na na"): each one is a place to code.
    spans: list[tuple[int, int]] = []
    at = text.find(needle)
    while at >= 0:
        spans.append((at, at + len(needle)))
        at = text.find(needle, at + 1)
    return spans


def _loose_spans(text: str, needle: str) -> list[tuple[int, int]]:
    tokens = needle.split()
    if len(tokens) < 2:
        # No inner whitespace: ignoring whitespace cannot find anything the exact search did not.
        return []
    # Every token starts and ends with a non-space character, so a possessive \s++ never has to give
    # characters back: each attempt costs at most the length of the match and no pattern can explode.
    pattern = re.compile(r"\s++".join(re.escape(token) for token in tokens))
    spans: list[tuple[int, int]] = []
    found = pattern.search(text)
    while found:
        spans.append(found.span())
        found = pattern.search(text, found.start() + 1)
    return spans


def _paragraph_numbers(text: str, offsets: list[int]) -> list[int]:
    starts = [start for start, _ in paragraph_spans(text)]
    return [max(bisect_right(starts, offset), 1) for offset in offsets]


def _ambiguous_message(text: str, spans: list[tuple[int, int]]) -> str:
    numbers = _paragraph_numbers(text, [start for start, _ in spans])
    lines = [f"the quote occurs {len(spans)} times in the document:"]
    for index, ((start, end), paragraph) in enumerate(zip(spans, numbers), start=1):
        snippet = context_snippet(text, start, end, width=30, mark=True)
        lines.append(f"  {index}. offsets {start}:{end}, paragraph {paragraph}: {snippet}")
    lines.append(f"Pass --occurrence N (1 to {len(spans)}) to choose one, or quote more of the passage.")
    return "\n".join(lines)


def _not_found_message(text: str, needle: str) -> str:
    message = "the quote was not found in the document, not even ignoring spaces and line breaks"
    closest = closest_passage(text, needle)
    if closest is None:
        return message + "; no passage of the text resembles it. Is it the right document?"
    start, end, similarity = closest
    paragraph = _paragraph_numbers(text, [start])[0]
    passage = _WHITESPACE.sub(" ", text[start:end])
    if len(passage) > _SHOWN_PASSAGE:
        passage = passage[: _SHOWN_PASSAGE - 1] + "…"
    return (
        f"{message}.\nClosest passage (offsets {start}:{end}, paragraph {paragraph}, "
        f"{similarity:.0%} similar):\n  {passage}"
    )


def closest_passage(text: str, quote: str) -> tuple[int, int, float] | None:
    """The passage of ``text`` most similar to ``quote``: ``(start, end, similarity 0..1)``, or None.

    Windows the length of the quote are placed where many of its rarer words (or pieces of words) line
    up, scored with :class:`difflib.SequenceMatcher`, and the best one's edges are then adjusted. A long
    quote is placed by its beginning and its end. Sliding a window over every position would take
    minutes on a long document; this stays well under a second.
    """
    needle = normalise_quote(quote)
    if not needle or not text.strip():
        return None
    if len(needle) <= _LONG:
        span = _best_window(text, needle)
    else:
        span = _long_window(text, needle)
    if span is None or not text[span[0]: span[1]].strip():
        return None
    start, end = _whole_words(text, *span)
    similarity = _similarity(needle, text[start:end])
    if similarity < _MIN_SIMILARITY:
        return None
    return start, end, similarity


def _similarity(quote: str, passage: str) -> float:
    if max(len(quote), len(passage)) <= 2 * _LONG:
        return SequenceMatcher(None, quote, passage, autojunk=False).ratio()
    # Characters of long texts: matching them costs seconds, and SequenceMatcher's shortcut for long
    # sequences ignores every common letter. Words are fewer and say more.
    return SequenceMatcher(None, _TOKEN.findall(quote), _TOKEN.findall(passage), autojunk=False).ratio()


def _long_window(text: str, needle: str) -> tuple[int, int] | None:
    length = len(needle)
    head = _best_window(text, needle[:_PART])
    if head is None:
        tail = _best_window(text, needle[-_PART:])
        return None if tail is None else (max(0, tail[1] - length), tail[1])
    # The end is looked for after the beginning, no further away than twice the quote's length.
    region_start, region_end = head[0], min(len(text), head[0] + 2 * length)
    tail = _best_window(text[region_start:region_end], needle[-_PART:])
    if tail is not None and region_start + tail[1] > head[1]:
        return head[0], region_start + tail[1]
    return head[0], min(len(text), head[0] + length)


def _best_window(text: str, needle: str) -> tuple[int, int] | None:
    starts = _candidate_starts(text, needle)
    if not starts:
        return None
    matcher = SequenceMatcher(None, autojunk=False)
    # SequenceMatcher caches what it learns about its second sequence: the quote stays there.
    matcher.set_seq2(needle)
    length, limit = len(needle), len(text)

    def score(start: int, end: int) -> float:
        matcher.set_seq1(text[start:end])
        return matcher.ratio()

    best, best_span = -1.0, (0, 0)
    for start in starts:
        start = min(max(start, 0), max(limit - length, 0))
        end = min(start + length, limit)
        matcher.set_seq1(text[start:end])
        # The quick ratios are upper bounds of ratio() and much cheaper.
        if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
            continue
        ratio = matcher.ratio()
        if ratio > best:
            best, best_span = ratio, (start, end)
    if best < 0:
        return None
    return _refine(score, best_span, best, length, limit)


def _splits_word(left: str, right: str) -> bool:
    # Scripts written without spaces (Chinese, Japanese) have no words to keep whole.
    return left.isalnum() and right.isalnum() and left < "\u2e80" and right < "\u2e80"


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` without surrounding whitespace and widened so that it does not cut a word in two."""
    while text[start].isspace():
        start += 1
    while text[end - 1].isspace():
        end -= 1
    floor, ceiling = max(0, start - _MAX_WIDEN), min(len(text), end + _MAX_WIDEN)
    while start > floor and _splits_word(text[start - 1], text[start]):
        start -= 1
    while end < ceiling and _splits_word(text[end - 1], text[end]):
        end += 1
    return start, end


def _anchor_pieces(needle: str) -> list[tuple[str, int]]:
    """Pieces of the quote to look for, each with its offset in the quote."""
    pieces: list[tuple[str, int]] = []
    for word in _WORD.finditer(needle):
        value, at = word.group(), word.start()
        if len(value) <= _MAX_PIECE:
            pieces.append((value, at))
            continue
        cuts = list(range(0, len(value) - _CHUNK + 1, _CHUNK))
        if cuts[-1] + _CHUNK < len(value):
            cuts.append(len(value) - _CHUNK)
        pieces.extend((value[cut: cut + _CHUNK], at + cut) for cut in cuts)
    if not pieces:
        # Only punctuation or symbols: any three characters in a row will do.
        size = min(3, len(needle))
        pieces = [(needle[at: at + size], at) for at in range(0, len(needle) - size + 1)]
    if len(pieces) > _MAX_PIECES:
        step = len(pieces) / _MAX_PIECES
        pieces = [pieces[int(index * step)] for index in range(_MAX_PIECES)]
    return pieces


def _candidate_starts(text: str, needle: str) -> list[int]:
    """Likely window starts, best first: places where many pieces of the quote line up.

    Each piece votes for the window starts its occurrences imply, once per place, with a weight that
    falls as the piece gets more common (inverse document frequency). Nearby starts share a bucket, on
    two grids half a bucket apart, so that an inserted or missing word does not split the vote.
    """
    bucket_size = max(4, len(needle) // 4)
    votes: dict[tuple[int, int], float] = {}
    first_start: dict[tuple[int, int], int] = {}
    fallback: list[int] = []
    found_at: dict[str, list[int]] = {}
    for piece, at in _anchor_pieces(needle):
        key = piece.casefold()
        if key not in found_at:
            found_at[key] = [found.start() for found in re.finditer(re.escape(piece), text, re.IGNORECASE)]
        positions = [position - at for position in found_at[key]]
        if not positions:
            continue
        if len(positions) > _COMMON:
            # Too common to place the quote, unless nothing else in it occurs at all.
            if not fallback:
                fallback = positions[:: len(positions) // _MAX_CANDIDATES + 1]
            continue
        weight = math.log(1 + len(text) / len(positions))
        places = {(grid, (position + grid * bucket_size // 2) // bucket_size): position
                  for position in reversed(positions) for grid in (0, 1)}
        for place, position in places.items():
            votes[place] = votes.get(place, 0.0) + weight
            first_start.setdefault(place, position)
    if not votes:
        return fallback[:_MAX_CANDIDATES]
    starts: list[int] = []
    for place in sorted(votes, key=lambda place: -votes[place]):
        if first_start[place] not in starts:
            starts.append(first_start[place])
            if len(starts) == _MAX_CANDIDATES:
                break
    return starts


def _refine(
    score: Callable[[int, int], float], span: tuple[int, int], best: float, length: int, limit: int
) -> tuple[int, int]:
    """Move each edge of ``span`` while that raises the similarity: coarse steps, then single characters."""
    start, end = span
    reach = max(3, length // 3)
    step = max(1, (2 * reach) // _REFINE_STEPS)
    while True:
        for edge in (0, 1):
            for delta in range(-reach, reach + 1, step):
                new_start = start + delta if edge == 0 else start
                new_end = end + delta if edge == 1 else end
                if not 0 <= new_start < new_end <= limit or (new_start, new_end) == (start, end):
                    continue
                ratio = score(new_start, new_end)
                if ratio > best:
                    best, start, end = ratio, new_start, new_end
        if step == 1:
            return start, end
        reach, step = step, 1


def context_snippet(text: str, start: int, end: int, width: int = 40, *, mark: bool = False) -> str:
    """``text[start:end]`` with up to ``width`` characters either side, on one line.

    Whitespace runs become single spaces, "…" shows where the text goes on, and a long span keeps its
    beginning and end. With ``mark``, the span itself is set in ⟦ ⟧.
    """
    start, end = max(0, start), min(len(text), end)
    before_from, after_to = max(0, start - width), min(len(text), end + width)
    middle = _WHITESPACE.sub(" ", text[start:end])
    if len(middle) > 2 * width + 1:
        middle = middle[:width].rstrip() + " … " + middle[-width:].lstrip()
    before = _WHITESPACE.sub(" ", text[before_from:start]).lstrip()
    after = _WHITESPACE.sub(" ", text[end:after_to]).rstrip()
    if mark:
        middle = f"⟦{middle}⟧"
    return ("…" if before_from > 0 else "") + before + middle + after + ("…" if after_to < len(text) else "")


def parse_span(value: str, text_length: int) -> tuple[int, int]:
    """``"START:END"`` as a half-open ``(start, end)`` inside a text of ``text_length`` characters."""
    found = _SPAN.fullmatch(value)
    if not found:
        raise CodingError(f"a span is written START:END in characters, e.g. 120:245; got {value!r}")
    start, end = int(found.group(1)), int(found.group(2))
    if start < 0 or end < 0:
        raise CodingError(f"span {value.strip()}: offsets cannot be negative")
    if start >= end:
        raise CodingError(f"span {start}:{end} is empty or reversed: START must be smaller than END")
    if end > text_length:
        raise CodingError(
            f"span {start}:{end} ends after the end of the document, which has {text_length} characters"
        )
    return start, end


def parse_unit_ref(value: str) -> tuple[str, int]:
    """``"paragraph:N"``, ``"sentence:N"`` or ``"turn:N"`` (N from 1) as ``(kind, N)``."""
    kinds = ", ".join(f"{kind}:N" for kind in UNIT_KINDS)
    found = _UNIT.fullmatch(value)
    if not found:
        raise CodingError(f"a unit is written {kinds} (e.g. paragraph:3); got {value!r}")
    kind, seq = found.group(1).lower(), int(found.group(2))
    if kind not in UNIT_KINDS:
        raise CodingError(f"unknown unit kind {found.group(1)!r}: use {kinds}")
    if seq < 1:
        raise CodingError(f"{kind} numbers start at 1; got {seq}")
    return kind, seq
