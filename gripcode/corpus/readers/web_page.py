"""Saved web pages (.html, .htm): the main text of the page, found by trafilatura, and what the page says of
itself (title, date, author, site name, canonical address).

The bytes are decoded by gripcode's own rule (``corpus/decode``) with the page's ``<meta charset>`` (or XML
declaration) in place of the guess, parsed once with lxml, and the tree is handed to trafilatura, which
never sees a file name or an address and so never downloads anything. Trafilatura runs twice: with
``favor_precision`` to decide whether the page has main text at all (on a page of only menus, banners and a
footer the balanced setting falls back to returning those), and with its balanced setting for the text
itself, which keeps more of real articles (see ARCHITECTURE.md). Its XML output keeps the structure:
each paragraph, heading, list item and table row becomes one paragraph of the document.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import set_date_params

from gripcode.corpus.decode import decode_text
from gripcode.corpus.limits import ReadLimits, read_bytes
from gripcode.corpus.parsed import ParsedDocument, iso_date, optional_text
from gripcode.corpus.readers.blocks import Blocks, row_text
from gripcode.corpus.readers.page_charset import declared_encoding
from gripcode.corpus.readers.text import require_text
from gripcode.corpus.segment import speaker_turns
from gripcode.errors import DocumentImportError

# Block elements of trafilatura's XML; any other element (hi, ref, del, lb, graphic) is inline.
_BLOCK_TAGS = frozenset({"p", "head", "quote", "code", "list", "item", "table", "div", "ab", "body"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's white space (not the no-break space, which is text)
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}")


def read_web_page(path: Path, *, encoding: str | None = None,
                  limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """One document: the page's main text, a block per paragraph; title, date and site from the page."""
    name = path.name
    limits = limits or ReadLimits()
    data = read_bytes(path, limits)
    text, replaced = decode_text(data, name=name, encoding=encoding, declared=declared_encoding(data))
    del data
    require_text(text, name)
    tree = _parse(text, name)
    del text
    with _quiet():
        body = _main_text(tree)
        info = trafilatura.extract_metadata(tree, date_config=set_date_params(False))
    blocks = Blocks(name, limits)
    if body is not None:
        _walk(body, blocks)
    if not blocks.blocks:
        raise DocumentImportError(
            f"{name}: no main text was found in the page: it holds only navigation, banners, footers or similar "
            "page furniture, or nothing at all. If the page does show an article, copy its text into a .txt file "
            "and import that."
        )
    document_text, headings = blocks.text_and_headings()
    metadata: dict[str, Any] = {"headings": headings} if headings else {}
    for key, found in (("author", info.author), ("url", info.url), ("sitename", info.sitename)):
        value = optional_text(found)
        if value:
            metadata[key] = value
    return [
        ParsedDocument(
            text=document_text,
            original_name=name,
            title=optional_text(info.title) or path.stem,
            date=_date(info.date, name),
            source=metadata.get("sitename"),
            language=_language(tree),
            metadata=metadata,
            turns=speaker_turns(document_text),
            replaced=replaced,
        )
    ]


def _parse(text: str, name: str) -> Any:
    # The text is decoded already: lxml is told it is UTF-8, so that a <meta charset> or an XML declaration in
    # it is not obeyed a second time.
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        tree = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise DocumentImportError(f"{name} cannot be read as a web page: {exc}") from exc
    return tree


def _main_text(tree: Any) -> Any | None:
    """Trafilatura's XML of the main text, or None when the page has none."""
    precise = _extracted(tree, precision=True)
    if precise is None or not "".join(str(text) for text in precise.itertext()).strip():
        return None
    balanced = _extracted(tree, precision=False)
    return balanced if balanced is not None else precise


def _extracted(tree: Any, precision: bool) -> Any | None:
    """The body trafilatura finds in ``tree`` (which it copies, never changes): no reader comments, tables kept,
    no images, links or formatting marks (the text is plain), nothing deduplicated across documents."""
    document = trafilatura.bare_extraction(
        tree, output_format="xml", favor_precision=precision, include_comments=False, include_tables=True,
        include_images=False, include_links=False, include_formatting=False, deduplicate=False,
        with_metadata=False)
    return getattr(document, "body", None)


@contextmanager
def _quiet() -> Iterator[None]:
    # Trafilatura and htmldate log what they leave out of every page; that is not the researcher's concern.
    loggers = [logging.getLogger(name) for name in ("trafilatura", "htmldate")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _walk(element: Any, blocks: Blocks) -> None:
    """Add the blocks of ``element``: text outside its block children is a block of its own."""
    if element.tag == "table":
        for row in element.iterchildren("row"):
            blocks.add(row_text([_inline(cell, False) for cell in row.iterchildren("cell")]))
        return
    keep_lines = element.tag == "code"
    pieces = [_spaces(element.text, keep_lines)]
    for child in element:
        if isinstance(child.tag, str) and child.tag in _BLOCK_TAGS:
            blocks.add(_lines("".join(pieces), keep_lines), heading=element.tag == "head")
            pieces = []
            _walk(child, blocks)
        elif isinstance(child.tag, str):
            pieces.append(_inline(child, keep_lines))
        pieces.append(_spaces(child.tail, keep_lines))
    blocks.add(_lines("".join(pieces), keep_lines), heading=element.tag == "head")


def _inline(element: Any, keep_lines: bool) -> str:
    """The text of an inline element and everything in it; a line break (``lb``) is a ``\\n``."""
    if element.tag == "lb":
        return "\n"
    pieces = [_spaces(element.text, keep_lines)]
    for child in element:
        if isinstance(child.tag, str):
            inner = _inline(child, keep_lines)
            pieces.append(inner if child.tag not in _BLOCK_TAGS else f" {inner} ")  # a block in a table cell
        pieces.append(_spaces(child.tail, keep_lines))
    return "".join(pieces)


def _spaces(text: str | None, keep_lines: bool) -> str:
    """HTML text: each run of white space is one space, except in code, where lines are kept."""
    if not text:
        return ""
    return text if keep_lines else _HTML_SPACE.sub(" ", text)


def _lines(text: str, keep_lines: bool) -> str:
    lines = (line.rstrip() if keep_lines else line.strip(" ") for line in text.split("\n"))
    return "\n".join(line for line in lines if line.strip())


def _date(value: str | None, name: str) -> str | None:
    try:
        return iso_date(value, name)
    except DocumentImportError:
        return None  # a page's date is a hint; one that is not a date is left out rather than refuse the page


def _language(tree: Any) -> str | None:
    """The page's language as its ``<html lang>`` gives it, as a lower-case code ("pt" for "pt-BR")."""
    primary = (tree.get("lang") or tree.get("xml:lang") or "").split("-")[0]
    return primary.strip().lower() if _LANGUAGE.fullmatch(primary.strip()) else None
