"""Factiva (Dow Jones) exports: HTML pages saved from Factiva, and RTF files in Factiva's "Article Format".

In HTML every article is a ``<div class="article enArticle">`` (the two letters are the language of the
interface). Saved with "Full Article/Report plus Indexing", as the public tm.plugin.factiva package (R, M.
Bouchet-Valat) expects, the div holds a table of field codes: HD headline, BY byline, WC word count, PD date,
SN source, SC source code, LA language, CY copyright, LP and TD the lead and the text as
``<p class="articleParagraph">``, AN "Document <id>". Saved as plain articles, the div holds the same values one
per line: the headline (marked by its class), the byline, "612 words", the date, an optional time, the source,
its code, the language, the copyright, the paragraphs, "Document <id>". The RTF "Article Format" has that
second layout with the headline in bold. The search summary Factiva adds before or after the articles lies
outside them and is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from gripcode.corpus.readers.news_article import NewsArticle, add_field, is_rights_notice
from gripcode.corpus.readers.news_dates import looks_like_date_line
from gripcode.errors import DocumentImportError

DETECT_CHARS = 512_000  # the style sheet of a saved page comes first and takes about 100,000 characters

_ARTICLE_CLASS = re.compile(r"\barticle\s+[a-z]{2,3}Article\b")
_ARTICLE_DIV = re.compile(r"""<div[^>]*\bclass\s*=\s*["']article\s+[a-z]{2,3}Article["']""", re.IGNORECASE)
_DOCUMENT_ID = re.compile(r"\s*Document\s+(?P<id>[A-Za-z0-9]{10,})\s*")
# The same line in a page's HTML, the text of an element of its own ("<div>Document MWKREV00...</div>").
_DOCUMENT_ID_HTML = re.compile(r">(?:\s|&nbsp;|&#160;)*Document(?:\s|&nbsp;|&#160;)+[A-Za-z0-9]{10,}"
                               r"(?:\s|&nbsp;|&#160;)*<")
_WORDS = re.compile(r"\s*\d[\d,.\u00a0 ]*\s+(?:words?|mots|wörter|palabras|palavras|parole|woorden|слов[а]?)\s*",
                    re.IGNORECASE)
_TIME = re.compile(r"\s*\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?(?:\s+[A-Z]{2,5})?\s*", re.IGNORECASE)
_SOURCE_CODE = re.compile(r"[A-Z0-9]{2,12}")
_PAGE = re.compile(r"(?:Page\s+|Pg\.?\s*|p\.\s*)?\d{1,4}", re.IGNORECASE)
_LANGUAGE_NAMES = frozenset((
    "english", "french", "français", "german", "deutsch", "spanish", "español", "portuguese", "português", "russian",
    "русский", "chinese", "chinese-simplified", "chinese-traditional", "中文", "japanese", "日本語", "italian",
    "italiano", "dutch", "kazakh", "arabic", "korean",
))
# Field codes of the indexed layout, with the keys they are stored under.
_CODES = {"BY": "byline", "SE": "section", "ED": "edition", "PG": "page", "ET": "time", "SC": "source_code",
          "CY": "copyright", "WC": "word_count", "CO": "companies", "IN": "industries", "NS": "subjects",
          "RE": "regions", "PUB": "publisher", "IPD": "descriptors", "CLM": "column", "ART": "captions",
          "CR": "credit", "IPC": "ipc_codes"}
_LOOK_AHEAD = 10  # lines after the date within which the copyright or language line is looked for


def looks_like_factiva_html(text: str) -> bool:
    """Whether the start of an HTML page holds a Factiva article: an article div ("article enArticle"), and
    after it the article's "Document <id>" line. A site's own "article myArticle" div is not enough."""
    div = _ARTICLE_DIV.search(text, 0, DETECT_CHARS)
    return div is not None and _DOCUMENT_ID_HTML.search(text, div.end(), div.start() + DETECT_CHARS) is not None


def looks_like_factiva_lines(lines: list[str]) -> bool:
    """Whether the start of ``lines`` holds a Factiva article: a header with "612 words" followed by a date,
    and later the article's "Document <id>" line."""
    seen = 0
    header = False
    for index, line in enumerate(lines):
        seen += len(line) + 1
        if seen > DETECT_CHARS:
            break
        if not header and _WORDS.fullmatch(line):
            following = [text for text in lines[index + 1:index + 6] if text.strip()][:1]
            header = bool(following) and looks_like_date_line(following[0])
        elif header and _DOCUMENT_ID.fullmatch(line):
            return True
    return False


# -- HTML ------------------------------------------------------------------------------------------------


@dataclass
class _HtmlArticle:
    lines: list[tuple[str, bool]] = field(default_factory=list)  # (text, is the headline)
    fields: dict[str, list[str]] = field(default_factory=dict)  # code -> lines of its value


class _FactivaPage(HTMLParser):
    """Collects each article div's lines, or its table of field codes; nothing outside the divs."""

    _BLOCKS = frozenset({"div", "p", "br", "tr", "td", "th", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6"})
    _VOID = frozenset({"br", "img", "hr", "meta", "input", "wbr", "col", "link", "source", "area", "base",
                       "param", "track", "embed"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.articles: list[_HtmlArticle] = []
        self.article: _HtmlArticle | None = None
        self.div_depth = 0  # open divs inside the current article, itself included
        self.headline_depth = 0  # open elements marked as the headline
        self.open_marks: list[bool] = []  # per open element of the article: is it a headline mark
        self.skip_depth = 0  # inside <script> or <style>
        self.buffer: list[str] = []
        self.buffer_headline = False
        self.code: str | None = None  # field code of the table row being read
        self.in_index_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip_depth += 1
            return
        values = dict(attrs)
        css = values.get("class") or ""
        if self.article is None:
            if tag == "div" and _ARTICLE_CLASS.search(css):
                self.article = _HtmlArticle()
                self.articles.append(self.article)
                self.div_depth = 1
            return
        if tag in self._BLOCKS:
            self.end_line()
        if tag == "div":
            self.div_depth += 1
        if tag == "tr":
            self.code = None
        if tag == "td":
            self.in_index_cell = "index" in css.split()
            if self.in_index_cell:
                self.code = None
        if tag in self._VOID:
            return
        mark = "headline" in css.lower() or values.get("id") == "hd"
        self.open_marks.append(mark)
        self.headline_depth += mark

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.article is not None and tag in self._BLOCKS:
            self.end_line()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.article is None:
            return
        if tag in self._BLOCKS:
            self.end_line()
        if tag == "td" and self.in_index_cell:
            self.in_index_cell = False
        if tag not in self._VOID and self.open_marks:
            self.headline_depth -= self.open_marks.pop()
        if tag == "div":
            self.div_depth -= 1
            if self.div_depth == 0:
                self.article = None
                self.open_marks, self.headline_depth, self.code = [], 0, None

    def handle_data(self, data: str) -> None:
        if self.article is None or self.skip_depth:
            return
        self.buffer.append(data)
        if self.headline_depth and data.strip():
            self.buffer_headline = True

    def end_line(self) -> None:
        text = " ".join("".join(self.buffer).split())
        headline, self.buffer, self.buffer_headline = self.buffer_headline, [], False
        if not text or self.article is None:
            return
        if self.in_index_cell:
            self.code = text
        elif self.code is not None:
            self.article.fields.setdefault(self.code, []).append(text)
        else:
            self.article.lines.append((text, headline))


def parse_factiva_html(text: str, name: str) -> list[NewsArticle]:
    """The articles of a Factiva page, in either layout."""
    page = _FactivaPage()
    first = _ARTICLE_DIV.search(text)
    # Nothing before the first article is read (the head holds the page's long style sheet).
    page.feed(text[first.start():] if first else text)
    page.close()
    total = len(page.articles)
    articles = []
    for number, found in enumerate(page.articles, start=1):
        label = f"{number} of {total}"
        if "HD" in found.fields or "TD" in found.fields or "LP" in found.fields:
            articles.append(_indexed_article(found.fields, number, label))
        else:
            lines = [line for line, _ in found.lines]
            bold = [headline for _, headline in found.lines]
            articles.append(_plain_article(lines, bold, number, label, name))
    return articles


def _indexed_article(fields: dict[str, list[str]], number: int, label: str) -> NewsArticle:
    metadata: dict[str, Any] = {}
    for code, values in fields.items():
        if code in ("HD", "SN", "PD", "LA", "LP", "TD", "AN"):
            continue
        add_field(metadata, _CODES.get(code, code.lower()), " ".join(values))
    if "AN" in fields:
        document = _DOCUMENT_ID.fullmatch(" ".join(fields["AN"]))
        metadata["document_id"] = document.group("id") if document else " ".join(fields["AN"])

    def joined(code: str) -> str | None:
        return " ".join(fields[code]) if code in fields else None

    return NewsArticle(number=number, label=label, headline=joined("HD"),
                       paragraphs=fields.get("LP", []) + fields.get("TD", []), outlet=joined("SN"),
                       date=joined("PD"), language=joined("LA"), metadata=metadata)


# -- lines (RTF, and HTML saved without indexing) ----------------------------------------------------------


def parse_factiva_lines(lines: list[str], bold: list[bool], name: str) -> list[NewsArticle]:
    """Articles in Factiva's Article Format, each ending with its "Document <id>" line."""
    kept = [(line.strip(), strong) for line, strong in zip(lines, bold) if line.strip()]
    ends = [index for index, (line, _) in enumerate(kept) if _DOCUMENT_ID.fullmatch(line)]
    articles, start = [], 0
    for number, end in enumerate(ends, start=1):
        segment = kept[start:end + 1]
        articles.append(_plain_article([line for line, _ in segment], [strong for _, strong in segment],
                                       number, f"{number} of {len(ends)}", name))
        start = end + 1
    return articles


def _plain_article(lines: list[str], bold: list[bool], number: int, label: str, name: str) -> NewsArticle:
    lines = [line.strip() for line in lines]
    if not lines:
        return NewsArticle(number=number, label=label, headline=None, paragraphs=[])
    where = f"{name}, article {label}"
    count_at = next((i for i, line in enumerate(lines) if _WORDS.fullmatch(line)), None)
    if count_at is None:
        raise DocumentImportError(f"{where}: no word-count line (such as '612 words') before the text, so the "
                                  "article's header cannot be told from its text.")
    metadata: dict[str, Any] = {}
    add_field(metadata, "word_count", lines[count_at])
    headline, byline, section = _head(lines[:count_at], bold[:count_at])
    if byline:
        metadata["byline"] = byline
    if section:
        metadata["section"] = section
    end = len(lines)
    document = _DOCUMENT_ID.fullmatch(lines[-1]) if lines else None
    if document:
        metadata["document_id"] = document.group("id")
        end -= 1
    header, body_at, notice = _header_lines(lines, count_at + 1, end, where)
    date = header.pop(0) if header and looks_like_date_line(header[0]) else None
    language = header.pop() if header and header[-1].lower() in _LANGUAGE_NAMES else None
    if header and _TIME.fullmatch(header[0]):
        metadata["time"] = header.pop(0)
    outlet = header.pop(0) if header else None
    if header and _SOURCE_CODE.fullmatch(header[0]):
        metadata["source_code"] = header.pop(0)
    for line in header:
        add_field(metadata, "page" if _PAGE.fullmatch(line) else "edition", line)
    if notice:
        metadata["copyright"] = notice
    paragraphs = lines[body_at:end]  # all text, even a line that starts like a notice
    return NewsArticle(number=number, label=label, headline=headline, paragraphs=paragraphs, outlet=outlet,
                       date=date, language=language, metadata=metadata)


def _head(lines: list[str], bold: list[bool]) -> tuple[str | None, str | None, str | None]:
    """Headline, byline and section from the lines before the word count. The headline is the last bold
    run; without bold, the last line that is not a byline. A short label above the headline is its section."""
    if not lines:
        return None, None, None
    if any(bold):
        end = max(i for i, strong in enumerate(bold) if strong) + 1
        start = end
        while start > 0 and bold[start - 1]:
            start -= 1
    else:
        end = len(lines)
        if end > 1 and lines[-1].lower().startswith("by "):
            end -= 1
        start = end - 1
    headline = " ".join(lines[start:end])
    byline = " ".join(lines[end:]) or None
    above = lines[start - 1] if start >= 1 else ""
    # A section is a short label ("Markets"); a line of a search summary above the first article is not.
    section = above if above and len(above) <= 60 and not re.search(r" \| |:", above) else None
    return headline, byline, section


def _header_lines(lines: list[str], start: int, end: int, where: str) -> tuple[list[str], int, str | None]:
    """The header lines after the word count (date, source, language...), where the text begins and the
    copyright notice: the text begins after the language line, or after the notice that follows it. Without
    a language line the header ends at the first notice."""
    window = range(start, min(end, start + _LOOK_AHEAD))
    language = next((i for i in window if lines[i].lower() in _LANGUAGE_NAMES), None)
    if language is not None:
        if language + 1 < end and is_rights_notice(lines[language + 1]):
            return lines[start:language + 1], language + 2, lines[language + 1]
        return lines[start:language + 1], language + 1, None
    notice = next((i for i in window if is_rights_notice(lines[i])), None)
    if notice is not None:
        return lines[start:notice], notice + 1, lines[notice]
    raise DocumentImportError(f"{where}: neither a copyright line nor a language line follows the date, so "
                              "where the text begins cannot be told.")
