"""``db/bulk.CopyBehind``: on PostgreSQL a COPY is sent from a thread while the caller goes on; its rows are in
once ``wait`` returns, its failure surfaces there (or when the block ends), and a failing block waits for it
before the rollback. On SQLite the insert happens at once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from gripcode.db.bulk import CopyBehind, insert_rows
from gripcode.db.engine import make_engine, transaction
from gripcode.db.migrate import init_database


def _case_count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM cases")).scalar()
    engine.dispose()
    return int(count)


def _cases(count: int, first: int = 0) -> list[tuple[str, str, str]]:
    return [(f"case {n}", f"guid-{n}", "2026-01-01T00:00:00+00:00") for n in range(first, first + count)]


def test_the_caller_goes_on_while_the_copy_runs_and_waits_for_it(db_url: str) -> None:
    engine = make_engine(db_url)
    init_database(engine)
    postgres = db_url.startswith("postgresql")
    release = threading.Event()
    order: list[str] = []
    with transaction(engine) as session:
        connection = session.connection()
        with CopyBehind(connection) as behind:
            def send() -> None:
                release.wait(5)
                order.append("sent")

            if postgres:
                behind.run(send)
                order.append("went on")  # before the COPY ended
                release.set()
                behind.wait()
            else:
                release.set()
                behind.run(send)  # at once, in this thread
                order.append("went on")
            insert_rows(connection, "cases", ["name", "refi_guid", "created_at"], _cases(300), behind=behind)
            behind.wait()
            assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == 300
    engine.dispose()
    assert order == (["went on", "sent"] if postgres else ["sent", "went on"])
    assert _case_count(db_url) == 300


def test_a_failed_copy_fails_the_wait_and_a_failed_block_rolls_back_after_it(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a COPY is sent from a thread on PostgreSQL only (set GRIPCODE_TEST_DB)")
    engine = make_engine(db_url)
    init_database(engine)
    with pytest.raises(Exception, match="uq_cases_name"):
        with transaction(engine) as session:
            connection = session.connection()
            with CopyBehind(connection) as behind:
                insert_rows(connection, "cases", ["name", "refi_guid", "created_at"],
                            _cases(5) + _cases(1), behind=behind)  # "case 0" twice
                behind.wait()
    finished: list[float] = []
    with pytest.raises(RuntimeError, match="placement failed"):
        with transaction(engine) as session:
            connection = session.connection()
            with CopyBehind(connection) as behind:
                def slow() -> None:
                    time.sleep(0.3)
                    insert_rows(connection, "cases", ["name", "refi_guid", "created_at"], _cases(5))
                    finished.append(time.monotonic())

                behind.run(slow)
                raise RuntimeError("placement failed")
    assert finished  # the COPY ended before the rollback
    engine.dispose()
    assert _case_count(db_url) == 0
