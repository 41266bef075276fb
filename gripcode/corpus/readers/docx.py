"""Word documents (.docx): the body in reading order, footnotes and endnotes at the end, the core properties.

A .docx is a zip of XML parts, and python-docx parses every part it knows into memory (an XML tree takes
several times the XML's size). The zip is therefore checked first, as the .qdpx reader checks its archives:
declared sizes against the document limit and the compression ratio, then every part read with a cap, so
that a part whose header understates its size is caught before python-docx inflates it.

The body is walked as Word shows it: paragraphs, headings and list items each a block, a table one block
per row where the table stands (a table inside a cell follows its row). Text in tracked insertions, fields
and content controls counts; deleted text, field codes, text boxes and drawings do not, nor do headers,
footers and comments. Footnotes and endnotes live in parts of their own, which python-docx does not read:
they are read here (bounded, with defusedxml) and go to the end of the text, ``[Note 1] ...``, with ``[1]``
where the text refers to them (``readers/blocks``).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
from defusedxml import ElementTree
from docx.opc.constants import RELATIONSHIP_TYPE

from gripcode.corpus.bounded_zip import check_declared, read_member
from gripcode.corpus.limits import HOW_TO_RAISE, ReadLimits, check_file_size
from gripcode.corpus.parsed import ParsedDocument, optional_text
from gripcode.corpus.readers.blocks import (
    MAX_NESTING,
    Blocks,
    collect_into,
    nested_too_deeply,
    note_reference,
    row_text,
)
from gripcode.corpus.readers.text import require_text
from gripcode.corpus.segment import speaker_turns
from gripcode.errors import DocumentImportError

# python-docx's blank template carries these placeholder properties; they say nothing about the document.
_TEMPLATE_AUTHOR = "python-docx"
_TEMPLATE_CREATED = dt.datetime(2013, 12, 23, 23, 15, tzinfo=dt.UTC)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_NOTE_PARTS = {"footnote": RELATIONSHIP_TYPE.FOOTNOTES, "endnote": RELATIONSHIP_TYPE.ENDNOTES}
_REFERENCES = {f"{_W}footnoteReference": "footnote", f"{_W}endnoteReference": "endnote"}
_CHARACTERS = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
# Elements whose content is not the text a reader sees: properties, deleted and moved-away text, field codes,
# drawings and text boxes (in both of Word's spellings), the note's own mark inside a note, comment marks,
# symbols in symbol fonts, and the small text above ruby characters.
_SKIPPED = frozenset(f"{_W}{tag}" for tag in (
    "pPr", "rPr", "tblPr", "trPr", "tcPr", "sdtPr", "sdtEndPr", "del", "moveFrom", "instrText", "delText",
    "delInstrText", "fldData", "drawing", "pict", "object", "footnoteRef", "endnoteRef", "annotationRef",
    "commentReference", "sym", "softHyphen", "rt", "sectPr",
)) | {f"{_MC}AlternateContent"}
# Elements that only wrap others: content controls, custom XML, tracked insertions and moves.
_WRAPPERS = frozenset(f"{_W}{tag}" for tag in ("sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag"))
_HEADING_STYLE = re.compile(r"(?:heading \d|title|subtitle)", re.IGNORECASE)


def read_docx(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """One document: its blocks in reading order joined by blank lines, then its notes."""
    name = path.name
    limits = limits or ReadLimits()
    check_file_size(path, limits)
    _check_parts(path, limits)
    try:
        document = docx.Document(str(path))
        body = document.element.body
        headings = _heading_styles(document.styles.element)
        note_parts = _note_part_names(document)
        properties = _core_properties(document)
    except Exception as exc:  # python-docx raises zip, XML, KeyError and its own errors for damaged files
        raise _damaged(name, exc) from exc
    notes = {kind: _read_notes(path, part, limits) for kind, part in note_parts.items()}
    blocks = Blocks(name, limits)
    try:
        _Walker(blocks, headings, notes).document(body)
    except RecursionError as exc:  # the depth is capped far below the limit; this is a last guard
        raise nested_too_deeply(name) from exc
    text, heading_spans = blocks.text_and_headings()
    require_text(text, name)
    metadata: dict[str, Any] = {key: properties[key] for key in ("author",) if key in properties}
    if heading_spans:
        metadata["headings"] = heading_spans
    return [
        ParsedDocument(
            text=text,
            original_name=name,
            title=optional_text(properties.get("title")) or path.stem,
            date=properties.get("created"),
            metadata=metadata,
            turns=speaker_turns(text),
        )
    ]


def _damaged(name: str, exc: Exception) -> DocumentImportError:
    return DocumentImportError(
        f"{name} cannot be read as a Word (.docx) document; it may be damaged, password-protected "
        f"or an old .doc file (save it as .docx). Details: {exc}"
    )


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


def _note_part_names(document: Any) -> dict[str, str]:
    """The zip member of the footnotes and of the endnotes, for those the document has."""
    found: dict[str, str] = {}
    for rel in document.part.rels.values():
        for kind, reltype in _NOTE_PARTS.items():
            if rel.reltype == reltype and not rel.is_external:
                found[kind] = str(rel.target_part.partname).lstrip("/")
    return found


def _read_notes(path: Path, member: str, limits: ReadLimits) -> dict[str, Any]:
    """The notes of a footnotes or endnotes part by id, read within the limits and parsed with defusedxml."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            data = read_member(archive, archive.getinfo(member), limits.zip_limits(), name, DocumentImportError,
                               0, HOW_TO_RAISE)
        root = ElementTree.fromstring(bytes(data))
    except DocumentImportError:
        raise
    except Exception as exc:  # a missing member, XML that does not parse, or DTDs and entities defusedxml refuses
        raise _damaged(name, exc) from exc
    return {note.get(f"{_W}id", ""): note for note in root if note.tag in (f"{_W}footnote", f"{_W}endnote")}


class _Walker:
    """Turns the body's XML into blocks in reading order; notes are numbered as the text refers to them. Each
    method takes the depth of the element it walks (counted from the body or the note) and refuses one deeper
    than ``MAX_NESTING``: the notes are parsed by defusedxml, which has no depth limit of its own."""

    def __init__(self, blocks: Blocks, headings: set[str], notes: dict[str, dict[str, Any]]) -> None:
        self.blocks, self.headings, self.notes = blocks, headings, notes
        self.pending: list[tuple[int, Any]] = []
        self.in_note = False

    def check(self, depth: int) -> None:
        if depth > MAX_NESTING:
            raise nested_too_deeply(self.blocks.name)

    def document(self, body: Any) -> None:
        self.content(body, self.blocks.add, 0)
        self.in_note = True  # a reference inside a note is left out, as it has no number of its own
        for number, note in self.pending:
            lines: list[str] = []
            self.content(note, collect_into(lines), 0)
            self.blocks.set_note(number, "\n".join(line.strip() for line in lines if line.strip()))

    def content(self, container: Any, add: Callable[..., None], depth: int) -> None:
        """Paragraphs and tables of the body, a cell, a note or a content control, in order."""
        self.check(depth)
        for child in container:
            if child.tag == f"{_W}p":
                add(self.text(child, depth + 1), heading=self.is_heading(child))
            elif child.tag == f"{_W}tbl":
                self.table(child, add, depth + 1)
            elif child.tag in _WRAPPERS:
                self.content(child, add, depth + 1)

    def table(self, table: Any, add: Callable[..., None], depth: int) -> None:
        """One block per row, where the table stands; the rows of a table inside a cell follow its row."""
        self.check(depth)
        for row, row_depth in self.children(table, f"{_W}tr", depth + 1):
            cells: list[str] = []
            inner: list[tuple[Any, int]] = []
            for cell, cell_depth in self.children(row, f"{_W}tc", row_depth + 1):
                parts: list[str] = []
                self._cell(cell, parts, inner, cell_depth + 1)
                cells.append(" ".join(parts))
            add(row_text(cells))
            for nested, nested_depth in inner:
                self.table(nested, add, nested_depth)

    def _cell(self, cell: Any, parts: list[str], inner: list[tuple[Any, int]], depth: int) -> None:
        self.check(depth)
        for child in cell:
            if child.tag == f"{_W}p":
                parts.append(self.text(child, depth + 1))
            elif child.tag == f"{_W}tbl":
                inner.append((child, depth + 1))
            elif child.tag in _WRAPPERS:
                self._cell(child, parts, inner, depth + 1)

    def children(self, element: Any, tag: str, depth: int) -> list[tuple[Any, int]]:
        """The children of ``element`` with ``tag``, also those wrapped in content controls or custom XML, each
        with its depth."""
        self.check(depth)
        found: list[tuple[Any, int]] = []
        for child in element:
            if child.tag == tag:
                found.append((child, depth))
            elif child.tag in _WRAPPERS:
                found += self.children(child, tag, depth + 1)
        return found

    def text(self, element: Any, depth: int) -> str:
        out: list[str] = []
        self._text(element, out, depth)
        return "".join(out)

    def _text(self, element: Any, out: list[str], depth: int) -> None:
        self.check(depth)
        for child in element:
            tag = child.tag
            if tag == f"{_W}t":
                out.append(child.text or "")
            elif tag in _CHARACTERS:
                out.append(_CHARACTERS[tag])
            elif tag in _REFERENCES:
                out.append(self.reference(_REFERENCES[tag], child.get(f"{_W}id", "")))
            elif isinstance(tag, str) and tag not in _SKIPPED:
                self._text(child, out, depth + 1)  # runs, hyperlinks, fields' results, insertions, content controls

    def reference(self, kind: str, note_id: str) -> str:
        note = self.notes.get(kind, {}).get(note_id)
        if note is None or self.in_note:
            return ""
        number = self.blocks.new_note()
        self.pending.append((number, note))
        return note_reference(number)

    def is_heading(self, paragraph: Any) -> bool:
        properties = paragraph.find(f"{_W}pPr")
        if properties is None:
            return False
        style = properties.find(f"{_W}pStyle")
        return (style is not None and style.get(f"{_W}val") in self.headings) or _outline_level(properties)


def _outline_level(properties: Any) -> bool:
    level = properties.find(f"{_W}outlineLvl")
    return level is not None and (level.get(f"{_W}val") or "") in set("012345678")


def _heading_styles(styles: Any) -> set[str]:
    """The ids of paragraph styles that are headings: named so (Heading 1-9, Title, Subtitle; the names are
    English in every language of Word), with an outline level, or based on such a style."""
    based_on: dict[str, str] = {}
    headings: set[str] = set()
    for style in styles.findall(f"{_W}style"):
        style_id = style.get(f"{_W}styleId")
        if not style_id:
            continue
        name = style.find(f"{_W}name")
        properties = style.find(f"{_W}pPr")
        if (name is not None and _HEADING_STYLE.fullmatch(name.get(f"{_W}val") or "")) or (
                properties is not None and _outline_level(properties)):
            headings.add(style_id)
        parent = style.find(f"{_W}basedOn")
        if parent is not None and parent.get(f"{_W}val"):
            based_on[style_id] = parent.get(f"{_W}val")
    for style_id, parent_id in based_on.items():
        seen = {style_id}
        current = parent_id
        while current not in headings and current in based_on and current not in seen:
            seen.add(current)
            current = based_on[current]
        if current in headings:
            headings.add(style_id)
    return headings


def _core_properties(document: Any) -> dict[str, str]:
    package = document.part.package
    # Asking python-docx for missing core properties makes it invent some ("Word Document"), so check first.
    if not any(rel.reltype == RELATIONSHIP_TYPE.CORE_PROPERTIES for rel in package.rels.values()):
        return {}
    core = document.core_properties
    created = core.created
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    found: dict[str, str] = {}
    if core.title and core.title.strip():
        found["title"] = core.title.strip()
    if core.author and core.author.strip() and core.author != _TEMPLATE_AUTHOR:
        found["author"] = core.author.strip()
    if created is not None and not (core.author == _TEMPLATE_AUTHOR and created == _TEMPLATE_CREATED):
        found["created"] = created.date().isoformat()
    return found
