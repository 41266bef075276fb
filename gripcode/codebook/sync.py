"""Make the project's codes follow a codebook file, in one transaction, without losing a coding.

A sync reads the database's codes as :class:`CodeState`s, plans the changes against the file
(:mod:`gripcode.codebook.plan`), refuses if a code with codings or memos would disappear, then applies the plan:
renames keep the row (so codings follow by themselves), merges move codings and memos to the target code,
and every sync that changes anything is stored as a codebook version with the YAML it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, aliased

from gripcode.codebook.loader import codebook_hash, parse_codebook
from gripcode.codebook.model import Codebook
from gripcode.codebook.plan import (
    CodeState,
    SyncPlan,
    plan_changes,
    renames_of,
    states_from_codebook,
)
from gripcode.codebook.versions import latest_version
from gripcode.db.audit import record_event
from gripcode.db.locks import lock_codebook
from gripcode.db.models import Code, CodebookVersion, Coding, Memo
from gripcode.errors import CodebookError


@dataclass
class SyncResult:
    plan: SyncPlan
    version: CodebookVersion | None  # None when nothing changed (or on a dry run)
    codings_moved: int = 0
    codings_combined: int = 0
    unchanged: bool = False


def database_states(session: Session) -> dict[str, CodeState]:
    """Every code in the project (any status) with its number of codings and memos."""
    codings = dict(session.execute(select(Coding.code_id, func.count()).group_by(Coding.code_id)).tuples().all())
    memos = dict(session.execute(select(Memo.code_id, func.count()).where(Memo.code_id.is_not(None))
                                 .group_by(Memo.code_id)).tuples().all())
    parent, target = aliased(Code), aliased(Code)
    rows = session.execute(
        select(Code, parent.slug, target.slug)
        .outerjoin(parent, Code.parent_id == parent.id)
        .outerjoin(target, Code.merged_into_id == target.id)
        .order_by(Code.position, Code.id)
    ).all()
    return {
        code.slug: CodeState(
            id=code.slug, name=code.name, parent=parent_slug, definition=code.definition, include=code.include,
            exclude=code.exclude, examples=code.examples or {}, rules=code.rules, color=code.color,
            refi_guid=code.refi_guid, status=code.status, merged_into=target_slug, position=code.position,
            codings=codings.get(code.id, 0), memos=memos.get(code.id, 0))
        for code, parent_slug, target_slug in rows
    }


def current_codebook(session: Session) -> tuple[CodebookVersion, Codebook]:
    """The codebook the project was last synced with, parsed from its stored YAML."""
    version = latest_version(session)
    if version is None:
        raise CodebookError("no codebook has been synced into this project yet: run `gripcode codebook sync FILE`")
    return version, parse_codebook(version.yaml_snapshot, name=f"codebook version {version.id}")


def plan_sync(session: Session, cb: Codebook) -> SyncPlan:
    return plan_changes(database_states(session), states_from_codebook(cb), renames_of(cb))


def _move_codings(session: Session, source: Code, target: Code) -> tuple[int, int]:
    """Give ``source``'s codings and memos to ``target``. A coding the same coder already made with the target
    code on the same span is combined into it (its memo appended, memos on it re-attached), because the two
    would be one coding after the merge. Returns (moved, combined)."""
    twin = aliased(Coding)
    same_span = and_(twin.code_id == target.id, twin.document_id == Coding.document_id,
                     twin.coder_id == Coding.coder_id, twin.start == Coding.start, twin.end == Coding.end)
    duplicates = session.execute(
        select(Coding, twin).join(twin, same_span).where(Coding.code_id == source.id)).all()
    for coding, kept in duplicates:
        if coding.memo and coding.memo != kept.memo:
            kept.memo = f"{kept.memo}\n\n{coding.memo}" if kept.memo else coding.memo
        session.execute(update(Memo).where(Memo.coding_id == coding.id).values(coding_id=kept.id))
        session.delete(coding)
    session.flush()
    moved = session.execute(update(Coding).where(Coding.code_id == source.id).values(code_id=target.id)).rowcount
    session.execute(update(Memo).where(Memo.code_id == source.id).values(code_id=target.id))
    return moved or 0, len(duplicates)


def sync_codebook(session: Session, cb: Codebook, yaml_text: str, *, actor: str,
                  dry_run: bool = False) -> SyncResult:
    """Apply ``cb`` to the project (the caller's transaction). ``yaml_text`` is stored as the version's snapshot.

    Syncs run one at a time, and never beside a write to a code (:mod:`gripcode.db.locks`): the plan is made
    from the codes as they are once this sync has the project's codebook to itself."""
    lock_codebook(session, exclusive=True)
    plan = plan_sync(session, cb)
    if plan.blocked:
        raise CodebookError("the codebook removes codes that still have codings; nothing was changed",
                            problems=plan.blocked)
    digest = codebook_hash(cb)
    latest = latest_version(session)
    if plan.is_empty and latest is not None and latest.content_hash == digest:
        return SyncResult(plan, None, unchanged=True)
    if dry_run:
        return SyncResult(plan, None)

    # Numbered here, under the codebook lock, rather than by a PostgreSQL sequence, which a failed or
    # interrupted sync would advance for good: the history's numbers have no gaps.
    number = (session.scalar(select(func.max(CodebookVersion.id))) or 0) + 1
    version = CodebookVersion(id=number, name=cb.codebook, content_hash=digest, yaml_snapshot=yaml_text,
                              synced_by=actor, summary=plan.summary())
    session.add(version)
    session.flush()
    rows = {code.slug: code for code in session.scalars(select(Code))}
    # Renames first: the row keeps its id, so its codings, memos and children follow without being touched.
    for change in plan.of_kind("renamed"):
        rows[change.code] = rows.pop(change.old_id)  # type: ignore[arg-type]
        rows[change.code].slug = change.code
    session.flush()

    states = states_from_codebook(cb)
    touched = {c.code for c in plan.changes}
    for slug, state in states.items():
        row = rows.get(slug)
        if row is None:
            row = rows[slug] = Code(slug=slug)
            session.add(row)
        for attr in ("name", "definition", "include", "exclude", "examples", "rules", "color", "position",
                     "status"):
            setattr(row, attr, getattr(state, attr))
        if state.refi_guid is not None:
            row.refi_guid = state.refi_guid
    session.flush()
    for slug, state in states.items():
        rows[slug].parent_id = rows[state.parent].id if state.parent else None
        rows[slug].merged_into_id = rows[state.merged_into].id if state.merged_into else None
        if slug in touched or rows[slug].version_id is None:
            rows[slug].version_id = version.id

    moved = combined = 0
    for change in plan.of_kind("merged"):
        source = rows[change.old_id or change.code]
        n_moved, n_combined = _move_codings(session, source, rows[change.target])  # type: ignore[index]
        moved, combined = moved + n_moved, combined + n_combined
        if change.old_id is not None:  # a fold: the absorbed code is kept, marked merged, for the record
            source.status, source.merged_into_id = "merged", rows[change.target].id  # type: ignore[index]
            source.version_id = version.id
    for change in plan.of_kind("removed"):
        session.delete(rows.pop(change.code))
    session.flush()

    record_event(session, actor, "codebook.synced", "codebook_version", version.id, name=cb.codebook,
                 hash=digest, changes=[f"{c.kind} {c.code}" for c in plan.changes],
                 codings_moved=moved, codings_combined=combined)
    return SyncResult(plan, version, moved, combined)
