"""Turning the bytes of a text file into ``str``: forced encoding, byte-order marks, UTF-8, then a guess.

Researchers receive transcripts and press files from Windows machines (cp1252), Chinese offices (GBK)
and Russian or Kazakh sources (cp1251, KOI8-R, KZ-1048) as often as UTF-8; the guess is biased towards
those encodings because short samples are otherwise ambiguous (cp1250 and cp1252 decode Portuguese
"ção" the same way but "ã" differently).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import charset_normalizer

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


def read_bytes(path: Path) -> bytes:
    """Read a whole file, turning operating-system errors into an import error that names it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentImportError(f"Cannot read {path}: {exc.strerror or exc}") from exc


def decode_bytes(data: bytes, *, name: str, encoding: str | None = None) -> str:
    """Decode ``data`` (the contents of the file called ``name``) and return the raw text.

    With ``encoding`` the bytes must decode under it. Otherwise a byte-order mark decides, then
    strict UTF-8, then the most plausible legacy encoding. Binary data is refused.
    """
    if encoding:
        return _decode_forced(data, name, encoding)
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            problem = f"starts with a {label} byte-order mark but"
            return _checked(_decode_strict(data, codec, name, problem), name)
    if b"\x00" in data:
        codec = _bomless_utf16(data)
        if codec is None:
            raise _binary(name)
        try:
            return _checked(data.decode(codec), name)
        except UnicodeDecodeError as exc:
            raise _binary(name) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return _checked(_guess(data, name), name)


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
