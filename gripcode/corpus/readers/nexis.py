"""Nexis (LexisNexis) exports: the classic layout and the newer Nexis Uni one, read from lines of text.

Classic exports (.txt, .rtf, .doc(x)) open with a cover page (the request, the search terms), then each article
starts with a line "3 of 12 DOCUMENTS": the outlet, the date (with an edition), the headline, then fields in
capitals ("BYLINE: ", "SECTION: ", "LENGTH: 355 words"), the body, and more fields ("LOAD-DATE: ",
"LANGUAGE: ") and the copyright notice. In a .txt the lines are wrapped, so a paragraph is a run of lines
between blank lines; in a .docx or .rtf each line is a paragraph.

Nexis Uni exports (.docx, .rtf) open with a cover page listing the documents; each article is the headline,
the outlet, the date, the copyright, "Section:", "Length:", "Byline:" fields (a no-break space after the
colon), a line "Body", the paragraphs, an optional "Classification" block of fields ("Language:",
"Load-Date:") and a line "End of Document".

The layouts follow the public LexisNexisTools package (R, J. B. Gruber), which reads both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gripcode.corpus.readers.news_article import (
    NewsArticle,
    add_field,
    field_key,
    is_rights_notice,
    join_wrapped,
)
from gripcode.corpus.readers.news_dates import looks_like_date_line
from gripcode.errors import DocumentImportError

_CLASSIC_START = re.compile(
    r"\s*(?:(?P<n>\d+) of (?P<m>\d+) DOCUMENTS?|Dokument (?P<n2>\d+) von (?P<m2>\d+)"
    r"|Document (?P<n3>\d+) de (?P<m3>\d+))\s*")
_CLASSIC_FIELD = re.compile(r"\s*(?P<name>[A-ZÄÖÜ][A-ZÄÖÜ-]+):(?:\s+(?P<value>.*))?")
# Field names in capitals, with the German and French ones that mean the same.
_CLASSIC_NAMES = {
    "BYLINE": "byline", "AUTHOR": "byline", "AUTOR": "byline", "AUTEUR": "byline",
    "SECTION": "section", "RUBRIK": "section", "RUBRIQUE": "section",
    "LENGTH": "word_count", "LÄNGE": "word_count", "LONGUEUR": "word_count",
    "LANGUAGE": "language", "SPRACHE": "language", "LANGUE": "language",
    "LOAD-DATE": "load_date", "DATELINE": "dateline", "HIGHLIGHT": "highlight", "EDITION": "edition",
}
_CLASSIC_OTHER = frozenset((
    "PUBLICATION-TYPE", "GRAPHIC", "URL", "TYPE", "SUBJECT", "ORGANIZATION", "PERSON", "GEOGRAPHIC", "COUNTRY",
    "CITY", "STATE", "INDUSTRY", "TICKER", "COMPANY", "DOCUMENT-TYPE", "JOURNAL-CODE", "CORRECTION-DATE", "NOTES",
    "DISTRIBUTION", "SERIES", "COLUMN", "ACC-NO", "UPDATE", "SOURCE", "PUBLICATION", "DESCRIPTOR", "PHOTO",
    "ILLUSTRATION", "GRAFIK", "GRAPHIC-TYPE",
))
# Fields printed after the body: the first of them ends it.
_CLASSIC_TRAILING = frozenset((
    "LOAD-DATE", "LANGUAGE", "SPRACHE", "LANGUE", "PUBLICATION-TYPE", "SUBJECT", "ORGANIZATION", "PERSON",
    "GEOGRAPHIC", "COUNTRY", "CITY", "STATE", "INDUSTRY", "TICKER", "COMPANY", "DOCUMENT-TYPE", "JOURNAL-CODE",
    "ACC-NO", "CORRECTION-DATE",
))

# Fields that come after the body; the trailer of an article (its last run of fields) starts with one of them.
_CLASSIC_AFTER_BODY = _CLASSIC_TRAILING | frozenset((
    "GRAPHIC", "GRAFIK", "GRAPHIC-TYPE", "PHOTO", "ILLUSTRATION", "NOTES", "URL", "DISTRIBUTION", "DESCRIPTOR",
    "PUBLICATION", "TYPE",
))
_EDITION = re.compile(r"\b(?:edition|ausgabe|[ée]dition|edici[óo]n|edi[çc][ãa]o)\b", re.IGNORECASE)

_UNI_END = re.compile(r"\s*End of Document\s*")
_UNI_BODY = re.compile(r"\s*(?:Body|Text)\s*")
_UNI_CLASSIFICATION = "Classification"
_UNI_FIELD = re.compile(r"\s*(?P<name>[A-Z][A-Za-z-]*(?: [A-Z][A-Za-z-]*)?):(?P<sep>[\u00a0 ]+)(?P<value>.*)")
_UNI_NAMES = {"byline": "byline", "author": "byline", "section": "section", "length": "word_count",
              "language": "language", "load-date": "load_date", "dateline": "dateline", "highlight": "highlight"}
_UNI_KNOWN = frozenset((
    "section", "length", "byline", "author", "dateline", "highlight", "language", "load-date", "publication-type",
    "subject", "organization", "person", "geographic", "industry", "company", "ticker", "graphic",
    "notes", "correction-date", "document-type", "series", "edition", "column", "country", "city", "state", "type",
    "url", "journal code",
))
_UNI_TRAILING = frozenset((
    "language", "load-date", "publication-type", "subject", "organization", "person", "geographic", "industry",
    "company", "ticker", "graphic", "notes", "correction-date", "document-type", "series", "journal code",
))

# Detection looks at the start of an export only: a cover page of a few hundred listed documents fits.
DETECT_CHARS = 256_000


@dataclass
class _Block:
    """Consecutive lines that belong together: a paragraph, or a field and its wrapped value."""

    start: int  # index of its first line
    lines: list[str]
    name: str | None = None  # the field's name as printed, when the block is a field
    value: str = ""

    @property
    def text(self) -> str:
        return join_wrapped(self.lines)


def looks_like_nexis(lines: list[str]) -> str | None:
    """"Nexis" or "Nexis Uni" when the start of ``lines`` is laid out as that export, else None.

    A classic export is told by its "3 of 12 DOCUMENTS" line. A Nexis Uni export needs its first article's
    structure: a run of field lines ("Length:\u00a0355 words", "Byline:\u00a0...") with a line "Body" right after
    it, and either a words count among those fields or a line "End of Document" after the body. A line "End of
    Document" alone (the last line of a memo) is not enough, nor is one that comes before such a body."""
    seen = 0
    fields_above = length_above = article = False
    for line in lines:
        seen += len(line) + 1
        if seen > DETECT_CHARS:
            break
        if _CLASSIC_START.fullmatch(line):
            return "Nexis"
        if not line.strip():
            continue
        if _UNI_END.fullmatch(line):
            return "Nexis Uni" if article else None
        if _UNI_BODY.fullmatch(line):
            if fields_above and length_above:
                return "Nexis Uni"
            article = article or fields_above
            fields_above = length_above = False
            continue
        field = _uni_field(line)
        fields_above = field is not None
        length_above = fields_above and (length_above or _is_words_count(field))
    return None


def _is_words_count(field: tuple[str, str] | None) -> bool:
    return field is not None and field[0] == "Length" and re.match(r"\d[\d,.]* words", field[1]) is not None


def parse_nexis(lines: list[str], wrapped: bool, layout: str, name: str) -> list[NewsArticle]:
    """The articles of an export laid out as ``layout`` ("Nexis" or "Nexis Uni")."""
    return _parse_classic(lines, wrapped) if layout == "Nexis" else _parse_uni(lines, wrapped, name)


# -- classic -----------------------------------------------------------------------------------------------


def _classic_field(line: str) -> tuple[str, str] | None:
    match = _CLASSIC_FIELD.fullmatch(line)
    if match and (match.group("name") in _CLASSIC_NAMES or match.group("name") in _CLASSIC_OTHER):
        return match.group("name"), match.group("value") or ""
    return None


def _parse_classic(lines: list[str], wrapped: bool) -> list[NewsArticle]:
    starts = [(index, _CLASSIC_START.fullmatch(line)) for index, line in enumerate(lines)]
    marks = [(index, match) for index, match in starts if match]
    articles = []
    for number, (index, match) in enumerate(marks, start=1):
        end = marks[number][0] if number < len(marks) else len(lines)
        n = match.group("n") or match.group("n2") or match.group("n3")
        m = match.group("m") or match.group("m2") or match.group("m3")
        articles.append(_classic_article(lines[index + 1:end], wrapped, number, f"{n} of {m}"))
    return articles


def _classic_article(lines: list[str], wrapped: bool, number: int, label: str) -> NewsArticle:
    """An article: outlet, date and headline, fields up to LENGTH, then the body, then the trailer (LOAD-DATE,
    LANGUAGE, ... and the copyright notice). Field lines count as fields only there: before the body, and in
    the last run of fields; a paragraph of the body that starts with "UPDATE:" or "COUNTRY:" is text."""
    blocks = _blocks(lines, wrapped, _classic_field)
    metadata: dict[str, Any] = {}
    first_field = next((i for i, block in enumerate(blocks) if block.name), None)
    if (first_field is not None and blocks[first_field].name in _CLASSIC_OTHER
            and not _has_headline(lines[:blocks[first_field].start])):
        # "UPDATE: Baotou plants cut output" where the headline stands is the headline.
        blocks[first_field].name = None
        first_field = next((i for i in range(first_field + 1, len(blocks)) if blocks[i].name), None)
    if first_field is None:
        # No fields at all: outlet, date and headline are the first runs of lines, the rest is the body.
        groups = _groups(lines)
        dated = len(groups) > 1 and looks_like_date_line(groups[1][1][0])
        header_end = min(len(groups), 3 if dated else 2)
        header = [group for _, group in groups[:header_end]]
        body_lines = lines[groups[header_end][0]:] if header_end < len(groups) else []
        body = _blocks(body_lines, wrapped, _classic_field)
        meta_end = -1
    else:
        header = [group for _, group in _groups(lines[:blocks[first_field].start])]
        length = next((i for i, block in enumerate(blocks) if block.name in ("LENGTH", "LÄNGE", "LONGUEUR")), None)
        meta_end = length if length is not None and length >= first_field else first_field
        body = blocks[meta_end + 1:]
    header = [[line for line in group if not _notice(line, metadata)] for group in header]
    outlet, date, edition, headline = _classic_header([group for group in header if group])
    extra_headline = []
    if first_field is not None:
        for block in blocks[first_field:meta_end + 1]:
            if block.name:
                _classic_store(block, metadata)
            elif not _notice(block.text, metadata):
                extra_headline.append(block.text)
    # Fields and a notice may also stand between LENGTH and the first paragraph ("DATELINE: BEIJING").
    lead = 0
    while lead < len(body) and (body[lead].name or is_rights_notice(body[lead].text)):
        lead += 1
    trailer = lead + _trailer_start(body[lead:], lambda name: name in _CLASSIC_AFTER_BODY)
    for block in (*body[:lead], *body[trailer:]):
        if block.name:
            _classic_store(block, metadata)
        else:
            _notice(block.text, metadata)
    paragraphs = [block.text for block in body[lead:trailer]]
    if edition:
        metadata.setdefault("edition", edition)
    language = metadata.pop("language", None)
    headline = " ".join(part for part in [headline, *extra_headline] if part) or None
    return NewsArticle(number=number, label=label, headline=headline, paragraphs=paragraphs, outlet=outlet,
                       date=date, language=language, metadata=metadata)


def _has_headline(lines: list[str]) -> bool:
    """Whether the lines before an article's first field hold a headline after the outlet and date."""
    groups = [kept for kept in ([line for line in group if not is_rights_notice(line)] for _, group in _groups(lines))
              if kept]
    flat = [(line, number) for number, group in enumerate(groups) for line in group]
    date_at = next((i for i, (line, _) in enumerate(flat[:4]) if looks_like_date_line(line)), None)
    if date_at is None:
        return len(groups) > 1  # outlet and headline; a single run is the outlet
    date_group = flat[date_at][1]
    after = [line for line, group in flat[date_at + 1:] if group == date_group]
    if any(group != date_group for _, group in flat[date_at + 1:]) or len(after) > 1:
        return True
    return bool(after) and not _EDITION.search(after[0])


def _classic_store(block: _Block, metadata: dict[str, Any]) -> None:
    assert block.name is not None
    key = _CLASSIC_NAMES.get(block.name) or field_key(block.name)
    add_field(metadata, key, block.value)


def _classic_header(groups: list[list[str]]) -> tuple[str | None, str | None, str | None, str | None]:
    """Outlet, date line, edition and headline from the blocks before the fields."""
    if not groups:
        return None, None, None, None
    flat = [(line.strip(), number) for number, group in enumerate(groups) for line in group]
    date_at = next((i for i, (line, _) in enumerate(flat[:4]) if looks_like_date_line(line)), None)
    if date_at is None:
        if len(groups) == 1:
            return None, None, None, join_wrapped(groups[0])
        return join_wrapped(groups[0]), None, None, join_wrapped([line for group in groups[1:] for line in group])
    outlet = join_wrapped([line for line, _ in flat[:date_at]]) or None
    date, date_group = flat[date_at]
    edition = [line for line, group in flat[date_at + 1:] if group == date_group]
    headline = [line for line, group in flat[date_at + 1:] if group != date_group]
    if not headline and edition:  # outlet, date, edition and headline without blank lines between them
        headline = [edition.pop()]
    return outlet, date, " ".join(edition) or None, join_wrapped(headline) or None


# -- Nexis Uni ---------------------------------------------------------------------------------------------


def _uni_field(line: str) -> tuple[str, str] | None:
    match = _UNI_FIELD.fullmatch(line)
    if not match:
        return None
    name = match.group("name")
    # Nexis Uni puts a no-break space after the colon; an ordinary space is accepted for the names it uses.
    if "\u00a0" in match.group("sep") or name.lower() in _UNI_KNOWN:
        return name, match.group("value")
    return None


def _parse_uni(lines: list[str], wrapped: bool, name: str) -> list[NewsArticle]:
    ends = [index for index, line in enumerate(lines) if _UNI_END.fullmatch(line)]
    segments, start = [], 0
    for end in ends:
        segments.append(lines[start:end])
        start = end + 1
    articles = []
    for number, segment in enumerate(segments, start=1):
        articles.append(_uni_article(segment, wrapped, number, f"{number} of {len(segments)}", name))
    return articles


def _uni_article(lines: list[str], wrapped: bool, number: int, label: str, name: str) -> NewsArticle:
    metadata: dict[str, Any] = {}
    body_at = next((i for i, line in enumerate(lines) if _UNI_BODY.fullmatch(line)), len(lines))
    head = lines[:body_at]
    # The fields are the run of field lines (and blank ones) just above "Body": a cover page above the first
    # article may have lines that read as fields too.
    first_field = len(head)
    for index in range(len(head) - 1, -1, -1):
        if head[index].strip() and not _uni_field(head[index]):
            break
        if head[index].strip():
            first_field = index
    for line in head[first_field:]:
        found = _uni_field(line)
        if found:
            add_field(metadata, _UNI_NAMES.get(found[0].lower()) or field_key(found[0]), found[1])
    header = [line.strip() for line in head[:first_field] if line.strip()]
    header = [line for line in header if not _notice(line, metadata)]
    headline, outlet, date = _uni_header(header, number, name)
    # The body runs to the "Classification" line, or without one to the last run of fields (a paragraph that
    # starts with "Subject: " is text); fields and a notice after it are the article's, other lines are not.
    body = _blocks(lines[body_at + 1:], wrapped, _uni_field)
    classification = next((i for i in range(len(body) - 1, -1, -1)
                           if body[i].name is None and body[i].text == _UNI_CLASSIFICATION), None)
    end = classification if classification is not None else _trailer_start(
        body, lambda field: field.lower() in _UNI_TRAILING)
    for block in body[end:]:
        if block.name:
            add_field(metadata, _UNI_NAMES.get(block.name.lower()) or field_key(block.name), block.value)
        else:
            _notice(block.text, metadata)
    paragraphs = [block.text for block in body[:end]]
    language = metadata.pop("language", None)
    return NewsArticle(number=number, label=label, headline=headline, paragraphs=paragraphs, outlet=outlet,
                       date=date, language=language, metadata=metadata)


def _uni_header(header: list[str], number: int, name: str) -> tuple[str | None, str | None, str | None]:
    """Headline, outlet and date line: the date is the last line before the fields that reads as one; the
    outlet and headline are the lines above it. Anything higher is the cover page (before the first article)."""
    date_at = next((i for i in range(len(header) - 1, -1, -1) if looks_like_date_line(header[i])), None)
    if date_at is None:
        if number == 1 and len(header) > 2:
            raise DocumentImportError(
                f"{name}: the first article of this Nexis Uni export has no date line, so where its cover page "
                "ends cannot be told.")
        return (header[0] if header else None), (header[1] if len(header) > 1 else None), None
    outlet = header[date_at - 1] if date_at >= 1 else None
    headline = header[date_at - 2] if date_at >= 2 else None
    return headline, outlet, header[date_at]


# -- shared ------------------------------------------------------------------------------------------------


def _notice(text: str, metadata: dict[str, Any]) -> bool:
    """Whether ``text`` is a copyright notice; it is kept in the metadata, not in the text."""
    if not is_rights_notice(text):
        return False
    add_field(metadata, "copyright", text)
    return True


def _trailer_start(blocks: list[_Block], after_body: Callable[[str], bool]) -> int:
    """Where the trailer of an article's body begins: the run of field blocks that ends with the last field,
    from its first field of a kind printed after the body; ``len(blocks)`` when there is none."""
    last = next((i for i in range(len(blocks) - 1, -1, -1) if blocks[i].name), None)
    if last is None:
        return len(blocks)
    start = last
    while start > 0 and blocks[start - 1].name:
        start -= 1
    while start <= last and not after_body(blocks[start].name or ""):
        start += 1
    return start if start <= last else len(blocks)


def _blocks(lines: list[str], wrapped: bool, field: Callable[[str], tuple[str, str] | None]) -> list[_Block]:
    """Paragraphs and fields: in wrapped text a paragraph runs to the next blank line, otherwise every line is
    one; a field line always starts a block of its own, and in wrapped text takes the lines that follow it."""
    blocks: list[_Block] = []
    current: _Block | None = None
    for index, line in enumerate(lines):
        if not line.strip():
            current = None
            continue
        found = field(line)
        if found:
            current = _Block(index, [line], found[0], found[1])
            blocks.append(current)
        elif wrapped and current is not None:
            current.lines.append(line)
            if current.name:
                current.value = f"{current.value} {line.strip()}"
        else:
            current = _Block(index, [line])
            blocks.append(current)
        if not wrapped:
            current = None
    return blocks


def _groups(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines (stripped), each with the index of its first line."""
    groups: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for index, line in enumerate(lines):
        if line.strip():
            if not current:
                groups.append((index, current))
            current.append(line.strip())
        else:
            current = []
    return groups
