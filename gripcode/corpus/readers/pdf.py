"""PDF files with a text layer, read with pypdf; page boundaries are kept as offsets."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pypdf

from gripcode.corpus.limits import ReadLimits, check_file_size, extracted_text_too_long
from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import ParsedDocument, optional_text
from gripcode.corpus.segment import speaker_turns
from gripcode.errors import DocumentImportError

_PAGE_SEPARATOR = "\n\n"


def read_pdf(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """One document: the pages' text joined by blank lines; ``metadata["pages"]`` holds each page's span."""
    name = path.name
    limits = limits or ReadLimits()
    check_file_size(path, limits)
    pages, info = _extract(path, limits)
    parts: list[str] = []
    page_spans: list[list[int]] = []
    position = 0
    for page_text in pages:
        page_text = normalise_text(page_text.replace("\x0c", "\n").replace("\x00", "")).strip()
        if page_text:
            if parts:
                position += len(_PAGE_SEPARATOR)
            parts.append(page_text)
            page_spans.append([position, position + len(page_text)])
            position += len(page_text)
        else:
            page_spans.append([position, position])
    if not parts:
        raise DocumentImportError(
            f"{name} has no text layer (a scanned PDF?); run OCR first, for example with ocrmypdf, "
            f"and import the result."
        )
    text = _PAGE_SEPARATOR.join(parts)
    metadata: dict[str, Any] = {"pages": page_spans}
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


def _extract(path: Path, limits: ReadLimits) -> tuple[list[str], dict[str, str]]:
    name = path.name
    # pypdf logs every recoverable flaw of a file; they are not the researcher's concern.
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(str(path), strict=False)
        if reader.is_encrypted and not _unlocked(reader, name):
            raise DocumentImportError(
                f"{name} is password-protected; save an unprotected copy and import that."
            )
        pages = _page_texts(reader, name, limits)
        info = _document_info(reader)
    except DocumentImportError:
        raise
    except Exception as exc:  # pypdf raises its own errors plus ValueError, KeyError... on damaged files
        raise DocumentImportError(f"{name} cannot be read as a PDF; it may be damaged. Details: {exc}") from exc
    finally:
        logger.setLevel(level)
    return pages, info


def _page_texts(reader: pypdf.PdfReader, name: str, limits: ReadLimits) -> list[str]:
    """Each page's text, stopping at the page and text limits rather than after extracting everything."""
    count = len(reader.pages)
    if count > limits.max_pdf_pages:
        raise DocumentImportError(f"{name} has {count:,} pages; PDFs above {limits.max_pdf_pages:,} pages are "
                                  f"refused as one document. Split it into parts and import those.")
    pages: list[str] = []
    chars = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        chars += len(text)
        if chars > limits.max_bytes:
            raise extracted_text_too_long(name, limits.max_bytes, limits)
        pages.append(text)
    return pages


def _unlocked(reader: pypdf.PdfReader, name: str) -> bool:
    # Many PDFs are encrypted only against editing, with an empty password for reading.
    try:
        return bool(reader.decrypt(""))
    except Exception as exc:  # a missing AES backend surfaces as pypdf.errors.DependencyError
        raise DocumentImportError(f"{name} is encrypted and cannot be opened: {exc}") from exc


def _document_info(reader: pypdf.PdfReader) -> dict[str, str]:
    try:
        info = reader.metadata
    except Exception:  # a damaged info dictionary should not block the text
        return {}
    if info is None:
        return {}
    found: dict[str, str] = {}
    for key, value in (("title", info.title), ("author", info.author)):
        text = optional_text(value)
        if text:
            found[key] = normalise_text(text)
    return found
