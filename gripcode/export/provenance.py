"""Where an exported table or figure comes from (DESIGN invariant 9).

Every table and figure gripcode writes carries a :class:`Provenance`: what was computed, from which
codebook version, with which filters, coders and coding statuses, from which database and when. The
exporters show it as comment lines (CSV, LaTeX), a sheet (Excel), a footer (HTML, Markdown, terminal),
a caption sentence (LaTeX, figures) or an object (JSON), so a number copied into a paper can be traced
back to the query that produced it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gripcode import __version__

__all__ = ["Provenance"]

_LINE_BREAK_RE = re.compile(r"\s*(?:\r\n|[\n\r\v\f\x85\u2028\u2029])\s*")
# user:password@ in a database URL; the password must never reach an exported file.
_URL_PASSWORD_RE = re.compile(r"(://[^/@:\s]*):[^@/\s]*@")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _one_line(text: str) -> str:
    # Each provenance fact must stay on one line: CSV and LaTeX write them as comment lines, and a
    # line break inside a note would end the comment and leave the rest as data.
    return _LINE_BREAK_RE.sub(" ", str(text)).strip()


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return len(value) == 0
    return False


def _show(value: Any) -> str:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={_show(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return ", ".join(_show(item) for item in items)
    return _one_line(str(value))


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return [_json_safe(item) for item in sorted(value, key=str)]
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return str(value)


def _texts(values: Iterable[str] | str) -> tuple[str, ...]:
    # A single string would otherwise be split into characters by tuple().
    if isinstance(values, str):
        values = [values]
    return tuple(_one_line(value) for value in values if str(value).strip())


@dataclass(frozen=True)
class Provenance:
    """The facts an exported table or figure must carry.

    ``what`` says what was computed; ``codebook`` names the codebook version (name, version, short
    hash); ``filters`` are the selections applied (only non-empty ones are shown); ``coders`` and
    ``statuses`` are empty when all were included; ``generated_at`` is stored in UTC (a naive value is
    taken as UTC); ``database`` is a file name or server/database, and any password in a URL is masked;
    ``notes`` are further remarks, one per line.
    """

    what: str
    codebook: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    coders: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    generated_at: dt.datetime = field(default_factory=_utc_now)
    database: str | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        when = self.generated_at
        when = when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when.astimezone(dt.timezone.utc)
        database = _URL_PASSWORD_RE.sub(r"\1:***@", self.database) if self.database else None
        # frozen: the normalised values are set once here, through object.__setattr__.
        object.__setattr__(self, "what", _one_line(self.what))
        object.__setattr__(self, "codebook", _one_line(self.codebook) if self.codebook else None)
        object.__setattr__(self, "filters", dict(self.filters))
        object.__setattr__(self, "coders", _texts(self.coders))
        object.__setattr__(self, "statuses", _texts(self.statuses))
        object.__setattr__(self, "generated_at", when.replace(microsecond=0))
        object.__setattr__(self, "database", _one_line(database) if database else None)
        object.__setattr__(self, "notes", _texts(self.notes))

    @property
    def shown_filters(self) -> dict[str, Any]:
        """The filters that were actually applied (empty values left out)."""
        return {str(key): value for key, value in self.filters.items() if not _is_empty(value)}

    @property
    def timestamp(self) -> str:
        """``generated_at`` as ISO 8601 in UTC with a ``Z``, to the second."""
        return self.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    def items(self) -> list[tuple[str, str]]:
        """The provenance as (field, value) pairs, in the order :meth:`lines` shows them."""
        pairs = [("What", self.what), ("Codebook", self.codebook or "not recorded")]
        filters = self.shown_filters
        if filters:
            pairs.extend((f"Filter {key}", _show(value)) for key, value in filters.items())
        else:
            pairs.append(("Filters", "none"))
        pairs.append(("Coders", ", ".join(self.coders) if self.coders else "all"))
        pairs.append(("Statuses", ", ".join(self.statuses) if self.statuses else "all"))
        if self.database:
            pairs.append(("Database", self.database))
        pairs.append(("Generated", f"{self.timestamp} by gripcode {__version__}"))
        pairs.extend(("Note", note) for note in self.notes)
        return pairs

    def lines(self) -> list[str]:
        """Human-readable provenance, one fact per line (``"Coders: all"``); no line contains a break."""
        return [f"{key}: {value}" for key, value in self.items()]

    def short(self) -> str:
        """One sentence for a caption or a figure's footnote; ``what`` is left to the caption itself."""
        parts = [f"codebook {self.codebook}" if self.codebook else "codebook not recorded"]
        filters = self.shown_filters
        if filters:
            parts.append("filters " + ", ".join(f"{key} = {_show(value)}" for key, value in filters.items()))
        parts.append("coders " + ", ".join(self.coders) if self.coders else "all coders")
        parts.append("statuses " + ", ".join(self.statuses) if self.statuses else "all statuses")
        parts.append(f"generated {self.generated_at.strftime('%Y-%m-%d %H:%M')} UTC")
        text = "; ".join(parts)
        return f"Source: {text}."

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: dates as ISO strings, non-finite floats as ``None``, sets as sorted lists."""
        return {
            "what": self.what,
            "codebook": self.codebook,
            "filters": _json_safe(self.shown_filters),
            "coders": list(self.coders),
            "statuses": list(self.statuses),
            "generated_at": self.timestamp,
            "database": self.database,
            "notes": list(self.notes),
            "gripcode_version": __version__,
        }
