"""PDF files with a text layer: characters and their positions read with PDFium (pypdfium2), paragraphs
rebuilt from the layout by ``gripcode.corpus.pdf_layout``.

Each page is read character by character (text, baseline, extent, size, bold) into fragments: runs of text on
one baseline without a wide gap. Nothing else is kept of a page, so memory follows the text, not the file.
The document's metadata holds each page's span in the text, the running headers and footers and the printed
page numbers that were taken out of the text, and the number of columns found on each page.
"""

from __future__ import annotations

import ctypes
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium_c

from gripcode.corpus.limits import ReadLimits, check_file_size, extracted_text_too_long
from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import ParsedDocument, optional_text
from gripcode.corpus.pdf_layout import Fragment, Page, lay_out
from gripcode.corpus.segment import speaker_turns
from gripcode.errors import DocumentImportError

# A gap wider than this share of the font size ends a fragment (the gutter between columns is wider; the
# space between words, even in a loosely justified line, is narrower).
_FRAGMENT_GAP = 0.6
# A gap wider than this share of the font size is a space between words.
_WORD_GAP = 0.15
# PDFium reports a hyphen that ends a line as one of these (a soft hyphen inside a word is not printed).
_HYPHEN_CHARS = "\x02\ufffe\xad"
_WORD_PATTERN = re.compile(r"[^\s\x02\ufffe]+[\x02\ufffe]?|[\x02\ufffe]")
_BOLD_WEIGHT = 600


def read_pdf(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """One document of the PDF's paragraphs; see the module's description for its metadata."""
    name = path.name
    limits = limits or ReadLimits()
    check_file_size(path, limits)
    pages, info = _extract(path, limits)
    laid = lay_out(pages)
    text = laid.text
    spans = laid.page_spans
    normal = normalise_text(text)
    if normal != text:  # a combining mark that began a fragment composed with the text before it
        text = normal
        spans = [[min(start, len(text)), min(end, len(text))] for start, end in spans]
    if not text.strip():
        raise DocumentImportError(
            f"{name} has no text layer (a scanned PDF?); run OCR first, for example with ocrmypdf, "
            f"and import the result."
        )
    metadata: dict[str, Any] = {"pages": spans}
    if laid.headers:
        metadata["running_headers"] = laid.headers
    if laid.footers:
        metadata["running_footers"] = laid.footers
    if any(laid.page_labels):
        metadata["page_labels"] = laid.page_labels
    if any(count > 1 for count in laid.columns):
        metadata["columns"] = laid.columns
    if laid.notes:
        metadata["notes"] = [[start, end, page + 1] for start, end, page in laid.notes]
    if laid.turned:
        metadata["turned_text"] = laid.turned
    if info.get("author"):
        metadata["author"] = info["author"]
    return [
        ParsedDocument(
            text=text,
            original_name=name,
            title=info.get("title") or path.stem,
            metadata=metadata,
            turns=speaker_turns(text),
        )
    ]


def _extract(path: Path, limits: ReadLimits) -> tuple[list[Page], dict[str, str]]:
    name = path.name
    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise DocumentImportError(
                f"{name} is password-protected; save an unprotected copy and import that.") from exc
        raise DocumentImportError(f"{name} cannot be read as a PDF; it may be damaged. Details: {exc}") from exc
    try:
        count = len(document)
        if count > limits.max_pdf_pages:
            raise DocumentImportError(
                f"{name} has {count:,} pages; PDFs above {limits.max_pdf_pages:,} pages are refused as one "
                f"document. Split it into parts and import those.")
        pages: list[Page] = []
        chars = 0
        for index in range(count):
            page = _read_page(document, index)
            chars += sum(len(fragment.text) for fragment in page.fragments)
            if chars > limits.max_bytes:
                raise extracted_text_too_long(name, limits.max_bytes, limits)
            pages.append(page)
        info = _document_info(document)
    except DocumentImportError:
        raise
    except Exception as exc:  # PDFium reports damaged pages as PdfiumError, others as ctypes/OS errors
        raise DocumentImportError(f"{name} cannot be read as a PDF; it may be damaged. Details: {exc}") from exc
    finally:
        document.close()
    return pages, info


@dataclass
class _Word:
    """A run of characters without a space or line break: where it starts and ends on the page."""

    text: str
    x0: float
    x1: float
    baseline: float
    size: float  # as printed: the font size times the scale of the text and page matrices
    first: int  # index of its first character on the page
    spaced: bool  # a space (not a line break) came before it
    upright: bool  # set horizontally, left to right


def _read_page(document: pypdfium2.PdfDocument, index: int) -> Page:
    page = document[index]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            words = _words(textpage, height)
            upright = [word for word in words if word.upright]
            # Text set at an angle (a stamp in the margin, a label beside a figure) is kept apart from the lines
            # it would cut through, unless most of the page is set that way.
            turned = [word for word in words if not word.upright] if len(upright) * 2 >= len(words) else []
            fragments = _fragments(textpage.raw, upright if turned else words)
        finally:
            textpage.close()
    finally:
        page.close()
    return Page(width=width, height=height, fragments=fragments,
                turned=" ".join(word.text for word in turned) or None)


def _words(textpage: Any, height: float) -> list[_Word]:
    """The page's words, with the positions of their first and last characters only: asking PDFium for
    every character's box costs three times as long, and a word does not change line half-way through
    (PDFium marks a word broken at a line's end with a hyphen character of its own, which ends a word here)."""
    handle = textpage.raw
    count = pdfium_c.FPDFText_CountChars(handle)
    text = textpage.get_text_range(0, count) if count else ""
    if len(text) != count:  # characters outside the Basic Multilingual Plane: ask one by one
        text = "".join(_char(handle, i) for i in range(count))
    box, matrix = pdfium_c.FS_RECTF(), pdfium_c.FS_MATRIX()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    box_ref, matrix_ref = ctypes.byref(box), ctypes.byref(matrix)
    x_ref, y_ref = ctypes.byref(origin_x), ctypes.byref(origin_y)
    get_box, get_origin = pdfium_c.FPDFText_GetLooseCharBox, pdfium_c.FPDFText_GetCharOrigin
    get_matrix, get_size = pdfium_c.FPDFText_GetMatrix, pdfium_c.FPDFText_GetFontSize
    words: list[_Word] = []
    for match in _WORD_PATTERN.finditer(text):
        first, last = match.start(), match.end() - 1
        word = match.group()
        hyphen = word[-1] in _HYPHEN_CHARS
        if hyphen:
            word = word[:-1] + "-"
        get_box(handle, first, box_ref)
        x0, box_height = box.left, box.top - box.bottom
        get_origin(handle, first, x_ref, y_ref)
        baseline = height - origin_y.value
        # PDFium gives the font size as the Tf operand; many producers set 1 Tf and scale with the matrices.
        scale, upright = 1.0, True
        if get_matrix(handle, first, matrix_ref):
            scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)) or 1.0
            upright = matrix.a > 0 and abs(matrix.b) <= 0.05 * abs(matrix.a)
        size = get_size(handle, first) * scale or box_height or 1.0
        get_box(handle, last, box_ref)
        before = text[first - 1] if first else "\n"
        words.append(_Word(_clean(word), x0, box.right, baseline, size, first, before not in "\r\n", upright))
    return words


def _char(handle: Any, index: int) -> str:
    code = pdfium_c.FPDFText_GetUnicode(handle, index)
    return chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else "\ufffd"


def _clean(word: str) -> str:
    """Control characters out (PDFium uses some as markers), a stray surrogate made visible."""
    if word.isprintable():
        return word
    return "".join(char if not 0xD800 <= ord(char) < 0xE000 else "\ufffd"
                   for char in word if char.isprintable() or unicodedata.category(char) == "Mn")


def _fragments(handle: Any, words: list[_Word]) -> list[Fragment]:
    """Words joined into fragments: runs on one baseline without a gap as wide as a gutter."""
    fragments: list[Fragment] = []
    parts: list[str] = []
    current: _Word | None = None
    x0 = x1 = 0.0
    bold = False
    first_word = 0.0
    for word in words:
        if not word.text:
            continue
        if current is not None:
            size = current.size
            gap = word.x0 - x1
            if (abs(word.baseline - current.baseline) > 0.4 * size or gap > _FRAGMENT_GAP * size
                    or word.x1 < x0 or gap < -size):
                fragments.append(Fragment(normalise_text("".join(parts)), x0, x1, current.baseline, size, bold,
                                          first_word))
                current = None
            else:
                if word.spaced or gap > _WORD_GAP * size:
                    parts.append(" ")
                parts.append(word.text)
                x1 = max(x1, word.x1)
                continue
        current = word
        parts = [word.text]
        x0, x1 = word.x0, word.x1
        first_word = word.x1 - word.x0
        bold = _is_bold(handle, word.first)
    if current is not None:
        fragments.append(Fragment(normalise_text("".join(parts)), x0, x1, current.baseline, current.size, bold,
                                  first_word))
    return fragments


def _is_bold(handle: Any, index: int) -> bool:
    if pdfium_c.FPDFText_GetFontWeight(handle, index) >= _BOLD_WEIGHT:
        return True
    size = pdfium_c.FPDFText_GetFontInfo(handle, index, None, 0, None)
    if size <= 0:
        return False
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFText_GetFontInfo(handle, index, buffer, size, None)
    name = buffer.value.decode("utf-8", "replace").lower()
    return "bold" in name or "black" in name or "heavy" in name


def _document_info(document: pypdfium2.PdfDocument) -> dict[str, str]:
    try:
        info = document.get_metadata_dict(skip_empty=True)
    except Exception:  # noqa: BLE001 - a damaged info dictionary should not block the text
        return {}
    found: dict[str, str] = {}
    for key, field in (("title", "Title"), ("author", "Author")):
        text = optional_text(info.get(field))
        if text:
            found[key] = normalise_text(text)
    return found
