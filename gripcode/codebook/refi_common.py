"""Pieces shared by the REFI-QDA (QDA-XML) readers and writers: GUIDs, colours, safe XML in and out.

REFI-QDA files identify every object by a GUID. gripcode derives GUIDs it has to invent with ``uuid5`` over
a fixed namespace, so writing the same codebook or project twice gives the same file and other tools
recognise the objects again on re-import. Colours are written as ``#RRGGBB``; readers accept the variants
other programs write. Names from other programs become the slug ids gripcode's YAML needs.

XML is read only through defusedxml with DTDs forbidden: a QDA-XML file never needs one, and a DTD is how
external-entity (file-reading) and entity-expansion attacks get in.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from gripcode.errors import ExchangeError

# Fixed forever: changing it would give every derived GUID a new value and duplicate codes in other tools.
GUID_NAMESPACE = uuid.UUID("1a33d5a1-a24b-53ce-86bd-260da30f3371")

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


# ---------------------------------------------------------------------------------------------------- GUIDs


def derived_guid(kind: str, *parts: str) -> str:
    """A deterministic GUID for an object of ``kind`` named by ``parts`` (e.g. codebook name and code id)."""
    # The unit separator cannot be confused with text in the parts, so ("a/b", "c") != ("a", "b/c").
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join((kind, *parts))))


_CANONICAL_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalise_guid(value: str) -> str | None:
    """``value`` as a lower-case GUID without braces, or None when it is not a GUID.

    Accepts what tools write: braces (NVivo), upper case, surrounding spaces, ``urn:uuid:``.
    """
    if _CANONICAL_GUID.fullmatch(value):  # as gripcode writes them: no need to parse
        return value
    text = value.strip()
    if text.startswith("{") != text.endswith("}"):
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


# -------------------------------------------------------------------------------------------------- colours

_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_RGB_RE = re.compile(r"^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*[\d.]+%?\s*)?\)$", re.I)


def hex_colour(value: str | None) -> str | None:
    """``#RRGGBB`` (upper case) from ``#RGB``, ``#RRGGBB``, ``#RRGGBBAA`` or ``rgb(r, g, b)``; None if unreadable."""
    if value is None:
        return None
    text = value.strip()
    match = _HEX_RE.match(text)
    if match and (text.startswith("#") or len(match.group(1)) != 3):
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return "#" + digits[:6].upper()
    match = _RGB_RE.match(text)
    if match:
        channels = [int(c) for c in match.groups()]
        if all(c <= 255 for c in channels):
            return "#" + "".join(f"{c:02X}" for c in channels)
    return None


# ---------------------------------------------------------------------------------------------------- slugs

_TRANSLITERATION = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
        "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
        "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
        "ь": "", "э": "e", "ю": "yu", "я": "ya",
        "ә": "a", "ғ": "g", "қ": "q", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
        "є": "ye", "ї": "yi", "ґ": "g", "ў": "u",
        "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    }
)  # fmt: skip
_MAX_SLUG = 60


def slug_from_name(name: str, seed: str, prefix: str = "code") -> str:
    """A slug id made from ``name``: lower-case ASCII, accents dropped, Cyrillic transliterated.

    A name with no Latin or Cyrillic letters or digits (Chinese, say) gives ``<prefix>-`` and a short hash
    of ``seed`` (the object's GUID), which stays the same on every import of the same file.
    """
    text = unicodedata.normalize("NFC", name).lower().translate(_TRANSLITERATION)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > _MAX_SLUG:
        cut = slug[: _MAX_SLUG + 1]
        slug = (cut.rsplit("-", 1)[0] if "-" in cut else cut[:_MAX_SLUG]).strip("-")
    return slug or f"{prefix}-" + hashlib.sha1(seed.encode("utf-8")).hexdigest()[:8]


# ---------------------------------------------------------------------------------------------- XML writing

# Characters XML 1.0 can carry at all; anything else cannot be escaped either.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def unique_slug(name: str, seed: str, used: set[str]) -> str:
    """A slug for ``name`` not yet in ``used`` (``-2``, ``-3``, ... on collisions), added to ``used``."""
    base = slug_from_name(name, seed)
    candidate, number = base, 2
    while candidate in used:
        candidate, number = f"{base}-{number}", number + 1
    used.add(candidate)
    return candidate


def xml_unsafe_char(text: str) -> str | None:
    """The first character of ``text`` that XML 1.0 cannot represent, or None."""
    match = _NOT_XML_CHAR.search(text)
    return match.group() if match else None


def xml_safe(text: str, what: str) -> str:
    """``text`` unchanged; raises :class:`ExchangeError` naming ``what`` if XML cannot carry one of its characters."""
    bad = xml_unsafe_char(text)
    if bad is not None:
        raise ExchangeError(f"{what} contains the character U+{ord(bad):04X}, which XML cannot carry; remove it")
    return text


def escape_text(text: str) -> str:
    # A raw carriage return would be read back as a newline; the character reference keeps it.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def escape_attr(text: str) -> str:
    # Parsers normalise raw whitespace in attribute values to spaces; references survive.
    return (
        escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    )


# ---------------------------------------------------------------------------------------------- XML reading


def local_name(tag: str) -> tuple[str | None, str]:
    """``(namespace, local name)`` of an ElementTree tag such as ``{urn:x}Code``."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


@dataclass
class ParsedXML:
    """A parsed document and the line each element starts on (keyed by ``id(element)``)."""

    root: ET.Element
    lines: dict[int, int] = field(default_factory=dict)

    def line(self, element: ET.Element) -> int | None:
        return self.lines.get(id(element))


class _LineBuilder:
    """A TreeBuilder that notes the line of every start tag, so errors can point into the file."""

    def __init__(self) -> None:
        self._builder = ET.TreeBuilder()
        self.lines: dict[int, int] = {}
        self.expat: Any = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = self._builder.start(tag, attrs)
        self.lines[id(element)] = self.expat.CurrentLineNumber
        return element

    def end(self, tag: str) -> ET.Element:
        return self._builder.end(tag)

    def data(self, data: str) -> None:
        self._builder.data(data)

    def close(self) -> ET.Element:
        return self._builder.close()


def parse_xml(data: bytes, what: str) -> ParsedXML:
    """Parse ``data`` safely; ``what`` names the document in error messages ("the .qdc codebook").

    Raises :class:`ExchangeError` for anything that is not well-formed XML, and for any DTD, entity
    declaration or external reference.
    """
    if data[:4] == b"PK\x03\x04":
        raise ExchangeError(f"{what} is a zip archive (a .qdpx project?), not an XML file")
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser
    try:
        parser.feed(data)
        root = parser.close()
    except DTDForbidden:
        line = parser.parser.CurrentLineNumber
        raise ExchangeError(
            f"{what} declares a DTD (<!DOCTYPE ...>) at line {line}: refused, because a DTD can read local "
            "files through external entities or expand entities without limit; REFI-QDA files never need one"
        ) from None
    except (EntitiesForbidden, ExternalReferenceForbidden):
        line = parser.parser.CurrentLineNumber
        raise ExchangeError(f"{what} declares or references an XML entity at line {line}: refused") from None
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":", 1)[0] if ":" in str(exc) else str(exc)
        raise ExchangeError(f"{what} is not well-formed XML: {reason} at line {line}, column {column + 1}") from None
    except RecursionError:
        raise ExchangeError(f"{what} is nested too deeply to read") from None
    return ParsedXML(root, builder.lines)
