"""Where a document's text came from, in words: the file, and for a PDF its pages, for a web page its address
and site, for a news article its export, outlet, date and byline. ``show`` prints the long form, ``docs list``
the short one; both read only what the readers stored in the document's metadata."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit


def describe_origin(file: str | None, source: str | None, date: dt.date | str | None,
                    meta: dict[str, Any] | None) -> str:
    """``from briefing.pdf: 2 pages in two columns; left out: running header "...", page numbers 1-2``, or
    ``from export.txt (Nexis export), article 3 of 12: Outlet, 2015-03-01, by ..., section ..., 512 words``."""
    meta = meta if isinstance(meta, dict) else {}
    parts: list[str] = []
    if _is_article(meta):
        export = meta.get("export_file") or (file or "").split("#", 1)[0] or "an export"
        kind = f" ({meta['export_format']} export)" if meta.get("export_format") else ""
        head = f"from {export}{kind}, article {meta['article']}"
        details = _article(source, date, meta)
        return head + (": " + ", ".join(details) if details else "")
    head = f"from {file}" if file else "from an unnamed file"
    if meta.get("url") or meta.get("sitename"):
        parts += _web_page(meta)
    if _is_pdf(file, meta):
        parts += _pdf(meta)
    return head + (": " + "; ".join(parts) if parts else "")


def short_origin(file: str | None, meta: dict[str, Any] | None) -> str:
    """``2 pages``, ``www.example.org``, ``Nexis 3 of 12``: a column of ``docs list``."""
    meta = meta if isinstance(meta, dict) else {}
    if _is_article(meta):
        return f"{meta['export_format']} {meta['article']}"
    if meta.get("url"):
        return urlsplit(str(meta["url"])).netloc or str(meta["url"])
    if meta.get("sitename"):
        return str(meta["sitename"])
    if _is_pdf(file, meta):
        count = len(meta["pages"])
        return f"{count} page" + ("" if count == 1 else "s")
    return ""


def _is_article(meta: dict[str, Any]) -> bool:
    """An article of a news export, as the news readers store it (not a front-matter field named "article")."""
    return meta.get("export_format") in ("Nexis", "Factiva") and isinstance(meta.get("article"), str)


def _is_pdf(file: str | None, meta: dict[str, Any]) -> bool:
    pages = meta.get("pages")
    return (str(file or "").lower().endswith(".pdf") and isinstance(pages, list)
            and all(isinstance(span, list) and len(span) == 2 for span in pages))


def _numbers(values: Any) -> list[int]:
    return [value for value in values if isinstance(value, int)] if isinstance(values, list) else []


def _texts(values: Any) -> list[str]:
    return [value for value in values if isinstance(value, str) and value] if isinstance(values, list) else []


def _pdf(meta: dict[str, Any]) -> list[str]:
    pages = meta["pages"]
    columns = _numbers(meta.get("columns"))
    described = f"{len(pages)} page" + ("" if len(pages) == 1 else "s")
    if columns and max(columns) > 1:
        several = sum(1 for count in columns if count > 1)
        described += (f" in {_number(max(columns))} columns" if several == len(columns)
                      else f", {several} of them in {_number(max(columns))} columns")
    parts = [described]
    left_out = [f'running header "{text}"' for text in _texts(meta.get("running_headers"))]
    left_out += [f'running footer "{text}"' for text in _texts(meta.get("running_footers"))]
    labels = _texts(meta.get("page_labels"))
    if labels:
        left_out.append(f"page numbers {labels[0]}-{labels[-1]}" if len(labels) > 1 else f"page number {labels[0]}")
    if left_out:
        parts.append("left out: " + ", ".join(left_out))
    notes = meta.get("notes")
    if isinstance(notes, list) and notes:
        parts.append(f"{len(notes)} footnote" + ("" if len(notes) == 1 else "s") + " after the text")
    if _texts([turned[1] for turned in meta.get("turned_text") or [] if isinstance(turned, list) and
               len(turned) == 2]):
        parts.append("text set at an angle kept apart")
    return parts


def _labelled(meta: dict[str, Any], labels: tuple[tuple[str, str], ...]) -> list[str]:
    """Each present metadata value written into its label (``("byline", "by {}")`` gives ``by A. Sadykova``)."""
    return [label.format(meta[key]) for key, label in labels if meta.get(key)]


def _web_page(meta: dict[str, Any]) -> list[str]:
    return _labelled(meta, (("url", "saved from {}"), ("sitename", "site {}"), ("author", "by {}")))


def _article(source: str | None, date: dt.date | str | None, meta: dict[str, Any]) -> list[str]:
    return [str(value) for value in (source, date) if value] + _labelled(
        meta, (("byline", "by {}"), ("section", "section {}"), ("word_count", "{} words"),
               ("document_id", "document {}")))


def _number(count: int) -> str:
    return {2: "two", 3: "three", 4: "four"}.get(count, str(count))
