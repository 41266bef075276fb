"""Coders and memos through the CLI: attribution, kinds, targets, filters, removal and their audit events."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.coding import coders
from gripcode.coding.coders import get_or_create_coder
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Code, Coder, Coding, Document, Event
from gripcode.errors import GripcodeError

from conftest import Gripcode

CODEBOOK = "codebook: demo\ncodes:\n  - id: market\n    name: Market\n  - id: quota\n    name: Quota\n"


@contextmanager
def db(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            yield session
    finally:
        engine.dispose()


def add_coding(url: str, doc_id: int, slug: str, coder: str, quote: str) -> int:
    with db(url) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        start = doc.text.index(quote)
        coding = Coding(document=doc, code=s.scalar(select(Code).where(Code.slug == slug)),
                        coder=get_or_create_coder(s, coder), start=start, end=start + len(quote),
                        quote=doc.text[start:start + len(quote)], origin="manual", status="accepted")
        s.add(coding)
        s.flush()
        return coding.id


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    """Two documents and a two-code codebook."""
    (tmp_path / "codebook.yaml").write_text(CODEBOOK)
    grip.ok("codebook", "sync", str(tmp_path / "codebook.yaml"))
    (tmp_path / "quotas.txt").write_text("Export quotas cut supply. The market reacted.\n")
    (tmp_path / "prices.txt").write_text("Prices rose when the state set quotas.\n")
    grip.ok("import", str(tmp_path / "quotas.txt"), str(tmp_path / "prices.txt"))
    return grip


def events(url: str, action: str) -> list[Event]:
    with db(url) as s:
        return list(s.scalars(select(Event).where(Event.action == action).order_by(Event.id)))


def as_json(result) -> list[dict]:
    return json.loads(result.stdout)


# --- coders -----------------------------------------------------------------------------------------------


def test_coder_add_infers_machine_kinds_and_refuses_duplicates(grip: Gripcode) -> None:
    assert grip.ok("coder", "add", "alice").output.strip() == "Added coder alice (person)"
    assert "(rules)" in grip.ok("coder", "add", "rules@3f2a9c").output
    assert "(model)" in grip.ok("coder", "add", "model@77aa").output
    assert "(import)" in grip.ok("coder", "add", "nvivo-team", "--kind", "import").output
    dup = grip("coder", "add", "alice")
    assert dup.exit_code == 1
    assert dup.output.startswith("Error: coder 'alice' exists already") and "Traceback" not in dup.output
    assert grip("coder", "add", "  ").exit_code == 1
    rows = as_json(grip.ok("coder", "list", "--format", "json"))
    assert [(r["name"], r["kind"]) for r in rows] == [
        ("alice", "person"), ("model@77aa", "model"), ("nvivo-team", "import"), ("rules@3f2a9c", "rules")]
    added = events(grip.url, "coder.added")
    assert [(e.actor, e.details["name"]) for e in added] == [
        ("tester", "alice"), ("tester", "rules@3f2a9c"), ("tester", "model@77aa"), ("tester", "nvivo-team")]


def test_get_or_create_coder_creates_once(grip: Gripcode) -> None:
    with db(grip.url) as s:
        first = get_or_create_coder(s, "rules@abc123", actor="autocode")
        assert first.id is not None and first.kind == "rules"
        assert get_or_create_coder(s, " rules@abc123 ") is first
        assert get_or_create_coder(s, "bea").kind == "person"
        with pytest.raises(GripcodeError, match="is a rules coder, not a person coder"):
            get_or_create_coder(s, "rules@abc123", "person")
    added = events(grip.url, "coder.added")
    assert [(e.actor, e.entity_id, e.details) for e in added] == [
        ("autocode", first.id, {"name": "rules@abc123", "kind": "rules"}),
        ("bea", added[1].entity_id, {"name": "bea", "kind": "person"})]


def test_get_or_create_coder_survives_a_concurrent_insert(grip: Gripcode, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another command commits the same new coder between our lookup and our insert: we use its row, and the
    rest of our transaction is kept."""
    grip.ok("coder", "add", "rules@race")
    real = coders._by_name
    calls: list[str] = []

    def first_lookup_misses(session: Session, name: str) -> Coder | None:
        calls.append(name)
        return None if len(calls) == 1 else real(session, name)

    monkeypatch.setattr(coders, "_by_name", first_lookup_misses)
    with db(grip.url) as s:
        s.add(Event(actor="tester", action="test.before", details={}))
        coder = get_or_create_coder(s, "rules@race")
        assert coder.name == "rules@race" and coder.id is not None
    assert len(calls) == 2
    with db(grip.url) as s:
        assert s.scalars(select(Coder.name)).all() == ["rules@race"]
    assert len(events(grip.url, "coder.added")) == 1 and len(events(grip.url, "test.before")) == 1


def test_coder_list_counts_and_activity(project: Gripcode) -> None:
    add_coding(project.url, 1, "quota", "alice", "Export quotas")
    add_coding(project.url, 1, "market", "alice", "The market reacted")
    suggested = [add_coding(project.url, 2, "quota", "rules@abc", "quotas"),
                 add_coding(project.url, 2, "market", "rules@abc", "Prices rose")]
    Gripcode(project.url, coder="alice").ok("memo", "add", "--doc", "1", "Quotas come first.")
    project.ok("coder", "add", "idle")
    project.ok("coder", "add", "reviewer")
    reviewed_at = dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    with db(project.url) as s:
        coding = s.get(Coding, suggested[0])
        assert coding is not None
        coding.reviewed_by = s.scalar(select(Coder).where(Coder.name == "reviewer"))
        coding.reviewed_at = reviewed_at
    rows = {r["name"]: r for r in as_json(project.ok("coder", "list", "--format", "json"))}
    assert list(rows) == ["alice", "idle", "reviewer", "rules@abc"]
    assert (rows["alice"]["codings"], rows["alice"]["memos"]) == (2, 1)
    assert (rows["rules@abc"]["kind"], rows["rules@abc"]["codings"], rows["rules@abc"]["memos"]) == ("rules", 2, 0)
    assert rows["idle"]["first_activity"] is None and rows["idle"]["last_activity"] is None
    assert rows["reviewer"]["codings"] == 0
    assert rows["reviewer"]["first_activity"] == rows["reviewer"]["last_activity"] == reviewed_at.isoformat()

    def activity(name: str) -> tuple[dt.datetime, dt.datetime]:
        first, last = (dt.datetime.fromisoformat(rows[name][k]) for k in ("first_activity", "last_activity"))
        return first, last

    with db(project.url) as s:
        coded = s.scalars(select(Coding.created_at).order_by(Coding.id)).all()
    # The review changed the first suggestion's updated_at; that is the reviewer's activity, not the rules'.
    assert activity("rules@abc") == (coded[2], coded[3])
    first, last = activity("alice")
    assert first == coded[0] and last > coded[1]  # the memo came after both codings
    header = project.ok("coder", "list", "--format", "csv").output.splitlines()[0]
    assert header == "name,kind,codings,memos,first_activity,last_activity"


# --- memos --------------------------------------------------------------------------------------------------


def test_memos_on_every_target_are_attributed_and_listed(project: Gripcode) -> None:
    coding = add_coding(project.url, 1, "quota", "alice", "Export quotas")
    alice = Gripcode(project.url, coder="alice")
    assert project.ok("memo", "add", "--project", "Compare three cases.", "--title", "Aim").output.strip() \
        == "Added memo 1 on the project"
    assert alice.ok("memo", "add", "--doc", "quotas", "Official tone.").output.strip() == "Added memo 2 on document 1"
    assert alice.ok("memo", "add", "--code", "market", "Price talk, not policy.").output.strip() \
        == "Added memo 3 on code market"
    alice.ok("memo", "add", "--coding", str(coding), "-", input="Typical phrase.\nSeen in all cases.\n")
    rows = as_json(project.ok("memo", "list", "--format", "json"))
    assert [(r["id"], r["target"], r["title"], r["text"], r["coder"]) for r in rows] == [
        (1, "project", "Aim", "Compare three cases.", "tester"),
        (2, "document 1: quotas", None, "Official tone.", "alice"),
        (3, "code market", None, "Price talk, not policy.", "alice"),
        (4, f"coding {coding}", None, "Typical phrase.\nSeen in all cases.", "alice"),
    ]
    assert all(dt.datetime.fromisoformat(r["created_at"]).tzinfo is not None for r in rows)
    with db(project.url) as s:
        assert s.scalar(select(Coder.kind).where(Coder.name == "tester")) == "person"
    added = events(project.url, "memo.added")
    assert [(e.actor, e.entity_id, e.details["target"]) for e in added] == [
        ("tester", 1, "project"), ("alice", 2, "document"), ("alice", 3, "code"), ("alice", 4, "coding")]
    assert added[2].details["code"] == "market" and added[3].details["coding"] == coding


def test_memo_list_filters(project: Gripcode) -> None:
    on_doc1 = add_coding(project.url, 1, "quota", "alice", "Export quotas")
    on_doc2 = add_coding(project.url, 2, "market", "alice", "Prices rose")
    bob = Gripcode(project.url, coder="bob")
    project.ok("memo", "add", "--project", "p")                  # 1
    project.ok("memo", "add", "--doc", "1", "d1")                # 2
    bob.ok("memo", "add", "--doc", "2", "d2")                    # 3
    bob.ok("memo", "add", "--coding", str(on_doc1), "c1")        # 4
    project.ok("memo", "add", "--coding", str(on_doc2), "c2")    # 5
    project.ok("memo", "add", "--code", "quota", "q")            # 6

    def ids(*args: str) -> list[int]:
        return [r["id"] for r in as_json(project.ok("memo", "list", *args, "--format", "json"))]

    assert ids() == [1, 2, 3, 4, 5, 6]
    assert ids("--doc", "1") == [2, 4]            # the document's memo and its codings' memos
    assert ids("--code", "quota") == [4, 6]       # the code's memo and memos on codings with it
    assert ids("--code", "market") == [5]
    assert ids("--coding", str(on_doc1)) == [4]
    assert ids("--coder", "bob") == [3, 4]
    assert ids("--doc", "2", "--coder", "tester") == [5]
    csv_lines = project.ok("memo", "list", "--coder", "bob", "--format", "csv").output.splitlines()
    assert csv_lines[0] == "id,target,title,text,coder,created_at"
    assert csv_lines[1].startswith("3,document 2: prices,,d2,bob,")
    assert project.ok("memo", "list", "--coding", str(on_doc2), "--coder", "bob").output.strip() == "No memos match."
    unknown = project("memo", "list", "--coder", "zoe")
    assert unknown.exit_code == 1 and "no coder 'zoe'; known coders: alice, bob, tester" in unknown.output


def test_memo_table_shortens_long_texts_but_json_keeps_them(project: Gripcode) -> None:
    text = "A long reflection on export quotas. " * 10
    project.ok("memo", "add", "--project", text)
    table = project.ok("memo", "list").output
    assert text.strip() not in table and "A long reflection on export quotas." in table and "…" in table
    assert as_json(project.ok("memo", "list", "--format", "json"))[0]["text"] == text.strip()


def test_memo_add_needs_exactly_one_known_target(project: Gripcode) -> None:
    cases = {
        ("memo", "add", "no target"): "exactly one of --project, --doc, --code or --coding",
        ("memo", "add", "--project", "--doc", "1", "two"): "(got --project and --doc)",
        ("memo", "add", "--doc", "999", "x"): "no document with id 999",
        ("memo", "add", "--doc", "nothing like it", "x"): "no document has the id or title",
        ("memo", "add", "--code", "nope", "x"): "no code 'nope'",
        ("memo", "add", "--coding", "42", "x"): "no coding with id 42",
        ("memo", "add", "--coding", "forty", "x"): "'forty' is not a valid integer",
        ("memo", "add", "--project", "   "): "the memo is empty",
        ("memo", "add", "--project", "x", "--title", "t" * 301): "at most 300 characters",
        ("memo", "rm", "7"): "no memo with id 7",
    }
    for args, message in cases.items():
        result = project(*args)
        assert result.exit_code == 1, args
        assert "Error:" in result.output and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert as_json(project.ok("memo", "list", "--format", "json")) == []
    assert events(project.url, "memo.added") == []


def test_memo_rm_deletes_and_logs_the_text(project: Gripcode) -> None:
    project.ok("memo", "add", "--doc", "2", "Keep this?", "--title", "Draft")
    project.ok("memo", "add", "--project", "Stays.")
    out = Gripcode(project.url, coder="bob").ok("memo", "rm", "1").output
    assert out.strip() == "Removed memo 1 (document 2: prices)"
    assert [r["id"] for r in as_json(project.ok("memo", "list", "--format", "json"))] == [2]
    removed = events(project.url, "memo.removed")
    assert len(removed) == 1 and removed[0].actor == "bob" and removed[0].entity_id == 1
    assert removed[0].details == {"target": "document 2: prices", "title": "Draft", "coder": "tester",
                                  "text": "Keep this?"}
    assert project("memo", "rm", "1").exit_code == 1


def test_a_coder_created_in_a_failed_command_is_rolled_back(grip: Gripcode) -> None:
    """The coder is the command's first write and goes through a savepoint; the whole command still rolls back."""
    from gripcode.coding.coders import get_or_create_coder
    from gripcode.db.engine import make_engine, transaction
    from gripcode.db.models import Coder

    engine = make_engine(grip.url)
    try:
        with transaction(engine) as session:
            get_or_create_coder(session, "eve", actor="eve")
            raise RuntimeError("the rest of the command fails")
    except RuntimeError:
        pass
    with transaction(engine) as session:
        assert session.query(Coder).filter_by(name="eve").count() == 0
    engine.dispose()
