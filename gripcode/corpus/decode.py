"""Turning the bytes of a text file into ``str``: forced encoding, byte-order marks, UTF-8, then a guess.

Researchers receive transcripts and press files from Windows machines (cp1252), Chinese offices (GBK)
and Russian or Kazakh sources (cp1251, KOI8-R, KZ-1048) as often as UTF-8; the guess is biased towards
those encodings because short samples are otherwise ambiguous (cp1250 and cp1252 decode Portuguese
"ção" the same way but "ã" differently).

The rule, in order:

1. A forced encoding (``--encoding``) is used as given, and every byte must fit it.
2. A byte-order mark decides. After a UTF-8 mark the file is UTF-8 even where a byte is invalid (that byte
   is replaced, as in 3); after a UTF-16 or UTF-32 mark every byte must fit.
3. Valid UTF-8 (pure ASCII included) is UTF-8: the fast path, one strict decode. A file that is *mostly*
   UTF-8 is UTF-8 too, with each invalid byte sequence replaced by U+FFFD and reported by its byte offset
   (``Replacements``): mostly means at least two thirds of its non-ASCII bytes form valid UTF-8 sequences,
   or, in a file with few of them, at least one valid multi-byte character for every two invalid bytes.
   Legacy text almost never does (Cyrillic and Latin code pages: none of their letters pair up as UTF-8;
   GBK and GB18030 Chinese: about a quarter of the bytes, by chance), while a UTF-8 file with a few stray
   bytes (a pasted Windows quote, a cut-off character) keeps nearly all of them valid. Decoding it as a
   code page instead would turn every accented letter into two wrong ones ("São" into "SĂŁo") without a
   word; a replaced byte is visible, reported and confined to itself.
4. Only a file that is not UTF-8 at all goes to the encoding the file declares for itself, if any (a web
   page's ``<meta charset>``) and every byte fits it, and otherwise to detection among the legacy encodings.

Where the rule errs, it errs towards UTF-8 (a few characters of GBK might be read as UTF-8 with replaced
bytes), because a replacement is always reported and a wrong code page is not; ``--encoding`` settles it.
"""

from __future__ import annotations

import codecs
import threading

import charset_normalizer

from gripcode.corpus.parsed import Replacements
from gripcode.errors import DocumentImportError

# Byte-order marks, longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)

# Tie-breaking order when several legacy encodings decode a sample equally well.
_PREFERRED = (
    "cp1252", "gb18030", "cp1251", "koi8_r", "kz1048", "big5",
    "iso8859_15", "latin_1", "cp1250", "shift_jis", "euc_kr",
)


def decode_bytes(data: bytes, *, name: str, encoding: str | None = None) -> str:
    """Decode ``data`` (the contents of the file called ``name``) and return the raw text.

    The rule of the module docstring; invalid bytes of a mostly-UTF-8 file come back as U+FFFD. Readers
    that report them use ``decode_text``.
    """
    return decode_text(data, name=name, encoding=encoding)[0]


def decode_text(data: bytes, *, name: str, encoding: str | None = None,
                declared: str | None = None) -> tuple[str, Replacements | None]:
    """Decode ``data`` (the contents of the file called ``name``): the raw text, and the invalid bytes that
    were replaced by U+FFFD (None when there were none). Binary data is refused. ``declared`` is the encoding
    the file names itself (a Python codec name), tried before the guess in step 4."""
    if encoding:
        return _decode_forced(data, name, encoding), None
    if data.startswith(codecs.BOM_UTF8):
        text, replaced = _utf8_with_replacements(data, len(codecs.BOM_UTF8), mostly=False)
        assert text is not None  # without ``mostly`` every invalid byte is replaced
        return _checked(text, name), replaced
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            problem = f"starts with a {label} byte-order mark but"
            return _checked(_decode_strict(data, codec, name, problem), name), None
    if b"\x00" in data:
        codec = _bomless_utf16(data)
        if codec is None:
            raise _binary(name)
        try:
            return _checked(data.decode(codec), name), None
        except UnicodeDecodeError as exc:
            raise _binary(name) from exc
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    text, replaced = _utf8_with_replacements(data, 0, mostly=True)
    if text is None and _utf8_by_characters(data):
        text, replaced = _utf8_with_replacements(data, 0, mostly=False)
    if text is not None:
        return _checked(text, name), replaced
    if declared:
        try:
            return _checked(data.decode(declared), name), None
        except (UnicodeDecodeError, LookupError):
            pass  # the declaration is wrong (or names no codec): the bytes decide
    return _checked(_guess(data, name), name), None


# Bytes 0x00-0x7f, deleted to count the others in one pass.
_ASCII = bytes(range(128))
# How often (in invalid sequences, one call of the error handler each) the share of invalid bytes is checked
# while decoding: a legacy file is given up on after this many calls, not after millions.
_CHECK_EVERY = 64
# Bytes per step when the rest of a file is checked at once (bounds the memory of that check).
_COUNT_CHUNK = 1 << 20
_LISTED = 20
_HANDLER = "gripcode-replace"
_current = threading.local()


class _NotMostlyUtf8(Exception):
    pass


class _Replacing:
    """The state of one decode: invalid bytes so far, the first offsets, and the rule's check.

    The rule is the whole file's: a file is given up on only once it can no longer pass, never because its
    beginning looks like a code page (a cp1252 header before a long UTF-8 body is still UTF-8)."""

    def __init__(self, data: bytes, base: int, mostly: bool) -> None:
        self.data, self.base, self.mostly = data, base, mostly
        self.invalid = self.runs = 0
        self.offsets: list[int] = []
        self.checked_to = 0
        self.non_ascii_so_far = 0
        # Counted once, at C speed; only the rule needs it.
        self.non_ascii = _non_ascii(data, base) if mostly else 0

    def __call__(self, exc: UnicodeDecodeError) -> tuple[str, int]:
        self.invalid += exc.end - exc.start
        self.runs += 1
        if len(self.offsets) < _LISTED:
            self.offsets.append(self.base + exc.start)
        if self.mostly and self.runs % _CHECK_EVERY == 0:
            self._check(exc.end)
        return "\ufffd", exc.end

    def _check(self, end: int) -> None:
        # Invalid bytes only grow, so once they pass a third of the file's non-ASCII bytes it cannot pass.
        if not _mostly_valid(self.invalid, self.non_ascii):
            raise _NotMostlyUtf8
        start, stop = self.base + self.checked_to, self.base + end
        self.non_ascii_so_far += len(self.data[start:stop].translate(None, _ASCII))
        self.checked_to = end
        if _mostly_valid(self.invalid, self.non_ascii_so_far):
            return
        # The part read so far fails the rule, as a legacy file's does: settle it for the whole file now
        # by counting the rest's invalid bytes without the handler, instead of a call for each of them.
        if not _mostly_valid(self.invalid + _utf8_census(self.data, stop)[1], self.non_ascii):
            raise _NotMostlyUtf8
        self.mostly = False  # the file passes whatever the handler sees from here on


def _non_ascii(data: bytes, start: int) -> int:
    return len((data[start:] if start else data).translate(None, _ASCII))


def _utf8_census(data: bytes, start: int) -> tuple[int, int]:
    """The characters of ``data[start:]`` that are valid UTF-8, and the bytes that belong to no valid sequence,
    counted at C speed a chunk at a time: decoding with "ignore" drops exactly the bytes the handler would be
    called for."""
    decoder = codecs.getincrementaldecoder("utf-8")("ignore")
    view = memoryview(data)
    valid = characters = 0
    for pos in range(start, len(data), _COUNT_CHUNK):
        piece = decoder.decode(view[pos:pos + _COUNT_CHUNK], final=pos + _COUNT_CHUNK >= len(data))
        characters += len(piece)
        valid += len(piece.encode("utf-8"))
    return characters, len(data) - start - valid


def _utf8_by_characters(data: bytes) -> bool:
    """The rule's second test, for a file whose valid UTF-8 is few bytes beside its invalid ones (one accented
    letter and a pair of pasted Windows quotes): at least one valid multi-byte character for every two invalid
    bytes. Legacy text stays far below that (no Latin or Cyrillic code page pairs its letters up as UTF-8, and
    GBK text does so by chance for about one character in twelve)."""
    characters, invalid = _utf8_census(data, 0)
    multibyte = characters - (len(data) - _non_ascii(data, 0))  # ASCII bytes are always valid characters
    return 2 * multibyte >= invalid


def _mostly_valid(invalid: int, non_ascii: int) -> bool:
    """At least two thirds of the non-ASCII bytes belong to valid UTF-8 sequences (invalid ones are all
    non-ASCII: the decoder never counts an ASCII byte as part of a broken sequence)."""
    return 3 * invalid <= non_ascii


def _replace_handler(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return _current.state(exc)  # type: ignore[no-any-return]


codecs.register_error(_HANDLER, _replace_handler)


def _utf8_with_replacements(data: bytes, start: int, *, mostly: bool) -> tuple[str | None, Replacements | None]:
    """``data[start:]`` as UTF-8 with invalid sequences replaced; with ``mostly``, None unless the rule holds."""
    state = _Replacing(data, start, mostly)
    _current.state = state
    try:
        text = (data[start:] if start else data).decode("utf-8", _HANDLER)
    except _NotMostlyUtf8:
        return None, None
    finally:
        _current.state = None
    if mostly and not _mostly_valid(state.invalid, state.non_ascii):
        return None, None
    if not state.invalid:
        return text, None
    return text, Replacements(state.invalid, state.runs, tuple(state.offsets))


def _decode_forced(data: bytes, name: str, encoding: str) -> str:
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        raise DocumentImportError(
            f"Unknown encoding {encoding!r} given for {name}; use a name such as utf-8, cp1252, gbk or cp1251."
        ) from exc
    if not getattr(codec, "_is_text_encoding", True):
        raise DocumentImportError(f"{encoding!r} (given for {name}) is not a text encoding.")
    return _checked(_decode_strict(data, codec.name, name, f"cannot be read as {encoding}:"), name)


def _decode_strict(data: bytes, codec: str, name: str, problem: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DocumentImportError(
            f"{name} {problem} byte 0x{data[exc.start]:02x} on line {line} (byte {exc.start}) is not valid "
            f"{codec}. Give the right encoding, or leave it out to have it detected."
        ) from exc


def _bomless_utf16(data: bytes) -> str | None:
    """Recognise UTF-16 without a byte-order mark by where its NUL bytes sit (mostly-Latin text)."""
    if len(data) < 4 or len(data) % 2:
        return None
    half = len(data) // 2
    even_nuls, odd_nuls = data[0::2].count(0), data[1::2].count(0)
    if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _guess(data: bytes, name: str) -> str:
    matches = list(charset_normalizer.from_bytes(data, cp_isolation=list(_PREFERRED)))
    if not matches:
        matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise _binary(name)

    def rank(match: charset_normalizer.CharsetMatch) -> tuple[float, float, int]:
        preference = _PREFERRED.index(match.encoding) if match.encoding in _PREFERRED else len(_PREFERRED)
        return (round(match.chaos, 2), -round(match.coherence, 2), preference)

    return str(min(matches, key=rank))


def _checked(text: str, name: str) -> str:
    # A decoded NUL means the bytes were not text after all; databases refuse it in text columns too.
    if "\x00" in text:
        raise _binary(name)
    return text


def _binary(name: str) -> DocumentImportError:
    return DocumentImportError(
        f"{name} looks like a binary file, not text: no text encoding fits it. If it is a Word, PDF or "
        f"spreadsheet file, give it the right suffix (.docx, .pdf, .csv) or save it as plain text (UTF-8)."
    )
