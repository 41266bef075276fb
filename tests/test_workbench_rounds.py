"""The workbench in a reliability round, through Textual's harness: a coder of an open round sees only their own
codings and memos on its documents and "round NAME (blind)" in the status line; other documents, and the round's
organiser, see everyone's. On SQLite, and on PostgreSQL with GRIPCODE_TEST_DB."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Gripcode
from workbench_project import PRICES, build_project, run_app, screen_text


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    build_project(grip, tmp_path)  # ben has coded document 1
    Gripcode(grip.url, coder="ben").ok("code", "add", "3", "local-content", "--quote", "SARECO")
    Gripcode(grip.url, coder="ben").ok("memo", "add", "ben's thoughts", "--doc", "1")
    grip.ok("coder", "add", "ana")
    grip.ok("round", "start", "pilot", "--coders", "ana,ben", "--docs", "1,2")
    return grip


def test_a_round_coder_sees_only_their_own_work_on_the_rounds_documents(project: Gripcode) -> None:
    seen: dict[str, tuple[int, int, str]] = {}

    async def look(app, pilot) -> None:
        for doc in ("1", "3"):
            app.open_document(doc)
            await pilot.pause()
            seen[doc] = (len(app.text_view.codings), len(app.shown.memos), screen_text(app))

    run_app(project.url, "ana", look)
    codings_1, memos_1, screen_1 = seen["1"]
    assert (codings_1, memos_1) == (0, 0)
    assert "│ ana round pilot (blind)" in screen_1 and "ben" not in screen_1
    assert " id  words  mine  title" in screen_1  # no count of everyone's codings while ana is in a round
    codings_3, _, screen_3 = seen["3"]  # not a round document: everyone's codings
    assert codings_3 == 1 and "(blind)" not in screen_3


def test_the_organiser_and_a_closed_round_see_everything(project: Gripcode) -> None:
    seen: list[tuple[int, int, str]] = []

    async def look(app, pilot) -> None:
        seen.append((len(app.text_view.codings), len(app.shown.memos), screen_text(app)))

    run_app(project.url, "org", look, doc="1")
    assert seen[0][:2] == (1, 1) and "(blind)" not in seen[0][2]
    assert " id  words  mine  all  title" in seen[0][2]
    Gripcode(project.url, coder="ana").ok("code", "add", "1", "price-control", "--quote", PRICES)
    project.ok("round", "close", "pilot")
    run_app(project.url, "ana", look, doc="1")
    # ana's, ben's, and the agreed coding given to the round's adjudication coder
    assert seen[1][:2] == (3, 1) and "(blind)" not in seen[1][2]


def test_a_coding_made_in_the_round_stays_the_coders_own(project: Gripcode) -> None:
    seen: list[list[str]] = []

    async def code(app, pilot) -> None:
        await pilot.press("right_square_bracket", "s", "c", *"price", "enter")
        await pilot.pause()
        app.action_refresh()
        await pilot.pause()
        seen.append([c.coder for c in app.text_view.codings])

    run_app(project.url, "ana", code, doc="1")
    assert seen == [["ana"]]


def test_review_in_a_round_shows_the_suggestions_but_not_the_other_coders(grip: Gripcode, tmp_path: Path) -> None:
    from gripcode.workbench.app import ReviewQueue

    build_project(grip, tmp_path, autocode=True)  # ben's coding 1 and the rules' suggestions 2 and 3 in document 1
    grip.ok("coder", "add", "ana")
    grip.ok("round", "start", "pilot", "--coders", "ana,ben", "--docs", "1")
    seen: list[tuple[list[str], str]] = []

    async def look(app, pilot) -> None:
        seen.append(([c.coder[:6] for c in app.text_view.codings], screen_text(app)))

    run_app(grip.url, "ana", look, review=ReviewQueue([2, 3]))
    coders, screen = seen[0]
    assert coders == ["rules@", "rules@"] and "ben" not in screen
    assert "round pilot (blind)" in screen
