"""`import qdpx` numbers its codings itself on SQLite and reads positions of files that count every character
as one without a search; these tests hold both to the general paths."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from conftest import Gripcode
from sqlalchemy import select

from gripcode.db.bulk import insert_numbered
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coder
from gripcode.exchange.qdpx_positions import SourceText, _conv


def test_insert_numbered_gives_the_ids_and_stores_the_values_as_the_types_bind_them(grip: Gripcode) -> None:
    when = dt.datetime(2024, 3, 1, 12, 30, 15, tzinfo=dt.timezone.utc)
    rows = [{"name": f"coder {n}", "kind": "person", "created_at": when + dt.timedelta(minutes=n)}
            for n in range(250)]
    engine = make_engine(grip.url)
    try:
        with transaction(engine) as session:
            ids = insert_numbered(session.connection(), Coder.__table__, rows)
        with transaction(engine, write=False) as session:
            stored = session.execute(select(Coder.id, Coder.name, Coder.created_at)
                                     .where(Coder.name.like("coder %"))).tuples().all()
    finally:
        engine.dispose()
    assert len(ids) == len(set(ids)) == 250
    assert sorted(stored) == sorted((number, row["name"], row["created_at"]) for number, row in zip(ids, rows))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_positions_of_a_text_without_exceptions_take_the_short_way_to_the_same_place(seed: int) -> None:
    rng = random.Random(seed)
    raw = "".join(rng.choice("abc déf\n") for _ in range(300))
    text = SourceText(raw)
    convention = _conv("codepoint", "file")
    assert text._extra(convention) == ([], [])
    general = SourceText(raw)
    # the same text with a weightless exception past its end: the search, with identical positions
    general._weights[convention.key] = ([len(raw) + 10], [0])
    for _ in range(200):
        start = rng.randrange(-2, len(raw) + 3)
        end = rng.randrange(-2, len(raw) + 3)
        assert text._raw(start, convention, is_end=False) == general._raw(start, convention, is_end=False)
        assert text._raw(end, convention, is_end=True) == general._raw(end, convention, is_end=True)
        assert text.span(start, end, convention) == general.span(start, end, convention)
