"""Text normalisation applied once, on import.

Every offset gripcode stores points into the text this module returns, so the rules are deliberately
few and stable: drop a leading byte-order mark, turn Windows and old-Mac line endings into ``\\n`` and
compose characters (NFC). Trailing spaces, tabs and blank lines are kept.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_CARRIAGE_RETURN = re.compile(r"\r\n?")

# Han ideographs, kana and CJK compatibility ideographs: scripts written without spaces, where
# "words" for statistics are counted per character (the convention of word-count tools for Chinese).
_CJK_CHAR = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]"
)
# CJK and full-width punctuation separates words but is not one.
_CJK_PUNCT = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]")


def normalise_text(text: str) -> str:
    """Return ``text`` with leading BOMs removed, ``\\n`` line endings and NFC composition.

    Idempotent: ``normalise_text(normalise_text(t)) == normalise_text(t)``.
    """
    # All leading BOMs go, not just one, so that a second pass never finds another to remove.
    text = text.lstrip("\ufeff")
    if "\r" in text:
        text = _CARRIAGE_RETURN.sub("\n", text)
    return unicodedata.normalize("NFC", text)


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the UTF-8 encoding of ``text``: the fingerprint used to spot duplicate documents."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# A long text is counted in slices of about this many characters, cut at whitespace: splitting a 100 MB text
# at once would build a list of millions of strings (a gigabyte) only to count them.
_COUNT_SLICE = 1_000_000
_WHITESPACE = re.compile(r"\s")


def count_words(text: str) -> int:
    """Count whitespace-separated tokens; each Chinese/Japanese character counts as one word."""
    cjk = not text.isascii() and _CJK_CHAR.search(text) is not None  # isascii() is a flag lookup
    if len(text) <= _COUNT_SLICE:
        return _count_slice(text, cjk)
    total = start = 0
    while start < len(text):
        space = _WHITESPACE.search(text, min(start + _COUNT_SLICE, len(text)))
        end = space.start() if space else len(text)
        total += _count_slice(text[start:end], cjk)
        start = end
    return total


def _count_slice(text: str, cjk: bool) -> int:
    if not cjk:
        return len(text.split())
    # subn counts without a list of every character (a text without spaces is one slice, however long).
    rest, characters = _CJK_CHAR.subn(" ", text)
    return characters + len(_CJK_PUNCT.sub(" ", rest).split())
