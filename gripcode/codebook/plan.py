"""What changes when one codebook state follows another: the plan that `sync` applies and `diff` prints.

Both sides are reduced to :class:`CodeState` maps keyed by code id, so the same comparison serves a file
against the database (sync, diff FILE) and a file against a file (diff A B). Renames are recognised through
``renamed_from``; a ``renamed_from`` id that is still present on the old side beside the new id folds the old
code into the new one, which is a merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gripcode.codebook.model import Codebook

# Fields whose change is reported as "changed"; a different parent is "moved", a different order is silent.
CONTENT_FIELDS = ("name", "definition", "include", "exclude", "examples", "rules", "color", "refi_guid")
CHANGE_KINDS = ("added", "changed", "renamed", "moved", "merged", "retired", "reactivated", "removed")


@dataclass(frozen=True)
class CodeState:
    """One code as a codebook (or the database) has it, plus how much hangs on it in a project."""

    id: str
    name: str
    parent: str | None = None
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, Any] | None = None
    color: str | None = None
    refi_guid: str | None = None
    status: str = "active"  # active | retired | merged
    merged_into: str | None = None
    position: int = 0
    codings: int | None = None  # None for a code in a file, where there are no codings to count
    memos: int = 0

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(frozen=True)
class CodeChange:
    kind: str  # one of CHANGE_KINDS
    code: str  # the code's id after the change (before it, for "removed")
    detail: str = ""
    old_id: str | None = None  # for renames and folds: the id the code had
    target: str | None = None  # for merges: the code that receives the codings


@dataclass
class SyncPlan:
    changes: list[CodeChange] = field(default_factory=list)
    # Codes that would disappear although codings or memos hang on them: the sync must refuse.
    blocked: list[str] = field(default_factory=list)
    reordered: bool = False

    def of_kind(self, kind: str) -> list[CodeChange]:
        return [c for c in self.changes if c.kind == kind]

    def summary(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in CHANGE_KINDS if self.of_kind(kind)}

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.reordered

    def lines(self) -> list[str]:
        """The plan as a researcher reads it: one line per change, grouped by kind."""
        out = []
        for kind in CHANGE_KINDS:
            for change in self.of_kind(kind):
                out.append(f"{kind:<11} {change.code}" + (f"  ({change.detail})" if change.detail else ""))
        return out


def _status(code: Any) -> str:
    if code.merged_into:
        return "merged"
    return "retired" if code.retired else "active"


def states_from_codebook(cb: Codebook) -> dict[str, CodeState]:
    """The codebook's codes in tree order, as states (no codings: a file holds none)."""
    out = {}
    for position, fc in enumerate(cb.flat()):
        code = fc.code
        out[code.id] = CodeState(
            id=code.id, name=code.name, parent=fc.parent, definition=code.definition, include=code.include,
            exclude=code.exclude, examples=code.examples.model_dump(mode="json"),
            rules=code.rules.model_dump(mode="json") if code.rules is not None else None,
            color=code.color.upper() if code.color else None, refi_guid=code.refi_guid, status=_status(code),
            merged_into=code.merged_into, position=position)
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _hangs(state: CodeState) -> str:
    if state.codings is None:
        return ""
    parts = [_plural(state.codings, "coding")] + ([_plural(state.memos, "memo")] if state.memos else [])
    return " and ".join(parts)


def _with(prefix: str, state: CodeState, verb: str) -> str:
    """``prefix, <verb> 3 codings`` for a project's code; just ``prefix`` for a file's, which has none."""
    hangs = _hangs(state)
    return f"{prefix}, {verb} {hangs}" if hangs else prefix


def plan_changes(old: dict[str, CodeState], new: dict[str, CodeState],
                 renamed_from: dict[str, list[str]]) -> SyncPlan:
    """Compare ``old`` with ``new``; ``renamed_from`` maps a new id to the old ids it declares."""
    plan = SyncPlan()
    source: dict[str, str] = {}  # new id -> the old id whose row (and codings) it takes over
    folds: list[tuple[str, str]] = []  # (old id, new id): an old code absorbed by a code that exists already
    for new_id, olds in renamed_from.items():
        for old_id in olds:
            if old_id not in old or old_id in new:
                continue
            if new_id not in old and new_id not in source:
                source[new_id] = old_id
            else:
                folds.append((old_id, new_id))
    for new_id in new:
        if new_id in old:
            source.setdefault(new_id, new_id)
    new_of_old = {old_id: new_id for new_id, old_id in source.items()}

    for new_id, state in new.items():
        old_id = source.get(new_id)
        if old_id is None:
            status = {"merged": f", merged into {state.merged_into}", "retired": ", retired"}.get(state.status, "")
            plan.changes.append(CodeChange("added", new_id, state.name + status))
            continue
        before = old[old_id]
        if old_id != new_id:
            plan.changes.append(CodeChange("renamed", new_id, _with(f"from {old_id}", before, "with"),
                                           old_id=old_id))
        changed = [f for f in CONTENT_FIELDS if getattr(before, f) != getattr(state, f)
                   and not (f == "refi_guid" and state.refi_guid is None)]
        if changed:
            plan.changes.append(CodeChange("changed", new_id, ", ".join(changed)))
        old_parent = new_of_old.get(before.parent, before.parent) if before.parent else None
        if old_parent != state.parent:
            plan.changes.append(CodeChange("moved", new_id, f"from {old_parent or 'top level'} "
                                                            f"to {state.parent or 'top level'}"))
        if before.position != state.position:
            plan.reordered = True
        if state.status == "merged" and (before.status != "merged" or
                                         new_of_old.get(before.merged_into or "", before.merged_into)
                                         != state.merged_into):
            plan.changes.append(CodeChange("merged", new_id, _with(f"into {state.merged_into}", before, "moving"),
                                           target=state.merged_into))
        elif state.status == "retired" and before.status != "retired":
            hangs = _hangs(before)
            plan.changes.append(CodeChange("retired", new_id, f"keeps {hangs}" if hangs else ""))
        elif state.status == "active" and before.status != "active":
            plan.changes.append(CodeChange("reactivated", new_id, f"was {before.status}"))

    for old_id, new_id in folds:
        before = old[old_id]
        if before.status == "merged" and before.merged_into == new_id:
            continue  # folded by an earlier sync; kept for the record
        detail = _with(f"into {new_id} (listed in its renamed_from)", before, "moving")
        plan.changes.append(CodeChange("merged", old_id, detail, old_id=old_id, target=new_id))
    consumed = set(source.values()) | {old_id for old_id, _ in folds}
    for old_id, before in old.items():
        if old_id in consumed or old_id in new:
            continue
        if before.codings or before.memos:
            plan.blocked.append(f"{old_id} has {_hangs(before)}; mark it `retired: true` or "
                                f"`merged_into: <id>` instead of deleting it")
        else:
            plan.changes.append(CodeChange("removed", old_id, before.name))
    return plan


def renames_of(cb: Codebook) -> dict[str, list[str]]:
    return {fc.id: list(fc.code.renamed_from) for fc in cb.flat() if fc.code.renamed_from}


def plan_codebooks(old: Codebook, new: Codebook) -> SyncPlan:
    """The changes from one codebook file to another (``gripcode codebook diff A B``)."""
    return plan_changes(states_from_codebook(old), states_from_codebook(new), renames_of(new))
