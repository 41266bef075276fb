"""OpenDocument text (.odt, from LibreOffice, OpenOffice, Google Docs or Word): the text in reading order,
footnotes and endnotes at the end, title, author and date from the document's metadata.

An .odt is a zip whose ``content.xml`` holds the text and ``meta.xml`` the metadata. Both are read within the
document limit (``corpus/bounded_zip``, the checks a .docx gets) and parsed with defusedxml, and the text is
taken from the XML directly (see ARCHITECTURE.md for why not odfpy): paragraphs, headings and list items are
blocks, a table is one block per row (cells joined by `` | ``, as for .docx), sections and lists are walked
in order. ODF's white space rule applies: runs of spaces, tabs and line ends in the XML are one space, and
``<text:s text:c="3"/>``, ``<text:tab/>`` and ``<text:line-break/>`` are three spaces, a tab and a line
break. Notes go to the end as ``[Note 1] ...``, with ``[1]`` where the text refers to them, as for .docx.
Generated indexes (a table of contents), tracked deletions, comments, frames and drawings are left out.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from gripcode.corpus.bounded_zip import check_declared, read_member
from gripcode.corpus.limits import HOW_TO_RAISE, ReadLimits, check_file_size
from gripcode.corpus.parsed import ParsedDocument, iso_date, optional_text
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

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"
_DC = "{http://purl.org/dc/elements/1.1/}"

_MIMETYPE = "application/vnd.oasis.opendocument.text"
_OTHER_KINDS = {
    "application/vnd.oasis.opendocument.spreadsheet": "a spreadsheet (.ods)",
    "application/vnd.oasis.opendocument.presentation": "a presentation (.odp)",
    "application/vnd.oasis.opendocument.graphics": "a drawing (.odg)",
}
# A cell or row that the file stores once for several identical ones ("repeated") is written out at most this
# many times: a spreadsheet-like table ends in a row repeated a million times, which is empty anyway.
_MAX_REPEATED = 100
# Elements left out with everything in them: generated indexes, tracked changes (their deleted text),
# comments, frames and drawings, forms, declarations, and the small text above ruby characters.
_SKIPPED = frozenset({
    *(f"{_TEXT}{tag}" for tag in (
        "table-of-content", "alphabetical-index", "illustration-index", "table-index", "object-index",
        "user-index", "bibliography", "tracked-changes", "sequence-decls", "variable-decls", "user-field-decls",
        "dde-connection-decls", "ruby-text", "note-citation", "soft-page-break",
    )),
    f"{_OFFICE}annotation", f"{_OFFICE}annotation-end", f"{_OFFICE}forms",
    f"{_TABLE}table-columns", f"{_TABLE}table-column", f"{_TABLE}table-header-columns",
})
_DRAWING_NAMESPACE = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
# Elements that hold blocks and are walked in order.
_CONTAINERS = frozenset({
    f"{_OFFICE}text", f"{_TEXT}section", f"{_TEXT}list", f"{_TEXT}list-item", f"{_TEXT}list-header",
    f"{_TEXT}numbered-paragraph",
})
_ROW_GROUPS = frozenset({f"{_TABLE}table-header-rows", f"{_TABLE}table-rows", f"{_TABLE}table-row-group"})
_XML_SPACE = re.compile(r"[ \t\r\n]+")


def read_odt(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """One document: the text's blocks in reading order joined by blank lines, then its notes."""
    name = path.name
    limits = limits or ReadLimits()
    check_file_size(path, limits)
    content, meta = _parts(path, limits)
    body = content.find(f"{_OFFICE}body/{_OFFICE}text")
    if body is None:
        raise DocumentImportError(f"{name} is an OpenDocument file without a text body; it may be damaged.")
    blocks = Blocks(name, limits)
    try:
        _Walker(blocks).content(body, blocks.add)
    except RecursionError as exc:  # the depth is capped far below the limit; this is a last guard
        raise nested_too_deeply(name) from exc
    text, headings = blocks.text_and_headings()
    require_text(text, name)
    properties = _properties(meta, name)
    metadata: dict[str, Any] = {key: properties[key] for key in ("author",) if key in properties}
    if headings:
        metadata["headings"] = headings
    return [
        ParsedDocument(
            text=text,
            original_name=name,
            title=properties.get("title") or path.stem,
            date=properties.get("date"),
            metadata=metadata,
            turns=speaker_turns(text),
        )
    ]


def _parts(path: Path, limits: ReadLimits) -> tuple[Any, Any | None]:
    """The parsed content.xml and meta.xml (None when the file has none), each read within the limits."""
    name = path.name
    zip_limits = limits.zip_limits()
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            check_declared(infos, zip_limits, name, DocumentImportError, HOW_TO_RAISE)
            members = {info.filename: info for info in infos}
            if "mimetype" in members:
                kind = bytes(read_member(archive, members["mimetype"], zip_limits, name, DocumentImportError))
                _check_kind(kind.decode("ascii", "replace").strip(), name)
            if "content.xml" not in members:
                raise DocumentImportError(f"{name} is a zip file without content.xml, so not an OpenDocument text "
                                          "(.odt); it may be damaged.")
            content = read_member(archive, members["content.xml"], zip_limits, name, DocumentImportError,
                                  0, HOW_TO_RAISE)
            meta = (read_member(archive, members["meta.xml"], zip_limits, name, DocumentImportError, len(content),
                                HOW_TO_RAISE) if "meta.xml" in members else None)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DocumentImportError(
            f"{name} cannot be read as an OpenDocument text (.odt); it may be damaged or not an .odt file. "
            f"Details: {exc}") from exc
    return _xml(content, name, "content.xml"), (_xml(meta, name, "meta.xml") if meta is not None else None)


def _check_kind(mimetype: str, name: str) -> None:
    if mimetype == _MIMETYPE or mimetype.startswith(f"{_MIMETYPE}-"):  # -template, -master
        return
    kind = _OTHER_KINDS.get(mimetype, f"a file of type {mimetype!r}")
    raise DocumentImportError(f"{name} is {kind}, not an OpenDocument text; save it as .odt, or its text as .txt.")


def _xml(data: bytearray, name: str, member: str) -> Any:
    try:
        return ElementTree.fromstring(bytes(data))
    except Exception as exc:  # ParseError, or the DTDs and entities defusedxml refuses
        raise DocumentImportError(
            f"{name}: its {member} cannot be read ({exc}); the file may be damaged, or password-protected "
            f"(save an unprotected copy)."
        ) from exc


class _Walker:
    """Turns the body's XML into blocks in reading order. Each method takes the depth of the element it walks
    (counted from the body) and refuses one deeper than ``MAX_NESTING``."""

    def __init__(self, blocks: Blocks) -> None:
        self.blocks = blocks
        self.in_note = False

    def check(self, depth: int) -> None:
        if depth > MAX_NESTING:
            raise nested_too_deeply(self.blocks.name)

    def content(self, container: Any, add: Callable[..., None], depth: int = 0) -> None:
        """Paragraphs, headings, lists, sections and tables in document order."""
        self.check(depth)
        for child in container:
            tag = child.tag
            if tag == f"{_TEXT}p":
                add(self.text(child, depth + 1))
            elif tag == f"{_TEXT}h":
                add(self.text(child, depth + 1), heading=True)
            elif tag == f"{_TABLE}table":
                self.table(child, add, depth + 1)
            elif tag in _CONTAINERS:
                self.content(child, add, depth + 1)

    def table(self, table: Any, add: Callable[..., None], depth: int) -> None:
        """One block per row; the rows of a table inside a cell follow its row."""
        self.check(depth)
        for row, row_depth in self.rows(table, depth + 1):
            cells: list[str] = []
            inner: list[tuple[Any, int]] = []
            for cell in row:
                if cell.tag != f"{_TABLE}table-cell":
                    continue  # covered cells (under a merged one) and anything else
                parts: list[str] = []
                self._cell(cell, parts, inner, row_depth + 1)
                cells += [" ".join(parts)] * _repeated(cell, "number-columns-repeated")
            rows = _repeated(row, "number-rows-repeated")
            self.blocks.make_room(rows * sum(len(cell) + 3 for cell in cells))
            for _ in range(rows):
                add(row_text(cells))
            for nested, nested_depth in inner:
                self.table(nested, add, nested_depth)

    def rows(self, table: Any, depth: int) -> list[tuple[Any, int]]:
        """The rows of a table, also those in row groups, each with its depth."""
        self.check(depth)
        rows: list[tuple[Any, int]] = []
        for child in table:
            if child.tag == f"{_TABLE}table-row":
                rows.append((child, depth))
            elif child.tag in _ROW_GROUPS:
                rows += self.rows(child, depth + 1)
        return rows

    def _cell(self, element: Any, parts: list[str], inner: list[tuple[Any, int]], depth: int) -> None:
        self.check(depth)
        for child in element:
            if child.tag in (f"{_TEXT}p", f"{_TEXT}h"):
                parts.append(self.text(child, depth + 1))
            elif child.tag == f"{_TABLE}table":
                inner.append((child, depth + 1))
            elif child.tag in _CONTAINERS:
                self._cell(child, parts, inner, depth + 1)

    def text(self, element: Any, depth: int) -> str:
        """A paragraph's text under ODF's white space rule."""
        line = _Line(self.blocks.take_in)
        self._text(element, line, depth)
        return "".join(line.parts)

    def _text(self, element: Any, line: _Line, depth: int) -> None:
        self.check(depth)
        line.xml_text(element.text)
        for child in element:
            tag = child.tag
            if tag == f"{_TEXT}s":
                line.element(" ", min(_count(child.get(f"{_TEXT}c")), 10_000))
            elif tag == f"{_TEXT}tab":
                line.element("\t")
            elif tag == f"{_TEXT}line-break":
                line.element("\n")
            elif tag == f"{_TEXT}note":
                line.xml_text(self.note(child, depth + 1))  # the mark stands for the note's citation, which is text
            elif tag not in _SKIPPED and tag != f"{_TABLE}table" and not tag.startswith(_DRAWING_NAMESPACE):
                self._text(child, line, depth + 1)  # spans, links, fields (their current text), ruby bases, meta
            line.xml_text(child.tail)

    def note(self, note: Any, depth: int) -> str:
        """The mark where a note is referred to; the note's text goes to the end."""
        if self.in_note:
            return ""
        number = self.blocks.new_note()
        lines: list[str] = []
        body = note.find(f"{_TEXT}note-body")
        if body is not None:
            self.in_note = True
            try:
                self.content(body, collect_into(lines), depth + 1)
            finally:
                self.in_note = False
        self.blocks.set_note(number, "\n".join(line.strip() for line in lines if line.strip()))
        return note_reference(number)


class _Line:
    """The text of one paragraph as it is read, under ODF's white space rule: in the XML's text a run of spaces,
    tabs and line ends is one space, and a space is dropped at the start of the paragraph or after another one
    (also across element boundaries). Spaces, tabs and line breaks written as elements (``<text:s/>``) are
    kept as they are and do not count as text for that rule. Every part is counted (``take_in``) before it is
    added, a run of spaces stored as a count before it is written out."""

    def __init__(self, take_in: Callable[[int], None]) -> None:
        self.parts: list[str] = []
        self.take_in = take_in
        self.after_space = True  # at the start, a space in the XML is dropped

    def xml_text(self, text: str | None) -> None:
        if not text:
            return
        text = _XML_SPACE.sub(" ", text)
        if self.after_space and text.startswith(" "):
            text = text[1:]
        if text:
            self.take_in(len(text))
            self.parts.append(text)
            self.after_space = text.endswith(" ")

    def element(self, text: str, times: int = 1) -> None:
        self.take_in(len(text) * times)
        self.parts.append(text * times)


def _repeated(element: Any, attribute: str) -> int:
    return max(1, min(_count(element.get(f"{_TABLE}{attribute}")), _MAX_REPEATED))


def _count(value: str | None) -> int:
    try:
        return max(1, int(value or "1"))
    except ValueError:
        return 1


def _properties(meta: Any | None, name: str) -> dict[str, str]:
    """Title, author (who created the document, else who saved it last) and date (of creation, else of the
    last change) from meta.xml."""
    if meta is None:
        return {}
    block = meta.find(f"{_OFFICE}meta")
    if block is None:
        return {}

    def value(tag: str) -> str | None:
        element = block.find(tag)
        return optional_text(" ".join((element.text or "").split())) if element is not None else None

    found: dict[str, str] = {}
    title = value(f"{_DC}title")
    author = value(f"{_META}initial-creator") or value(f"{_DC}creator")
    if title:
        found["title"] = title
    if author:
        found["author"] = author
    for tag in (f"{_META}creation-date", f"{_DC}date"):
        stamp = value(tag)
        if stamp:
            try:
                date = iso_date(stamp[:10], name)
            except DocumentImportError:
                continue  # a date the file garbled says nothing; leave it out rather than refuse the text
            if date:
                found["date"] = date
                break
    return found
