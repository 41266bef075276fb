"""Readers that turn one file into ``ParsedDocument`` objects, chosen by the file's suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.parsed import ParsedDocument
from gripcode.corpus.readers.markdown import read_markdown
from gripcode.corpus.readers.media_csv import CsvOptions, read_media_csv
from gripcode.corpus.readers.subtitles import read_srt, read_vtt
from gripcode.corpus.readers.text import read_text
from gripcode.errors import DocumentImportError

__all__ = ["SUPPORTED_SUFFIXES", "CsvOptions", "ReadLimits", "read_file"]

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".docx", ".odt", ".pdf", ".html", ".htm", ".csv", ".vtt", ".srt")


def read_docx(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    # python-docx and pypdf load only when a file needs them: together they take as long to import as
    # reading a few thousand text files.
    from gripcode.corpus.readers.docx import read_docx as read

    return read(path, encoding=encoding, limits=limits)


def read_pdf(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    from gripcode.corpus.readers.pdf import read_pdf as read

    return read(path, encoding=encoding, limits=limits)


def read_odt(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    from gripcode.corpus.readers.odt import read_odt as read

    return read(path, encoding=encoding, limits=limits)


def read_html(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """Every .html and .htm file comes here: a saved web page, read for its main text (trafilatura and lxml
    load only now)."""
    from gripcode.corpus.readers.web_page import read_web_page

    return read_web_page(path, encoding=encoding, limits=limits)


_READERS: dict[str, Callable[..., list[ParsedDocument]]] = {
    ".txt": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".docx": read_docx,
    ".odt": read_odt,
    ".pdf": read_pdf,
    ".html": read_html,
    ".htm": read_html,
    ".vtt": read_vtt,
    ".srt": read_srt,
}


def read_file(
    path: str | Path, *, encoding: str | None = None, csv_options: CsvOptions | None = None,
    limits: ReadLimits | None = None,
) -> list[ParsedDocument]:
    """Read ``path`` with the reader for its suffix; ``encoding`` applies to the text-based formats, ``limits``
    to all (the default: ``ReadLimits()``)."""
    path = Path(path)
    supported = ", ".join(SUPPORTED_SUFFIXES)
    if path.is_dir():
        raise DocumentImportError(f"{path} is a directory, not a file; import the files in it one by one.")
    if not path.exists():
        raise DocumentImportError(f"No such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_media_csv(path, encoding=encoding, options=csv_options, limits=limits)
    reader = _READERS.get(suffix)
    if reader is None:
        described = f"'{path.suffix}' files" if path.suffix else "files without a suffix"
        raise DocumentImportError(
            f"Cannot import {path.name}: {described} are not supported. Supported: {supported}."
        )
    return reader(path, encoding=encoding, limits=limits)
