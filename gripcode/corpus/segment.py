"""Unit segmentation: paragraphs, sentences and speaker turns as character offsets.

All spans are half-open ``(start, end)`` Python string indices, trimmed of surrounding whitespace and
never empty. Paragraphs and turns use regular expressions only; sentences come from spaCy's
sentencizer and never cross a paragraph boundary.

spaCy holds a ``Doc`` of a whole text at once (tens of bytes per character), so texts are tokenised in
pieces of at most ``PIECE_CHARS`` characters: a long text is cut at paragraph breaks, and batches of short
texts are kept to a few pieces' worth. Since sentences never cross a paragraph break, and the sentencizer's
rule opens a sentence with the first word after a break anyway, the units are those of one pass. Only a
single paragraph longer than a piece is cut elsewhere (at a space, or anywhere in text without spaces),
and a sentence running over that cut becomes two.
"""

from __future__ import annotations

import functools
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import TYPE_CHECKING

from gripcode.corpus.parsed import Turn

if TYPE_CHECKING:
    import numpy as np
    from spacy.language import Language

_BLANK_LINE = re.compile(r"\n\s*\n")
_NEWLINE = re.compile(r"\n")

# "Interviewer: ", "R1: ", "Dr. Li (CNMC): ", "Интервьюер: ", "采访者：", also "**Q:**" in Markdown.
# Letters and digits of any script, spaces, dots, hyphens, apostrophes and brackets; at most 40 chars.
# An ASCII colon needs a space after it (so "10:30" and URLs are no labels) unless Chinese text follows.
_SPEAKER = re.compile(
    r"[ \t]*(?:[*_]{1,2})?"
    r"(?P<label>[^\W_](?:[^\S\n]|[^\W_]|[.\-'’()\[\]]){0,39}|[(\[][^\W_][^\n:：]{0,38}?[)\]])"
    r"[ \t]*(?:[*_]{1,2})?(?::(?:[*_]{1,2})?(?=\s|\Z|[\u3000-\u9fff\uff00-\uffef])|：)"
)
_TRANSCRIPT_SHARE = 0.6

# Characters spaCy tokenises at once: under its own max_length (1,000,000 by default), and small enough that
# the Doc and the token table of a piece take a few hundred megabytes at most.
PIECE_CHARS = 500_000
# Characters of short texts tokenised in one batch: the token table is built with NumPy over the batch.
_BATCH_CHARS = 4 * PIECE_CHARS
_SPACES = (" ", "\n", "\t")


def _separator(text: str) -> re.Pattern[str]:
    # Texts without a single blank line (chat logs, some exports) put one paragraph on each line.
    return _BLANK_LINE if _BLANK_LINE.search(text) else _NEWLINE


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    if start >= end:
        return None
    if not text[start].isspace() and not text[end - 1].isspace():
        return (start, end)
    # Stripping a slice is several times faster than a regular-expression search of it.
    piece = text[start:end]
    right = piece.rstrip()
    if not right:
        return None
    left = right.lstrip()
    return (start + len(right) - len(left), start + len(right))


def _gaps(text: str) -> list[tuple[int, int]]:
    return [gap.span() for gap in _separator(text).finditer(text)]


def _paragraphs(text: str, gaps: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for gap_start, gap_end in gaps:
        span = _trimmed(text, start, gap_start)
        if span:
            spans.append(span)
        start = gap_end
    span = _trimmed(text, start, len(text))
    if span:
        spans.append(span)
    return spans


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Paragraphs separated by blank lines; with no blank line at all, each non-empty line."""
    return _paragraphs(text, _gaps(text))


def sentence_spans_many(
    texts: Iterable[str], lang: str, *, batch_size: int = 256
) -> Iterator[list[tuple[int, int]]]:
    """Yield the sentence spans of each text in turn, streaming them through spaCy in batches."""
    from gripcode.nlp.languages import sentence_pipeline  # spaCy loads only when sentences are needed

    nlp = sentence_pipeline(lang)
    stream = iter(texts)
    while chunk := list(islice(stream, batch_size)):
        for flat in _sentence_spans(nlp, chunk, [_gaps(text) for text in chunk]):
            ends = iter(flat)
            yield list(zip(ends, ends))


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Sentence spans of one text."""
    return next(sentence_spans_many([text], lang))


def segment_texts(langs: Sequence[str | None], texts: Sequence[str]) -> list[tuple[array[int], array[int]]]:
    """Paragraph and sentence spans of each text, as flat ``array('q')`` of start, end, start, end, ...

    The import sends batches here, in a worker process when it has one: the module needs nothing heavier
    than spaCy, and arrays cross a process boundary far more cheaply than lists of tuples.
    """
    from gripcode.nlp.languages import sentence_pipeline, spacy_lang

    groups: dict[str, list[int]] = {}
    for index, lang in enumerate(langs):
        groups.setdefault(spacy_lang(lang), []).append(index)
    result: list[tuple[array[int], array[int]]] = [(array("q"), array("q"))] * len(texts)
    for lang, indexes in groups.items():
        chunk = [texts[i] for i in indexes]
        gaps = [_gaps(text) for text in chunk]
        sentences = _sentence_spans(sentence_pipeline(lang), chunk, gaps)
        for index, text, text_gaps, flat in zip(indexes, chunk, gaps, sentences):
            result[index] = (array("q", chain.from_iterable(_paragraphs(text, text_gaps))), flat)
    return result


def start_worker() -> None:
    """A segmenting worker's start: spaCy loads (most of its start-up) before the first texts reach it."""
    import spacy  # noqa: F401

    exit_quickly()


def exit_quickly() -> None:
    """For a worker process once its heavy modules are loaded: they live as long as the worker, so the garbage
    collector need not go through them again, and at exit, once every result is sent, the worker ends at once
    rather than spend a third of a second unloading spaCy while the parent waits for it.

    The worker also ends as soon as its parent does, however that ends (killed, out of memory): otherwise it
    would wait for work for good, and a forked one would keep the parent's database connections open (on
    PostgreSQL, an unfinished transaction and its locks)."""
    import atexit
    import gc
    import multiprocessing
    import os
    import threading
    from multiprocessing.connection import wait

    gc.freeze()
    atexit.register(os._exit, 0)
    parent = multiprocessing.parent_process()
    if parent is not None:
        sentinel = parent.sentinel

        def end_with_parent() -> None:
            wait([sentinel])
            os._exit(1)

        threading.Thread(target=end_with_parent, name="end-with-parent", daemon=True).start()


def _sentence_spans(nlp: Language, texts: list[str], gaps: list[list[tuple[int, int]]],
                    piece_chars: int | None = None) -> list[array[int]]:
    """Sentence spans of each text (flat start, end, ...), trimmed, never across a paragraph break.

    Texts longer than ``piece_chars`` (default ``PIECE_CHARS``) go through spaCy piece by piece; the others in
    batches of about ``_BATCH_CHARS`` characters.
    """
    # Never more than the pipeline accepts (spaCy's E088), whatever its max_length was set to.
    piece_chars = min(piece_chars or PIECE_CHARS, nlp.max_length)
    result: list[array[int]] = [array("q")] * len(texts)
    batch: list[int] = []
    batch_chars = 0

    def flush() -> None:
        spans = _sentence_spans_batch(nlp, [texts[i] for i in batch], [gaps[i] for i in batch])
        for index, flat in zip(batch, spans):
            result[index] = flat
        batch.clear()

    for index, text in enumerate(texts):
        if len(text) > piece_chars:
            result[index] = _long_text_spans(nlp, text, gaps[index], piece_chars)
            continue
        if batch and batch_chars + len(text) > max(_BATCH_CHARS, piece_chars):
            flush()
            batch_chars = 0
        batch.append(index)
        batch_chars += len(text)
    if batch:
        flush()
    return result


def _long_text_spans(nlp: Language, text: str, gaps: list[tuple[int, int]], piece_chars: int) -> array[int]:
    """Sentence spans of a text longer than a piece, tokenised one piece at a time."""
    flat = array("q")
    gap_starts = [start for start, _ in gaps]
    for start, end in _pieces(text, gaps, gap_starts, piece_chars):
        low, high = bisect_right(gap_starts, start), bisect_left(gap_starts, end)
        piece_gaps = [(gap_start - start, gap_end - start) for gap_start, gap_end in gaps[low:high]]
        [spans] = _sentence_spans_batch(nlp, [text[start:end]], [piece_gaps])
        flat.extend(offset + start for offset in spans)
    return flat


def _pieces(text: str, gaps: list[tuple[int, int]], gap_starts: list[int], size: int) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive pieces of ``text`` of at most ``size`` characters, cut at the last paragraph
    break that fits (the break itself belongs to no piece), else at the last space, else at ``size``."""
    start, length = 0, len(text)
    while length - start > size:
        limit = start + size
        k = bisect_right(gap_starts, limit) - 1
        if k >= 0 and gap_starts[k] > start:
            end, following = gaps[k]
        else:
            space = max(text.rfind(char, start + 1, limit) for char in _SPACES)
            end = following = space if space > start else limit
        yield start, end
        start = following
    yield start, length


def _sentence_spans_batch(nlp: Language, texts: list[str], gaps: list[list[tuple[int, int]]]) -> list[array[int]]:
    """Sentence spans of each text of one batch, the texts taken whole.

    Works on the token arrays of the whole batch at once. Trimming uses tokens too: spaCy's tokenizer cuts
    wherever whitespace meets other characters, so a sentence runs from its first to its last non-space
    token.
    """
    import numpy as np
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, ORTH, SENT_START

    rule = nlp.pipe_names == ["sentencizer"]
    docs = map(nlp.make_doc, texts) if rule else nlp.pipe(texts)
    first = _stop_flag(nlp) if rule else ORTH
    tables = [doc.to_array([first, IS_PUNCT, IS_SPACE, IDX, LENGTH] + ([] if rule else [SENT_START]))
              for doc in docs]
    sizes = np.array([len(table) for table in tables], dtype=np.int64)
    if not sizes.any():
        return [array("q") for _ in texts]
    table = np.concatenate([table for table in tables if len(table)])
    lows = np.cumsum(sizes) - sizes  # where each text's tokens begin in the table
    firsts = lows[sizes > 0]
    if rule:
        starts = _sentencizer_starts(nlp, table, firsts)
    else:
        starts = np.union1d(np.flatnonzero(table[:, 5] == 1), firsts)
    # Token ranges [starts[k], ends[k]) narrowed to their first and last non-space tokens.
    count = len(table)
    ends = np.append(starts[1:], count)
    positions = np.arange(count)
    solid = table[:, 2] == 0
    last_solid = np.maximum.accumulate(np.where(solid, positions, -1))
    next_solid = np.minimum.accumulate(np.where(solid, positions, count)[::-1])[::-1]
    first_token, last_token = next_solid[starts], last_solid[ends - 1]
    kept = first_token < ends
    first_token, last_token = first_token[kept], last_token[kept]
    owner = np.searchsorted(lows, first_token, side="right") - 1
    # Offsets into the batch's texts laid end to end, so that one search finds every sentence that runs
    # over a paragraph break.
    lengths = np.array([len(text) for text in texts], dtype=np.int64)
    bases = np.cumsum(lengths) - lengths
    begin = table[first_token, 3].astype(np.int64) + bases[owner]
    end = table[last_token, 3].astype(np.int64) + table[last_token, 4].astype(np.int64) + bases[owner]
    breaks = np.array([base + gap_start for base, text_gaps in zip(bases.tolist(), gaps)
                       for gap_start, _ in text_gaps], dtype=np.int64)
    crossing = set(owner[np.searchsorted(breaks, begin) != np.searchsorted(breaks, end)].tolist())
    spans = np.column_stack([begin, end]).ravel()
    cuts = np.append(np.searchsorted(owner, np.arange(len(texts))) * 2, len(spans))
    result = []
    for index, (text, text_gaps, base) in enumerate(zip(texts, gaps, bases.tolist())):
        piece = spans[cuts[index]:cuts[index + 1]] - base
        flat = array("q")
        if index in crossing:
            flat.extend(chain.from_iterable(_split_at_breaks(text, text_gaps, piece.tolist())))
        else:
            flat.frombytes(piece.tobytes())
        result.append(flat)
    return result


@functools.lru_cache(maxsize=None)
def _stop_flag(nlp: Language) -> int:
    """A lexeme flag, added to ``nlp``'s vocabulary once, that is set on the sentencizer's punct_chars: the
    flag is computed once per word type, where comparing every token's ORTH with the chars costs a search
    per token."""
    return int(nlp.vocab.add_flag(frozenset(nlp.get_pipe("sentencizer").punct_chars).__contains__))


def _sentencizer_starts(nlp: Language, table: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """The tokens spaCy's sentencizer would mark as sentence starts, from ``table`` (stop flag, IS_PUNCT,
    ...).

    The component itself visits every token as a Python object and costs more than tokenising; its rule is
    simple: after a token among its punct_chars (a stop), the next token that is neither punctuation nor a
    stop opens a sentence. ``firsts`` are the tokens that open a text and reset the rule.
    """
    import numpy as np

    stop = table[:, 0] == 1
    word = ~stop & (table[:, 1] == 0)
    first = np.zeros(len(table), dtype=bool)
    first[firsts] = True
    # Only stops and words change the rule's state, so look at them alone.
    events = np.flatnonzero(stop | word | first)
    after_stop = np.zeros(len(events), dtype=bool)
    after_stop[1:] = stop[events[:-1]]
    opens = first  # reused: every text's first token, plus each word right after a stop
    opens[events[word[events] & after_stop]] = True
    return np.flatnonzero(opens)


def _split_at_breaks(text: str, gaps: list[tuple[int, int]], flat: list[int]) -> Iterator[tuple[int, int]]:
    breaks = [gap_start for gap_start, _ in gaps]
    for start, end in zip(flat[0::2], flat[1::2]):
        if bisect_left(breaks, start) == bisect_left(breaks, end):
            yield (start, end)
            continue
        piece_start = start
        for gap in _separator(text).finditer(text, start, end):
            piece = _trimmed(text, piece_start, gap.start())
            if piece:
                yield piece
            piece_start = gap.end()
        piece = _trimmed(text, piece_start, end)
        if piece:
            yield piece


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
    if ":" not in text and "：" not in text:
        return []  # every label ends in a colon
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
