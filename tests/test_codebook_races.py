"""Syncs against syncs and against writes to codes, driven deterministically: one transaction is held open on
one connection while a second command runs on another, then the first commits.

On PostgreSQL the codebook lock (an advisory lock) orders them; on SQLite the file's write lock, taken as each
write transaction begins, does. Either way the second command waits, then sees what the first committed.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import select

from gripcode.codebook.loader import parse_codebook
from gripcode.codebook.sync import sync_codebook
from gripcode.coding.service import apply_coding
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Code, CodebookVersion, Coding
from gripcode.errors import CodebookError, CodingError
from gripcode.nlp.autocode import autocode

from conftest import Gripcode

BASE = """\
codebook: races
codes:
  - id: quotas
    name: Quotas
    definition: Export quotas.
    rules:
      terms:
        en: [export quotas]
  - id: controls
    name: Controls
    definition: Controls on trade.
"""
MERGED = BASE.replace("    rules:\n      terms:\n        en: [export quotas]\n", "    merged_into: controls\n")
WITHOUT_QUOTAS = """\
codebook: races
codes:
  - id: controls
    name: Controls
    definition: Controls on trade.
"""
WITH_PRICES = BASE + """\
  - id: prices
    name: Prices
    definition: Price levels.
"""
WITH_STOCKS = BASE + """\
  - id: stocks
    name: Stocks
    definition: Stockpiles.
"""


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    for n in range(1, 4):
        (tmp_path / f"doc{n}.txt").write_text(f"Text {n}: the ministry cut export quotas.\n", encoding="utf-8")
    grip.ok("import", *(str(tmp_path / f"doc{n}.txt") for n in range(1, 4)), "--case", "China", "--create-cases")
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "base.yaml"))
    return grip


def _sync(session: Any, yaml_text: str) -> None:
    sync_codebook(session, parse_codebook(yaml_text), yaml_text, actor="lead")


def _code(session: Any, slug: str = "quotas", doc: str = "doc1", coder: str = "ana") -> None:
    apply_coding(session, doc, slug, coder=coder, quote="export quotas")


class Second:
    """A command run in a thread on its own connection, while the test holds the first transaction open."""

    def __init__(self, engine: Any, work: Callable[[Any], None], *, own_transactions: bool = False) -> None:
        self.error: BaseException | None = None
        self.started = threading.Event()

        def run() -> None:
            self.started.set()
            try:
                if own_transactions:  # a command that opens its transactions itself, given the engine
                    work(engine)
                    return
                with transaction(engine) as session:
                    work(session)
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                self.error = exc

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def waits(self) -> bool:
        """Whether the command, once started, is still at work a second later: waiting for the first one."""
        assert self.started.wait(30)
        self.thread.join(1.0)
        return self.thread.is_alive()

    def finish(self) -> BaseException | None:
        self.thread.join(60)
        assert not self.thread.is_alive()
        return self.error


def _race(url: str, first: Callable[[Any], None], second: Callable[[Any], None],
          **how: bool) -> BaseException | None:
    """Run ``first`` in an open transaction, start ``second``, check it waits, commit ``first``, and return
    what ``second`` raised (None if it committed)."""
    engine = make_engine(url)
    try:
        with ExitStack() as stack:
            session = stack.enter_context(transaction(engine))
            first(session)
            other = Second(engine, second, **how)
            assert other.waits(), "the second command did not wait for the first"
        return other.finish()
    finally:
        engine.dispose()


def _state(url: str) -> tuple[dict[str, tuple[str, str | None]], list[int], str]:
    engine = make_engine(url)
    with transaction(engine, write=False) as session:
        codes = {c.slug: (c.status, c.merged_into.slug if c.merged_into else None)
                 for c in session.scalars(select(Code))}
        versions = list(session.scalars(select(CodebookVersion.id).order_by(CodebookVersion.id)))
        latest = session.scalars(select(CodebookVersion).order_by(CodebookVersion.id.desc())).first()
        yaml_text = latest.yaml_snapshot
    engine.dispose()
    return codes, versions, yaml_text


def test_two_syncs_run_one_after_the_other(project: Gripcode) -> None:
    """The second sync plans against what the first committed, so the codes are the newest version's."""
    error = _race(project.url, lambda s: _sync(s, WITH_PRICES), lambda s: _sync(s, WITH_STOCKS))
    assert error is None
    codes, versions, yaml_text = _state(project.url)
    assert yaml_text == WITH_STOCKS
    assert set(codes) == {"quotas", "controls", "stocks"}  # prices, uncoded, removed by the second sync
    assert versions == [1, 2, 3]


def test_a_coding_during_a_merge_finds_the_code_merged(project: Gripcode) -> None:
    error = _race(project.url, lambda s: _sync(s, MERGED), _code)
    assert isinstance(error, CodingError) and "quotas is merged; use controls instead" in str(error)
    engine = make_engine(project.url)
    with transaction(engine, write=False) as session:
        assert session.scalars(select(Coding)).all() == []
    engine.dispose()


def test_a_coding_before_a_merge_moves_with_it(project: Gripcode) -> None:
    error = _race(project.url, _code, lambda s: _sync(s, MERGED))
    assert error is None
    engine = make_engine(project.url)
    with transaction(engine, write=False) as session:
        assert [c.code.slug for c in session.scalars(select(Coding))] == ["controls"]
    engine.dispose()


def test_a_sync_that_would_remove_a_code_being_coded_is_refused(project: Gripcode) -> None:
    error = _race(project.url, _code, lambda s: _sync(s, WITHOUT_QUOTAS))
    assert isinstance(error, CodebookError) and "still have codings" in str(error)
    codes, versions, _ = _state(project.url)
    assert codes["quotas"] == ("active", None) and versions == [1]


def test_the_same_coding_from_two_writers_is_stored_once(project: Gripcode) -> None:
    error = _race(project.url, _code, _code)
    assert isinstance(error, CodingError)
    assert "already coded" in str(error) or "at the same moment" in str(error)
    engine = make_engine(project.url)
    with transaction(engine, write=False) as session:
        assert len(session.scalars(select(Coding)).all()) == 1
    engine.dispose()


def test_autocode_during_a_merge_leaves_nothing_on_the_merged_code(project: Gripcode) -> None:
    """Autocode's batches are stored only while the version it matched is the newest: after a merge it stops
    (PostgreSQL, where it planned before the sync committed) or plans with the new version (SQLite, where its
    first transaction waited for the sync)."""
    def run_autocode(engine: Any) -> None:
        autocode(engine, actor="ana", jobs=0)

    error = _race(project.url, lambda s: _sync(s, MERGED), run_autocode, own_transactions=True)
    assert error is None or "while autocode ran" in str(error)
    engine = make_engine(project.url)
    with transaction(engine, write=False) as session:
        on = {c.code.slug for c in session.scalars(select(Coding))}
    engine.dispose()
    assert "quotas" not in on


def test_a_failed_sync_leaves_no_gap_in_the_history(project: Gripcode) -> None:
    engine = make_engine(project.url)
    with pytest.raises(RuntimeError):
        with transaction(engine) as session:
            _sync(session, WITH_PRICES)
            raise RuntimeError("interrupted")
    with transaction(engine) as session:
        _sync(session, WITH_STOCKS)
    engine.dispose()
    assert _state(project.url)[1] == [1, 2]


def test_the_codebook_lock_is_taken_once_per_transaction(project: Gripcode) -> None:
    """A CSV import looks up a code per row: the lock is asked of the server once per transaction, not per row."""
    from sqlalchemy import event

    engine = make_engine(project.url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with transaction(engine) as session:
        for _ in range(3):
            _code(session, doc=f"doc{_ + 1}")
    with transaction(engine) as session:
        _code(session, slug="controls")
    engine.dispose()
    taken = [s for s in statements if "pg_advisory_xact_lock" in s]
    assert len(taken) == (2 if engine.dialect.name == "postgresql" else 0)


def test_a_qdpx_import_reads_the_codes_as_no_sync_can_change_them(project: Gripcode) -> None:
    """An import of a .qdpx file extends the project's codebook: it waits for a sync in progress and then builds
    on the synced version instead of undoing it."""
    from gripcode.exchange.qdpx_codebook import merge_codes

    error = _race(project.url, lambda s: _sync(s, WITH_PRICES),
                  lambda s: merge_codes(s, [], codebook_name="races", note="test", actor="ana"))
    assert error is None
    codes, _, yaml_text = _state(project.url)
    assert "prices" in codes and yaml_text == WITH_PRICES
