"""After a bulk write, PostgreSQL's planner statistics of the tables written count the new rows: the same
transaction runs ANALYZE (a server with autovacuum off, or a minute late, would otherwise plan every later read
of a two-million-row table as if it were empty). SQLite keeps no statistics unless asked, and gets none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from gripcode.db.engine import make_engine

from conftest import Gripcode

pytestmark = pytest.mark.skipif(not os.environ.get("GRIPCODE_TEST_DB", "").startswith("postgresql"),
                                reason="planner statistics are PostgreSQL's (set GRIPCODE_TEST_DB)")


def _estimated_rows(url: str, table: str) -> int:
    """What the planner believes the table holds (reltuples: -1 or 0 before any ANALYZE)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}).scalar())
    finally:
        engine.dispose()


def test_code_import_and_document_import_leave_statistics_that_count_their_rows(grip: Gripcode,
                                                                                tmp_path: Path) -> None:
    paragraphs = "\n\n".join(f"Paragraph {i} about export quotas. A second sentence." for i in range(700))
    (tmp_path / "long.txt").write_text(paragraphs, encoding="utf-8")
    assert _estimated_rows(grip.url, "units") <= 0
    grip.ok("import", str(tmp_path / "long.txt"))
    assert _estimated_rows(grip.url, "units") >= 1_000  # 700 paragraphs and 1,400 sentences
    (tmp_path / "cb.yaml").write_text("codebook: t\ncodes:\n  - id: quota\n    name: Quota\n", encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    rows = ["document,code,start,end,coder"] + [f"1,quota,{i},{i + 5},c{i % 3}" for i in range(1_500)]
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert _estimated_rows(grip.url, "codings") <= 0
    grip.ok("code", "import", str(tmp_path / "c.csv"))
    assert _estimated_rows(grip.url, "codings") == 1_500


def test_a_small_write_leaves_the_statistics_to_autovacuum(grip: Gripcode, tmp_path: Path) -> None:
    (tmp_path / "short.txt").write_text("Quotas fell.\n\nPrices rose.\n", encoding="utf-8")
    grip.ok("import", str(tmp_path / "short.txt"))
    assert _estimated_rows(grip.url, "units") <= 0


def test_the_refresh_waits_for_the_commit_and_a_rolled_back_write_asks_for_none(grip: Gripcode) -> None:
    """ANALYZE runs after the write commits, outside its transaction (its lock would make a concurrent import wait
    for this one to end), and a write that rolls back leaves no refresh pending on the pooled connection."""
    from gripcode.db.bulk import PENDING_ANALYZE, refresh_statistics
    from gripcode.db.engine import transaction
    from gripcode.db.models import Unit

    engine = make_engine(grip.url)
    try:
        with pytest.raises(RuntimeError), transaction(engine) as session:
            refresh_statistics(session.connection(), 5_000, Unit.__table__)
            assert session.connection().info[PENDING_ANALYZE] == {"units"}
            raise RuntimeError("the write fails")
        with transaction(engine) as session:
            assert PENDING_ANALYZE not in session.connection().info
            refresh_statistics(session.connection(), 5_000, Unit.__table__)
            session.execute(text("SELECT 1"))
            held = session.execute(text("SELECT count(*) FROM pg_locks WHERE mode = 'ShareUpdateExclusiveLock' "
                                        "AND pid = pg_backend_pid()")).scalar()
            assert held == 0  # nothing analysed inside the write
        with engine.connect() as conn:
            analysed = conn.execute(text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'units'"))
            assert analysed.scalar() is not None
    finally:
        engine.dispose()
