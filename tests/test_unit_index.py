"""Stored units as autocoding reads them (one packed row per document and kind) and the index that widens a
match to the unit(s) it falls in."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import Gripcode
from gripcode.db.engine import make_engine
from gripcode.db.models import Unit
from gripcode.nlp.pipelines import UnitIndex, unit_indexes
from gripcode.nlp.suggestions import unit_rows

# Three sentences in two paragraphs, a blank line between them.
SPANS = [(0, 10), (11, 20), (22, 30)]


@pytest.mark.parametrize(("start", "end", "covered", "held"), [
    (2, 5, (0, 10), True),  # inside one unit
    (8, 14, (0, 20), True),  # across two adjacent units: the run of both
    (0, 10, (0, 10), True),  # exactly one unit
    (20, 21, (11, 21), False),  # in the gap after a unit: what is covered, the gap kept
    (25, 40, (22, 40), False),  # running past the last unit
])
def test_a_match_widens_to_the_units_it_falls_in(start: int, end: int, covered: tuple[int, int], held: bool) -> None:
    index = UnitIndex(SPANS)
    assert index.cover(start, end) == covered
    assert index.holds(start, end) is held


def test_no_units_leave_a_match_as_it_is() -> None:
    empty = UnitIndex([])
    assert empty.cover(3, 7) == (3, 7) and not empty.holds(3, 7)


def test_packed_bounds_in_any_order_give_the_same_index() -> None:
    rng = random.Random(5)
    shuffled = SPANS[:]
    rng.shuffle(shuffled)
    flat = [bound for span in shuffled for bound in span]
    index = UnitIndex.from_bounds(flat)
    assert index.spans == SPANS and index.starts == [0, 11, 22] and index.ends == [10, 20, 30]
    # A document and kind split over two rows (two statements' worth of documents) is one index.
    indexes = unit_indexes([(7, "sentence", "22,30"), (7, "paragraph", "0,30"), (7, "sentence", "11,20,0,10"),
                            (8, "sentence", "")])
    assert indexes[7, "sentence"].spans == SPANS and indexes[7, "paragraph"].spans == [(0, 30)]
    assert (8, "sentence") not in indexes


def test_unit_rows_pack_every_stored_unit(grip: Gripcode, tmp_path: Path) -> None:
    texts = {
        "a.txt": "First sentence here. Second one!\n\nA new paragraph. With two sentences.\n",
        "b.txt": "Interviewer: Where were you?\n\nR1: At the plant. It was loud.\n\nInterviewer: And then?\n",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        grip.ok("import", str(tmp_path / name), "--kind", "interview")
    engine = make_engine(grip.url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(Unit.document_id, Unit.kind, Unit.start, Unit.end)).tuples().all()
            ids = sorted({row[0] for row in stored})
            kinds = ["paragraph", "sentence", "turn"]
            rows = unit_rows(conn, ids, kinds)
            assert len(rows) == len({(d, k) for d, k, _, _ in stored})  # one row per document and kind
            packed = {key: index.spans for key, index in unit_indexes(rows).items()}
            expected: dict[tuple[int, str], list[tuple[int, int]]] = {}
            for doc_id, kind, start, end in stored:
                expected.setdefault((doc_id, kind), []).append((start, end))
            assert packed == {key: sorted(spans) for key, spans in expected.items()}
            assert {kind for _, kind in packed} == set(kinds)
            assert unit_rows(conn, [], kinds) == [] and unit_rows(conn, ids, []) == []
    finally:
        engine.dispose()
