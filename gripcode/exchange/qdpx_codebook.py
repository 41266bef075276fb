"""The codes of an imported project, merged into the project's codebook through the ordinary sync.

An imported code is the same as a project code when their GUIDs agree. A project code that has never been
exported has no stored GUID yet; it is compared by the GUID an export would give it (derived from the
codebook's name and its id), so a project exported by a colleague with the same codebook is recognised too.
Matched codes are reused as they are: the project's codebook stays authoritative for their names and
definitions. New codes are added under their imported parent, with ids from their ``gripcode-id`` line
when it is free, otherwise made from their names, and their descriptions split into definition, criteria
and examples as a .qdc import does. The result is synced like a codebook file, so the import is recorded
as a codebook version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.codebook.loader import codebook_to_yaml, parse_codebook
from gripcode.codebook.model import Codebook
from gripcode.codebook.refi_common import derived_guid, hex_colour, normalise_guid
from gripcode.codebook.refi_qdc import Description, assign_ids, parse_description
from gripcode.codebook.sync import current_codebook, database_states, latest_version, sync_codebook
from gripcode.db.locks import lock_codebook
from gripcode.db.models import Code, CodebookVersion
from gripcode.errors import CodebookError, ExchangeError
from gripcode.exchange.qdpx_model import XCode


@dataclass
class CodeMerge:
    by_guid: dict[str, int] = field(default_factory=dict)  # imported GUID -> codes.id that takes its codings
    added: list[str] = field(default_factory=list)
    reused: int = 0
    version: CodebookVersion | None = None


@dataclass
class _New:
    code: XCode
    description: Description
    parent: str | None  # slug of the parent (new or existing)
    id: str = ""
    renamed_from: list[str] = field(default_factory=list)
    children: list[_New] = field(default_factory=list)


def _existing_raw(session: Session) -> tuple[dict[str, Any], set[str]]:
    """The project's codebook as plain data (from its last synced YAML, or from its codes when none was
    synced), and every id it uses or has used."""
    if latest_version(session) is not None:
        _, cb = current_codebook(session)
        raw = cb.model_dump(mode="json")
        used = {fc.id for fc in cb.flat()} | {old for fc in cb.flat() for old in fc.code.renamed_from}
    else:
        codes: list[dict[str, Any]] = []
        for state in database_states(session).values():
            codes.append({"id": state.id, "name": state.name, "parent": state.parent,
                          "definition": state.definition, "include": state.include, "exclude": state.exclude,
                          "examples": state.examples or {}, "rules": state.rules, "color": state.color,
                          "refi_guid": state.refi_guid, "retired": state.status == "retired",
                          "merged_into": state.merged_into})
        raw = {"codebook": "", "codes": codes}
        used = {c["id"] for c in codes}
    used |= set(session.scalars(select(Code.slug)))
    return raw, used


def _index(codes: list[dict[str, Any]], out: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    for code in codes:
        out[code["id"]] = code
        _index(code.get("children") or [], out)
    return out


def _as_data(item: _New) -> dict[str, Any]:
    d = item.description
    return {"id": item.id, "name": item.code.name[:300], "color": hex_colour(item.code.colour),
            "definition": d.definition, "include": d.include, "exclude": d.exclude,
            "examples": {"positive": [e.model_dump() for e in d.positive],
                         "negative": [e.model_dump() for e in d.negative]},
            "renamed_from": item.renamed_from, "retired": d.meta.get("status") == "retired",
            "refi_guid": item.code.guid, "children": [_as_data(child) for child in item.children]}


def merge_codes(session: Session, codes: list[XCode], *, codebook_name: str, note: str, actor: str) -> CodeMerge:
    """Sync the imported ``codes`` into the project (the caller's transaction); ``codebook_name`` names a
    codebook the project did not have yet, ``note`` says where it came from."""
    merge = CodeMerge()
    # The project's codes are read and extended as no sync can change them meanwhile (and the sync below, if any,
    # takes the same lock again).
    lock_codebook(session, exclusive=True)
    version = latest_version(session)
    name_for_guids = version.name if version is not None else codebook_name
    rows = list(session.scalars(select(Code)))
    known: dict[str, Code] = {}
    for row in rows:
        stored = normalise_guid(row.refi_guid) if row.refi_guid else None
        known.setdefault(stored or derived_guid("code", name_for_guids, row.slug), row)
    by_id = {row.id: row for row in rows}

    new_items: list[_New] = []
    roots: list[_New] = []
    matched: dict[str, Code] = {}
    seen: set[str] = set()

    def walk(code: XCode, parent_new: _New | None, parent_slug: str | None) -> None:
        if code.guid in seen:
            raise ExchangeError(f"two codes in the project file have the GUID {code.guid} (the second is "
                                f"{code.name!r}, line {code.line})")
        seen.add(code.guid)
        row = known.get(code.guid)
        if row is not None:
            matched[code.guid] = row
            merge.reused += 1
            for child in code.children:
                walk(child, None, row.slug)
            return
        item = _New(code, parse_description(code.description), parent_slug)
        new_items.append(item)
        (parent_new.children if parent_new is not None else roots).append(item)
        for child in code.children:
            walk(child, item, None)

    try:
        for code in codes:
            walk(code, None, None)
    except RecursionError:
        raise ExchangeError("the project file's codes are nested too deeply to read") from None

    if new_items:
        raw, used = _existing_raw(session)
        assign_ids(new_items, used, lambda item: (item.code.name, item.code.guid))
        for item in new_items:  # a new code's parent slug, once its parent has an id
            for child in item.children:
                child.parent = item.id
        existing = _index(raw["codes"], {})
        for item in roots:
            if item.parent is not None and item.parent in existing:
                existing[item.parent].setdefault("children", []).append(_as_data(item))
            else:
                raw["codes"].append(_as_data(item))
        if not raw.get("codebook"):
            raw["codebook"] = codebook_name
            raw["description"] = note
        try:
            cb = Codebook.model_validate(raw)
            text = codebook_to_yaml(cb)
            cb = parse_codebook(text, name="the imported codebook")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ExchangeError(f"the project file's codes cannot be made into a codebook: {where}: {first['msg']}"
                                ) from None
        except CodebookError as exc:
            raise ExchangeError(f"the project file's codes cannot be made into a valid codebook: {exc}") from None
        result = sync_codebook(session, cb, text, actor=actor)
        merge.version = result.version
        merge.added = [item.id for item in new_items]
        slugs = {row.slug: row for row in session.scalars(select(Code))}
        for item in new_items:
            merge.by_guid[item.code.guid] = slugs[item.id].id

    for guid, row in matched.items():
        if row.refi_guid is None and guid not in {normalise_guid(r.refi_guid or "") for r in rows}:
            row.refi_guid = guid  # the GUID it was recognised by; an export would give it the same
        target, hops = row, 0
        while target.status == "merged" and target.merged_into_id in by_id and hops < len(by_id):
            target, hops = by_id[target.merged_into_id], hops + 1
        merge.by_guid[guid] = target.id
    session.flush()
    return merge
