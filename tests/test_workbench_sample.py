"""A blind validation sample coded in the workbench (`gripcode workbench --sample N`): only the sample's
documents, its units marked and visited in order, nothing of the machine's or other coders' work shown, and the
people's codings then counted by `validate`. On SQLite, and on PostgreSQL with GRIPCODE_TEST_DB."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gripcode.coding.worklist import sample_work
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coder
from gripcode.errors import NotFoundError
from gripcode.reliability.machine_units import draw_sample

from conftest import Gripcode
from workbench_project import build_project, codings, run_app, screen_text


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    return build_project(grip, tmp_path, autocode=True)


def rules_coder(url: str) -> str:
    engine = make_engine(url)
    try:
        with transaction(engine, write=False) as session:
            return session.scalars(select(Coder.name).where(Coder.kind == "rules")).one()
    finally:
        engine.dispose()


def draw(url: str, size: int) -> tuple[int, list[tuple[int, int, int]]]:
    """Draw a sample of ``size`` sentences for the rules coder: its id, and (document, start, end) of its units."""
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            sample, _ = draw_sample(session, rules_coder(url), "sentence", size, seed=3, actor="lead")
            sample_id = sample.id
        with transaction(engine, write=False) as session:
            work = sample_work(session, sample_id, "ana")
    finally:
        engine.dispose()
    return sample_id, [(u.doc_id, u.start, u.end) for u in work.units]


def test_sample_work_lists_the_units_in_text_order_and_which_the_coder_has_coded(project: Gripcode) -> None:
    sample_id, units = draw(project.url, 4)
    assert len(units) == 4 and units == sorted(units)
    doc, start, end = units[1]
    Gripcode(project.url, coder="ana").ok("code", "add", str(doc), "price-control", "--span",
                                          f"{start + 1}:{start + 3}")
    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            ana, ben = sample_work(session, sample_id, "ana"), sample_work(session, sample_id, "nobody")
            with pytest.raises(NotFoundError, match=rf"^no validation sample 99 \(the project has {sample_id}\)$"):
                sample_work(session, 99, "ana")
    finally:
        engine.dispose()
    assert [u.coded for u in ana.units] == [False, True, False, False] and ana.coded == 1
    assert ben.coded == 0 and ana.unit == "sentence" and ana.machine.startswith("rules@")
    assert ana.doc_ids == list(dict.fromkeys(d for d, _, _ in units))


def test_the_workbench_goes_through_the_sample_blind_and_codes_it(project: Gripcode) -> None:
    sample_id, units = draw(project.url, 3)
    shown: list[str] = []
    selections: list[tuple[int, tuple[int, int] | None]] = []
    documents: list[list[int]] = []

    async def steps(app, pilot) -> None:
        documents.append([row["id"] for row in app.project.documents])
        selections.append((app.workspace.doc_id, app.text_view.cursor.selection))
        shown.append(screen_text(app))
        await pilot.press("c", *"local", "enter", "r")
        shown.append(screen_text(app))
        await pilot.press("space")
        selections.append((app.workspace.doc_id, app.text_view.cursor.selection))
        await pilot.press("b")
        selections.append((app.workspace.doc_id, app.text_view.cursor.selection))
        await pilot.press("space", "space", "space")
        shown.append(screen_text(app))

    run_app(project.url, "ana", steps, sample=sample_id)
    doc, start, end = units[0]
    assert documents[0] == sorted({d for d, _, _ in units})
    assert selections == [(doc, (start, end)), (units[1][0], units[1][1:]), (doc, (start, end))]
    first, coded, last = shown
    assert "│ ana (blind)" in first and f"│ sample {sample_id}: 0 of 3 sentences coded" in first
    assert "rules@" not in first and "ben" not in first  # neither the machine's suggestions nor ben's coding
    assert "▸" in first and "✓" not in first
    assert [(c[0], c[2], c[3]) for c in codings(project.url, coder="ana")] == [("local-content", start, end)]
    assert f"│ sample {sample_id}: 1 of 3 sentences coded" in coded and "✓" in coded
    assert f"No unit after this one in sample {sample_id}; 2 of its units hold none of your codings yet." in last


def test_a_unit_marked_in_the_margin_is_the_samples(project: Gripcode) -> None:
    sample_id, units = draw(project.url, 1)
    marks: list[list[str]] = []

    async def steps(app, pilot) -> None:
        text = app.text_view
        marks.append([text._mark(start, end).text for start, end in zip(text.lines.starts, text.lines.ends)
                      if start >= 0])

    run_app(project.url, "ana", steps, sample=sample_id)
    doc, start, end = units[0]
    assert marks[0].count("▸") >= 1 and set(marks[0]) <= {"▸", " "}
