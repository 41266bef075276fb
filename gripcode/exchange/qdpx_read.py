"""Reading a .qdpx for import, before anything is written: the sources' texts and where selections go.

A source's text comes from ``PlainTextContent``, else from its plain-text file in the archive (any encoding
gripcode's decoder recognises, a byte-order mark dropped), else, when the program left only a Word file
(``richTextPath`` to a .docx), from gripcode's Word reader. Document fields travel as source variables named
``Document kind``, ``Document language``, ``Document date`` and ``Document source``; other source variables
become document metadata (``Document <key> (JSON)`` as the value it encodes).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from gripcode.corpus.decode import decode_bytes
from gripcode.db.models import DOCUMENT_KINDS
from gripcode.errors import DocumentImportError
from gripcode.exchange.qdpx_archive import QdpxArchive
from gripcode.exchange.qdpx_model import XSelection, XTextSource, XVariable
from gripcode.exchange.qdpx_positions import (
    Placement,
    SourceText,
    conventions_for,
    count_names_matching,
    place,
)
from gripcode.exchange.qdpx_variables import DOCUMENT_VARIABLE_PREFIX, JSON_SUFFIX

MAX_EXAMPLES = 10
_DOCUMENT_FIELDS = ("kind", "language", "date", "source")


@dataclass
class QdpxImportReport:
    """What an import did, and everything it could not carry over."""

    file: str
    origin: str = "unknown"
    origin_given: bool = False
    documents_added: list[str] = field(default_factory=list)
    documents_reused: list[str] = field(default_factory=list)
    codes_added: list[str] = field(default_factory=list)
    codes_reused: int = 0
    codebook_version: int | None = None
    coders_added: list[str] = field(default_factory=list)
    cases_added: list[str] = field(default_factory=list)
    cases_reused: list[str] = field(default_factory=list)
    cases_from_sets: bool = False
    codings_added: int = 0
    codings_present: int = 0
    codings_whole_source: int = 0
    memos_added: int = 0
    memos_present: int = 0
    placed_by: Counter[str] = field(default_factory=Counter)
    confirmed_by: Counter[str] = field(default_factory=Counter)
    unplaced: int = 0
    unplaced_examples: list[str] = field(default_factory=list)
    unconfirmed_examples: list[str] = field(default_factory=list)
    non_text: dict[str, int] = field(default_factory=dict)
    non_text_codings: int = 0
    sources_without_text: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        # dataclasses.asdict would rebuild each Counter from (key, count) pairs and so count the pairs.
        return {f.name: dict(value) if isinstance(value := getattr(self, f.name), Counter) else value
                for f in fields(self)}


@dataclass
class LoadedSource:
    """A text source with its text read, its document fields, and its selections once placed."""

    x: XTextSource
    text: SourceText
    title: str
    fields: dict[str, Any]
    meta: dict[str, Any]
    placed: list[tuple[XSelection, Placement]] = field(default_factory=list)
    doc_id: int | None = None


_FRACTION = re.compile(r"(\.\d{6})\d+")


@lru_cache(maxsize=4096)  # a project's codings share a few timestamps
def when(value: str | None) -> dt.datetime | None:
    if not value or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.timezone.utc)


def typed_value(kind: str, text: str) -> tuple[str, Any]:
    """A variable value as gripcode's (type, value): numbers and dates keep their type, the rest is text."""
    if kind in ("Float", "Integer", "FloatValue", "IntegerValue"):
        try:
            return "number", float(text)
        except ValueError:
            return "text", text
    if kind in ("Date", "DateValue"):
        try:
            return "date", dt.date.fromisoformat(text[:10])
        except ValueError:
            return "text", text
    return "text", text



class SourceLoader:
    """Reads the sources' texts from the archive and places their selections, a source at a time; writes
    nothing."""

    def __init__(self, archive: QdpxArchive, variables: list[XVariable], report: QdpxImportReport) -> None:
        self.archive, self.report = archive, report
        self.variables = {v.guid: v for v in variables}
        # Said of the sources' document fields; they come first among the report's warnings.
        self.field_warnings: list[str] = []

    def text(self, x: XTextSource, tmp: Path, number: int) -> SourceText | None:
        """The text of source number ``number``, or None (and the reason in the report) when it has none."""
        text, reason = self._text(x, tmp, number)
        if text is not None and not text.text.strip():
            text, reason = None, "its text is empty"
        if text is None:
            self.report.sources_without_text.append(f"{x.name or x.guid}: {reason}")
        return text

    def loaded(self, x: XTextSource, text: SourceText) -> LoadedSource:
        fields, meta = self._document_fields(x)
        title = x.name or Path(x.plain_path or x.rich_path or "").name or f"source {x.guid[:8]}"
        return LoadedSource(x, text, title[:500], fields, meta)

    def _text(self, x: XTextSource, tmp: Path, number: int) -> tuple[SourceText | None, str]:
        if x.content is not None and x.content.strip():
            return SourceText(x.content), ""
        reason = "it has neither text in the project file nor a text file"
        member = self.archive.resolve(x.plain_path)
        if member is not None:
            try:
                raw = decode_bytes(self.archive.read(member), name=member)
                reason = f"its text file {member} is empty"
            except DocumentImportError as exc:
                raw, reason = "", str(exc)
            if raw.strip():
                return SourceText(raw), ""
        elif x.plain_path:
            reason = f"its text file {x.plain_path} is not in the archive"
        rich = self.archive.resolve(x.rich_path)
        if rich is not None and rich.lower().endswith(".docx"):
            from gripcode.corpus.readers.docx import read_docx  # (python-docx: only for a source left as Word)

            docx_path = tmp / f"rich-{number}.docx"
            docx_path.write_bytes(self.archive.read(rich))
            try:
                parsed = read_docx(docx_path)
            except DocumentImportError as exc:
                return None, f"its Word file {rich} cannot be read: {str(exc).splitlines()[0]}"
            return SourceText(parsed[0].text, from_word=True), ""
        if x.rich_path and rich is None:
            reason += f"; its rich text {x.rich_path} is not in the archive"
        elif rich is not None:
            reason += f"; its rich text {rich} is not a Word (.docx) file"
        return None, reason

    def _document_fields(self, x: XTextSource) -> tuple[dict[str, Any], dict[str, Any]]:
        fields: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        for value in x.values:
            variable = self.variables.get(value.variable)
            name = variable.name if variable is not None else value.variable
            if not value.text:
                continue
            ours = name.startswith(DOCUMENT_VARIABLE_PREFIX)
            short = name[len(DOCUMENT_VARIABLE_PREFIX):] if ours else name
            if ours and short in _DOCUMENT_FIELDS:
                fields[short] = value.text
                continue
            if ours and short.endswith(JSON_SUFFIX):
                try:
                    meta[short[: -len(JSON_SUFFIX)]] = json.loads(value.text)
                    continue
                except ValueError:
                    pass
            kind = variable.type if variable is not None else value.kind
            if kind in ("Integer", "IntegerValue"):
                try:
                    meta[short] = int(value.text)
                    continue
                except ValueError:
                    pass
            if kind in ("Boolean", "BooleanValue") and value.text.lower() in ("true", "false", "1", "0"):
                meta[short] = value.text.lower() in ("true", "1")
                continue
            typed, converted = typed_value(kind, value.text)
            meta[short] = converted.isoformat() if typed == "date" else converted
        if fields.get("kind") not in DOCUMENT_KINDS:
            if "kind" in fields:
                self.field_warnings.append(f"{x.name}: document kind {fields['kind']!r} is unknown; kept as other")
            fields["kind"] = "other"
        if "date" in fields:
            try:
                fields["date"] = dt.date.fromisoformat(fields["date"][:10]).isoformat()
            except ValueError:
                fields.pop("date")
        return fields, meta

    @staticmethod
    def names_matching(x: XTextSource, text: SourceText, origin: str) -> tuple[int, int]:
        """How many of the source's selections are named, and how many of those names match its text: added up
        over the project, they decide whether names are the selected text (``names_look_like_text``)."""
        conventions = {id(text): conventions_for(origin, text.from_word)}
        return count_names_matching(((text, sel.start, sel.end, sel.name or "") for sel in x.selections), conventions)

    def place_selections(self, source: LoadedSource, origin: str, names_are_text: bool) -> None:
        conventions = conventions_for(origin, source.text.from_word)
        for sel in source.x.selections:
            if not sel.codings and not sel.note_refs and not sel.description.strip():
                continue
            result = place(source.text, sel.start, sel.end, sel.name, conventions, names_are_text)
            if isinstance(result, str):
                self.report.unplaced += 1
                if len(self.report.unplaced_examples) < MAX_EXAMPLES:
                    named = f" ({sel.name[:60]!r})" if sel.name else ""
                    self.report.unplaced_examples.append(
                        f"{source.title}: selection {sel.start}-{sel.end}{named}: {result}")
                continue
            source.placed.append((sel, result))
            if result.confirmed_by == "unconfirmed" and len(self.report.unconfirmed_examples) < MAX_EXAMPLES:
                self.report.unconfirmed_examples.append(
                    f"{source.title}: selection {sel.start}-{sel.end} placed at {result.start}-{result.end}: "
                    f"{source.text.text[result.start:result.end][:60]!r}")
            self.report.placed_by[result.convention.label] += 1
            self.report.confirmed_by[result.confirmed_by] += 1

    def unplaced_without_text(self, name: str, missing: int) -> None:
        """Selections with codings on a source that has no text cannot be placed either."""
        self.report.unplaced += missing
        if missing and len(self.report.unplaced_examples) < MAX_EXAMPLES:
            self.report.unplaced_examples.append(f"{name}: {missing} selection(s) on a source without usable text")
