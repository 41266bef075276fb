"""A .qdpx imported into a new PostgreSQL project (no documents before it) has its codings' and units' foreign
keys checked once, at the end (``db/bulk.foreign_keys_checked_once``): the keys come back as they were, the rows
stored are those that row by row checks store, and a row that breaks a key still fails the load. Loads into a
project people work in, a table with rows, a table someone else holds, and a role that does not own the
tables keep row by row checks. SQLite checks rows as they go in."""

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


def _drops(monkeypatch: pytest.MonkeyPatch, url: str) -> list[tuple[str, bool]]:
    """(table, whether its keys were dropped) for each load that tried; others see the codings' keys all the
    while (until the load commits)."""
    dropped: list[tuple[str, bool]] = []
    drop, before = bulk._drop_keys, _keys(url)

    def spy(connection: object, name: str, keys: list[str]) -> bool:
        dropped.append((name, drop(connection, name, keys)))  # type: ignore[arg-type]
        assert _keys(url) == before
        return dropped[-1][1]

    monkeypatch.setattr(bulk, "_drop_keys", spy)
    return dropped


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
def test_a_qdpx_import_into_a_new_project_checks_keys_once_and_stores_what_row_checks_store(
        grip: Gripcode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qdpx_generated import generate, write_qdpx

    path = write_qdpx(generate(4), tmp_path / "g.qdpx")
    before = _keys(grip.url), _units(grip.url)[1]
    assert len(before[0]) == 5 and len(before[1]) == 1
    dropped = _drops(monkeypatch, grip.url)
    grip.ok("import", "qdpx", str(path))  # a few hundred codings: under CHECK_KEYS_ONCE_FROM
    row_checked = _stored(grip.url), _units(grip.url)[0]
    assert dropped == [] and len(row_checked[0]) > 150 and len(row_checked[1]) > 50

    reset_postgres(grip.url)
    grip.ok("init")
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 100)  # (8 documents count as 400 units)
    grip.ok("import", "qdpx", str(path))
    assert dropped == [("units", True), ("codings", True)]
    assert (_stored(grip.url), _units(grip.url)[0]) == row_checked
    assert (_keys(grip.url), _units(grip.url)[1]) == before


@postgres_only
def test_loads_into_a_project_people_work_in_keep_row_checks(grip: Gripcode, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropping a key locks the project against every other session until the load ends: a code import, a
    document import and a .qdpx import into a project with documents never do it, however large."""
    from qdpx_generated import generate, write_qdpx

    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 1)
    by_table = _drops(monkeypatch, grip.url)
    csv_path = _project(grip, tmp_path, 1_200)  # two document imports
    grip.ok("code", "import", str(csv_path))
    grip.ok("import", "qdpx", str(write_qdpx(generate(4), tmp_path / "g.qdpx")))
    assert by_table == []
    assert len(_stored(grip.url)) > 1_200


def _empty_project_with_a_coder(grip: Gripcode, tmp_path: Path) -> None:
    grip.ok("code", "import", str(_project(grip, tmp_path, 1)))
    engine = make_engine(grip.url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM codings"))
    engine.dispose()


@postgres_only
def test_a_row_that_breaks_a_key_fails_the_load_and_the_keys_stay(grip: Gripcode, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _empty_project_with_a_coder(grip, tmp_path)
    before = _keys(grip.url)
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
    assert _stored(grip.url) == []


@postgres_only
def test_a_table_someone_holds_or_that_has_rows_keeps_row_checks(grip: Gripcode, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader's open transaction on documents: the load waits KEY_LOCK_WAIT, then checks row by row (and
    the reader was never blocked). A table with a row in it keeps row checks too."""
    _empty_project_with_a_coder(grip, tmp_path)
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 1)
    monkeypatch.setattr(bulk, "KEY_LOCK_WAIT", "300ms")
    engine = make_engine(grip.url)
    reader = make_engine(grip.url)
    with reader.connect() as conn:
        conn.execute(text("SELECT count(*) FROM documents")).scalar()  # holds documents until it ends
        started = time.monotonic()
        with transaction(engine) as session:
            with foreign_keys_checked_once(session.connection(), Coding.__table__, 100) as once:
                assert not once
        assert 0.3 <= time.monotonic() - started < 5
        assert conn.execute(text("SELECT count(*) FROM codings")).scalar() == 0
        conn.rollback()
    reader.dispose()
    grip.ok("code", "import", str(_project(grip, tmp_path, 3)))
    with transaction(engine) as session:
        with foreign_keys_checked_once(session.connection(), Coding.__table__, 100) as once:
            assert not once
    engine.dispose()
    assert len(_keys(grip.url)) == 5


@postgres_only
def test_a_role_that_does_not_own_the_tables_keeps_row_checks(grip: Gripcode, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A coder who connects as a role of their own, with rights on the tables but not their owner, imports a
    .qdpx into a new project as before (only an owner may drop a key)."""
    from sqlalchemy import make_url

    from qdpx_generated import generate, write_qdpx

    engine = make_engine(grip.url)
    with engine.begin() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = 'gripcode_test_coder'")).first():
            conn.execute(text("CREATE ROLE gripcode_test_coder LOGIN"))
        conn.execute(text("GRANT USAGE ON SCHEMA public TO gripcode_test_coder"))
        conn.execute(text("GRANT ALL ON ALL TABLES IN SCHEMA public TO gripcode_test_coder"))
        conn.execute(text("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO gripcode_test_coder"))
    engine.dispose()
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 10)
    by_table = _drops(monkeypatch, grip.url)
    coder = Gripcode(make_url(grip.url).set(username="gripcode_test_coder").render_as_string(hide_password=False))
    coder.ok("import", "qdpx", str(write_qdpx(generate(4), tmp_path / "g.qdpx")))
    assert by_table == []
    assert len(_stored(grip.url)) > 150 and len(_keys(grip.url)) == 5


def test_sqlite_checks_rows_as_they_go_in(grip: Gripcode, monkeypatch: pytest.MonkeyPatch) -> None:
    if POSTGRES:
        pytest.skip("the SQLite suite's case")
    monkeypatch.setattr(bulk, "CHECK_KEYS_ONCE_FROM", 1)
    engine = make_engine(grip.url)
    with transaction(engine) as session:
        with foreign_keys_checked_once(session.connection(), Coding.__table__, 100) as once:
            assert not once
    engine.dispose()
