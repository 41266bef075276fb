"""News-database exports told apart from ordinary files with the same suffix, and read as one document per
article.

A Nexis export arrives as .txt, .docx or .rtf, a Factiva one as .html or .rtf; each suffix is also an ordinary
document. With ``news_format="auto"`` the start of the file decides (the first few hundred thousand characters:
a line "1 of 12 DOCUMENTS", "End of Document", a Factiva article div or header) and anything else goes to the
ordinary reader of its suffix. A forced format ("nexis", "factiva") reads the file as that export or refuses
it; "plain" reads it with the ordinary reader of its suffix, whatever it holds. The file's size is checked
against the document limit before it is read, as for every reader.
"""

from __future__ import annotations

import html
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from defusedxml.ElementTree import iterparse

from gripcode.corpus.bounded_zip import check_declared, read_member
from gripcode.corpus.decode import decode_text
from gripcode.corpus.limits import HOW_TO_RAISE, ReadLimits, check_file_size, read_bytes
from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import ParsedDocument
from gripcode.corpus.readers.factiva import DETECT_CHARS as FACTIVA_DETECT_CHARS
from gripcode.corpus.readers.factiva import (
    looks_like_factiva_html,
    looks_like_factiva_lines,
    parse_factiva_html,
    parse_factiva_lines,
)
from gripcode.corpus.readers.news_article import NewsArticle, articles_to_documents
from gripcode.corpus.readers.nexis import DETECT_CHARS as NEXIS_DETECT_CHARS
from gripcode.corpus.readers.nexis import looks_like_nexis, parse_nexis
from gripcode.corpus.readers.page_charset import declared_encoding
from gripcode.corpus.readers.rtf import parse_rtf, rtf_document, rtf_lines
from gripcode.corpus.readers.text import read_decoded, text_document
from gripcode.errors import DocumentImportError

NEWS_FORMATS = ("auto", "nexis", "factiva", "plain")
NEWS_SUFFIXES = {"nexis": (".txt", ".docx", ".rtf"), "factiva": (".html", ".htm", ".rtf", ".txt", ".docx")}
_LAYOUTS = {"nexis": "a Nexis export (a line such as '1 of 12 DOCUMENTS' before each article, or Nexis Uni's "
                     "'Length: ... words', 'Body' and 'End of Document' lines)",
            "factiva": "a Factiva export (articles with a '612 words' line followed by the date, and a "
                       "'Document ...' line at the end of each)"}

# The characters of a file's start that decide whether it is an export (the detectors look no further).
_DETECT_CHARS = max(NEXIS_DETECT_CHARS, FACTIVA_DETECT_CHARS)
_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCX_PEEK_BYTES = 1_000_000  # XML of the start of a .docx, read to tell an export from an ordinary document
# The bytes of a page's start that hold its first FACTIVA_DETECT_CHARS characters, even if all are multi-byte.
_HTML_PEEK_BYTES = 4 * FACTIVA_DETECT_CHARS
# What opening and inflating a damaged or unusual .docx raises (a missing member, encryption, a broken stream);
# the ordinary reader then opens it again and says what is wrong.
_UNREADABLE: tuple[type[Exception], ...] = (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError,
                                            EOFError, NotImplementedError, zlib.error, lzma.LZMAError)
_XML_TAG = re.compile(r"<[^>]*>")
_XML_PARAGRAPH_END = re.compile(r"</w:p>|<w:br\b[^>]*>")

Reader = Callable[..., list[ParsedDocument]]


def check_news_format(path: Path, news_format: str) -> None:
    """Refuse an unknown format, or a forced one for a suffix its exports never have."""
    if news_format not in NEWS_FORMATS:
        raise DocumentImportError(f"unknown news format {news_format!r}; choose one of {', '.join(NEWS_FORMATS)}")
    if news_format in ("auto", "plain"):
        return
    if path.suffix.lower() not in NEWS_SUFFIXES[news_format]:
        allowed = ", ".join(NEWS_SUFFIXES[news_format])
        raise DocumentImportError(f"{path.name} cannot be read as a {news_format.capitalize()} export: those are "
                                  f"read from {allowed} files.")


def read_txt(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None,
             news_format: str = "auto") -> list[ParsedDocument]:
    """A Nexis (or Factiva) export saved as text, else an ordinary text file; the file is read once."""
    text, replaced = read_decoded(path, encoding, limits)
    if news_format == "plain":
        return [text_document(path, text, replaced)]
    # Only the start is split to decide: a long ordinary text is never held as millions of separate lines.
    layout = _layout_of_start(text[:_DETECT_CHARS], news_format, path.name)
    if layout is None:
        return [text_document(path, text, replaced)]
    lines = text.split("\n")
    del text
    return articles_to_documents(path, _articles(lines, [False] * len(lines), True, layout, path.name), layout,
                                 replaced)


def read_rtf_file(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None,
                  news_format: str = "auto") -> list[ParsedDocument]:
    """A Nexis or Factiva export in RTF, else an ordinary RTF document; the file is parsed once."""
    rtf = parse_rtf(read_bytes(path, limits), path.name)
    if news_format == "plain":
        return [rtf_document(path, rtf)]
    layout = _layout_of_start("\n".join(rtf_lines(rtf, _DETECT_CHARS)[0]), news_format, path.name)
    if layout is None:
        return [rtf_document(path, rtf)]
    lines, bold = rtf_lines(rtf)
    return articles_to_documents(path, _articles(lines, bold, False, layout, path.name), layout)


def read_docx_file(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None,
                   news_format: str = "auto", fallback: Reader) -> list[ParsedDocument]:
    """A Nexis export in Word format, else the ordinary .docx reader (``fallback``)."""
    limits = limits or ReadLimits()
    check_file_size(path, limits)
    if news_format == "plain" or (news_format == "auto" and not _docx_start_is_export(path)):
        return fallback(path, encoding=encoding, limits=limits)
    lines = docx_lines(path, limits)
    layout = _layout_of_lines(lines, news_format, path.name)
    if layout is None:
        return fallback(path, encoding=encoding, limits=limits)
    return articles_to_documents(path, _articles(lines, [False] * len(lines), False, layout, path.name), layout)


def read_html_file(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None,
                   news_format: str = "auto", fallback: Reader) -> list[ParsedDocument]:
    """A page saved from Factiva, else the ordinary web-page reader (``fallback``). Whether the page is an
    export is told from its first bytes (Factiva's markers are ASCII), so an ordinary page is decoded only once,
    by the web reader; an export is decoded by the same rule (its declared charset first)."""
    if news_format == "plain":
        return fallback(path, encoding=encoding, limits=limits)
    limits = limits or ReadLimits()
    check_file_size(path, limits)
    if news_format == "auto" and not _html_start_is_factiva(path):
        return fallback(path, encoding=encoding, limits=limits)
    data = read_bytes(path, limits)
    raw, replaced = decode_text(data, name=path.name, encoding=encoding, declared=declared_encoding(data))
    del data
    text = normalise_text(raw)
    del raw
    if looks_like_factiva_html(text):
        return articles_to_documents(path, parse_factiva_html(text, path.name), "Factiva", replaced)
    if news_format == "factiva":
        raise _not_in_layout(path.name, news_format)
    del text
    return fallback(path, encoding=encoding, limits=limits)


def _html_start_is_factiva(path: Path) -> bool:
    """Whether the first bytes of a page hold Factiva's markers (read as Latin-1: they are ASCII); a file that
    cannot be opened is left to the ordinary reader, which says why."""
    try:
        with path.open("rb") as stream:
            head = stream.read(_HTML_PEEK_BYTES)
    except OSError:
        return False
    return looks_like_factiva_html(head.decode("latin-1"))


def _layout_of_start(start: str, news_format: str, name: str) -> str | None:
    """The layout of a file from its first characters. A start without any word of an export's markers ("3 of
    12 DOCUMENTS", "Dokument 3 von 12", "End of Document", "Length:", Factiva's "Document <id>") is an ordinary
    file at once: most files are told apart with a few substring searches, without looking at their lines."""
    if news_format == "auto" and not any(word in start for word in ("DOCUMENT", "Document", "Dokument", "Length:")):
        return None
    return _layout_of_lines(start.split("\n"), news_format, name)


def _layout_of_lines(lines: list[str], news_format: str, name: str) -> str | None:
    """"Nexis", "Nexis Uni" or "Factiva" for an export, None for an ordinary file (only when ``auto``)."""
    if news_format in ("auto", "nexis"):
        layout = looks_like_nexis(lines)
        if layout is not None:
            return layout
    if news_format in ("auto", "factiva") and looks_like_factiva_lines(lines):
        return "Factiva"
    if news_format != "auto":
        raise _not_in_layout(name, news_format)
    return None


def _articles(lines: list[str], bold: list[bool], wrapped: bool, layout: str, name: str) -> list[NewsArticle]:
    if layout == "Factiva":
        return parse_factiva_lines(lines, bold, name)
    return parse_nexis(lines, wrapped, layout, name)


def _not_in_layout(name: str, news_format: str) -> DocumentImportError:
    return DocumentImportError(f"{name} is not laid out as {_LAYOUTS[news_format]}; without --format (or with "
                               "--format auto) gripcode tells exports from ordinary documents itself.")


# -- Word documents ----------------------------------------------------------------------------------------


def _docx_start_is_export(path: Path) -> bool:
    """Whether the first megabyte of the document's XML reads as a Nexis or Factiva export. A file that is not
    a readable .docx is left to the ordinary reader, which says what is wrong with it."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("word/document.xml") as stream:
            xml = stream.read(_DOCX_PEEK_BYTES).decode("utf-8", errors="replace")
    except _UNREADABLE:
        return False
    text = html.unescape(_XML_TAG.sub("", _XML_PARAGRAPH_END.sub("\n", xml)))
    lines = text.split("\n")
    return looks_like_nexis(lines) is not None or looks_like_factiva_lines(lines)


def docx_lines(path: Path, limits: ReadLimits) -> list[str]:
    """The lines of every paragraph of a .docx (in tables too), in order; a line break starts a new line and an
    empty paragraph is an empty line. The archive is checked within the limits before anything is inflated."""
    name = path.name
    zip_limits = limits.zip_limits()
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            check_declared(infos, zip_limits, name, DocumentImportError, HOW_TO_RAISE)
            info = archive.getinfo("word/document.xml")
            xml = read_member(archive, info, zip_limits, name, DocumentImportError, 0, HOW_TO_RAISE)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise DocumentImportError(f"{name} cannot be read as a Word (.docx) document; it may be damaged or an old "
                                  f".doc file (save it as .docx). Details: {exc}") from exc
    lines: list[str] = []
    try:
        for _, element in iterparse(io.BytesIO(xml), events=("end",), forbid_dtd=True):
            if element.tag == f"{_WORD_NS}p":
                lines.extend(normalise_text(_paragraph_text(element)).split("\n"))
                element.clear()
    except Exception as exc:  # defusedxml's refusals and the XML parser's errors
        raise DocumentImportError(f"{name}: the text of the Word document cannot be read ({exc}).") from exc
    return lines


def _paragraph_text(paragraph: Any) -> str:
    """The text of a paragraph's runs (tab stops in its properties are also ``w:tab``, so only runs count)."""
    parts: list[str] = []
    for run in paragraph.iter(f"{_WORD_NS}r"):
        for element in run:
            tag = element.tag
            if tag == f"{_WORD_NS}t" and element.text:
                parts.append(element.text)
            elif tag == f"{_WORD_NS}tab":
                parts.append("\t")
            elif tag in (f"{_WORD_NS}br", f"{_WORD_NS}cr"):
                parts.append("\n")
    return "".join(parts).replace("\x00", "")
