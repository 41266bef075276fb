"""How large a document the readers accept, so that an import never needs unbounded memory.

One number is the user's to set: the largest document, in megabytes (1 MB = 1,000,000 bytes), 500 by default
(``gripcode import --max-size MB``, or ``max_document_mb`` in gripcode.toml). It bounds the file read for text
formats (.txt, .md, .csv, .vtt, .srt, .html, .htm), the file and its extracted text for a .pdf, and the file,
its unpacked XML and its text for a .docx or an .odt. The other limits follow from what the formats are: a Markdown front matter is a
few lines of metadata, and a PDF of more pages than a library's largest volume is not one document.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gripcode.config import DEFAULT_MAX_DOCUMENT_MB, LARGEST_MAX_DOCUMENT_MB
from gripcode.corpus.bounded_zip import ZipLimits, size_text
from gripcode.errors import DocumentImportError

MB = 1_000_000

HOW_TO_RAISE = "raise the limit with `gripcode import --max-size MB` or `max_document_mb` in gripcode.toml"


@dataclass(frozen=True)
class ReadLimits:
    """The limits every reader keeps to; ``max_bytes`` is the configurable one."""

    max_bytes: int = int(DEFAULT_MAX_DOCUMENT_MB * MB)
    max_pdf_pages: int = 20_000
    max_front_matter_bytes: int = 1 * MB
    max_docx_members: int = 10_000

    @classmethod
    def from_mb(cls, megabytes: float | None) -> ReadLimits:
        if megabytes is None:
            return cls()
        # Also refuses inf and nan, which have no size in bytes.
        if not 0 < megabytes <= LARGEST_MAX_DOCUMENT_MB:
            raise DocumentImportError(f"the largest document size must be a positive number of MB up to "
                                      f"{LARGEST_MAX_DOCUMENT_MB:,.0f}, not {megabytes}")
        return cls(max_bytes=int(megabytes * MB))

    def too_large(self, name: str, what: str) -> DocumentImportError:
        """The error for a file whose ``what`` ("is 612.0 MB") passes the limit."""
        return DocumentImportError(
            f"{name} {what}; documents above {size_text(self.max_bytes)} are refused so that an import stays within "
            f"memory. Split the file, or {HOW_TO_RAISE}.")

    def zip_limits(self) -> ZipLimits:
        """A .docx or an .odt: its unpacked parts (XML, images) may together reach the document limit."""
        return ZipLimits(max_members=self.max_docx_members, max_member_bytes=self.max_bytes,
                         max_total_bytes=self.max_bytes)


def check_file_size(path: Path, limits: ReadLimits) -> None:
    """Refuse a file above the limit before reading any of it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentImportError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    if size > limits.max_bytes:
        raise limits.too_large(path.name, f"is {size_text(size)}")


def read_bytes(path: Path, limits: ReadLimits | None = None) -> bytes:
    """A whole file, never more than the limit (checked before reading, and while reading, for a file that
    grows), with operating-system errors turned into an import error that names it."""
    limits = limits or ReadLimits()
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > limits.max_bytes:
                raise limits.too_large(path.name, f"is {size_text(size)}")
            # Asking for the size the file has, not the limit: read(n) sets aside n bytes before it reads.
            data = stream.read(size + 1)
            if len(data) > size:
                data += stream.read(limits.max_bytes + 1 - len(data))
    except OSError as exc:
        raise DocumentImportError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > limits.max_bytes:
        raise limits.too_large(path.name, f"is more than {size_text(limits.max_bytes)}")
    return data


def extracted_text_too_long(name: str, chars: int, limits: ReadLimits) -> DocumentImportError:
    return limits.too_large(name, f"holds more than {chars:,} characters of text")
