"""What the Nexis and Factiva readers find in an export: articles, each turned into one ``ParsedDocument``.

The text of an article is its body only: paragraphs with their spaces collapsed, joined by blank lines. The
headline is the title, the outlet the source, the language field gives the language code, and the rest
(byline, section, word count, the language as written, load date, where in which export the article was) is
metadata. Because the body is rebuilt the same way from every layout, the same article exported twice (as .txt
and .docx, or in two searches) gives the same text, and the import skips the second copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import ParsedDocument, Replacements
from gripcode.corpus.readers.news_dates import parse_news_date
from gripcode.errors import DocumentImportError

# "Copyright 2015 ...", "Copyright © 2015", "© 2015 ...", "(c) Mining Weekly Review 2015", "Copyright Mining
# Weekly Review. All rights reserved": a rights notice is short, starts with its sign or the word, and has a
# year or "rights reserved" in it. "(c)" before a word in lower case is an enumerated item, and "Copyright law
# ..." a sentence. The readers look for notices only where the export's layout puts them.
_NOTICE_SIGN = re.compile(r"(?:copyright\s*)?(?:©|\(c\))\s*", re.IGNORECASE)
_NOTICE_WORD = re.compile(r"copyright\b", re.IGNORECASE)
_NOTICE_YEAR = re.compile(r"\b(?:1[89]|2[01])[0-9]{2}\b")
_NOTICE_RIGHTS = re.compile(r"\brights reserved\b", re.IGNORECASE)
_RIGHTS_RESERVED = re.compile(r"all rights reserved\.?", re.IGNORECASE)
_MAX_NOTICE_CHARS = 300
_MAX_COUNT_DIGITS = 12
_WORD_COUNT = re.compile(r"(\d[\d,.\u00a0 ]*)\s*[^\W\d_]*\.?")

# Names of a document's own fields: a metadata key may not shadow one (the .qdpx export keeps the field).
_DOCUMENT_FIELDS = frozenset({"title", "date", "source", "language", "case", "kind"})

_LANGUAGES = {
    "english": "en", "englisch": "en", "anglais": "en", "inglês": "en", "inglés": "en",
    "portuguese": "pt", "português": "pt", "portugues": "pt", "portugiesisch": "pt",
    "chinese": "zh", "chinese-simplified": "zh", "chinese-traditional": "zh", "中文": "zh",
    "russian": "ru", "русский": "ru", "russisch": "ru", "russe": "ru",
    "kazakh": "kk", "қазақ": "kk", "казахский": "kk",
    "german": "de", "deutsch": "de", "allemand": "de",
    "french": "fr", "français": "fr", "francais": "fr", "französisch": "fr",
    "spanish": "es", "español": "es", "espanol": "es", "spanisch": "es",
    "japanese": "ja", "日本語": "ja", "korean": "ko", "italian": "it", "italiano": "it", "dutch": "nl",
}


@dataclass
class NewsArticle:
    """One article of an export, as plain strings; ``metadata`` holds the fields that are not document fields."""

    number: int  # position in the file, from 1
    label: str  # "3 of 12": as the export numbers it (Nexis), or position and count
    headline: str | None
    paragraphs: list[str]
    outlet: str | None = None
    date: str | None = None  # as written
    language: str | None = None  # as written ("ENGLISH", "English")
    metadata: dict[str, Any] = field(default_factory=dict)


def is_rights_notice(text: str) -> bool:
    """A copyright line ("Copyright 2015 Mining Weekly Review", "(c) 2015 ...") or "All Rights Reserved"."""
    text = text.strip()
    if len(text) > _MAX_NOTICE_CHARS:
        return False
    if _RIGHTS_RESERVED.fullmatch(text):
        return True
    sign = _NOTICE_SIGN.match(text)
    if sign:
        if text[sign.end():sign.end() + 1].islower():
            return False
    elif not _NOTICE_WORD.match(text):
        return False
    return bool(_NOTICE_YEAR.search(text) or _NOTICE_RIGHTS.search(text))


def join_wrapped(lines: list[str]) -> str:
    """Lines of a wrapped paragraph as one: joined by a space, except after a line that ends in a hyphen
    following a letter ("rare-" + "earth"), where the word was broken at its hyphen."""
    joined = ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if not joined:
            joined = line
        elif joined.endswith("-") and len(joined) > 1 and joined[-2].isalpha() and line[0].isalpha():
            joined += line
        else:
            joined += " " + line
    return joined


def clean_paragraph(text: str) -> str:
    """A paragraph with its line breaks, tabs, no-break and repeated spaces made single spaces."""
    return " ".join(normalise_text(text.replace("\x00", "")).split())


def word_count(value: str) -> int | str:
    """``"355 words"`` -> 355; a value without a number, or with one too long to be a count, is kept as
    written."""
    match = _WORD_COUNT.fullmatch(value.strip())
    digits = re.sub(r"[^0-9]", "", match.group(1)) if match else ""
    return int(digits) if digits and len(digits) <= _MAX_COUNT_DIGITS else value.strip()


def language_code(name: str | None) -> str | None:
    """The code of a language name as exports print it ("ENGLISH" -> "en"); None when unknown."""
    if not name:
        return None
    return _LANGUAGES.get(name.strip().lower())


def field_key(name: str) -> str:
    """A field's name as a metadata key: "LOAD-DATE" -> "load_date", "Journal Code" -> "journal_code"."""
    return re.sub(r"[^\w]+", "_", name.strip().lower()).strip("_")


def add_field(metadata: dict[str, Any], key: str, value: str) -> None:
    """Store a field; a field given twice keeps both values, joined by "; "."""
    value = " ".join(value.split())
    if not value:
        return
    if key == "word_count":
        metadata[key] = word_count(value)
    elif key in metadata and metadata[key] != value:
        metadata[key] = f"{metadata[key]}; {value}"
    else:
        metadata[key] = value


def articles_to_documents(path: Path, articles: list[NewsArticle], export_format: str,
                          replaced: Replacements | None = None) -> list[ParsedDocument]:
    """One document per article with text; articles without any are listed on the first document's
    ``skipped_parts``. An export without a single article with text is refused."""
    documents: list[ParsedDocument] = []
    skipped: list[tuple[str, str]] = []
    for article in articles:
        name = f"{path.name}#article{article.number}"
        paragraphs = [text for text in (clean_paragraph(p) for p in article.paragraphs) if text]
        if not paragraphs:
            skipped.append((name, f"article {article.label} has no text (only a headline, a picture or a table)"))
            continue
        documents.append(_document(path, name, article, paragraphs, export_format))
    if not documents:
        found = f"{len(articles)} article(s), none with text" if articles else "no articles"
        raise DocumentImportError(f"{path.name} is laid out as a {export_format} export but holds {found}.")
    documents[0].replaced = replaced
    documents[0].skipped_parts = skipped
    return documents


def _document(path: Path, name: str, article: NewsArticle, paragraphs: list[str],
              export_format: str) -> ParsedDocument:
    metadata: dict[str, Any] = {"export_file": path.name, "export_format": export_format, "article": article.label}
    date = parse_news_date(article.date)
    if article.date and date is None:
        metadata["date_as_written"] = article.date
    if article.language:
        # Not "language": that is a field of the document (the code), and a metadata key may not shadow one.
        metadata["language_as_written"] = article.language
    for key, value in article.metadata.items():
        metadata.setdefault(f"{key}_as_written" if key in _DOCUMENT_FIELDS else key, value)
    if isinstance(metadata.get("load_date"), str):
        metadata["load_date"] = parse_news_date(metadata["load_date"]) or metadata["load_date"]
    headline = clean_paragraph(article.headline) if article.headline else ""
    return ParsedDocument(
        text="\n\n".join(paragraphs),
        original_name=name,
        title=headline or f"{path.stem} article {article.number}",
        date=date,
        source=clean_paragraph(article.outlet) if article.outlet else None,
        language=language_code(article.language),
        kind="media",
        metadata=metadata,
    )
