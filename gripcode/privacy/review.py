"""The proposals and the researcher's decisions: pure functions of the key file's state (a plain dict).

An entity is one value of one kind (a person's name as written, an e-mail address, ...) with its pseudonym
and a status: proposed (waiting), accepted or rejected. Nothing is replaced until it is accepted. Two entities
with the same pseudonym are the same person (a full name and a surname alone, say): ``same_as`` gives the
second the first one's pseudonym.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from gripcode.errors import GripcodeError
from gripcode.privacy.spans import normal, value_pattern

KINDS = ("person", "organisation", "place", "email", "phone", "url")
STATUSES = ("proposed", "accepted", "rejected")
DEFAULT_PATTERNS = {"person": "[Person {n}]", "organisation": "[Organisation {letter}]", "place": "[Place {n}]",
                    "email": "[e-mail {n}]", "phone": "[phone {n}]", "url": "[URL {n}]"}
CSV_COLUMNS = ("id", "kind", "value", "pseudonym", "status", "occurrences", "documents", "sources")
STATE_VERSION = 1


class ReviewError(GripcodeError):
    """A proposal that does not exist, or a decision or pattern that cannot be used."""


def new_state() -> dict[str, Any]:
    return {"version": STATE_VERSION, "key_id": uuid.uuid4().hex,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "patterns": dict(DEFAULT_PATTERNS), "entities": [], "applied": []}


def check_state(state: dict[str, Any]) -> dict[str, Any]:
    if state.get("version") != STATE_VERSION or not isinstance(state.get("entities"), list):
        raise ReviewError("the key file holds a state this gripcode does not know; upgrade gripcode")
    return state


def letters(n: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA."""
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ReviewError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    return kind


def render(pattern: str, n: int) -> str:
    try:
        return pattern.format(n=n, letter=letters(n))
    except (KeyError, IndexError, ValueError) as exc:
        raise ReviewError(f"the pseudonym pattern {pattern!r} cannot be used ({exc}); it may contain {{n}} "
                          "(1, 2, 3) and {letter} (A, B, C)") from None


def set_patterns(state: dict[str, Any], patterns: dict[str, str]) -> None:
    """Set pseudonym patterns per kind; every entity the researcher has not edited is renamed by them."""
    for kind, pattern in patterns.items():
        check_kind(kind)
        if "{n}" not in pattern and "{letter}" not in pattern:
            raise ReviewError(f"the pattern for {kind} needs {{n}} or {{letter}}, so that each value gets its own "
                              f"pseudonym: {pattern!r}")
        check_pseudonym(render(pattern, 1))
        state["patterns"][kind] = pattern
    renumber(state)


def check_pseudonym(value: str) -> str:
    value = value.strip()
    if not value or "\n" in value or "\r" in value:
        raise ReviewError("a pseudonym must be one line of text")
    return value


def renumber(state: dict[str, Any]) -> None:
    """Pseudonyms from the patterns, numbered per kind in the order the values were found (ids), so a value
    keeps its pseudonym when more are found later. Edited pseudonyms stay."""
    counters: dict[str, int] = {}
    for entity in sorted(state["entities"], key=lambda e: e["id"]):
        counters[entity["kind"]] = counters.get(entity["kind"], 0) + 1
        if not entity.get("edited"):
            entity["pseudonym"] = render(state["patterns"][entity["kind"]], counters[entity["kind"]])


def _key(kind: str, value: str) -> tuple[str, str]:
    """Values are the same whatever their letter case or Unicode form (they match the same text)."""
    return kind, normal(value).casefold()


def add_findings(state: dict[str, Any], findings: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge detector findings ((kind, value) -> sources, occurrences, documents) into the state; returns the
    new entities. Decisions already taken are kept; counts are brought up to date."""
    known = {_key(e["kind"], e["value"]): e for e in state["entities"]}
    next_id = max((e["id"] for e in state["entities"]), default=0) + 1
    added = []
    for (kind, value), found in sorted(findings.items(), key=lambda item: (item[1]["first"], item[0])):
        entity = known.get(_key(kind, value))
        if entity is None:
            entity = {"id": next_id, "kind": kind, "value": normal(value), "pseudonym": "",
                      "status": "proposed", "edited": False, "sources": [], "occurrences": 0, "documents": 0}
            next_id += 1
            state["entities"].append(entity)
            known[_key(kind, value)] = entity
            added.append(entity)
        entity["sources"] = sorted(set(entity["sources"]) | set(found["sources"]))
        entity["occurrences"], entity["documents"] = found["occurrences"], found["documents"]
    renumber(state)
    return added


def entity(state: dict[str, Any], entity_id: int) -> dict[str, Any]:
    for e in state["entities"]:
        if e["id"] == entity_id:
            return e
    raise ReviewError(f"there is no proposal {entity_id}; `gripcode pseudonymise list` shows them")


def select(state: dict[str, Any], ids: Sequence[int] = (), kind: str | None = None,
           status: str | None = None) -> list[dict[str, Any]]:
    if kind is not None:
        check_kind(kind)
    if status is not None and status not in STATUSES:
        raise ReviewError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    chosen = [entity(state, i) for i in ids] if ids else list(state["entities"])
    return [e for e in chosen if (kind is None or e["kind"] == kind) and (status is None or e["status"] == status)]


def decide(state: dict[str, Any], decision: str, ids: Sequence[int] = (), kind: str | None = None,
           everything: bool = False) -> int:
    """Accept or reject the proposals ``ids`` (or all waiting ones of ``kind``, or all waiting with
    ``everything``); returns how many changed."""
    if decision not in ("accepted", "rejected", "proposed"):
        raise ReviewError(f"unknown decision {decision!r}")
    if not ids and kind is None and not everything:
        raise ReviewError("name the proposals by id, or give --kind or --all")
    targets = select(state, ids, kind, None if ids else "proposed")
    changed = 0
    for e in targets:
        if e["status"] != decision:
            e["status"] = decision
            changed += 1
    return changed


def edit(state: dict[str, Any], entity_id: int, *, pseudonym: str | None = None, kind: str | None = None,
         same_as: int | None = None) -> dict[str, Any]:
    """Change a proposal's pseudonym or kind, or give it another one's pseudonym (the same person)."""
    e = entity(state, entity_id)
    if same_as is not None and pseudonym is not None:
        raise ReviewError("give either a pseudonym or --same-as, not both")
    if kind is not None:
        check_kind(kind)
        clash = [o for o in state["entities"] if o is not e and _key(o["kind"], o["value"]) == _key(kind, e["value"])]
        if clash:
            raise ReviewError(f"{e['value']!r} is already proposal {clash[0]['id']} as {kind}")
        e["kind"] = kind
    if same_as is not None:
        other = entity(state, same_as)
        if other is e:
            raise ReviewError("a proposal cannot be the same as itself")
        e["pseudonym"], e["edited"] = other["pseudonym"], True
    elif pseudonym is not None:
        e["pseudonym"], e["edited"] = check_pseudonym(pseudonym), True
    renumber(state)
    return e


def add_value(state: dict[str, Any], value: str, kind: str = "person", pseudonym: str | None = None,
              status: str = "accepted") -> dict[str, Any]:
    """A value the detectors missed, added by the researcher (accepted unless said otherwise)."""
    check_kind(kind)
    value = normal(value)
    if len(value) < 2:
        raise ReviewError("a value to replace needs at least two characters")
    if status not in STATUSES:
        raise ReviewError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    for e in state["entities"]:
        if _key(e["kind"], e["value"]) == _key(kind, value):
            raise ReviewError(f"{value!r} is already proposal {e['id']}")
    new = {"id": max((e["id"] for e in state["entities"]), default=0) + 1, "kind": kind, "value": value,
           "pseudonym": "", "status": status, "edited": False, "sources": ["researcher"], "occurrences": 0,
           "documents": 0}
    state["entities"].append(new)
    if pseudonym is not None:
        new["pseudonym"], new["edited"] = check_pseudonym(pseudonym), True
    renumber(state)
    return new


def accepted(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The accepted entities, checked: a value accepted under two kinds with two pseudonyms is ambiguous, and
    a pseudonym must not itself contain a value it is meant to hide."""
    chosen = [e for e in state["entities"] if e["status"] == "accepted"]
    by_value: dict[str, dict[str, Any]] = {}
    for e in chosen:
        other = by_value.setdefault(_key("", e["value"])[1], e)
        if other is not e and other["pseudonym"] != e["pseudonym"]:
            raise ReviewError(f"{e['value']!r} is accepted twice with different pseudonyms (proposals {other['id']} "
                              f"and {e['id']}); reject one or give both the same pseudonym")
    for e in chosen:
        for other in chosen:
            if re.search(value_pattern(other["value"]), e["pseudonym"], re.IGNORECASE):
                raise ReviewError(f"the pseudonym {e['pseudonym']!r} (proposal {e['id']}) contains the value "
                                  f"{other['value']!r} it should hide; edit it")
    return chosen


def rows(entities: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": e["id"], "kind": e["kind"], "value": e["value"], "pseudonym": e["pseudonym"],
             "status": e["status"], "occurrences": e["occurrences"], "documents": e["documents"],
             "sources": ",".join(e["sources"])} for e in sorted(entities, key=lambda e: e["id"])]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _guard(value: str) -> str:
    # A spreadsheet runs a cell that starts like a formula (a phone number "+7 ..." included); the apostrophe
    # stops it and is taken off again when the file is read back.
    return "'" + value if value.startswith(_FORMULA_START) or value.startswith("'") else value


def _unguard(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def to_csv(state: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows(state["entities"]):
        writer.writerow([_guard(str(row[c])) if isinstance(row[c], str) else row[c] for c in CSV_COLUMNS])
    return buffer.getvalue()


def from_csv(state: dict[str, Any], text: str, where: str = "the CSV file") -> dict[str, int]:
    """Read decisions back: status, pseudonym and kind of each id; a row without an id adds a value. Every row
    is checked before anything changes, so a file with a mistake changes nothing."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("id", "kind", "value", "pseudonym", "status") if c not in (reader.fieldnames or [])]
    if missing:
        raise ReviewError(f"{where} has no column {', '.join(missing)}; export one with "
                          "`gripcode pseudonymise export`")
    plan: list[tuple[int, dict[str, str]]] = []
    seen: set[int] = set()
    for line, raw in enumerate(reader, start=2):
        row = {k: _unguard((v or "").strip()) for k, v in raw.items() if k}
        try:
            if row["kind"] not in KINDS:
                raise ReviewError(f"unknown kind {row['kind']!r}; use one of {', '.join(KINDS)}")
            if row["status"] not in STATUSES:
                raise ReviewError(f"unknown status {row['status']!r}; use one of {', '.join(STATUSES)}")
            if row["pseudonym"]:
                check_pseudonym(row["pseudonym"])
            if row["id"]:
                if not row["id"].isdigit():
                    raise ReviewError(f"the id {row['id']!r} is not a number")
                number = int(row["id"])
                if number in seen:
                    raise ReviewError(f"proposal {number} is given twice")
                seen.add(number)
                if _key("", entity(state, number)["value"]) != _key("", row["value"]):
                    raise ReviewError(f"the value of proposal {number} was changed; add a new row without an id for "
                                      "a different value")
            elif len(row["value"]) < 2:
                raise ReviewError("a new row needs a value of at least two characters")
        except ReviewError as exc:
            raise ReviewError(f"{where}, line {line}: {exc}; nothing was changed") from None
        plan.append((line, row))
    counts = {"changed": 0, "added": 0}
    trial = {**state, "entities": [dict(e) for e in state["entities"]]}
    for line, row in plan:
        try:
            if row["id"]:
                e = entity(trial, int(row["id"]))
                before = (e["kind"], e["pseudonym"], e["status"])
                if row["kind"] != e["kind"]:
                    edit(trial, e["id"], kind=row["kind"])
                if row["pseudonym"] and row["pseudonym"] != e["pseudonym"]:
                    edit(trial, e["id"], pseudonym=row["pseudonym"])
                e["status"] = row["status"]
                counts["changed"] += before != (e["kind"], e["pseudonym"], e["status"])
            else:
                add_value(trial, row["value"], row["kind"], row["pseudonym"] or None, row["status"])
                counts["added"] += 1
        except ReviewError as exc:
            raise ReviewError(f"{where}, line {line}: {exc}; nothing was changed") from None
    state["entities"] = trial["entities"]
    return counts
