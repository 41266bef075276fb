"""Co-occurrence is counted in one pass (overlaps) and as a sparse product (units); these tests compare both
with the SQL self-joins that counted them before, on random codings with overlaps, shared spans, codings of
one code overlapping each other, several coders and a filter."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import Gripcode
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from gripcode.analysis.filters import Filters, codes_in_scope, coding_conditions, resolve_filters
from gripcode.analysis.matrices import _on, cooccurrence
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coding, Document, Unit

CODES = ["alpha", "beta", "gamma", "delta"]


def _unit_codes(filters: Filters, unit: str, ids: list[int]):  # type: ignore[no-untyped-def]
    """Distinct (unit, code) pairs, by a join of units with codings on overlapping offsets."""
    if unit == "document":
        return (select(Coding.document_id.label("unit_id"), Coding.code_id)
                .join(Document, Document.id == Coding.document_id)
                .where(coding_conditions(filters), Coding.code_id.in_(ids)).distinct())
    return (select(Unit.id.label("unit_id"), Coding.code_id)
            .join(Coding, and_(Coding.document_id == Unit.document_id, Coding.start < Unit.end,
                               Coding.end > Unit.start))
            .join(Document, Document.id == Unit.document_id)
            .where(Unit.kind == unit, coding_conditions(filters), Coding.code_id.in_(ids)).distinct())


def self_join_counts(session, filters: Filters, by: str, unit: str) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    """The counts as the SQL self-joins gave them."""
    codes = codes_in_scope(session, filters)
    ids = [i for i, _ in codes]
    slug = dict(codes)
    a, b = aliased(Coding), aliased(Coding)
    if by == "overlap":
        pair = and_(b.document_id == a.document_id, b.start < a.end, b.end > a.start, b.id != a.id)
        query = (select(a.code_id, b.code_id, func.count()).select_from(a).join(b, pair)
                 .join(Document, Document.id == a.document_id)
                 .where(_on(a, filters), _on(b, filters), a.code_id.in_(ids), b.code_id.in_(ids),
                        a.code_id != b.code_id).group_by(a.code_id, b.code_id))
        diagonal = (select(Coding.code_id, func.count()).join(Document, Document.id == Coding.document_id)
                    .where(coding_conditions(filters), Coding.code_id.in_(ids)).group_by(Coding.code_id))
    else:
        marked = _unit_codes(filters, unit, ids).subquery("marked")
        x, y = aliased(marked), aliased(marked)
        query = (select(x.c.code_id, y.c.code_id, func.count()).select_from(x)
                 .join(y, and_(y.c.unit_id == x.c.unit_id, y.c.code_id != x.c.code_id))
                 .group_by(x.c.code_id, y.c.code_id))
        diagonal = select(marked.c.code_id, func.count()).group_by(marked.c.code_id)
    counts = {(slug[i], slug[j]): n for i, j, n in session.execute(query).tuples()}
    counts.update({(slug[i], slug[i]): n for i, n in session.execute(diagonal).tuples()})
    return counts


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    codebook = "codebook: t\ncodes:\n" + "".join(f"  - id: {code}\n    name: {code}\n" for code in CODES)
    (tmp_path / "cb.yaml").write_text(codebook, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    rng = random.Random(9)
    texts = []
    for index in range(5):
        text = "\n\n".join(" ".join(f"Line {index}.{p}.{s} on quotas." for s in range(3)) for p in range(4)) + "\n"
        texts.append(text)
        (tmp_path / f"d{index}.txt").write_text(text, encoding="utf-8")
        grip.ok("import", str(tmp_path / f"d{index}.txt"), "--kind", ["media", "policy"][index % 2])
    rows, seen = ["document,code,start,end,coder"], set()
    for doc, text in enumerate(texts, start=1):
        for _ in range(40):
            code, coder = rng.choice(CODES[:3]), rng.choice(["ana", "ben"])
            start = rng.randrange(len(text) - 40)
            end = start + rng.choice([5, 20, 35])
            if (doc, code, coder, start, end) not in seen:
                seen.add((doc, code, coder, start, end))
                rows.append(f"{doc},{code},{start},{end},{coder}")
        rows.append(f"{doc},delta,0,{len(text)},ana")
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    grip.ok("code", "import", str(tmp_path / "c.csv"))
    return grip


@pytest.mark.parametrize(("by", "unit"), [("overlap", "paragraph"), ("unit", "paragraph"), ("unit", "sentence"),
                                          ("unit", "document")])
@pytest.mark.parametrize("criteria", [{}, {"kinds": ("media",), "coders": ("ana",)}])
@pytest.mark.parametrize("batch", [1, 3, 500])
def test_counts_equal_the_self_joins(project: Gripcode, by: str, unit: str, criteria: dict, batch: int,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted a batch of documents at a time (one document, a few, all of them), as the self-join counts."""
    import gripcode.analysis.matrices as matrices

    monkeypatch.setattr(matrices, "DOCUMENTS_PER_BATCH", batch)
    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            table = cooccurrence(session, Filters(**criteria), by=by, unit=unit)
            expected = self_join_counts(session, resolve_filters(Filters(**criteria), {}), by, unit)
    finally:
        engine.dispose()
    got = {(row, column): int(table.loc[row, column]) for row in table.index for column in table.columns
           if table.loc[row, column]}
    assert got == expected
    assert sum(expected.values()) > 20


@pytest.mark.parametrize("unit", ["paragraph", "sentence"])
def test_marked_units_equal_the_join_on_overlapping_offsets(project: Gripcode, unit: str) -> None:
    from gripcode.coding.unit_marks import marked_units

    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            documents = list(session.scalars(select(Document.id)))
            conditions = Coding.status == "accepted"
            found = set(marked_units(session, unit, documents, conditions, Coding.code_id, Coding.coder_id))
            joined = set(session.execute(
                select(Unit.id, Coding.code_id, Coding.coder_id)
                .join(Coding, and_(Coding.document_id == Unit.document_id, Coding.start < Unit.end,
                                   Coding.end > Unit.start))
                .where(Unit.kind == unit, conditions)).tuples())
    finally:
        engine.dispose()
    assert found == joined and len(found) > 50


def test_overlapping_units_are_all_found() -> None:
    from gripcode.coding.unit_marks import _overlaps

    units = [(1, 0, 100, "long"), (1, 10, 20, "a"), (1, 30, 40, "b"), (1, 50, 60, "c")]
    codings = [(1, 35, 55, "x"), (1, 95, 99, "y"), (1, 20, 30, "z")]
    assert sorted(_overlaps(units, iter(codings))) == sorted([
        ("long", "x"), ("b", "x"), ("c", "x"), ("long", "y"), ("long", "z")])


def test_fetch_rows_binds_lists_dates_and_text_as_the_session_does(project: Gripcode) -> None:
    import datetime as dt

    from gripcode.db.bulk import fetch_rows

    statement = (select(Document.id, Document.kind).where(Document.id.in_([1, 3, 5, 99]), Document.kind == "media",
                                                          (Document.date >= dt.date(2000, 1, 1))
                                                          | Document.date.is_(None))
                 .order_by(Document.id))
    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            assert fetch_rows(session.connection(), statement) == [tuple(row) for row in session.execute(statement)]
            assert fetch_rows(session.connection(), statement) == [(1, "media"), (3, "media"), (5, "media")]
    finally:
        engine.dispose()
