"""Reliability rounds in process: start, blindness in show / codings list / code session, status for the organiser
and for a coder, close (agreement, disagreements, agreed codings), adjudication, and the errors. On SQLite, and on
PostgreSQL with GRIPCODE_TEST_DB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coding, Event, Round, RoundDisagreement
from gripcode.reliability.agreement import compute_agreement
from gripcode.team.rounds import close_round
from gripcode.errors import RoundError

from conftest import TWO_CODES, Gripcode

BEIJING = "The ministry cut export quotas again.\n\nPrices rose in Baotou.\n\nThe state fixed a price floor.\n"
BRASILIA = "Export quotas are not on the table here.\n\nThe agency wants a price floor.\n"
ALMATY = "SARECO plans a separation plant.\n"


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    (tmp_path / "cb.yaml").write_text(TWO_CODES.format(name="rounds-test"), encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    for name, text, case in (("beijing", BEIJING, "China"), ("brasilia", BRASILIA, "Brazil"),
                             ("almaty", ALMATY, "Kazakhstan")):
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
        grip.ok("import", str(tmp_path / f"{name}.txt"), "--case", case, "--create-cases")
    for coder in ("ana", "ben"):
        grip.ok("coder", "add", coder)
    return grip


def as_(grip: Gripcode, coder: str) -> Gripcode:
    return Gripcode(grip.url, coder=coder)


def code_round(grip: Gripcode) -> None:
    """ana and ben code beijing (1) and brasilia (2): they agree on one paragraph and differ on four."""
    ana, ben = as_(grip, "ana"), as_(grip, "ben")
    ana.ok("code", "add", "1", "export-restrictions", "--unit", "paragraph:1")
    ben.ok("code", "add", "1", "export-restrictions", "--unit", "paragraph:1")
    ana.ok("code", "add", "1", "price-control", "--unit", "paragraph:2")
    ben.ok("code", "add", "1", "price-control", "--unit", "paragraph:3")
    ben.ok("code", "add", "2", "export-restrictions", "--unit", "paragraph:1")
    ana.ok("code", "add", "2", "price-control", "--unit", "paragraph:2")


def actions(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with transaction(engine, write=False) as session:
            return [tuple(r) for r in session.execute(select(Event.actor, Event.action)
                                                      .where(Event.action.startswith("round.")).order_by(Event.id))]
    finally:
        engine.dispose()


def test_start_lists_the_round_and_records_it(project: Gripcode) -> None:
    org = as_(project, "org")
    out = org.ok("round", "start", "pilot", "--coders", "ana, ben", "--docs", "1", "--docs", "brasilia").output
    assert out.startswith("Started round pilot: ana, ben code 2 document(s) blind, agreement by paragraph.\n")
    listed = json.loads(org.ok("round", "list", "--format", "json").output)
    assert [(r["name"], r["status"], r["unit"], r["coders"], r["documents"], r["created_by"]) for r in listed] == [
        ("pilot", "open", "paragraph", "ana, ben", 2, "org")]
    org.ok("round", "start", "by-case", "--coders", "ana,ben", "--case", "Kazakhstan", "--unit", "document")
    assert json.loads(org.ok("round", "list", "--format", "json").output)[1]["documents"] == 1
    assert actions(project.url) == [("org", "round.started"), ("org", "round.started")]


@pytest.mark.parametrize(("args", "message"), [
    (("--coders", "ana,zoe", "--docs", "1"), "no coder 'zoe'; known coders: ana, ben"),
    (("--coders", "ana", "--docs", "1"), "a round needs at least two coders"),
    (("--coders", "ana,ben"), "a round needs documents"),
    (("--coders", "ana,ben", "--docs", "99"), "no document"),
    (("--coders", "ana,ben", "--docs", "1", "--unit", "turn"), "document(s) 1 have no speaker turns"),
    (("--coders", "ana,ben", "--case", "Nowhere"), "no case 'Nowhere'"),
])
def test_start_refuses_what_cannot_make_a_round(project: Gripcode, args: tuple[str, ...], message: str) -> None:
    result = project("round", "start", "pilot", *args)
    assert result.exit_code == 1 and f"Error: {message}" in result.output, result.output
    assert "Traceback" not in result.output
    assert project.ok("round", "list").output.startswith("No rounds yet")


def test_a_round_name_is_used_once(project: Gripcode) -> None:
    project.ok("round", "start", "pilot", "--coders", "ana,ben", "--docs", "1")
    again = project("round", "start", "pilot", "--coders", "ana,ben", "--docs", "2")
    assert again.exit_code == 1 and "Error: round 'pilot' exists already (open, started by tester" in again.output


def test_an_open_rounds_coders_see_only_their_own_codings_and_memos(project: Gripcode) -> None:
    project.ok("round", "start", "pilot", "--coders", "ana,ben", "--docs", "1,2")
    code_round(project)
    as_(project, "ben").ok("memo", "add", "ben's memo", "--doc", "1")
    as_(project, "ben").ok("code", "add", "3", "price-control", "--quote", "SARECO")  # not a round document
    ana = as_(project, "ana")
    listed = json.loads(ana.ok("codings", "list", "--format", "json").stdout)
    assert {(r["doc_id"], r["coder"]) for r in listed} == {(1, "ana"), (2, "ana"), (3, "ben")}
    assert "other coders' codings of its 2 document(s) are not listed" in ana.ok("codings", "list").output
    shown = ana.ok("show", "1", "--codes", "--no-color").output
    assert "# round pilot (blind): only ana's codings and memos are shown" in shown
    assert "(ana)" in shown and "ben" not in shown
    refused = ana("show", "1", "--codes", "--coder", "ben")
    assert refused.exit_code == 1 and "in round pilot, open, in which ana codes blind" in refused.output
    session = ana.ok("code", "session", "1", input="s\nq\n").output
    assert "[round pilot (blind)]" in session and "coded: export-restrictions (ana)\n" in session
    assert "ben" not in session
    # the organiser, and a coder outside the round, see everything
    org = as_(project, "org")
    assert {r["coder"] for r in json.loads(org.ok("codings", "list", "--format", "json").stdout)} == {"ana", "ben"}
    assert "(ben)" in org.ok("show", "1", "--codes", "--no-color").output
    organiser_session = org.ok("code", "session", "1", input="q\n").output
    assert "(blind)" not in organiser_session and "export-restrictions (ana), export-restrictions (ben)" in \
        organiser_session


def test_html_show_leaves_out_others_memos(project: Gripcode, tmp_path: Path) -> None:
    project.ok("round", "start", "pilot", "--coders", "ana,ben", "--docs", "1")
    code_round(project)
    as_(project, "ben").ok("memo", "add", "ben's secret memo", "--doc", "1")
    page = tmp_path / "one.html"
    assert "(2 codings, 0 memos)" in as_(project, "ana").ok("show", "1", "--format", "html", "-o", str(page)).output
    assert "secret" not in page.read_text(encoding="utf-8")


def test_status_shows_the_organiser_every_coder_and_a_coder_only_themselves(project: Gripcode) -> None:
    project.ok("round", "start", "pilot", "--coders", "ana,ben", "--docs", "1,2")
    as_(project, "ana").ok("code", "add", "1", "price-control", "--unit", "paragraph:2")
    as_(project, "ana").ok("code", "add", "1", "price-control", "--unit", "paragraph:3")
    organiser = project.ok("round", "status", "pilot").output
    assert "Round pilot (open): ana, ben on 2 document(s), by paragraph" in organiser
    assert "ana    1                2          2            5" in organiser
    assert "ben    0                2          0            5" in organiser
    coder = as_(project, "ben").ok("round", "status").output  # every open round without a name
    assert "ben    0" in coder and "ana " not in coder and "only your own progress is shown" in coder
    data = json.loads(project.ok("round", "status", "pilot", "--format", "json").output)
    assert data[0]["progress"][0] == {"coder": "ana", "documents_coded": 1, "documents": 2, "units_coded": 2,
                                      "units": 5}


def test_status_without_open_rounds(project: Gripcode) -> None:
    assert project.ok("round", "status").output == "No open rounds (gripcode round list shows them all).\n"
    missing = project("round", "status", "nope")
    assert missing.exit_code == 1 and "Error: no round 'nope'" in missing.output


def test_close_stores_the_agreement_of_gripcode_agreement_and_the_disagreements(project: Gripcode) -> None:
    org = as_(project, "org")
    org.ok("round", "start", "pilot", "--coders", "ana,ben", "--docs", "1,2")
    code_round(project)
    as_(project, "ben").ok("code", "add", "3", "price-control", "--quote", "SARECO")  # outside: not counted
    closed = org.ok("round", "close", "pilot").output
    assert closed.startswith("Closed round pilot: 2 coders, 2 document(s) coded by all, by paragraph.\n")
    assert "4 disagreement(s) to adjudicate: gripcode round disagreements pilot" in closed
    assert "1 agreed coding(s) given to adjudicated@pilot." in closed
    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            expected = compute_agreement(session, ["ana", "ben"], "paragraph", doc=None, among=[1, 2])
            stored = session.scalars(select(Round)).one()
            assert stored.status == "closed" and stored.closed_by == "org"
            assert [r["code"] for r in stored.agreement["rows"]] == [r["code"] for r in expected.rows]
            for row, want in zip(stored.agreement["rows"], expected.rows):
                assert row["krippendorff_alpha"] == pytest.approx(want["krippendorff_alpha"])
                assert row["units"] == 5 if row["code"] != "(overall)" else 10
            agreed = session.execute(select(Coding.document_id, Coding.start, Coding.end, Coding.quote)
                                     .join(Coding.coder).where(Coding.coder.has(name="adjudicated@pilot"))).all()
            assert [tuple(r) for r in agreed] == [(1, 0, 37, "The ministry cut export quotas again.")]
    finally:
        engine.dispose()
    rows = json.loads(org.ok("round", "disagreements", "pilot", "--format", "json").output)
    assert [(r["id"], r["doc_id"], r["unit"], r["code"], r["applied_by"], r["not_applied_by"], r["decision"])
            for r in rows] == [
        (1, 1, "paragraph 2", "price-control", "ana", "ben", None),
        (2, 1, "paragraph 3", "price-control", "ben", "ana", None),
        (3, 2, "paragraph 1", "export-restrictions", "ben", "ana", None),
        (4, 2, "paragraph 2", "price-control", "ana", "ben", None)]
    assert rows[0]["text"] == "Prices rose in Baotou."
    status = org.ok("round", "status", "pilot").output
    assert "Round pilot (closed by org on " in status and "(overall)" in status
    assert "Disagreements: 4, 4 not yet adjudicated" in status
    # once closed, the coders see everything again
    assert {r["coder"] for r in json.loads(as_(project, "ana").ok("codings", "list", "--doc", "1", "--format",
                                                                    "json").stdout)} == {"ana", "ben",
                                                                                         "adjudicated@pilot"}
    again = org("round", "close", "pilot")
    assert again.exit_code == 1 and "Error: round 'pilot' was closed already, by org on" in again.output
    assert actions(project.url) == [("org", "round.started"), ("org", "round.agreed_codings"),
                                    ("org", "round.closed")]


def test_close_at_the_document_unit(project: Gripcode) -> None:
    project.ok("round", "start", "docs", "--coders", "ana,ben", "--docs", "1,2", "--unit", "document")
    code_round(project)
    project.ok("round", "close", "docs")
    rows = json.loads(project.ok("round", "disagreements", "docs", "--format", "json").output)
    assert [(r["doc_id"], r["unit"], r["code"], r["applied_by"]) for r in rows] == [
        (2, "document", "export-restrictions", "ben"), (2, "document", "price-control", "ana")]
    assert rows[0]["text"] == BRASILIA


def test_a_round_nobody_finished_cannot_close_and_nothing_changes(project: Gripcode) -> None:
    project.ok("round", "start", "pilot", "--coders", "ana,ben", "--docs", "1,2")
    as_(project, "ana").ok("code", "add", "1", "price-control", "--unit", "paragraph:2")
    result = project("round", "close", "pilot")
    assert result.exit_code == 1
    assert "Error: round 'pilot' cannot be closed: no document was coded by all of ana, ben among its 2" in \
        result.output
    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            assert session.scalar(select(Round.status)) == "open"
            with pytest.raises(RoundError, match="cannot be closed"):
                close_round(session, "pilot", actor="x")
    finally:
        engine.dispose()
    assert actions(project.url) == [("tester", "round.started")]


def test_adjudication_records_who_decided_what_and_the_adjudicated_codings(project: Gripcode) -> None:
    org = as_(project, "org")
    org.ok("round", "start", "pilot", "--coders", "ana,ben", "--docs", "1,2")
    code_round(project)
    early = org("round", "adjudicate", "pilot", "1", "--apply")
    assert early.exit_code == 1 and "Error: round 'pilot' is still open: close it first" in early.output
    open_list = org("round", "disagreements", "pilot")
    assert open_list.exit_code == 1 and "is still open" in open_list.output
    org.ok("round", "close", "pilot")
    judge = as_(project, "carla")
    applied = judge.ok("round", "adjudicate", "pilot", "1", "2", "--apply", "--note", "prices are steered").output
    assert applied.splitlines()[0].startswith(
        "Disagreement 1: price-control on document 1 paragraph 2: applied by adjudicated@pilot (coding ")
    assert judge.ok("round", "adjudicate", "pilot", "3", "--reject").output == (
        "Disagreement 3: export-restrictions on document 2 paragraph 1: rejected\n")
    changed = judge.ok("round", "adjudicate", "pilot", "2", "--reject").output
    assert changed == "Disagreement 2: price-control on document 1 paragraph 3: rejected (was apply)\n"
    rows = {r["id"]: r for r in json.loads(org.ok("round", "disagreements", "pilot", "--format", "json").output)}
    assert [(rows[i]["decision"], rows[i]["decided_by"]) for i in (1, 2, 3, 4)] == [
        ("apply", "carla"), ("reject", "carla"), ("reject", "carla"), (None, None)]
    assert rows[1]["note"] == "prices are steered" and rows[1]["decided_at"]
    left = json.loads(org.ok("round", "disagreements", "pilot", "--open", "--format", "json").output)
    assert [r["id"] for r in left] == [4]
    assert "Disagreements: 4, 1 not yet adjudicated" in org.ok("round", "status", "pilot").output
    adjudicated = json.loads(org.ok("codings", "list", "--coder", "adjudicated@pilot", "--format", "json").output)
    assert [(r["doc_id"], r["code"], r["start"], r["end"]) for r in adjudicated] == [
        (1, "export-restrictions", 0, 37), (1, "price-control", 39, 61)]
    assert actions(project.url)[-4:] == [("carla", "round.adjudicated")] * 4
    for args, message in ((("9", "--apply"), "round 'pilot' has no disagreement 9 (it has 4, numbered from 1)"),
                          (("1", "--apply"), "disagreement 1 of round 'pilot' was decided apply already, by carla"),
                          (("1",), "say --apply"),
                          (("4", "--apply", "--reject"), None)):
        result = judge("round", "adjudicate", "pilot", *args)
        if message is None:  # the last flag given wins, as click does for flag values
            assert result.exit_code == 0 and "rejected" in result.output
        else:
            assert result.exit_code == 1 and f"Error: {message}" in result.output, result.output
    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            assert session.scalar(select(func.count()).select_from(RoundDisagreement)
                                  .where(RoundDisagreement.decision.is_(None))) == 0
    finally:
        engine.dispose()
