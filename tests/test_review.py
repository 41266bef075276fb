"""Reviewing suggestions: interactive pass, bulk decisions, reviewer recorded, only accepted ones count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coder, Coding, Event

from conftest import Gripcode

CODEBOOK = """
codebook: review-demo
codes:
  - id: quotas
    name: Export quotas
    rules:
      unit: sentence
      terms:
        en: [export quota, export quotas]
  - id: licences
    name: Export licences
    rules:
      unit: sentence
      terms:
        en: [export licence]
  - id: pollution
    name: Pollution
    rules:
      unit: paragraph
      terms:
        en: [tailings]
"""

TEXT = ("China cut its export quotas in 2010. Prices rose. Export quotas ended in 2015.\n\n"
        "An export licence is now needed. Tailings leaked into the river.\n")


@pytest.fixture
def suggested(grip: Gripcode, tmp_path: Path) -> Gripcode:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    (tmp_path / "doc.txt").write_text(TEXT, encoding="utf-8")
    grip.ok("import", str(tmp_path / "doc.txt"), "--kind", "media")
    grip.ok("autocode")
    return grip


def codings(url: str) -> list[tuple[str, str, str, str | None, int, int]]:
    engine = make_engine(url)
    reviewer = Coder.__table__.alias("reviewer")
    with transaction(engine) as s:
        rows = s.execute(select(Coding.quote, Coding.status, Coder.name, reviewer.c.name, Coding.start, Coding.end)
                         .join(Coding.coder).outerjoin(reviewer, reviewer.c.id == Coding.reviewed_by_id)
                         .order_by(Coding.start, Coding.id)).tuples().all()
    engine.dispose()
    return rows


def statuses(url: str) -> list[str]:
    return [row[1] for row in codings(url)]


def test_interactive_review_accepts_rejects_and_records_the_reviewer(suggested: Gripcode) -> None:
    reviewer = Gripcode(suggested.url, coder="ana")
    out = reviewer.ok("review", "--code", "quotas", input="a\nr\n").output
    assert "2 suggestion(s) to review as ana" in out
    assert "⟦China cut its export quotas in 2010.⟧" in out and "term:export quotas" in out
    rows = [r for r in codings(suggested.url) if r[2].startswith("rules@")]
    quotas = [r for r in rows if "quotas" in r[0].lower()]
    assert [(r[1], r[3]) for r in quotas] == [("accepted", "ana"), ("rejected", "ana")]
    engine = make_engine(suggested.url)
    with transaction(engine) as s:
        assert s.scalars(select(Event.actor).where(Event.action == "coding.reviewed")).all() == ["ana", "ana"]
    engine.dispose()


def test_undo_recode_widen_narrow_and_memo(suggested: Gripcode) -> None:
    script = "\n".join(["a", "u", "w paragraph", "n sentence", "m the 2010 cut", "c licences", "q"]) + "\n"
    out = Gripcode(suggested.url, coder="ben").ok("review", "--code", "quotas", input=script).output
    assert "Undone: coding" in out and "Widened to paragraph." in out and "Narrowed to sentence." in out
    engine = make_engine(suggested.url)
    with transaction(engine) as s:
        first = s.scalars(select(Coding).where(Coding.rule_ref == "term:export quotas").order_by(Coding.start)).first()
        assert first.code.slug == "licences" and first.status == "accepted"
        assert first.quote == "China cut its export quotas in 2010." and first.memo == "the 2010 cut"
    engine.dispose()


def test_bulk_accept_and_reject_with_filters(suggested: Gripcode) -> None:
    result = suggested("review", "accept")
    assert result.exit_code == 1 and "--code, --doc, --coder or --min-confidence" in result.output
    out = Gripcode(suggested.url, coder="ana").ok("review", "accept", "--code", "quotas").output
    assert "Accepted 2 suggestion(s) as ana" in out
    Gripcode(suggested.url, coder="ana").ok("review", "reject", "--code", "pollution", "--origin", "rule")
    assert sorted(statuses(suggested.url)) == ["accepted", "accepted", "rejected", "suggested"]
    assert "No suggestions wait" in suggested.ok("review", "--code", "quotas").output


def test_only_accepted_suggestions_count(suggested: Gripcode) -> None:
    tree = {r["id"]: r for r in json.loads(suggested.ok("codebook", "show", "--format", "json").output)}
    assert (tree["quotas"]["codings"], tree["quotas"]["suggested"]) == (0, 2)
    Gripcode(suggested.url, coder="ana").ok("review", "accept", "--code", "quotas")
    tree = {r["id"]: r for r in json.loads(suggested.ok("codebook", "show", "--format", "json").output)}
    assert (tree["quotas"]["codings"], tree["quotas"]["suggested"]) == (2, 0)


def test_review_order_by_confidence_and_uncertainty(suggested: Gripcode) -> None:
    engine = make_engine(suggested.url)
    with transaction(engine) as s:
        rows = s.scalars(select(Coding).order_by(Coding.start, Coding.id)).all()
        for coding, confidence in zip(rows, (0.95, 0.55, 0.1, 0.7)):
            coding.confidence = confidence
        ids = {c.confidence: c.id for c in rows}
    engine.dispose()
    from gripcode.coding.review import pending

    with transaction(make_engine(suggested.url)) as s:
        assert pending(s, order="confidence") == [ids[0.95], ids[0.7], ids[0.55], ids[0.1]]
        assert pending(s, order="uncertainty") == [ids[0.55], ids[0.7], ids[0.1], ids[0.95]]
        assert pending(s, order="position") == [c for c in (ids[0.95], ids[0.55], ids[0.1], ids[0.7])]


def test_manual_codings_cannot_be_reviewed(suggested: Gripcode) -> None:
    suggested.ok("code", "add", "1", "quotas", "--quote", "Prices rose.")
    engine = make_engine(suggested.url)
    with transaction(engine) as s:
        manual = s.scalar(select(Coding.id).where(Coding.origin == "manual"))
    engine.dispose()
    from gripcode.coding.review import decide
    from gripcode.errors import CodingError

    with pytest.raises(CodingError, match="made by hand"), transaction(make_engine(suggested.url)) as s:
        decide(s, manual, "accept", reviewer="ana")


def test_min_confidence_says_that_rule_suggestions_carry_none(suggested: Gripcode) -> None:
    refused = suggested("review", "accept", "--min-confidence", "0.5", "--origin", "rule")
    assert refused.exit_code == 1
    assert "Error: rule suggestions carry no confidence, so --min-confidence selects none of them" in refused.output
    out = suggested.ok("review", "accept", "--min-confidence", "0.5").output
    assert out == ("Accepted 0 suggestion(s) as tester\n4 rule suggestion(s) left waiting: rule suggestions carry "
                   "no confidence, so --min-confidence leaves them out (choose them with --code or --doc)\n")
    out = suggested.ok("review", "reject", "--min-confidence", "0.5", "--code", "quotas").output
    assert "Rejected 0 suggestion(s) as tester\n2 rule suggestion(s) left waiting" in out
    assert statuses(suggested.url) == ["suggested"] * 4
    # Model suggestions above the threshold are decided; the note counts only the rule ones left.
    engine = make_engine(suggested.url)
    with transaction(engine) as s:
        first = s.scalars(select(Coding).order_by(Coding.start, Coding.id)).first()
        first.origin, first.rule_ref, first.confidence = "model", None, 0.9
    engine.dispose()
    out = suggested.ok("review", "accept", "--min-confidence", "0.5").output
    assert out.startswith("Accepted 1 suggestion(s) as tester\n3 rule suggestion(s) left waiting")
    assert suggested.ok("review", "accept", "--min-confidence", "0.5", "--origin", "model").output == (
        "Accepted 0 suggestion(s) as tester\n")


def drop(url: str, coding_id: int) -> None:
    """What a concurrent autocode run does to a suggestion still waiting: it deletes it."""
    engine = make_engine(url)
    with transaction(engine) as s:
        s.execute(delete(Coding).where(Coding.id == coding_id))
    engine.dispose()


def quota_suggestions(url: str) -> list[int]:
    engine = make_engine(url)
    with transaction(engine) as s:
        ids = s.scalars(select(Coding.id).where(Coding.rule_ref == "term:export quotas")
                        .order_by(Coding.start)).all()
    engine.dispose()
    return list(ids)


def test_a_suggestion_gone_before_it_is_shown_is_skipped_with_a_note(
    suggested: Gripcode, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gripcode.cli import review as review_cli

    first, second = quota_suggestions(suggested.url)
    walk = review_cli._walk

    def dropped_then_walked(app: object, queue: list[int]) -> None:
        drop(suggested.url, queue[0])  # between the listing and the showing
        walk(app, queue)  # type: ignore[arg-type]

    monkeypatch.setattr(review_cli, "_walk", dropped_then_walked)
    out = Gripcode(suggested.url, coder="ana").ok("review", "--code", "quotas", input="a\n").output
    assert f"Suggestion {first} is gone (a later autocode run removed it); skipped.\n" in out
    assert "[1/1] quotas" in out and "Accepted." in out and "No more suggestions in this pass." in out
    assert quota_suggestions(suggested.url) == [second]
    assert [r[1] for r in codings(suggested.url) if "quotas" in r[0].lower()] == ["accepted"]


def test_the_installed_program_skips_a_suggestion_dropped_while_it_was_shown(suggested: Gripcode) -> None:
    import os
    import select as io_select
    import subprocess

    from conftest import PROGRAM

    first, second = quota_suggestions(suggested.url)
    process = subprocess.Popen([str(PROGRAM), "--db", suggested.url, "--coder", "ana", "review", "--code", "quotas"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        shown = b""
        while not shown.endswith(b"review> "):  # the first suggestion is on screen, waiting for a key
            ready, _, _ = io_select.select([process.stdout], [], [], 60)
            assert ready, shown
            chunk = os.read(process.stdout.fileno(), 4096)  # type: ignore[union-attr]
            assert chunk, shown
            shown += chunk
        assert b"[1/2] quotas" in shown
        drop(suggested.url, first)
        out, err = process.communicate(b"a\na\n", timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    text = (shown + out).decode()
    assert process.returncode == 0 and err == b"", err
    assert f"Not saved: no coding with id {first}" in text
    assert f"Suggestion {first} is gone (a later autocode run removed it); skipped." in text
    assert "[1/1] quotas" in text and "Accepted." in text and "No more suggestions in this pass." in text
    assert [r[1] for r in codings(suggested.url) if "quotas" in r[0].lower()] == ["accepted"]
    assert quota_suggestions(suggested.url) == [second]
