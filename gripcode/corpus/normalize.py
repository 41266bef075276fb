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


def count_words(text: str) -> int:
    """Count whitespace-separated tokens; each Chinese/Japanese character counts as one word."""
    if text.isascii() or not _CJK_CHAR.search(text):  # isascii() is a flag lookup; the search reads the text
        return len(text.split())
    cjk = len(_CJK_CHAR.findall(text))
    rest = _CJK_PUNCT.sub(" ", _CJK_CHAR.sub(" ", text))
    return cjk + len(rest.split())
