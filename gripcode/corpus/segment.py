"""Unit segmentation: paragraphs, sentences and speaker turns as character offsets.

All spans are half-open ``(start, end)`` Python string indices, trimmed of surrounding whitespace and
never empty. Paragraphs and turns use regular expressions only; sentences come from spaCy's
sentencizer and never cross a paragraph boundary.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from gripcode.corpus.parsed import Turn

if TYPE_CHECKING:
    from spacy.tokens import Doc

_BLANK_LINE = re.compile(r"\n\s*\n")
_NEWLINE = re.compile(r"\n")
# From the first to the last non-space character of a range (searched with pos/endpos).
_TRIMMED = re.compile(r"\S(?:[\s\S]*\S)?")

# "Interviewer: ", "R1: ", "Dr. Li (CNMC): ", "Интервьюер: ", "采访者：", also "**Q:**" in Markdown.
# Letters and digits of any script, spaces, dots, hyphens, apostrophes and brackets; at most 40 chars.
# An ASCII colon needs a space after it (so "10:30" and URLs are no labels) unless Chinese text follows.
_SPEAKER = re.compile(
    r"[ \t]*(?:[*_]{1,2})?"
    r"(?P<label>[^\W_](?:[^\S\n]|[^\W_]|[.\-'’()\[\]]){0,39}|[(\[][^\W_][^\n:：]{0,38}?[)\]])"
    r"[ \t]*(?:[*_]{1,2})?(?::(?:[*_]{1,2})?(?=\s|\Z|[\u3000-\u9fff\uff00-\uffef])|：)"
)
_TRANSCRIPT_SHARE = 0.6


def _separator(text: str) -> re.Pattern[str]:
    # Texts without a single blank line (chat logs, some exports) put one paragraph on each line.
    return _BLANK_LINE if _BLANK_LINE.search(text) else _NEWLINE


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    if start >= end:
        return None
    if not text[start].isspace() and not text[end - 1].isspace():
        return (start, end)
    found = _TRIMMED.search(text, start, end)
    return found.span() if found else None


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Paragraphs separated by blank lines; with no blank line at all, each non-empty line."""
    spans: list[tuple[int, int]] = []
    start = 0
    for gap in _separator(text).finditer(text):
        span = _trimmed(text, start, gap.start())
        if span:
            spans.append(span)
        start = gap.end()
    span = _trimmed(text, start, len(text))
    if span:
        spans.append(span)
    return spans


def sentence_spans_many(
    texts: Iterable[str], lang: str, *, batch_size: int = 256
) -> Iterator[list[tuple[int, int]]]:
    """Yield the sentence spans of each text in turn, streaming them through spaCy in batches."""
    from gripcode.nlp.languages import sentence_pipeline  # spaCy loads only when sentences are needed

    nlp = sentence_pipeline(lang)
    # The text rides along as context: rebuilding it from the Doc (doc.text) costs more than segmenting.
    pairs = ((text, text) for text in texts)
    for doc, text in nlp.pipe(pairs, batch_size=batch_size, as_tuples=True):
        yield _doc_sentences(doc, text)


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Sentence spans of one text."""
    return next(sentence_spans_many([text], lang))


def _doc_sentences(doc: Doc, text: str) -> list[tuple[int, int]]:
    """Sentence spans from the sentencizer's marks, split where a sentence runs over a paragraph break.

    Reading a token array rather than ``doc.sents`` keeps this cheap next to tokenisation.
    """
    from spacy.attrs import IDX, SENT_START  # with spaCy, so that importing the readers stays fast

    if len(doc) == 0:
        return []
    table = doc.to_array([SENT_START, IDX])
    starts = table[table[:, 0] == 1, 1].tolist()
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    separator = _separator(text)
    breaks = [gap.start() for gap in separator.finditer(text)]
    spans: list[tuple[int, int]] = []
    for start, end in zip(starts, starts[1:] + [len(text)]):
        span = _trimmed(text, start, end)
        if span is None:
            continue
        start, end = span
        if not breaks or bisect_left(breaks, start) == bisect_left(breaks, end):
            spans.append(span)
            continue
        piece_start = start
        for gap in separator.finditer(text, start, end):
            piece = _trimmed(text, piece_start, gap.start())
            if piece:
                spans.append(piece)
            piece_start = gap.end()
        piece = _trimmed(text, piece_start, end)
        if piece:
            spans.append(piece)
    return spans


def leading_speaker(line: str) -> str | None:
    """The speaker label a line starts with (``"Interviewer: ..."`` -> ``"Interviewer"``), if any."""
    found = _SPEAKER.match(line)
    return found.group("label").strip() if found else None


def speaker_turns(text: str) -> list[Turn]:
    """Speaker turns of an interview transcript, or ``[]`` when ``text`` does not look like one.

    A transcript has at least two non-empty lines and at least 60% of them start with a speaker
    label. Each labelled line opens a turn; unlabelled lines extend the turn before them. A turn
    covers its label and runs to the end of its last non-blank line.
    """
    turns: list[Turn] = []
    nonempty = labelled = 0
    offset = 0
    for line in text.split("\n"):
        line_start, offset = offset, offset + len(line) + 1
        if not line or line.isspace():
            continue
        nonempty += 1
        line_end = line_start + len(line.rstrip())
        found = _SPEAKER.match(line)
        if found:
            labelled += 1
            indent = len(line) - len(line.lstrip())
            turns.append(Turn(line_start + indent, line_end, speaker=found.group("label").strip()))
        elif turns:
            turns[-1].end = line_end
    if nonempty < 2 or labelled < _TRANSCRIPT_SHARE * nonempty:
        return []
    return turns
