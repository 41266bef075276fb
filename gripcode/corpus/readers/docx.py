"""Word documents (.docx): body paragraphs, then table rows, plus the core properties.

A .docx is a zip of XML parts, and python-docx parses every part it knows into memory (an XML tree takes
several times the XML's size). The zip is therefore checked first, as the .qdpx reader checks its archives:
declared sizes against the document limit and the compression ratio, then every part read with a cap, so
that a part whose header understates its size is caught before python-docx inflates it.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE

from gripcode.corpus.bounded_zip import check_declared, read_member
from gripcode.corpus.limits import HOW_TO_RAISE, ReadLimits, check_file_size
from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import ParsedDocument, optional_text
from gripcode.corpus.readers.text import require_text
from gripcode.corpus.segment import speaker_turns
from gripcode.errors import DocumentImportError

# python-docx's blank template carries these placeholder properties; they say nothing about the document.
_TEMPLATE_AUTHOR = "python-docx"
_TEMPLATE_CREATED = dt.datetime(2013, 12, 23, 23, 15, tzinfo=dt.timezone.utc)

_CELL_SEPARATOR = " | "


def read_docx(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """One document: non-empty paragraphs joined by blank lines, then one paragraph per table row."""
    name = path.name
    limits = limits or ReadLimits()
    check_file_size(path, limits)
    _check_parts(path, limits)
    try:
        document = docx.Document(str(path))
        paragraphs = [paragraph.text for paragraph in document.paragraphs]
        paragraphs += [_row_text(row) for table in document.tables for row in table.rows]
        properties = _core_properties(document)
    except Exception as exc:  # python-docx raises zip, XML, KeyError and its own errors for damaged files
        raise DocumentImportError(
            f"{name} cannot be read as a Word (.docx) document; it may be damaged, password-protected "
            f"or an old .doc file (save it as .docx). Details: {exc}"
        ) from exc
    cleaned = (normalise_text(paragraph.replace("\x00", "")).strip() for paragraph in paragraphs)
    text = "\n\n".join(part for part in cleaned if part)
    require_text(text, name)
    return [
        ParsedDocument(
            text=text,
            original_name=name,
            title=optional_text(properties.get("title")) or path.stem,
            date=properties.get("created"),
            metadata={key: properties[key] for key in ("author",) if key in properties},
            turns=speaker_turns(text),
        )
    ]


def _check_parts(path: Path, limits: ReadLimits) -> None:
    """Refuse a .docx whose parts unpack beyond the limits, declared or actual; nothing is kept."""
    zip_limits = limits.zip_limits()
    where = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # not a zip at all: python-docx gives the reader's usual message for a damaged file
    with archive:
        infos = archive.infolist()
        check_declared(infos, zip_limits, where, DocumentImportError, HOW_TO_RAISE)
        read = 0
        for info in infos:
            if not info.is_dir():
                read += len(read_member(archive, info, zip_limits, where, DocumentImportError, read, HOW_TO_RAISE))


def _row_text(row: Any) -> str:
    # A merged cell appears once per grid column it spans; keep it once.
    seen: list[Any] = []
    cells: list[str] = []
    for cell in row.cells:
        if any(cell._tc is element for element in seen):
            continue
        seen.append(cell._tc)
        text = " ".join(cell.text.split())
        if text:
            cells.append(text)
    return _CELL_SEPARATOR.join(cells)


def _core_properties(document: Any) -> dict[str, str]:
    package = document.part.package
    # Asking python-docx for missing core properties makes it invent some ("Word Document"), so check first.
    if not any(rel.reltype == RELATIONSHIP_TYPE.CORE_PROPERTIES for rel in package.rels.values()):
        return {}
    core = document.core_properties
    created = core.created
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    found: dict[str, str] = {}
    if core.title and core.title.strip():
        found["title"] = core.title.strip()
    if core.author and core.author.strip() and core.author != _TEMPLATE_AUTHOR:
        found["author"] = core.author.strip()
    if created is not None and not (core.author == _TEMPLATE_AUTHOR and created == _TEMPLATE_CREATED):
        found["created"] = created.date().isoformat()
    return found
