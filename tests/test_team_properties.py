"""Property: two coders' copies changed at random (codings added, edited, removed; review decisions; memos
written and removed; a code renamed) and merged give exactly the union of both histories: nothing lost, nothing
duplicated, conflicts only where both changed the same coding differently. Merging again changes nothing, and
merging A into B and B into A give the same codings."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from gripcode.codebook.loader import parse_codebook
from gripcode.codebook.sync import sync_codebook
from gripcode.db.engine import make_engine, transaction
from gripcode.db.migrate import init_database
from gripcode.db.models import Code, Coder, Coding, Document, Memo
from gripcode.team.copy import copy_for
from gripcode.team.merge import merge_project

CODEBOOK = "codebook: t\ncodes:\n  - id: quotas\n    name: {quotas}\n  - id: prices\n    name: Prices\n"
TEXTS = ["Export quotas were cut in 2010 and prices rose.\n", "A second text about prices, quotas and mines.\n"]
CODES = ("quotas", "prices")
STATUSES = ("accepted", "suggested", "rejected")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with two documents, two codes, four codings by the lead and a memo; copies for ana and ben."""
    folder = tmp_path_factory.mktemp("team-base")
    engine = make_engine(f"sqlite:///{folder / 'p.db'}")
    init_database(engine)
    from gripcode.corpus.importer import ImportItem, ImportOptions, import_items

    items = []
    for number, body in enumerate(TEXTS):
        path = folder / f"d{number}.txt"
        path.write_text(body, encoding="utf-8")
        items.append(ImportItem(path, ImportOptions()))
    with transaction(engine) as s:
        sync_codebook(s, parse_codebook(CODEBOOK.format(quotas="Quotas")), CODEBOOK.format(quotas="Quotas"),
                      actor="lead")
        import_items(s, items, actor="lead")
    with transaction(engine) as s:
        lead = Coder(name="lead")
        s.add(lead)
        s.flush()
        codes = {c.slug: c.id for c in s.scalars(select(Code))}
        for doc in s.scalars(select(Document)):
            for offset, slug in enumerate(CODES):
                s.add(Coding(document_id=doc.id, code_id=codes[slug], coder_id=lead.id, start=offset, end=10,
                             quote=doc.text[offset:10]))
        s.add(Memo(target="project", text="base memo", coder_id=lead.id))
    copy_for(engine, "ana", folder / "a.db", actor="lead")
    copy_for(engine, "ben", folder / "b.db", actor="lead")
    engine.dispose()
    return folder


op = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 1), st.sampled_from(CODES), st.integers(0, 20), st.integers(1, 8)),
    st.tuples(st.just("span"), st.integers(0, 9), st.integers(11, 30)),
    st.tuples(st.just("memo"), st.integers(0, 9), st.sampled_from(["", "why", "check"])),
    st.tuples(st.just("review"), st.integers(0, 9), st.sampled_from(STATUSES)),
    st.tuples(st.just("remove"), st.integers(0, 9)),
    st.tuples(st.just("undo"), st.integers(0, 9)),  # removed and restored under its GUID (the workbench's undo)
    st.tuples(st.just("note"), st.sampled_from(["a", "b"])),
    st.tuples(st.just("unnote"), st.integers(0, 3)),
)


def content(s: Any) -> dict[str, tuple[Any, ...]]:
    rows = s.execute(select(Coding.refi_guid, Document.sha256, Code.slug, Coder.name, Coding.start, Coding.end,
                            Coding.status, Coding.memo)
                     .join(Document, Coding.document_id == Document.id).join(Code, Coding.code_id == Code.id)
                     .join(Coder, Coding.coder_id == Coder.id)).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def memos(s: Any) -> set[tuple[str, str]]:
    return {tuple(r) for r in s.execute(select(Memo.refi_guid, Memo.text)).all()}  # type: ignore[misc]


def apply_ops(path: Path, coder: str, ops: list[tuple[Any, ...]], rename: str | None) -> tuple[set[str], int]:
    """Carry out ``ops`` in the copy at ``path``; returns the GUIDs of codings whose content changed (or that
    were removed) and how many memos were added."""
    engine = make_engine(f"sqlite:///{path}")
    touched: set[str] = set()
    try:
        with transaction(engine) as s:
            me = s.scalar(select(Coder).where(Coder.name == coder))
            codes = {c.slug: c.id for c in s.scalars(select(Code))}
            docs = list(s.scalars(select(Document).order_by(Document.id)))
            if rename:
                yaml = CODEBOOK.format(quotas=rename)
                sync_codebook(s, parse_codebook(yaml), yaml, actor=coder)
            for step in ops:
                rows = list(s.scalars(select(Coding).order_by(Coding.id)))
                keys = {(c.document_id, c.code_id, c.coder_id, c.start, c.end) for c in rows}
                kind = step[0]
                if kind == "add":
                    doc, start, end = docs[step[1]], step[3], step[3] + step[4]
                    if (doc.id, codes[step[2]], me.id, start, end) not in keys:
                        s.add(Coding(document_id=doc.id, code_id=codes[step[2]], coder_id=me.id, start=start,
                                     end=end, quote=doc.text[start:end]))
                elif kind == "undo" and rows:
                    from gripcode.coding.service import remove_coding
                    from gripcode.coding.undo import copy_coding, restore_coding

                    coding = rows[step[1] % len(rows)]
                    touched.add(coding.refi_guid)
                    kept = copy_coding(s, coding.id)
                    remove_coding(s, coding.id, actor=coder)
                    restore_coding(s, kept, actor=coder)
                elif kind in ("span", "memo", "review", "remove") and rows:
                    coding = rows[step[1] % len(rows)]
                    before = (coding.start, coding.end, coding.status, coding.memo)
                    if kind == "span":
                        key = (coding.document_id, coding.code_id, coding.coder_id, coding.start, step[2])
                        if key in keys or step[2] <= coding.start:
                            continue
                        text = s.get(Document, coding.document_id).text  # type: ignore[union-attr]
                        coding.end, coding.quote = step[2], text[coding.start:step[2]]
                    elif kind == "memo":
                        coding.memo = step[2] or None
                    elif kind == "review":
                        coding.status = step[2]
                    else:
                        touched.add(coding.refi_guid)
                        s.delete(coding)
                        s.flush()
                        continue
                    if (coding.start, coding.end, coding.status, coding.memo) != before:
                        touched.add(coding.refi_guid)
                elif kind == "note":
                    s.add(Memo(target="project", text=f"{coder} {step[1]}", coder_id=me.id))
                elif kind == "unnote":
                    notes = list(s.scalars(select(Memo).order_by(Memo.id)))
                    if notes:
                        s.execute(delete(Memo).where(Memo.id == notes[step[1] % len(notes)].id))
                s.flush()
    finally:
        engine.dispose()
    return touched, 0


def state(path: Path) -> tuple[dict[str, tuple[Any, ...]], set[tuple[str, str]]]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with transaction(engine, write=False) as s:
            return content(s), memos(s)
    finally:
        engine.dispose()


def merge(into: Path, other: Path) -> Any:
    engine = make_engine(f"sqlite:///{into}")
    try:
        with transaction(engine) as s:
            return merge_project(s, other, actor="lead")
    finally:
        engine.dispose()


def expected(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any], touched_mine: set[str],
             touched_theirs: set[str]) -> tuple[dict[str, Any], set[str]]:
    """The union of two histories from ``base``, seen from ``mine``: conflicts keep mine."""
    result: dict[str, Any] = {}
    conflicts: set[str] = set()
    for guid in set(base) | set(mine) | set(theirs):
        if guid not in base:
            result[guid] = mine.get(guid, theirs.get(guid))
            continue
        a, b = mine.get(guid), theirs.get(guid)
        if guid in touched_mine and guid in touched_theirs and a != b:
            conflicts.add(guid)
            result[guid] = a
        elif guid in touched_theirs:
            result[guid] = b
        else:
            result[guid] = a
    return {g: v for g, v in result.items() if v is not None}, conflicts


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops_a=st.lists(op, max_size=8), ops_b=st.lists(op, max_size=8),
       rename=st.sampled_from([None, "a", "b"]))
@example(ops_a=[("remove", 0)], ops_b=[("memo", 0, "why")], rename=None)  # removed in one, changed in the other
@example(ops_a=[("span", 1, 20)], ops_b=[("span", 1, 20)], rename="a")  # the same edit in both: no conflict
@example(ops_a=[("review", 0, "rejected"), ("review", 0, "accepted")], ops_b=[], rename=None)  # back and forth
@example(ops_a=[("undo", 0)], ops_b=[], rename=None)  # an undone removal is not a removal
@example(ops_a=[("undo", 0)], ops_b=[("memo", 0, "why")], rename=None)  # undone in one, changed in the other
def test_merging_two_copies_gives_the_union_of_their_histories(base: Path, ops_a: list[Any], ops_b: list[Any],
                                                               rename: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a.db", Path(tmp) / "b.db"
        shutil.copy(base / "a.db", a)
        shutil.copy(base / "b.db", b)
        start, start_memos = state(a)
        name = "Quota policy"
        touched_a, _ = apply_ops(a, "ana", ops_a, name if rename == "a" else None)
        touched_b, _ = apply_ops(b, "ben", ops_b, name if rename == "b" else None)
        if rename:  # the merge refuses until the codebooks agree; the other copy syncs the same codebook
            other = b if rename == "a" else a
            refused = None
            try:
                merge(other, a if rename == "a" else b)
            except Exception as exc:  # noqa: BLE001 - the refusal is what is checked
                refused = exc
            assert refused is not None and "codebook sync" in str(refused)
            apply_ops(other, "ben" if rename == "a" else "ana", [], name)
        codings_a, memos_a = state(a)
        codings_b, memos_b = state(b)
        want_b, conflicts = expected(start, codings_b, codings_a, touched_b, touched_a)
        want_a, _ = expected(start, codings_a, codings_b, touched_a, touched_b)
        removed_memos = start_memos - (memos_a & memos_b)
        want_memos = (memos_a | memos_b) - removed_memos

        report = merge(b, a)
        got_b, got_memos_b = state(b)
        assert got_b == want_b
        assert len(report.conflicts) == len(conflicts)
        assert got_memos_b == want_memos
        again = merge(b, a)
        assert not again.changed and state(b)[0] == got_b
        merge(a, b)
        got_a, got_memos_a = state(a)
        assert got_a == want_a
        assert got_memos_a == want_memos
        same = {g for g in got_a if g not in conflicts}
        assert {g: got_a[g] for g in same} == {g: got_b[g] for g in same}
        assert set(got_a) - conflicts == set(got_b) - conflicts
