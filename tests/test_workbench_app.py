"""The workbench driven through Textual's harness: key presses and the mouse in, the project's codings, memos and
audit log (and what the screen shows) out. On SQLite, and on PostgreSQL with GRIPCODE_TEST_DB."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gripcode.coding.service import apply_coding
from gripcode.db.engine import make_engine, transaction

from conftest import Gripcode
from workbench_project import (
    INTERVIEW,
    MINISTRY,
    build_project,
    coding_memos,
    codings,
    events,
    memos,
    run_app,
    screen_text,
)

SENTENCE_2 = "Manager: " + MINISTRY  # 57:111
PARAGRAPH_1 = INTERVIEW.split("\n\n")[0]  # 0:159


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    return build_project(grip, tmp_path)


def mine(url: str) -> list[tuple[str, int, int, str]]:
    return [(code, start, end, status) for code, coder, start, end, status, _ in codings(url) if coder == "ana"]


def test_the_cursor_moves_by_character_word_line_sentence_and_paragraph(project: Gripcode) -> None:
    seen: list[int] = []
    shown: list[str] = []

    async def steps(app, pilot) -> None:
        for keys in (("right", "right"), ("ctrl+right",), ("ctrl+right",), ("ctrl+left",), ("right_square_bracket",),
                     ("right_square_bracket",), ("left_square_bracket",), ("right_curly_bracket",),
                     ("left_curly_bracket",), ("down",), ("up",), ("end",), ("home",), ("G",), ("g",)):
            await pilot.press(*keys)
            seen.append(app.text_view.cursor.offset)
        await pilot.press("right_curly_bracket")
        shown.append(screen_text(app))

    run_app(project.url, "ana", steps, doc="1")
    assert seen == [2, 11, 16, 13, 57, 112, 57, 161, 0, 57, 0, 56, 0, 283, 0]
    assert "   1  Interviewer: How did the export quotas change your work?" in shown[0]
    assert "   2  Interviewer: Did the state set prices?" in shown[0]
    assert "¶2  │ ana" in shown[0]


def test_a_sentence_is_coded_through_the_code_picker(project: Gripcode) -> None:
    shown: list[str] = []

    async def steps(app, pilot) -> None:
        await pilot.press("right_square_bracket", "s", "c")
        shown.append(screen_text(app))
        await pilot.press(*"price", "enter")
        shown.append(screen_text(app))

    run_app(project.url, "ana", steps, doc="1")
    assert "Code the selection with" in shown[0] and "■ price-control  Price control" in shown[0]
    assert mine(project.url) == [("price-control", 57, 111, "accepted")]
    assert codings(project.url, coder="ana")[0][5] == SENTENCE_2
    assert events(project.url, "coding.applied")[-1] == ("ana", "coding.applied")
    assert " Coded 57:111 with price-control (coding 2)." in shown[1]
    assert "▶ ■ price-control" in shown[1] and "ana · #2 · 57:111" in shown[1]
    assert " recent: 1 ■ price-control" in shown[1]


def test_the_counts_follow_the_readers_actions(project: Gripcode) -> None:
    shown: list[tuple[str, str]] = []

    async def steps(app, pilot) -> None:
        from textual.widgets import DataTable

        table = app.query_one("#documents-table", DataTable)

        def counts() -> tuple[str, str]:
            labels = [str(node.label) for node in app.query_one("#codebook").root.children]
            return next(label for label in labels if "price-control" in label), "/".join(
                str(cell) for cell in table.get_row_at(0)[2:4])

        shown.append(counts())
        await pilot.press("right_square_bracket", "s", "c", *"price", "enter")
        for _ in range(30):  # read in the background a moment after the action
            await pilot.pause(0.1)
            if counts() != shown[0]:
                break
        shown.append(counts())

    run_app(project.url, "ana", steps, doc="1")
    assert shown == [("■   1 price-control", "0/1"), ("■   2 price-control", "1/2")]


def test_several_codes_at_once_and_one_undo_takes_them_back(project: Gripcode) -> None:
    messages: list[str] = []

    async def steps(app, pilot) -> None:
        await pilot.press("right_square_bracket", "s", "c", *"exp", "tab", "backspace", "backspace", "backspace",
                          *"local", "tab", "enter")
        messages.append(app.last_message)
        await pilot.press("u")
        messages.append(app.last_message)

    run_app(project.url, "ana", steps, doc="1")
    assert messages == ["Coded 57:111 with export-restrictions, local-content (coding 2, 3).",
                        "Undone: coding export-restrictions, local-content."]
    assert mine(project.url) == []
    assert events(project.url, "coding.") == [("ben", "coding.applied")] + [("ana", "coding.applied")] * 2 + [
        ("ana", "coding.removed")] * 2


def test_a_number_key_applies_a_recent_code(project: Gripcode) -> None:
    messages: list[str] = []

    async def steps(app, pilot) -> None:
        await pilot.press("1")
        messages.append(app.last_message)
        await pilot.press("s", "c", *"local", "enter", "right_square_bracket", "right_square_bracket", "s", "1")
        messages.append(app.last_message)

    run_app(project.url, "ana", steps, doc="1")
    assert messages[0] == "There is no recent code 1 yet: code with c first."
    assert messages[1] == "Coded 112:137 with local-content (coding 3)."
    assert mine(project.url) == [("local-content", 0, 56, "accepted"), ("local-content", 112, 137, "accepted")]


def test_selecting_with_shift_selection_mode_units_and_the_mouse(project: Gripcode) -> None:
    selections: list[tuple[int, int] | None] = []

    async def steps(app, pilot) -> None:
        cursor = app.text_view.cursor
        await pilot.press("shift+right", "shift+right", "shift+right")
        selections.append(cursor.selection)
        await pilot.press("escape", "home", "v", "ctrl+right", "ctrl+right")
        selections.append(cursor.selection)
        await pilot.press("right_square_bracket")  # selection mode: the sentence move extends it too
        selections.append(cursor.selection)
        await pilot.press("escape", "p")
        selections.append(cursor.selection)
        await pilot.press("escape", "g", "down", "t")
        selections.append(cursor.selection)
        # "ministry" on the second line: the border, six columns of paragraph numbers, then the text
        await pilot.mouse_down("#text", offset=(1 + 6 + 13, 2))
        await pilot.mouse_up("#text", offset=(1 + 6 + 21, 2))
        selections.append(cursor.selection)
        await pilot.click("#text", offset=(1 + 6 + 4, 1))
        selections.append((cursor.offset, cursor.offset) if cursor.selection is None else cursor.selection)

    run_app(project.url, "ana", steps, doc="1")
    assert selections == [(0, 3), (0, 16), (0, 56), (0, 159), (57, 159), (70, 78), (4, 4)]
    assert INTERVIEW[70:78] == "ministry"


def test_a_coding_is_removed_and_the_removal_undone(project: Gripcode) -> None:
    messages: list[str] = []

    async def steps(app, pilot) -> None:
        await pilot.press("right_square_bracket", "right_square_bracket", "x")
        messages.append(app.last_message)
        await pilot.press("left_square_bracket", "s", "c", *"price", "enter", "x")
        messages.append(app.last_message)
        await pilot.press("u")
        messages.append(app.last_message)
        await pilot.press("u", "u")
        messages.append(app.last_message)

    run_app(project.url, "ana", steps, doc="1")
    assert messages == [
        ("Coding 1 is ben's: the workbench changes only your own codings and suggestions (gripcode code edit and "
         "code rm change any)."),
        "Removed coding 2 (price-control, 57:111).", "Undone: removing price-control.", "Nothing to undo."]
    assert mine(project.url) == []
    assert [action for actor, action in events(project.url, "coding.") if actor == "ana"] == [
        "coding.applied", "coding.removed", "coding.restored", "coding.removed"]


def test_overlapping_codings_are_taken_in_turn(project: Gripcode) -> None:
    messages: list[str] = []
    here: list[str] = []

    async def steps(app, pilot) -> None:
        await pilot.press("right_square_bracket", "right_square_bracket", "s", "c", *"local", "enter")
        here.append(app.query_one("#here").shown.plain)
        for key in ("o", "x", "o", "x"):
            await pilot.press(key)
            messages.append(app.last_message)

    run_app(project.url, "ana", steps, doc="1")
    assert here == ["▶ ■ local-content\n    ana · #2 · 112:137\n  ■ price-control\n    ben · #1 · 112:137\n"]
    assert messages == [
        "Current coding: price-control by ben (#1).",
        ("Coding 1 is ben's: the workbench changes only your own codings and suggestions (gripcode code edit and "
         "code rm change any)."),
        "Current coding: local-content by ana (#2).",
        "Removed coding 2 (local-content, 112:137)."]
    assert [(code, coder) for code, coder, *_ in codings(project.url)] == [("price-control", "ben")]


def test_a_coding_is_recoded_and_the_recode_undone(project: Gripcode) -> None:
    after: list[list[tuple[str, int, int, str]]] = []

    async def steps(app, pilot) -> None:
        await pilot.press("right_square_bracket", "s", "c", *"price", "enter", "e", *"local", "enter")
        after.append(mine(project.url))
        await pilot.press("ctrl+z")

    run_app(project.url, "ana", steps, doc="1")
    assert after[0] == [("local-content", 57, 111, "accepted")]
    assert mine(project.url) == [("price-control", 57, 111, "accepted")]
    assert events(project.url, "coding.edited") == [("ana", "coding.edited")] * 2


def test_a_coding_is_widened_and_narrowed_to_sentence_and_paragraph(project: Gripcode) -> None:
    engine = make_engine(project.url)
    with transaction(engine) as session:
        apply_coding(session, "1", "export-restrictions", coder="ana", quote="cut export quotas")
    engine.dispose()
    spans: list[list[tuple[str, int, int, str]]] = []

    async def steps(app, pilot) -> None:
        app.text_view.move_cursor(INTERVIEW.index("export quotas again"))
        for key in ("w", "W"):
            await pilot.press(key)
            spans.append(mine(project.url))
        app.text_view.move_cursor(INTERVIEW.index("rose"))
        await pilot.press("n")
        spans.append(mine(project.url))
        await pilot.press("u")

    run_app(project.url, "ana", steps, doc="1")
    assert spans == [[("export-restrictions", 57, 111, "accepted")], [("export-restrictions", 0, 159, "accepted")],
                     [("export-restrictions", 112, 137, "accepted")]]
    assert mine(project.url) == [("export-restrictions", 0, 159, "accepted")]
    assert codings(project.url, coder="ana")[0][5] == PARAGRAPH_1


def test_memos_on_a_coding_a_paragraph_and_the_document(project: Gripcode) -> None:
    shown: list[str] = []

    async def steps(app, pilot) -> None:
        await pilot.press("right_square_bracket", "s", "c", *"price", "enter", "m", *"Is 2010 the first cut?", "enter")
        await pilot.press("right_curly_bracket", "m", *"Ask for the price list.", "enter")
        await pilot.press("M", *"Notes lightly edited.", "enter")
        shown.append(app.query_one("#here").shown.plain)
        shown.append(app.query_one("#doc-memos").shown.plain)
        await pilot.press("u")

    run_app(project.url, "ana", steps, doc="1")
    assert coding_memos(project.url) == [None, "Is 2010 the first cut?"]
    assert memos(project.url) == [("paragraph 2", "Ask for the price list.", "ana", None)]
    assert shown[0] == "No coding here.\n\nMemos here\n  Ask for the price list.  (ana, paragraph 2)\n"
    assert shown[1] == "Ask for the price list. (ana, paragraph 2)\nNotes lightly edited. (ana)\n"
    assert [action for _, action in events(project.url, "memo.")] == ["memo.added", "memo.added", "memo.removed"]


def test_review_accepts_rejects_recodes_widens_and_undoes(grip: Gripcode, tmp_path: Path) -> None:
    from gripcode.workbench.app import ReviewQueue

    build_project(grip, tmp_path, autocode=True)
    states: list[list[tuple[str, str, int, int, str]]] = []
    shown: list[str] = []

    def suggestions() -> list[tuple[str, str, int, int, str]]:
        return [(code, coder[:6], start, end, status) for code, coder, start, end, status, _ in codings(grip.url)
                if coder.startswith("rules@")]

    async def steps(app, pilot) -> None:
        shown.append(screen_text(app))
        await pilot.press("W")
        states.append(suggestions())
        await pilot.press("u", "a")
        states.append(suggestions())
        await pilot.press("c", *"price", "enter")
        states.append(suggestions())
        shown.append(screen_text(app))
        await pilot.press("u", "u", "x")
        states.append(suggestions())

    run_app(grip.url, "ana", steps, review=ReviewQueue([2, 3]))
    assert " Review [1/2] export-restrictions (Export restrictions) from rule term:export quotas [suggested]" in shown[0]
    assert states == [
        [("export-restrictions", "rules@", 0, 159, "suggested"), ("export-restrictions", "rules@", 57, 111, "suggested")],
        [("export-restrictions", "rules@", 0, 56, "accepted"), ("export-restrictions", "rules@", 57, 111, "suggested")],
        [("export-restrictions", "rules@", 0, 56, "accepted"), ("price-control", "rules@", 57, 111, "accepted")],
        [("export-restrictions", "rules@", 0, 56, "rejected"), ("export-restrictions", "rules@", 57, 111, "suggested")],
    ]
    assert "Accepted suggestion 3 as price-control. No more suggestions in this pass. Everything is saved." in shown[1]
    assert [action for actor, action in events(grip.url, "coding.") if actor == "ana"] == [
        "coding.reshaped", "coding.review_undone", "coding.reviewed", "coding.reviewed", "coding.review_undone",
        "coding.review_undone", "coding.reviewed"]


def test_blind_mode_shows_only_the_coders_own_work(project: Gripcode) -> None:
    shown: dict[str, str] = {}
    seen: dict[str, int] = {}

    async def look(app, pilot) -> None:
        await pilot.press("right_square_bracket", "right_square_bracket")
        shown["blind" if app.blind else "open"] = screen_text(app)
        seen["blind" if app.blind else "open"] = len(app.text_view.codings)

    run_app(project.url, "ana", look, doc="1")
    run_app(project.url, "ana", look, doc="1", blind=True)
    assert seen == {"open": 1, "blind": 0}
    assert "▶ ■ price-control" in shown["open"] and "ben · #1 · 112:137" in shown["open"]
    assert "ben" not in shown["blind"]
    assert "No coding here." in shown["blind"]
    assert " id  words  mine  all  title" in shown["open"] and " id  words  mine  title" in shown["blind"]
    assert "■   1 price-control" in shown["open"] and "■   0 price-control" in shown["blind"]
    assert "│ ana (blind)" in shown["blind"]


def test_refresh_shows_what_another_coder_wrote_meanwhile(project: Gripcode) -> None:
    counts: list[int] = []
    messages: list[str] = []

    def ben_codes(quote: str) -> None:
        engine = make_engine(project.url)
        with transaction(engine) as session:
            apply_coding(session, "1", "local-content", coder="ben", quote=quote)
        engine.dispose()

    async def steps(app, pilot) -> None:
        counts.append(len(app.text_view.codings))
        ben_codes("reference prices")
        await pilot.press("right_square_bracket", "s", "c", *"export", "enter")  # ana codes meanwhile
        counts.append(len(app.text_view.codings))
        await pilot.press("r")
        counts.append(len(app.text_view.codings))
        messages.append(app.last_message)

    run_app(project.url, "ana", steps, doc="1")
    assert counts == [1, 2, 3]
    assert messages == ["Refreshed: 3 coding(s) shown in this document."]
    assert sorted((code, coder) for code, coder, *_ in codings(project.url)) == [
        ("export-restrictions", "ana"), ("local-content", "ben"), ("price-control", "ben")]


def test_the_automatic_refresh_shows_another_coders_coding(project: Gripcode) -> None:
    counts: list[int] = []

    async def steps(app, pilot) -> None:
        counts.append(len(app.text_view.codings))
        engine = make_engine(project.url)
        with transaction(engine) as session:
            apply_coding(session, "1", "local-content", coder="ben", quote="reference prices")
        engine.dispose()
        for _ in range(40):  # the refresh runs every 0.2 s, reading in a thread
            await pilot.pause(0.1)
            if len(app.text_view.codings) == 2:
                break
        counts.append(len(app.text_view.codings))

    run_app(project.url, "ana", steps, doc="1", refresh_seconds=0.2)
    assert counts == [1, 2]


def test_the_documents_pane_filters_and_opens_documents(project: Gripcode) -> None:
    rows: list[list[str]] = []
    opened: list[int] = []

    async def steps(app, pilot) -> None:
        from textual.widgets import DataTable, Select

        table = app.query_one("#documents-table", DataTable)

        def listed() -> list[str]:
            return [str(table.get_row_at(index)[0]) for index in range(table.row_count)]

        rows.append(listed())
        app.query_one("#filter-language", Select).value = "pt"
        await pilot.pause()
        rows.append(listed())
        app.query_one("#filter-language", Select).value = Select.NULL
        app.query_one("#filter-case", Select).value = "China"
        await pilot.pause()
        rows.append(listed())
        app.query_one("#filter-case", Select).value = Select.NULL
        app.query_one("#filter-coded", Select).value = "yes"
        await pilot.pause()
        rows.append(listed())
        app.query_one("#filter-coded", Select).value = "no"
        app.query_one("#filter-kind", Select).value = "media"
        await pilot.pause()
        rows.append(listed())
        table.focus()
        await pilot.press("enter")
        opened.append(app.workspace.doc_id)
        opened.append(int(app.focused is app.text_view))

    run_app(project.url, "ana", steps, doc="1")
    assert rows == [["1", "2", "3"], ["2"], ["1"], [], ["3"]]
    assert opened == [3, 1]


def test_the_keys_and_what_a_key_needs_first(project: Gripcode) -> None:
    shown: list[str] = []
    messages: list[str] = []

    async def steps(app, pilot) -> None:
        await pilot.press("c")
        messages.append(app.last_message)
        await pilot.press("x")
        messages.append(app.last_message)
        await pilot.press("question_mark")
        shown.append(screen_text(app))
        await pilot.press("escape")
        shown.append(screen_text(app))

    run_app(project.url, "ana", steps, doc="1")
    assert messages == ["Select a passage first: shift+arrows, v and a move, s, p or t, or drag with the mouse.",
                        "No coding under the cursor."]
    assert "Keys (escape closes)" in shown[0]
    assert "c                     code the selection: type letters of a code id or name" in shown[0]
    assert "Keys (escape closes)" not in shown[1]


def test_a_browser_tabs_app_quits_when_its_server_is_gone(project: Gripcode, monkeypatch: pytest.MonkeyPatch) -> None:
    """textual-serve runs an app per browser tab; one whose server was killed outright quits by itself."""
    import subprocess
    import sys

    from gripcode.workbench import app as app_module

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    monkeypatch.setattr(app_module, "SERVER_CHECK", 0.05)
    quits: list[str] = []
    exit_app = app_module.WorkbenchApp.exit

    def recorded_exit(app, *args, **kwargs) -> None:
        quits.append(os.environ["GRIPCODE_WORKBENCH_SERVER"])
        exit_app(app, *args, **kwargs)

    monkeypatch.setattr(app_module.WorkbenchApp, "exit", recorded_exit)

    async def steps(app, pilot) -> None:
        await pilot.pause(0.4)

    for server in (str(os.getpid()), gone.stdout.strip()):
        monkeypatch.setenv("GRIPCODE_WORKBENCH_SERVER", server)
        run_app(project.url, "ana", steps, doc="1")
    assert quits[:1] == [gone.stdout.strip()]
