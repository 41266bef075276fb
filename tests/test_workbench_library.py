"""The library functions the workbench calls: one read of a document with its units, codings and memos; the
documents of a coder; any coding widened or narrowed to its units; a removed coding stored again; the review
queue of one machine coder; code counts of one coder."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gripcode.codebook.views import code_tree
from gripcode.coding import review as rv
from gripcode.coding.memos import add_memo
from gripcode.coding.reshape import reshape_coding
from gripcode.coding.service import apply_coding, remove_coding
from gripcode.coding.undo import copy_coding, restore_coding
from gripcode.coding.worklist import coder_documents, document_filters
from gripcode.coding.workspace import load_workspace, recent_codes
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coding
from gripcode.errors import CodingError, NotFoundError

from conftest import Gripcode
from workbench_project import INTERVIEW, MINISTRY, PRICES, build_project, events


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path):
    build_project(grip, tmp_path, autocode=True)
    engine = make_engine(grip.url)
    yield engine
    engine.dispose()


def test_a_document_is_read_with_its_units_codings_and_memos(project) -> None:
    with transaction(project) as session:
        add_memo(session, "Ask about the 2010 quotas again.", coder="ana", document="1", title="paragraph 1")
    with transaction(project, write=False) as session:
        counted = load_workspace(session, "baotou")
        everything = load_workspace(session, "1", statuses=("accepted", "suggested"))
        blind = load_workspace(session, "1", only_coder="ana")
    assert (counted.doc_id, counted.case, counted.kind, counted.language, counted.text) == (
        1, "China", "interview", "en", INTERVIEW)
    assert [(u.seq, u.speaker) for u in counted.turns] == [(1, "Interviewer"), (2, "Manager"), (3, "Interviewer"),
                                                           (4, "Manager")]
    assert len(counted.paragraphs) == 2 and len(counted.sentences) == 7
    assert [(c.code, c.coder, c.color, INTERVIEW[c.start:c.end]) for c in counted.shown.codings] == [
        ("price-control", "ben", "#80b1d3", PRICES)]
    assert [(c.code, c.status, c.source) for c in everything.shown.codings][:2] == [
        ("export-restrictions", "suggested", "term:export quotas")] * 2
    assert [(m.title, m.text, m.coder) for m in counted.shown.memos] == [
        ("paragraph 1", "Ask about the 2010 quotas again.", "ana")]
    assert blind.shown.codings == () and len(blind.shown.memos) == 1


def test_the_documents_of_a_coder_with_counts_and_filters(project) -> None:
    with transaction(project) as session:
        apply_coding(session, "3", "local-content", coder="ana", quote="separation plant")
    with transaction(project, write=False) as session:
        rows = coder_documents(session, "ana")
        assert [(r["id"], r["case"], r["words"], r["mine"], r["codings"]) for r in rows] == [
            (1, "China", 45, 0, 1), (2, "Brazil", 26, 0, 0), (3, "Kazakhstan", 16, 1, 1)]
        assert [r["id"] for r in coder_documents(session, "ana", coded_by_me=True)] == [3]
        assert [r["id"] for r in coder_documents(session, "ana", coded_by_me=False)] == [1, 2]
        assert [r["id"] for r in coder_documents(session, "ana", language="pt")] == [2]
        assert [r["id"] for r in coder_documents(session, "ana", case="China", kind="interview")] == [1]
        assert "codings" not in coder_documents(session, "ana", others=False)[0]
        assert document_filters(session) == {"case": ["Brazil", "China", "Kazakhstan"],
                                             "kind": ["interview", "media", "policy"], "language": ["en", "pt"]}
        assert recent_codes(session, "ana") == ["local-content"]
        assert recent_codes(session, "ben") == ["price-control"]


def test_any_coding_widens_and_narrows_to_its_units(project, grip: Gripcode) -> None:
    with transaction(project) as session:
        coding, _ = apply_coding(session, "1", "export-restrictions", coder="ana", quote="cut export quotas")
        coding_id = coding.id
    with transaction(project) as session:
        widened, before = reshape_coding(session, coding_id, "sentence", narrow=False, actor="ana")
        assert INTERVIEW[widened.start:widened.end] == "Manager: " + MINISTRY
        assert INTERVIEW[before[0]:before[1]] == "cut export quotas"
    with transaction(project) as session:
        widened, _ = reshape_coding(session, coding_id, "paragraph", narrow=False, actor="ana")
        assert widened.quote == INTERVIEW.split("\n\n")[0]
    with transaction(project) as session:
        narrowed, _ = reshape_coding(session, coding_id, "sentence", narrow=True, actor="ana",
                                     at=INTERVIEW.index("rose"))
        assert narrowed.quote == PRICES and narrowed.status == "accepted"
    with transaction(project) as session, pytest.raises(CodingError, match="the coding already is that sentence"):
        reshape_coding(session, coding_id, "sentence", narrow=False, actor="ana")
    assert events(grip.url, "coding.edited") == [("ana", "coding.edited")] * 3


def test_a_suggestion_reshaped_from_the_workbench_stays_open_for_review(project) -> None:
    with transaction(project, write=False) as session:
        first = rv.pending(session)[0]
    with transaction(project) as session:
        coding, _ = reshape_coding(session, first, "paragraph", narrow=False, actor="ana")
        assert (coding.status, coding.start) == ("suggested", 0)


def test_a_removed_coding_is_stored_again_with_its_memos(project, grip: Gripcode) -> None:
    with transaction(project) as session:
        coding, _ = apply_coding(session, "1", "price-control", coder="ana", quote="reference prices", memo="a floor?")
        coding_id = coding.id
        add_memo(session, "Check the group's price list.", coder="ben", coding=coding_id)
    with transaction(project) as session:
        copy = copy_coding(session, coding_id)
        remove_coding(session, coding_id, actor="ana")
    with transaction(project) as session:
        restored = restore_coding(session, copy, actor="ana")
        assert (restored.id, restored.quote, restored.memo, restored.coder.name) == (
            coding_id, "reference prices", "a floor?", "ana")
    with transaction(project, write=False) as session:
        workspace = load_workspace(session, "1")
    assert [(m.coding_id, m.text, m.coder) for m in workspace.shown.memos] == [
        (coding_id, "Check the group's price list.", "ben")]
    assert events(grip.url, "coding.re") == [("ana", "coding.removed"), ("ana", "coding.restored")]


def test_a_removed_coding_is_not_stored_twice(project) -> None:
    with transaction(project) as session:
        coding, _ = apply_coding(session, "1", "price-control", coder="ana", quote="reference prices")
        copy = copy_coding(session, coding.id)
        remove_coding(session, coding.id, actor="ana")
    with transaction(project) as session:
        apply_coding(session, "1", "price-control", coder="ana", quote="reference prices")
    with transaction(project) as session, pytest.raises(CodingError, match="already has that code, coder and span"):
        restore_coding(session, copy, actor="ana")


def test_the_review_queue_of_one_machine_coder(project) -> None:
    with transaction(project, write=False) as session:
        machine = session.scalar(select(Coding.coder_id).where(Coding.origin == "rule").limit(1))
        everything = rv.pending(session)
        from gripcode.db.models import Coder

        name = session.get(Coder, machine).name
        assert rv.pending(session, coder=name) == everything and len(everything) == 2
        with pytest.raises(CodingError, match="ben is a person coder, not a machine coder"):
            rv.pending(session, coder="ben")
        with pytest.raises(NotFoundError, match="no coder 'rules@nothing'; known coders: ben, rules@"):
            rv.pending(session, coder="rules@nothing")


def test_code_counts_of_one_coder(project) -> None:
    with transaction(project) as session:
        apply_coding(session, "3", "local-content", coder="ana", quote="separation plant")
    with transaction(project, write=False) as session:
        everyone = {r["id"]: (r["codings"], r["suggested"]) for r in code_tree(session)}
        ana = {r["id"]: (r["codings"], r["suggested"]) for r in code_tree(session, coder="ana", details=True)}
        detail = code_tree(session, details=True)[0]
    assert everyone == {"export-restrictions": (0, 2), "price-control": (1, 0), "local-content": (1, 0)}
    assert ana == {"export-restrictions": (0, 0), "price-control": (0, 0), "local-content": (1, 0)}
    assert (detail["include"], detail["exclude"], detail["examples"]["positive"][0]["text"]) == (
        "Quotas, licences and bans on exports.", "Tariffs on imports.", "The ministry cut export quotas again.")
