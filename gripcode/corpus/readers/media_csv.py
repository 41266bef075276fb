"""CSV files of media items: one document per data row."""

from __future__ import annotations

import csv
import ctypes
import io
from dataclasses import dataclass
from pathlib import Path

from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.parsed import ParsedDocument, iso_date, jsonable, optional_text
from gripcode.corpus.readers.text import read_decoded
from gripcode.errors import DocumentImportError

_DELIMITERS = (",", ";", "\t")
# The csv module keeps its field limit in a C long (32 bits on Windows).
_LARGEST_FIELD_LIMIT = 2 ** (8 * ctypes.sizeof(ctypes.c_long) - 1) - 1
# Column names (lower-cased) that fill a document field rather than its metadata, in order of preference.
_FIELD_COLUMNS = {
    "case": ("case",),
    "kind": ("kind",),
    "language": ("language", "lang"),
    "source": ("source", "outlet"),
}


@dataclass
class CsvOptions:
    """Which columns of a media CSV hold the text, the title and the date (matched ignoring case)."""

    text_column: str = "text"
    title_column: str = "title"
    date_column: str = "date"


def read_media_csv(
    path: Path, *, encoding: str | None = None, options: CsvOptions | None = None,
    limits: ReadLimits | None = None,
) -> list[ParsedDocument]:
    """One document per non-empty data row, named ``<file>#row<N>`` with N counted from 1.

    The file is at most the document limit, and so is each field: a press article can be longer than the
    csv module's default of 128 KiB, and no field can be longer than the file the limit admits.
    """
    options = options or CsvOptions()
    limits = limits or ReadLimits()
    name = path.name
    text, replaced = read_decoded(path, encoding, limits)
    csv.field_size_limit(min(limits.max_bytes, _LARGEST_FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise DocumentImportError(f"{name}, line {reader.line_num}: not a valid CSV file ({exc}).") from exc
    if not rows:
        raise DocumentImportError(f"{name} is empty; a header row and one row per media item are needed.")
    header = [cell.strip() for cell in rows[0][1]]
    columns = _column_roles(header, options, name)
    if len(rows) == 1:
        raise DocumentImportError(f"{name} has a header row but no data rows.")
    documents = [_document(path, number, line, row, header, columns) for number, (line, row) in enumerate(rows[1:], 1)]
    for document in documents:
        document.replaced = replaced
    return documents


def _delimiter(text: str) -> str:
    # The header line decides: it names the columns and rarely holds quoted delimiters.
    first_line = text.split("\n", 1)[0]
    counts = [(first_line.count(delimiter), -index) for index, delimiter in enumerate(_DELIMITERS)]
    best = max(counts)
    return _DELIMITERS[-best[1]] if best[0] else ","


def _column_roles(header: list[str], options: CsvOptions, name: str) -> dict[str, int]:
    lowered = [column.lower() for column in header]

    def find(*candidates: str) -> int | None:
        for candidate in candidates:
            if candidate.lower() in lowered:
                return lowered.index(candidate.lower())
        return None

    text_index = find(options.text_column)
    if text_index is None:
        found = ", ".join(repr(column) for column in header if column) or "none"
        raise DocumentImportError(
            f"{name} has no {options.text_column!r} column for the text of each item. "
            f"Columns found: {found}. Name the text column with the CSV text-column option."
        )
    roles = {"text": text_index}
    for role, candidates in (("title", (options.title_column,)), ("date", (options.date_column,)),
                             *_FIELD_COLUMNS.items()):
        index = find(*candidates)
        if index is not None and index not in roles.values():
            roles[role] = index
    return roles


def _document(
    path: Path, number: int, line: int, row: list[str], header: list[str], columns: dict[str, int]
) -> ParsedDocument:
    where = f"{path.name}, row {number} (line {line})"
    if len(row) > len(header):
        raise DocumentImportError(
            f"{where} has {len(row)} fields but the header has {len(header)}; check the quoting of that row."
        )
    cells = row + [""] * (len(header) - len(row))
    text = cells[columns["text"]].strip()
    if not text:
        raise DocumentImportError(f"{where}: the {header[columns['text']]!r} column is empty.")

    def value(role: str) -> str | None:
        return optional_text(cells[columns[role]]) if role in columns else None

    used = set(columns.values())
    metadata = {
        column or f"column {index + 1}": jsonable(cell.strip())
        for index, (column, cell) in enumerate(zip(header, cells))
        if index not in used and cell.strip()
    }
    return ParsedDocument(
        text=text,
        original_name=f"{path.name}#row{number}",
        title=value("title") or f"{path.stem} row {number}",
        date=iso_date(value("date"), where),
        source=value("source"),
        language=value("language"),
        case=value("case"),
        kind=value("kind"),
        metadata=metadata,
    )
