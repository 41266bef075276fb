"""What a reader hands to the importer: normalised text plus what the file itself says about it."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from gripcode.errors import DocumentImportError


@dataclass
class Turn:
    """A speaker turn or subtitle cue: half-open character offsets into ``ParsedDocument.text``."""

    start: int
    end: int
    speaker: str | None = None
    begin_time: float | None = None  # seconds from the start of the recording
    end_time: float | None = None


@dataclass(frozen=True)
class Replacements:
    """Invalid bytes of a mostly-UTF-8 file that decoding replaced by U+FFFD, reported with the import."""

    count: int  # invalid bytes in all
    runs: int  # invalid sequences (a cut-off character is one sequence of up to three bytes)
    offsets: tuple[int, ...]  # byte offsets in the file of the first sequences (at most 20)

    def describe(self) -> str:
        """``3 invalid bytes replaced at byte offsets 17, 230, 1024``."""
        listed = ", ".join(map(str, self.offsets))
        more = ", ..." if self.runs > len(self.offsets) else ""
        noun = "byte" if self.count == 1 else "bytes"
        where = "offset" if len(self.offsets) == 1 else "offsets"
        return f"{self.count} invalid {noun} replaced by U+FFFD at byte {where} {listed}{more}"


@dataclass
class ParsedDocument:
    """One document read from a file (a CSV file yields one per row)."""

    text: str  # already passed through normalise_text
    original_name: str  # file name; for a CSV "file.csv#row3" (1-based data row)
    title: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd
    source: str | None = None
    language: str | None = None
    case: str | None = None
    kind: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable
    turns: list[Turn] = field(default_factory=list)
    replaced: Replacements | None = None  # invalid bytes of the file that decoding replaced
    # Parts of the file its reader left out, with why (a news export's article without text): (name, reason).
    # Like ``replaced``, they concern the whole file and are given on its first document.
    skipped_parts: list[tuple[str, str]] = field(default_factory=list)


def iso_date(value: object, where: str) -> str | None:
    """Return ``value`` as yyyy-mm-dd, or None when empty; ``where`` names the file/row for the error."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        # Also accepts "2023-05-01 10:30:00" and "2023-05-01T10:30Z", as exported by news databases.
        return dt.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise DocumentImportError(
            f"{where}: the date {text!r} is not in the form yyyy-mm-dd (for example 2023-05-01)."
        ) from None


def jsonable(value: object) -> Any:
    """Convert YAML/CSV values (dates, sets, tuples, non-string keys) into JSON-serialisable ones."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def optional_text(value: object) -> str | None:
    """A field value as a stripped string, or None when missing or blank."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None

