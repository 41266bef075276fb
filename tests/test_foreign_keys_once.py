"""A large load into a PostgreSQL table that holds fewer rows has its foreign keys checked once, at the end
(``db/bulk.foreign_keys_checked_once``): the keys come back as they were, the rows stored are those that row by
row checks store, a row that breaks a key still fails the load, and a table someone else holds is loaded with
row by row checks after a short wait. SQLite checks rows as they go in."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from conftest import Gripcode, reset_postgres
from gripcode.db import bulk
from gripcode.db.bulk import foreign_keys_checked_once
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coding

POSTGRES = os.environ.get("GRIPCODE_TEST_DB", "").startswith("postgresql")
postgres_only = pytest.mark.skipif(not POSTGRES, reason="foreign keys are checked once on PostgreSQL only "
                                                        "(set GRIPCODE_TEST_DB)")


def _keys(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'codings'::regclass AND contype = 'f' ORDER BY conname"))]
    finally:
        engine.dispose()


def _project(grip: Gripcode, tmp_path: Path, codings: int) -> Path:
    """Two documents, two codes, and a CSV of ``codings`` codings of them by three coders."""
    for n in (1, 2):
        (tmp_path / f"d{n}.txt").write_text(" ".join(f"word{i * n}" for i in range(400)) + "\n", encoding="utf-8")
        grip.ok("import", str(tmp_path / f"d{n}.txt"))
    (tmp_path / "cb.yaml").write_text("codebook: t\ncodes:\n  - id: quota\n    name: Quota\n  - id: price\n"
                                      "    name: Price\n", encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    rows = ["document,code,start,end,coder"] + [
        f"{1 + i % 2},{('quota', 'price')[i % 5 % 2]},{i},{i + 7},c{i % 3}"
        for i in range(codings)]
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path / "c.csv"


def _stored(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(
                'SELECT d.title, k.slug, c.name, g.start, g."end", g.quote, g.status, g.origin FROM codings g '
                "JOIN documents d ON d.id = g.document_id JOIN codes k ON k.id = g.code_id "
                'JOIN coders c ON c.id = g.coder_id ORDER BY g.id'))]
    finally:
        engine.dispose()


def _drops(monkeypatch: pytest.MonkeyPatch, url: str, table: str = "codings") -> list[bool]:
    """Whether each load into ``table`` dropped its keys; others see the keys all the while (until the load
    commits)."""
    dropped: list[bool] = []
    drop, before = bulk._drop_keys, _keys(url)

    def spy(connection: object, name: str, keys: list[str]) -> bool:
        done = drop(connection, name, keys)  # type: ignore[arg-type]
        if name == table:
            dropped.append(done)
        assert _keys(url) == before
        return done

    monkeypatch.setattr(bulk, "_drop_keys", spy)
    return dropped


@postgres_only
@pytest.mark.parametrize("command", ["code import", "import qdpx"])
def test_a_large_load_checks_keys_once_and_stores_what_row_checks_store(
        grip: Gripcode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    from qdpx_generated import generate, write_qdpx

    def prepared() -> list[str]:
        if command == "code import":
            return ["code", "import", str(_project(grip, tmp_path, 1_200))]
        return ["import", "qdpx", str(write_qdpx(generate(4), tmp_path / "g.qdpx"))]

    before = _keys(grip.url)
    assert len(before) == 5
    dropped = _drops(monkeypatch, grip.url)
    grip.ok(*prepared())  # a few hundred rows: under CHECK_KEYS_ONCE_FROM
    row_checked = _stored(grip.url)
    assert dropped == [] and len(row_checked) > 150

    reset_postgres(grip.url)
    grip.ok("init")
    args = prepared()
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 100)
    grip.ok(*args)
    assert dropped == [True]
    assert _stored(grip.url) == row_checked
    assert _keys(grip.url) == before


def _units(url: str) -> tuple[list[tuple[object, ...]], list[tuple[str, str]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            units = [tuple(row) for row in conn.execute(text(
                "SELECT d.title, u.kind, u.seq, u.start, u.\"end\", u.speaker FROM units u "
                "JOIN documents d ON d.id = u.document_id ORDER BY u.id"))]
            keys = [tuple(row) for row in conn.execute(text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'units'::regclass AND contype = 'f' ORDER BY conname"))]
        return units, keys
    finally:
        engine.dispose()


@postgres_only
def test_a_large_document_import_checks_the_units_key_once_and_stores_the_same_units(
        grip: Gripcode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(3):
        (tmp_path / f"t{n}.txt").write_text("\n\n".join(f"Interviewer: Question {n}.{i}?\nR1: Answer {i}. More."
                                                       for i in range(8)) + "\n", encoding="utf-8")
    files = [str(tmp_path / f"t{n}.txt") for n in range(3)]
    dropped = _drops(monkeypatch, grip.url, "units")
    grip.ok("import", *files)
    row_checked = _units(grip.url)
    assert dropped == [] and len(row_checked[0]) > 50 and len(row_checked[1]) == 1

    reset_postgres(grip.url)
    grip.ok("init")
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 100)  # 3 documents count as 150 units
    grip.ok("import", *files)
    assert dropped == [True]
    assert _units(grip.url) == row_checked


@postgres_only
def test_a_row_that_breaks_a_key_fails_the_load_and_the_keys_stay(grip: Gripcode, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    grip.ok("code", "import", str(_project(grip, tmp_path, 10)))
    before, held = _keys(grip.url), _stored(grip.url)
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 1)
    engine = make_engine(grip.url)
    with pytest.raises(IntegrityError, match="fk_codings_document_id_documents"):
        with transaction(engine) as session:
            connection = session.connection()
            with foreign_keys_checked_once(connection, Coding.__table__, 100) as once:
                assert once
                connection.execute(text(
                    "INSERT INTO codings (document_id, code_id, coder_id, start, \"end\", quote, origin, status, "
                    "created_at, updated_at, refi_guid, version) SELECT 999999, min(k.id), min(c.id), 0, 4, 'word', "
                    "'manual', 'accepted', now(), now(), 'g-1', 'v-1' FROM codes k, coders c"))
    engine.dispose()
    assert _keys(grip.url) == before
    assert _stored(grip.url) == held


@postgres_only
def test_a_table_someone_holds_is_loaded_with_row_checks_after_a_short_wait(
        grip: Gripcode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader's open transaction on documents: the load waits KEY_LOCK_WAIT, then checks row by row (and the
    reader was never blocked)."""
    csv_path = _project(grip, tmp_path, 1_200)
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 1_000)
    monkeypatch.setattr(bulk, "KEY_LOCK_WAIT", "300ms")
    dropped = _drops(monkeypatch, grip.url)
    reader = make_engine(grip.url)
    with reader.connect() as conn:
        conn.execute(text("SELECT count(*) FROM documents")).scalar()  # holds documents until it ends
        started = time.monotonic()
        grip.ok("code", "import", str(csv_path))
        assert time.monotonic() - started < 20
        assert conn.execute(text("SELECT count(*) FROM codings")).scalar() == 1_200
        conn.rollback()
    reader.dispose()
    assert dropped == [False]
    assert len(_keys(grip.url)) == 5


@postgres_only
def test_a_table_that_holds_as_many_rows_as_the_load_keeps_row_checks(grip: Gripcode, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    grip.ok("code", "import", str(_project(grip, tmp_path, 1)))
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 1)
    engine = make_engine(grip.url)
    with transaction(engine) as session:
        connection = session.connection()
        with foreign_keys_checked_once(connection, Coding.__table__, 1) as once:
            assert not once
        with foreign_keys_checked_once(connection, Coding.__table__, 2) as once:
            assert once
    engine.dispose()
    assert len(_keys(grip.url)) == 5


def test_sqlite_checks_rows_as_they_go_in(grip: Gripcode, monkeypatch: pytest.MonkeyPatch) -> None:
    if POSTGRES:
        pytest.skip("the SQLite suite's case")
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 1)
    engine = make_engine(grip.url)
    with transaction(engine) as session:
        with foreign_keys_checked_once(session.connection(), Coding.__table__, 100) as once:
            assert not once
    engine.dispose()
