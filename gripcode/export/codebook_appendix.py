"""The codebook as the table a paper's appendix needs, in Markdown, LaTeX, CSV or Word.

One row per code, in tree order, with the columns Code, Definition, Inclusion, Exclusion and Example.

Example: the code's *first* positive example only. Journal codebook appendices give one anchor example
per code; the examples in the YAML also serve ``gripcode codebook test`` and grow with the rules (one per
language a code must match), so listing all of them would make rows run over pages with near-duplicates
in several languages. Methodologists control which example is printed by putting it first.

Hierarchy: every code is numbered by its position in the tree ("2", "2.1", "2.1.3"), so a reader can
cite a code and see its place in every format, including plain CSV. On top of that, top-level codes
(themes) stand out and sub-codes are indented:

- Markdown: theme names in bold; sub-codes indented with ``&emsp;`` entities (literal Unicode spaces are
  trimmed from table cells by some renderers, entities are not).
- LaTeX: theme names in bold with a little space before each theme; sub-codes indented with
  ``\\leftskip``, so wrapped lines keep the indentation.
- Word: theme rows shaded and bold; sub-codes indented with the paragraph's left indent; a landscape
  page, since five text columns do not fit a portrait one; the header row repeats on every page.
- CSV: ``depth`` and ``parent`` columns, for sorting and filtering. UTF-8 without a byte-order mark, so
  Python's csv module and pandas read the header as written; cells that a spreadsheet would run as a
  formula are prefixed with an apostrophe.

Retired and merged codes are left out unless ``include_inactive`` is set, in which case they are marked
"(retired)" or "(merged into ...)". The numbering always counts only the rows shown, and an active code
under a left-out code moves up to the nearest shown ancestor, so numbers stay gapless.

Every format carries its provenance (codebook name, content hash, export date, which codes are shown):
a line under the Markdown table, the LaTeX caption (and a comment with the full hash), a paragraph under
the Word table, and a ``provenance`` column in the CSV (the same on every row, so the file stays one
rectangle that any CSV reader takes, and a row copied elsewhere still names its source).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from gripcode.codebook.loader import codebook_hash
from gripcode.codebook.model import Code, Codebook
from gripcode.errors import CodebookError
from gripcode.export.files import write_output
from gripcode.export.latex import LatexColumn, LatexRow, booktabs_table, latex_escape, latex_label
from gripcode.export.markdown import markdown_escape_cell, markdown_table
from gripcode.export.spreadsheet import neutralise_formula

FORMATS = ("markdown", "latex", "csv", "docx")
HEADERS = ("Code", "Definition", "Inclusion", "Exclusion", "Example")
CSV_COLUMNS = (
    "number", "id", "name", "parent", "depth", "definition", "inclusion", "exclusion", "example", "status",
    "provenance",
)  # fmt: skip


@dataclass(frozen=True)
class AppendixRow:
    """One code as the appendix shows it.

    ``depth`` is 0 for a theme (top-level code); ``parent`` is the id of the nearest *shown* ancestor.
    ``status`` is ``active``, ``retired`` or ``merged`` (then ``merged_into`` names the target's id and
    ``merged_into_name`` its name).
    """

    number: str
    depth: int
    id: str
    name: str
    parent: str | None
    definition: str
    include: str
    exclude: str
    example: str
    status: str = "active"
    merged_into: str | None = None
    merged_into_name: str | None = None

    @property
    def is_theme(self) -> bool:
        return self.depth == 0

    @property
    def marker(self) -> str:
        """Empty for an active code, else "retired" or "merged into <name>"."""
        if self.status == "merged":
            return f"merged into {self.merged_into_name or self.merged_into}"
        return "" if self.status == "active" else self.status


def _status(code: Code) -> str:
    if code.merged_into is not None:
        return "merged"
    return "retired" if code.retired else "active"


def appendix_rows(cb: Codebook, *, include_inactive: bool = False) -> list[AppendixRow]:
    """The codes of ``cb`` in tree order, numbered by their place among the rows shown."""
    flat = cb.flat()
    parents = {fc.id: fc.parent for fc in flat}
    names = {fc.id: fc.code.name for fc in flat}
    shown = [fc for fc in flat if include_inactive or _status(fc.code) == "active"]
    shown_ids = {fc.id for fc in shown}
    numbers: dict[str, str] = {}
    depths: dict[str, int] = {}
    children_seen: dict[str | None, int] = {}
    rows: list[AppendixRow] = []
    for fc in shown:
        parent = fc.parent
        visited: set[str] = set()
        while parent is not None and parent not in shown_ids and parent not in visited:
            visited.add(parent)
            parent = parents.get(parent)
        if parent is not None and parent not in numbers:
            parent = None  # only possible in an unvalidated codebook (cycle or unknown parent)
        children_seen[parent] = children_seen.get(parent, 0) + 1
        position = str(children_seen[parent])
        numbers[fc.id] = position if parent is None else f"{numbers[parent]}.{position}"
        depths[fc.id] = 0 if parent is None else depths[parent] + 1
        code = fc.code
        rows.append(
            AppendixRow(
                number=numbers[fc.id],
                depth=depths[fc.id],
                id=code.id,
                name=code.name,
                parent=parent,
                definition=code.definition,
                include=code.include,
                exclude=code.exclude,
                example=code.examples.positive[0].text if code.examples.positive else "",
                status=_status(code),
                merged_into=code.merged_into,
                merged_into_name=names.get(code.merged_into) if code.merged_into else None,
            )
        )
    return rows


# ------------------------------------------------------------------------------------------------ provenance


@dataclass(frozen=True)
class _Provenance:
    name: str
    digest: str
    exported: str
    include_inactive: bool
    extra: str | None

    def sentence(self, *, short_hash: bool = False) -> str:
        digest = self.digest[:12] if short_hash else self.digest
        shown = (
            "Retired and merged codes are included and marked."
            if self.include_inactive
            else "Active codes only; retired and merged codes are left out."
        )
        text = f"Codebook {self.name}, version {digest}, exported {self.exported}. {shown}"
        return f"{text} {self.extra.strip()}" if self.extra and self.extra.strip() else text


def _quoted(example: str) -> str:
    return f"\u201c{example}\u201d" if example else ""


# -------------------------------------------------------------------------------------------------- markdown


def _markdown(cb: Codebook, rows: list[AppendixRow], prov: _Provenance) -> bytes:
    body = []
    for row in rows:
        label = markdown_escape_cell(f"{row.number} {row.name}")
        label = f"**{label}**" if row.is_theme else "&emsp;" * row.depth + label
        if row.marker:
            label += f" *({markdown_escape_cell(row.marker)})*"
        texts = (row.definition, row.include, row.exclude, _quoted(row.example))
        body.append([label, *(markdown_escape_cell(text) for text in texts)])
    title = " ".join(cb.codebook.split())
    parts = [f"# Codebook: {title}\n"]
    if cb.description.strip():
        parts.append(cb.description.strip() + "\n")
    parts.append(markdown_table(HEADERS, body))
    parts.append(prov.sentence() + "\n")
    return "\n".join(parts).encode("utf-8")


# ----------------------------------------------------------------------------------------------------- LaTeX

# Code | Definition | Inclusion | Exclusion | Example, as fractions of the line; they sum to 1.
_LATEX_WIDTHS = (0.16, 0.22, 0.21, 0.21, 0.20)


def _latex(cb: Codebook, rows: list[AppendixRow], prov: _Provenance) -> bytes:
    columns = [LatexColumn(header, width) for header, width in zip(HEADERS, _LATEX_WIDTHS, strict=True)]
    body = []
    for row in rows:
        label = f"{row.number}\\quad {latex_escape(row.name)}"
        if row.is_theme:
            label = f"\\textbf{{{label}}}"
        else:
            label = f"\\setlength{{\\leftskip}}{{{row.depth}em}}{label}"
        if row.marker:
            label += f" \\emph{{({latex_escape(row.marker, newline=' ')})}}"
        texts = (row.definition, row.include, row.exclude, _quoted(row.example))
        body.append(LatexRow([label, *(latex_escape(text) for text in texts)], space_before=row.is_theme))
    name = latex_escape(cb.codebook, newline=" ")
    table = booktabs_table(
        columns,
        body,
        caption=latex_escape(prov.sentence(short_hash=True), newline=" "),
        short_caption=f"Codebook {name}",
        label=latex_label("tab", f"codebook-{cb.codebook}"),
        long=True,
        font=r"\footnotesize",
        comments=[prov.sentence()],
    )
    return table.encode("utf-8")


# ------------------------------------------------------------------------------------------------------- CSV

def _csv(cb: Codebook, rows: list[AppendixRow], prov: _Provenance) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    provenance = prov.sentence()
    for row in rows:
        status = f"merged into {row.merged_into}" if row.status == "merged" else row.status
        values: tuple[str | int, ...] = (
            row.number, row.id, row.name, row.parent or "", row.depth, row.definition, row.include,
            row.exclude, row.example, status, provenance,
        )  # fmt: skip
        writer.writerow([neutralise_formula(value) for value in values])
    return buffer.getvalue().encode("utf-8")


# ------------------------------------------------------------------------------------------------------ docx


_DOCX_WIDTHS_CM = (4.4, 5.0, 4.7, 4.7, 4.9)  # Code .. Example; fits a landscape Letter or A4 page
_THEME_FILL = "E7E6E6"


def _repeat_as_header(row: Any) -> None:
    # python-docx has no API for "repeat header row"; it is <w:tblHeader/> in the row's properties.
    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "true")
        tr_pr.append(element)


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)  # after w:tcW, as the schema orders them


def _docx(cb: Codebook, rows: list[AppendixRow], prov: _Provenance) -> bytes:
    doc = Document()
    section = doc.sections[0]
    # Five text columns are unreadable in portrait; an appendix table is usually set landscape.
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin = section.bottom_margin = Cm(2)

    props = doc.core_properties
    props.title = f"Codebook {cb.codebook}"
    props.comments = prov.sentence()
    props.author = props.last_modified_by = ""
    props.created = props.modified = datetime.now(timezone.utc)
    props.revision = 1

    doc.add_heading(f"Codebook: {' '.join(cb.codebook.split())}", level=1)
    if cb.description.strip():
        doc.add_paragraph(cb.description.strip())

    table = doc.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    table.autofit = False
    widths = [Cm(w) for w in _DOCX_WIDTHS_CM]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid, which LibreOffice reads; Word reads each cell's width

    def fill(cells: Any, texts: list[str], *, bold: bool = False) -> None:
        for cell, text, width in zip(cells, texts, widths, strict=True):
            cell.width = width
            run = cell.paragraphs[0].add_run(text)
            run.bold = bold or None
            run.font.size = Pt(9)

    header = table.rows[0]
    fill(header.cells, list(HEADERS), bold=True)
    _repeat_as_header(header)

    for row in rows:
        cells = table.add_row().cells
        label = f"{row.number}\u2002{row.name}"
        fill(cells, [label, row.definition, row.include, row.exclude, _quoted(row.example)])
        code_paragraph = cells[0].paragraphs[0]
        if row.is_theme:
            code_paragraph.runs[0].bold = True
            for cell in cells:
                _shade(cell, _THEME_FILL)
        else:
            code_paragraph.paragraph_format.left_indent = Cm(0.4 * row.depth)
        if row.marker:
            marker = code_paragraph.add_run(f" ({row.marker})")
            marker.italic = True
            marker.font.size = Pt(9)

    note = doc.add_paragraph()
    note.paragraph_format.space_before = Pt(6)
    run = note.add_run(prov.sentence())
    run.italic = True
    run.font.size = Pt(9)

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------- public

_RENDERERS: dict[str, Callable[[Codebook, list[AppendixRow], _Provenance], bytes]] = {
    "markdown": _markdown,
    "latex": _latex,
    "csv": _csv,
    "docx": _docx,
}


def render_appendix(
    cb: Codebook, fmt: str, *, include_inactive: bool = False, provenance: str | None = None
) -> bytes:
    """The appendix as the bytes of a file in format ``fmt`` (see :func:`write_appendix`)."""
    key = fmt.strip().lower()
    if key not in _RENDERERS:
        raise CodebookError(f"unknown export format {fmt!r}: use {', '.join(FORMATS)}")
    prov = _Provenance(
        name=cb.codebook,
        digest=codebook_hash(cb),
        exported=date.today().isoformat(),
        include_inactive=include_inactive,
        extra=provenance,
    )
    return _RENDERERS[key](cb, appendix_rows(cb, include_inactive=include_inactive), prov)


def write_appendix(
    cb: Codebook, fmt: str, out: Path, *, include_inactive: bool = False, provenance: str | None = None
) -> None:
    """Write the codebook appendix table to ``out`` as ``markdown``, ``latex``, ``csv`` or ``docx``.

    ``provenance`` is extra text (e.g. the source file or the synced version) added after the standard
    provenance sentence. The file is rendered completely before it is opened, so an error never leaves a
    half-written file behind. Raises :class:`CodebookError` for an unknown format or a destination that
    cannot be written.
    """
    data = render_appendix(cb, fmt, include_inactive=include_inactive, provenance=provenance)
    write_output(out, data, error=CodebookError)


__all__ = ["AppendixRow", "FORMATS", "appendix_rows", "render_appendix", "write_appendix"]
