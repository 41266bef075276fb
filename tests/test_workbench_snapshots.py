"""SVG snapshots of the workbench's main screens (pytest-textual-snapshot): the text with its codings and the panes,
the code picker, review mode and the keys. Always on a SQLite file, at a fixed size, with no timer running, so
that the pictures are the same on every run. After a deliberate change: pytest --snapshot-update."""

from __future__ import annotations

from pathlib import Path

import pytest

from gripcode.db.engine import make_engine

from conftest import Gripcode
from workbench_project import SIZE, build_project


@pytest.fixture
def app_for(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'snapshots.db'}"
    grip = Gripcode(url, coder="ana")
    grip.ok("init")
    build_project(grip, tmp_path, autocode=True)
    engines = []

    def make(**options):
        from gripcode.workbench.app import WorkbenchApp

        engine = make_engine(url)
        engines.append(engine)
        return WorkbenchApp(engine, "ana", refresh_seconds=0, **options)

    yield make
    for engine in engines:
        engine.dispose()


def test_the_text_with_its_codings_and_the_panes(app_for, snap_compare) -> None:
    assert snap_compare(app_for(doc="1"), press=["right_square_bracket", "right_square_bracket"], terminal_size=SIZE)


def test_the_code_picker(app_for, snap_compare) -> None:
    assert snap_compare(app_for(doc="1"), press=["right_square_bracket", "s", "c", "p", "r"], terminal_size=SIZE)


def test_review_mode(app_for, snap_compare) -> None:
    from gripcode.workbench.app import ReviewQueue

    assert snap_compare(app_for(review=ReviewQueue([2, 3])), press=["space"], terminal_size=SIZE)


def test_the_keys(app_for, snap_compare) -> None:
    assert snap_compare(app_for(doc="1"), press=["question_mark"], terminal_size=SIZE)
