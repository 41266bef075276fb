"""`gripcode check` on intact and on corrupted projects, on SQLite and PostgreSQL; `gripcode log`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from gripcode.coding import integrity
from gripcode.coding.coders import get_or_create_coder
from gripcode.db.engine import make_engine, transaction
from gripcode.db.events import parse_since
from gripcode.db.models import Code, Coding, Document, Event
from gripcode.errors import GripcodeError

from conftest import Gripcode

CODEBOOK = "codebook: demo\ncodes:\n  - id: quota\n    name: Quota\n  - id: market\n    name: Market\n"
# Characters outside the Basic Multilingual Plane (😀, 🚀) come before coded spans: they are one code point
# but four UTF-8 bytes and two UTF-16 units, so offsets only line up if substr counts code points.
TEXT = ("😀 Intro. 中国的稀土出口配额 tightened supply.\n\n"
        "Казахстан расширяет добычу, 🚀 of rare earths 😀 too.\n")
SPANS = [("quota", "中国的稀土出口配额"), ("market", "Казахстан расширяет добычу"), ("market", "🚀 of rare earths 😀")]


@contextmanager
def db(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def raw(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def sql(url: str, statement: str, **params: object) -> None:
    with raw(url) as engine, engine.begin() as conn:
        conn.execute(text(statement), params)


def add_coding(url: str, doc_id: int, slug: str, quote: str, coder: str = "alice") -> int:
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
def coded(grip: Gripcode, tmp_path: Path) -> tuple[Gripcode, list[int]]:
    """A Chinese/Russian document with emoji, and three codings on it."""
    (tmp_path / "codebook.yaml").write_text(CODEBOOK)
    grip.ok("codebook", "sync", str(tmp_path / "codebook.yaml"))
    (tmp_path / "mixed.txt").write_text(TEXT, encoding="utf-8")
    grip.ok("import", str(tmp_path / "mixed.txt"), "--lang", "zh")
    return grip, [add_coding(grip.url, 1, slug, quote) for slug, quote in SPANS]


def check_json(grip: Gripcode) -> dict:
    result = grip("check", "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["ok"] else 1)
    return report


# --- check ------------------------------------------------------------------------------------------------


def test_intact_project_with_non_ascii_text_passes(coded: tuple[Gripcode, list[int]]) -> None:
    grip, ids = coded
    with db(grip.url) as s:
        doc = s.get(Document, 1)
        assert doc is not None and doc.text == TEXT
        stored = s.execute(select(Coding.start, Coding.quote).order_by(Coding.id)).all()
    # The spans really sit after astral characters: their code-point offsets differ from byte and UTF-16 ones.
    assert all(len(TEXT[:start].encode("utf-16-le")) // 2 != start for start, _ in stored)
    assert [q for _, q in stored] == [q for _, q in SPANS]
    result = grip.ok("check")
    assert result.stdout == "checked 3 codings, 1 document: all good\n" and result.stderr == ""
    report = check_json(grip)
    assert report["ok"] is True and report["problems"] == []
    assert report["checked"]["codings"] == 3 and report["checked"]["documents"] == 1
    assert report["checked"]["units"] >= 2


def test_empty_project_passes(grip: Gripcode) -> None:
    assert grip.ok("check").output == "checked 0 codings, 0 documents: all good\n"


def test_changed_quote_is_reported_with_both_snippets(coded: tuple[Gripcode, list[int]]) -> None:
    grip, ids = coded
    sql(grip.url, "UPDATE codings SET quote = :q WHERE id = :id", q="Казахстан сокращает добычу", id=ids[1])
    result = grip("check")
    assert result.exit_code == 1
    assert result.stderr == "Error: 1 integrity problem(s)\n"
    lines = result.stdout.splitlines()
    assert lines[0] == (f"coding {ids[1]} in document 1 (mixed), code market: the stored quote differs from the "
                        f"text at {TEXT.index('Казахстан')}:{TEXT.index('Казахстан') + 26}")
    assert lines[1] == '    stored quote: "Казахстан сокращает добычу"'
    assert lines[2] == '    text now:     "Казахстан расширяет добычу"'
    assert lines[3] == "checked 3 codings, 1 document: 1 problem"
    report = check_json(grip)
    assert report["ok"] is False
    assert [(p["kind"], p["coding"], p["document"], p["code"]) for p in report["problems"]] == [
        ("quote", ids[1], 1, "market")]


def test_long_quotes_are_cut_where_they_differ(coded: tuple[Gripcode, list[int]], tmp_path: Path) -> None:
    grip, _ = coded
    long_text = "Quotas. " + "The ministry set export quotas for each year. " * 6 + "Prices rose sharply.\n"
    (tmp_path / "long.txt").write_text(long_text)
    grip.ok("import", str(tmp_path / "long.txt"))
    coding = add_coding(grip.url, 2, "quota", long_text.strip())
    sql(grip.url, "UPDATE codings SET quote = replace(quote, 'sharply', 'slowly') WHERE id = :id", id=coding)
    problem = check_json(grip)["problems"][0]
    assert problem["stored"].startswith("…") and "slowly" in problem["stored"]
    assert problem["expected"].startswith("…") and "sharply" in problem["expected"]
    assert len(problem["expected"]) <= 62


def test_changed_text_breaks_the_fingerprint(coded: tuple[Gripcode, list[int]]) -> None:
    grip, _ = coded
    # Appended text keeps every coding and unit valid, so only the SHA-256 check can notice.
    sql(grip.url, "UPDATE documents SET text = text || :extra WHERE id = 1", extra="Added later.")
    report = check_json(grip)
    assert [(p["kind"], p["document"], p["title"]) for p in report["problems"]] == [("hash", 1, "mixed")]
    assert "its text has changed since import" in report["problems"][0]["message"]
    result = grip("check")
    assert result.exit_code == 1 and "document 1 (mixed): its text has changed since import" in result.stdout


def test_fingerprints_are_checked_in_batches(grip: Gripcode, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(integrity, "_BATCH", 2)
    for i in range(5):
        (tmp_path / f"d{i}.txt").write_text(f"Document number {i}.\n")
    grip.ok("import", *[str(tmp_path / f"d{i}.txt") for i in range(5)])
    sql(grip.url, "UPDATE documents SET text = 'Document number 9.\n' WHERE id = 4")
    report = check_json(grip)
    assert report["checked"]["documents"] == 5
    assert [(p["kind"], p["document"]) for p in report["problems"]] == [("hash", 4)]


def test_offsets_beyond_the_text(coded: tuple[Gripcode, list[int]]) -> None:
    grip, ids = coded
    # The quote is what substr returns for offsets past the end, so only the length check can catch it.
    tail = TEXT[TEXT.index("🚀"):]
    sql(grip.url, 'UPDATE codings SET "end" = 500, quote = :tail WHERE id = :id', tail=tail, id=ids[2])
    sql(grip.url, 'UPDATE units SET "end" = 400 WHERE id = (SELECT min(id) FROM units)')
    report = check_json(grip)
    kinds = [(p["kind"], p["coding"]) for p in report["problems"]]
    assert kinds == [("offsets", ids[2]), ("unit", None)]
    assert f"offsets {TEXT.index('🚀')}:500 lie outside the text ({len(TEXT)} characters)" \
        in report["problems"][0]["message"]
    assert "of document 1 (mixed)" in report["problems"][1]["message"]
    result = grip("check", "--format", "csv")
    assert result.exit_code == 1
    rows = result.stdout.splitlines()
    assert rows[0] == "kind,coding,document,title,code,message,stored,expected"
    assert rows[1].startswith(f"offsets,{ids[2]},1,mixed,market,")


def test_inverted_span_from_another_tool(coded: tuple[Gripcode, list[int]]) -> None:
    grip, ids = coded
    with raw(grip.url) as engine, engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL always enforces the span check constraint")
        conn.exec_driver_sql("PRAGMA ignore_check_constraints=ON")
        conn.execute(text('UPDATE codings SET start = "end" + 2 WHERE id = :id'), {"id": ids[0]})
        conn.commit()
    report = check_json(grip)
    assert [(p["kind"], p["coding"]) for p in report["problems"]] == [("offsets", ids[0])]


def test_codings_pointing_at_missing_rows(coded: tuple[Gripcode, list[int]]) -> None:
    grip, _ = coded
    insert = ('INSERT INTO codings (document_id, code_id, coder_id, start, "end", quote, origin, status, '
              "created_at, updated_at, refi_guid, version) VALUES (:doc, :code, :coder, 2, 7, 'Intro', 'manual', "
              "'accepted', :now, :now, :guid, 'v')")
    rows = [{"doc": 1, "code": 999, "coder": 1, "guid": "g1"}, {"doc": 1, "code": 1, "coder": 998, "guid": "g2"},
            {"doc": 997, "code": 1, "coder": 1, "guid": "g3"}]
    now = dt.datetime.now(dt.timezone.utc)
    with raw(grip.url) as engine, engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # Only outside a transaction: on the driver's connection, before SQLAlchemy emits BEGIN.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        else:
            # Replica mode skips the triggers that enforce foreign keys, for this transaction only.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for row in rows:
            conn.execute(text(insert), {**row, "now": now})
        conn.commit()
    with db(grip.url) as s:
        bad = s.scalars(select(Coding.id).order_by(Coding.id)).all()[-3:]
    report = check_json(grip)
    assert [p["message"] for p in report["problems"]] == [
        f"coding {bad[2]} points to document 997, which does not exist",
        f"coding {bad[0]} in document 1 points to code 999, which does not exist",
        f"coding {bad[1]} in document 1 points to coder 998, which does not exist",
    ]
    assert {p["kind"] for p in report["problems"]} == {"missing"}
    assert report["checked"]["codings"] == 6
    result = grip("check")
    assert result.exit_code == 1 and result.stderr == "Error: 3 integrity problem(s)\n"


# --- log --------------------------------------------------------------------------------------------------


def test_parse_since() -> None:
    now = dt.datetime(2024, 5, 10, 12, 0, tzinfo=dt.timezone.utc)
    assert parse_since("2h", now) == now - dt.timedelta(hours=2)
    assert parse_since("30m", now) == now - dt.timedelta(minutes=30)
    assert parse_since("3d", now) == dt.datetime(2024, 5, 7, 12, 0, tzinfo=dt.timezone.utc)
    assert parse_since(" 1w ", now) == dt.datetime(2024, 5, 3, 12, 0, tzinfo=dt.timezone.utc)
    assert parse_since("2 days", now) == now - dt.timedelta(days=2)
    assert parse_since("2024-05-01", now) == dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    assert parse_since("2024-05-01T14:30+02:00") == dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc)
    assert parse_since("2024-05-01 14:30") == dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.timezone.utc)
    for bad in ("yesterday", "", "-3d", "3y", "2024-13-01", "2h ago"):
        with pytest.raises(GripcodeError, match="is not a date"):
            parse_since(bad, now)


def test_log_lists_events_newest_first_with_filters(grip: Gripcode) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    with db(grip.url) as s:
        s.add_all([
            Event(at=now - dt.timedelta(days=10), actor="carla", action="coding.applied", entity="coding",
                  entity_id=7, details={"document": 1, "code": "quota"}),
            Event(at=now - dt.timedelta(hours=5), actor="carla", action="coding.removed", entity="coding",
                  entity_id=7, details={"ids": list(range(1, 30)), "note": "x" * 200}),
        ])
    grip.ok("case", "add", "Brazil", "--attr", "region=South America")
    Gripcode(grip.url, coder="dana").ok("coder", "add", "rules@abc")

    def log(*args: str) -> list[tuple[str, str]]:
        return [(e["actor"], e["action"]) for e in json.loads(grip.ok("log", *args, "--format", "json").stdout)]

    assert log() == [("dana", "coder.added"), ("tester", "case.added"), ("carla", "coding.removed"),
                     ("carla", "coding.applied")]
    assert log("--limit", "2") == [("dana", "coder.added"), ("tester", "case.added")]
    assert log("--actor", "carla") == [("carla", "coding.removed"), ("carla", "coding.applied")]
    assert log("--action", "coding") == [("carla", "coding.removed"), ("carla", "coding.applied")]
    assert log("--action", "coding.app") == [("carla", "coding.applied")]
    assert log("--action", "coding%") == []  # a prefix, not a pattern
    assert log("--since", "1h") == [("dana", "coder.added"), ("tester", "case.added")]
    assert log("--since", "1d") == log("--since", "6h") == log()[:3]
    assert log("--since", "2w") == log()
    assert log("--since", (now - dt.timedelta(days=1)).date().isoformat())[-1] == ("carla", "coding.removed")
    assert log("--since", "2999-01-01") == []
    full = json.loads(grip.ok("log", "--actor", "tester", "--format", "json").stdout)[0]
    assert full["entity"] == "case" and full["details"] == {"name": "Brazil", "attributes": ["region=South America"]}
    assert dt.datetime.fromisoformat(full["at"]).tzinfo is not None


def test_log_table_sums_up_details(grip: Gripcode) -> None:
    with db(grip.url) as s:
        s.add(Event(actor="carla", action="coding.removed", entity="coding", entity_id=7,
                    details={"ids": list(range(1, 30)), "note": "x" * 200, "empty": None}))
    lines = grip.ok("log").stdout.splitlines()
    assert lines[0].split() == ["at", "actor", "action", "entity", "entity_id", "details"]
    assert lines[2].endswith("ids=29 items, note=" + "x" * 39 + "…")
    csv_lines = grip.ok("log", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == "at,actor,action,entity,entity_id,details" and '""ids"": [1, 2' in csv_lines[1]
    assert grip.ok("log", "--actor", "nobody").stdout == "No events match.\n"


def test_log_rejects_bad_values(grip: Gripcode) -> None:
    for args, message in {("--since", "last week"): "'last week' is not a date",
                          ("--limit", "0"): "Invalid value for '--limit'"}.items():
        result = grip("log", *args)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
