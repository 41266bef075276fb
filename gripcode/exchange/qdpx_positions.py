"""Where another program's ``startPosition``/``endPosition`` fall in gripcode's normalised text.

REFI-QDA says positions count characters of the source's plain text, but programs count differently:
NVivo (a .NET program) counts UTF-16 code units and a Windows line break as two; ATLAS.ti counts every line
break as one; Python tools (QualCoder, gripcode) count code points as the text file has them. A
:class:`Convention` is one such way of counting, described by what a character weighs:

* ``unit``: ``codepoint`` (every character 1) or ``utf16`` (characters outside the Basic Multilingual
  Plane, such as emoji and rare CJK ideographs, weigh 2);
* ``breaks``: ``file`` (line breaks as the file has them), ``one`` (every CRLF, CR or LF is 1), ``two``
  (every line break is 2, as if the text had CRLF), and, for texts gripcode read from a Word file, whose
  paragraphs it separates by a blank line, ``para-one``/``para-two`` (a run of line breaks between
  paragraphs weighs 1 or 2, as a program that kept one break per paragraph would count it).

Positions are turned into indices of the source text as decoded (a byte-order mark dropped), then through
the normalisation every gripcode text goes through (CRLF to LF, NFC) into the stored text.

Confirmation: many programs write the selected text into the selection's ``name`` (NVivo, ATLAS.ti names
begin with it). When most named selections of a project match their text under some convention, names are
treated as text, and a selection is placed only where its name matches: exactly (whitespace collapsed), or as
the beginning of the span when the name is shortened. Otherwise a selection is confirmed when both its ends
fall on word boundaries. Conventions are tried in the order the exporting program makes likely; the report
counts how many selections each convention placed, and which could not be placed at all.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from gripcode.corpus.normalize import normalise_text


@dataclass(frozen=True)
class Convention:
    key: str
    unit: str  # codepoint | utf16
    breaks: str  # file | one | two | para-one | para-two
    label: str


def _conv(unit: str, breaks: str) -> Convention:
    units = {"codepoint": "code points", "utf16": "UTF-16 code units"}
    described = {"file": "line breaks as in the file", "one": "each line break as one",
                 "two": "each line break as two (CRLF)", "para-one": "one break between paragraphs",
                 "para-two": "two (CRLF) between paragraphs"}
    return Convention(f"{unit}/{breaks}", unit, breaks, f"{units[unit]}, {described[breaks]}")


CONVENTIONS: dict[str, Convention] = {
    c.key: c for c in (_conv(u, b) for u in ("codepoint", "utf16")
                       for b in ("file", "one", "two", "para-one", "para-two"))
}
ORIGINS = ("gripcode", "qualcoder", "maxqda", "nvivo", "atlasti", "unknown")
_PLAIN_ORDER = ("codepoint/file", "codepoint/one", "utf16/file", "utf16/two", "utf16/one", "codepoint/two")
_ORDER: dict[str, tuple[str, ...]] = {
    "gripcode": _PLAIN_ORDER,
    "qualcoder": _PLAIN_ORDER,
    "maxqda": _PLAIN_ORDER,
    "unknown": _PLAIN_ORDER,
    "nvivo": ("utf16/two", "utf16/file", "codepoint/two", "codepoint/file", "utf16/one", "codepoint/one"),
    "atlasti": ("codepoint/one", "utf16/one", "codepoint/file", "utf16/file", "codepoint/two", "utf16/two"),
}
_PARA_ORDER: dict[str, tuple[str, ...]] = {
    "nvivo": ("utf16/para-two", "utf16/para-one"),
    "atlasti": ("codepoint/para-one", "utf16/para-one"),
}
_TOOL_NAMES = (("nvivo", ("nvivo",)), ("atlasti", ("atlas.ti", "atlasti", "atlas ti")), ("maxqda", ("maxqda",)),
               ("qualcoder", ("qualcoder",)), ("gripcode", ("gripcode",)))


def detect_origin(*hints: str | None) -> str:
    """The program that wrote a project, from its ``origin`` attribute, then its ``basePath``, then the file
    name; ``unknown`` when none names one."""
    for hint in hints:
        text = (hint or "").lower()
        for key, needles in _TOOL_NAMES:
            if any(needle in text for needle in needles):
                return key
    return "unknown"


def conventions_for(origin: str, from_word: bool) -> list[Convention]:
    """Conventions in the order to try them for a source written by ``origin``."""
    keys = list(_ORDER.get(origin, _PLAIN_ORDER))
    if from_word:
        keys = list(_PARA_ORDER.get(origin, ("codepoint/para-one", "utf16/para-one"))) + keys + [
            "codepoint/para-two", "utf16/para-two", "codepoint/para-one", "utf16/para-one"]
    seen: list[str] = []
    for key in keys:
        if key not in seen:
            seen.append(key)
    return [CONVENTIONS[key] for key in seen]


# ---------------------------------------------------------------------------------------------- the mapping

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_CRLF = re.compile("\r\n")
_LONE_BREAK = re.compile("\r(?!\n)|(?<!\r)\n")
_BREAK_RUN = re.compile("(?:\r\n|\r|\n)+")


class SourceText:
    """A source's text as the other program had it (``raw``) and as gripcode stores it (``text``)."""

    def __init__(self, raw: str, *, from_word: bool = False) -> None:
        self.raw = raw
        self.from_word = from_word
        self.text = normalise_text(raw)
        # Characters normalisation drops: leading byte-order marks, and the CR of every CRLF.
        boms = len(raw) - len(raw.lstrip("\ufeff"))
        self._dropped = list(range(boms)) + [m.start() for m in _CRLF.finditer(raw, boms)]
        joined = raw[boms:].replace("\r\n", "\n").replace("\r", "\n")
        self._nfc_starts: list[int] = []
        self._nfc_after: list[int] = []
        self._nfc = self._nfc_breaks(joined)
        self._weights: dict[str, tuple[list[int], list[int]]] = {}
        self._signatures: dict[str, int] = {}
        self._signature_ids: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}

    # raw index -> stored index ------------------------------------------------------------------------

    def _nfc_breaks(self, joined: str) -> list[tuple[int, int, int, str]] | None:
        """Lines whose length NFC changes, as (start, end, stored start, line); None when NFC changes nothing.
        Composition never crosses a line break, so a line can be mapped on its own."""
        if unicodedata.is_normalized("NFC", joined):
            return None
        chunks: list[tuple[int, int, int, str]] = []
        pos = out = 0
        for line in joined.split("\n"):
            composed = len(unicodedata.normalize("NFC", line))
            if composed != len(line):
                chunks.append((pos, pos + len(line), out, line))
            pos, out = pos + len(line) + 1, out + composed + 1
        self._nfc_starts = [chunk[0] for chunk in chunks]
        # Stored index minus joined index just after each changed line.
        for start, end, out_start, line in chunks:
            self._nfc_after.append(out_start + len(unicodedata.normalize("NFC", line)) - end)
        return chunks

    def _stored(self, raw_index: int) -> int:
        joined = raw_index - bisect_left(self._dropped, raw_index)
        if not self._nfc:
            return joined
        k = bisect_right(self._nfc_starts, joined) - 1
        if k < 0:
            return joined
        start, end, out_start, line = self._nfc[k]
        if joined < end:
            # Inside a line NFC shortened: the composed length of the part before the position.
            return out_start + len(unicodedata.normalize("NFC", line[: joined - start]))
        return joined + self._nfc_after[k]

    # external position -> raw index -------------------------------------------------------------------

    def _extra(self, convention: Convention) -> tuple[list[int], list[int]]:
        """Raw indices whose weight is not 1 and the running total of (weight - 1) up to and including each."""
        cached = self._weights.get(convention.key)
        if cached is not None:
            return cached
        # A leading byte-order mark is not part of the text any program counts.
        extra: dict[int, int] = dict.fromkeys(range(len(self.raw) - len(self.raw.lstrip("\ufeff"))), -1)
        if convention.unit == "utf16":
            for m in _ASTRAL.finditer(self.raw):
                extra[m.start()] = 1
        breaks = convention.breaks
        if breaks == "one":
            for m in _CRLF.finditer(self.raw):
                extra[m.start()] = -1
        elif breaks == "two":
            for m in _LONE_BREAK.finditer(self.raw):
                extra[m.start()] = 1
        elif breaks in ("para-one", "para-two"):
            for m in _BREAK_RUN.finditer(self.raw):
                weight = 1 if breaks == "para-one" else 2
                for index in range(m.start(), m.end()):
                    extra[index] = (weight if index == m.start() else 0) - 1
        indices = sorted(extra)
        running, total = [], 0
        for index in indices:
            total += extra[index]
            running.append(total)
        self._weights[convention.key] = (indices, running)
        return indices, running

    def _external(self, raw_index: int, indices: list[int], running: list[int]) -> int:
        k = bisect_left(indices, raw_index)  # exceptions strictly before raw_index
        return raw_index + (running[k - 1] if k else 0)

    def signature(self, convention: Convention) -> int:
        """Equal signatures mean two conventions place every position of this text alike."""
        if convention.key not in self._signatures:
            indices, running = self._extra(convention)
            key = (tuple(indices), tuple(running))
            self._signatures[convention.key] = self._signature_ids.setdefault(key, len(self._signature_ids))
        return self._signatures[convention.key]

    def _raw(self, position: int, convention: Convention, *, is_end: bool) -> int | None:
        indices, running = self._extra(convention)
        n = len(self.raw)
        if not indices:  # every character counts one, as in gripcode's own files: positions are raw indices
            return position if 0 <= position <= n else None
        if position < 0 or position > self._external(n, indices, running):
            return None
        lo, hi = 0, n
        if is_end:  # the first raw index whose external position reaches ``position``
            while lo < hi:
                mid = (lo + hi) // 2
                if self._external(mid, indices, running) >= position:
                    hi = mid
                else:
                    lo = mid + 1
            return lo
        while lo < hi:  # the last raw index whose external position does not pass ``position``
            mid = (lo + hi + 1) // 2
            if self._external(mid, indices, running) <= position:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def distinct(self, conventions: list[Convention]) -> Iterator[Convention]:
        """``conventions`` without those that place every position as an earlier one does (equal signatures):
        the same span would only be computed again. Lazily: a convention's weights are worked out only once the
        ones before it did not settle a selection."""
        seen: set[int] = set()
        for convention in conventions:
            signature = self.signature(convention)
            if signature not in seen:
                seen.add(signature)
                yield convention

    def span(self, start: int, end: int, convention: Convention) -> tuple[int, int] | None:
        """``[start, end)`` counted by ``convention`` as stored offsets, or None when it is not a usable span."""
        raw_start = self._raw(start, convention, is_end=False)
        raw_end = self._raw(end, convention, is_end=True)
        if raw_start is None or raw_end is None:
            return None
        s, e = self._stored(raw_start), self._stored(raw_end)
        if not 0 <= s < e <= len(self.text) or not self.text[s:e].strip():
            return None
        return s, e


# ------------------------------------------------------------------------------------------- confirmation

_ELLIPSIS = ("\u2026", "...")
EXACT, PREFIX, NO_MATCH = 3, 2, 0


def collapse(text: str) -> str:
    return " ".join(normalise_text(text).split())


def name_score(name: str | None, covered: str) -> int:
    """How well a selection's ``name`` matches the text it covers: EXACT, PREFIX (a shortened name) or NO_MATCH."""
    return _score(_Name.of(name), covered)


class _Name:
    """A selection's name as :func:`name_score` compares it, made once per selection rather than once per
    convention tried: collapsed, and without a closing ellipsis (``shortened``)."""

    __slots__ = ("raw", "collapsed", "wanted", "shortened")

    def __init__(self, raw: str, collapsed: str) -> None:
        self.raw, self.collapsed, self.wanted, self.shortened = raw, collapsed, collapsed, False
        for mark in _ELLIPSIS:
            if collapsed.endswith(mark):
                self.wanted, self.shortened = collapsed[: -len(mark)].rstrip(), True
                break

    @staticmethod
    def of(name: str | None) -> _Name | None:
        """None for a name that is empty once collapsed."""
        collapsed = collapse(name or "")
        return _Name(name or "", collapsed) if collapsed else None


def _score(name: _Name | None, covered: str) -> int:
    if name is None or not name.wanted:
        return NO_MATCH
    # A name that is the covered text itself (as gripcode and many programs write it) collapses alike.
    got = name.collapsed if covered == name.raw else collapse(covered)
    if not got:
        return NO_MATCH
    wanted = name.wanted
    if got == wanted and not name.shortened:
        return EXACT
    if got.startswith(wanted) and (name.shortened or len(wanted) >= min(len(got), 12)):
        return PREFIX
    return NO_MATCH


def _boundary(text: str, index: int) -> bool:
    # Between two letters there is no boundary; in Chinese or Japanese every character is a letter here, so
    # only spaces and punctuation confirm a position (a weak check: a shifted span often still passes).
    if index <= 0 or index >= len(text):
        return True
    return not (text[index - 1].isalnum() and text[index].isalnum())


def on_word_boundaries(text: str, start: int, end: int) -> bool:
    return _boundary(text, start) and _boundary(text, end)


@dataclass(frozen=True)
class Placement:
    start: int
    end: int
    convention: Convention
    confirmed_by: str  # "name" | "word boundaries" | "unconfirmed"


def place(source: SourceText, start: int, end: int, name: str | None, conventions: list[Convention],
          names_are_text: bool) -> Placement | str:
    """Where a selection goes, or the reason it cannot be placed.

    Conventions are tried in order, each way of counting once (:meth:`SourceText.distinct`), and only as far
    as needed: by name, the best match wins and the first of equal ones, so the search ends at the first exact
    match; otherwise at the first span on word boundaries, else the first span at all is taken, unconfirmed."""
    text = source.text
    distinct = source.distinct(conventions)
    wanted = _Name.of(name) if names_are_text else None
    if wanted is not None:
        best: tuple[int, Convention, tuple[int, int]] | None = None
        found = False
        for convention in distinct:
            span = source.span(start, end, convention)
            if span is None:
                continue
            found = True
            score = _score(wanted, text[span[0]:span[1]])
            if score > NO_MATCH and (best is None or score > best[0]):
                best = (score, convention, span)
                if score == EXACT:
                    break
        if not found:
            return _outside(source, start, end)
        if best is None:
            return "its name does not match the text at its positions under any convention"
        return Placement(best[2][0], best[2][1], best[1], "name")
    first: tuple[Convention, tuple[int, int]] | None = None
    for convention in distinct:
        span = source.span(start, end, convention)
        if span is None:
            continue
        if on_word_boundaries(text, *span):
            return Placement(span[0], span[1], convention, "word boundaries")
        if first is None:
            first = (convention, span)
    if first is None:
        return _outside(source, start, end)
    convention, span = first
    return Placement(span[0], span[1], convention, "unconfirmed")


def _outside(source: SourceText, start: int, end: int) -> str:
    return f"{start}-{end} lies outside the text ({len(source.text)} characters) under every convention"


def names_look_like_text(samples: list[tuple[SourceText, int, int, str]], conventions_of: dict[int, list[Convention]]
                         ) -> bool:
    """True when at least half of the named selections match their text under some convention.

    ``samples`` are (source, start, end, name); ``conventions_of`` maps ``id(source)`` to its conventions.
    """
    named, matched = count_names_matching(samples, conventions_of)
    return named > 0 and matched * 2 >= named


def count_names_matching(samples: Iterable[tuple[SourceText, int, int, str]],
                         conventions_of: dict[int, list[Convention]]) -> tuple[int, int]:
    """How many of ``samples`` are named, and how many names match their text under some convention: the
    counts of :func:`names_look_like_text`, which can be added up source by source."""
    named = matched = 0
    for source, start, end, name in samples:
        wanted = _Name.of(name)
        if wanted is None:
            continue
        named += 1
        for convention in conventions_of[id(source)]:
            span = source.span(start, end, convention)
            if span is not None and _score(wanted, source.text[span[0]:span[1]]) > NO_MATCH:
                matched += 1
                break
    return named, matched
