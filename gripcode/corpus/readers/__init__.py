"""Readers that turn one file into ``ParsedDocument`` objects, chosen by the file's suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.parsed import ParsedDocument
from gripcode.corpus.readers.markdown import read_markdown
from gripcode.corpus.readers.media_csv import CsvOptions, read_media_csv
from gripcode.corpus.readers.subtitles import read_srt, read_vtt
from gripcode.errors import DocumentImportError

__all__ = ["SUPPORTED_SUFFIXES", "CsvOptions", "ReadLimits", "read_file", "read_web_page"]

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".docx", ".odt", ".rtf", ".pdf", ".html", ".htm", ".csv", ".vtt",
                      ".srt")


def read_docx(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    # python-docx and pypdfium2 load only when a file needs them: together they take as long to import as
    # reading a few thousand text files.
    from gripcode.corpus.readers.docx import read_docx as read

    return read(path, encoding=encoding, limits=limits)


def read_pdf(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    from gripcode.corpus.readers.pdf import read_pdf as read

    return read(path, encoding=encoding, limits=limits)


def read_odt(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    from gripcode.corpus.readers.odt import read_odt as read

    return read(path, encoding=encoding, limits=limits)


def read_web_page(path: Path, *, encoding: str | None = None,
                  limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """An ordinary web page (.html, .htm), one that is not a Factiva export, read for its main text
    (trafilatura and lxml load only now)."""
    from gripcode.corpus.readers.web_page import read_web_page as read

    return read(path, encoding=encoding, limits=limits)


# Suffixes a news-database export may have: their readers tell an export from an ordinary file.
def _read_txt(path: Path, *, encoding: str | None, limits: ReadLimits | None,
              news_format: str) -> list[ParsedDocument]:
    from gripcode.corpus.readers.news import read_txt

    return read_txt(path, encoding=encoding, limits=limits, news_format=news_format)


def _read_rtf(path: Path, *, encoding: str | None, limits: ReadLimits | None,
              news_format: str) -> list[ParsedDocument]:
    from gripcode.corpus.readers.news import read_rtf_file

    return read_rtf_file(path, encoding=encoding, limits=limits, news_format=news_format)


def _read_docx(path: Path, *, encoding: str | None, limits: ReadLimits | None,
               news_format: str) -> list[ParsedDocument]:
    from gripcode.corpus.readers.news import read_docx_file

    return read_docx_file(path, encoding=encoding, limits=limits, news_format=news_format, fallback=read_docx)


def _read_html(path: Path, *, encoding: str | None, limits: ReadLimits | None,
               news_format: str) -> list[ParsedDocument]:
    from gripcode.corpus.readers.news import read_html_file

    return read_html_file(path, encoding=encoding, limits=limits, news_format=news_format, fallback=read_web_page)


_NEWS_READERS: dict[str, Callable[..., list[ParsedDocument]]] = {
    ".txt": _read_txt,
    ".rtf": _read_rtf,
    ".docx": _read_docx,
    ".html": _read_html,
    ".htm": _read_html,
}

_READERS: dict[str, Callable[..., list[ParsedDocument]]] = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".odt": read_odt,
    ".pdf": read_pdf,
    ".vtt": read_vtt,
    ".srt": read_srt,
}


def read_file(
    path: str | Path, *, encoding: str | None = None, csv_options: CsvOptions | None = None,
    limits: ReadLimits | None = None, news_format: str = "auto",
) -> list[ParsedDocument]:
    """Read ``path`` with the reader for its suffix; ``encoding`` applies to the text-based formats, ``limits``
    to all (the default: ``ReadLimits()``), ``news_format`` (one of ``NEWS_FORMATS``) to the suffixes of
    news-database exports: "auto" tells an export from an ordinary file by its first lines, "nexis" and
    "factiva" read the file as that export or refuse it, "plain" reads it as an ordinary file of its suffix.
    An export gives one document per article."""
    path = Path(path)
    supported = ", ".join(SUPPORTED_SUFFIXES)
    if path.is_dir():
        raise DocumentImportError(f"{path} is a directory, not a file; import the files in it one by one.")
    if not path.exists():
        raise DocumentImportError(f"No such file: {path}")
    suffix = path.suffix.lower()
    if news_format != "auto":
        from gripcode.corpus.readers.news import check_news_format

        check_news_format(path, news_format)
    if suffix in _NEWS_READERS:
        return _NEWS_READERS[suffix](path, encoding=encoding, limits=limits, news_format=news_format)
    if suffix == ".csv":
        return read_media_csv(path, encoding=encoding, options=csv_options, limits=limits)
    reader = _READERS.get(suffix)
    if reader is None:
        described = f"'{path.suffix}' files" if path.suffix else "files without a suffix"
        raise DocumentImportError(
            f"Cannot import {path.name}: {described} are not supported. Supported: {supported}."
        )
    return reader(path, encoding=encoding, limits=limits)
