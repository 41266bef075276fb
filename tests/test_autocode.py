"""Autocoding from the command line: rule suggestions widened to units, idempotent and resumable runs,
codebook versions, filters, worker processes, and suggestions that never count until reviewed."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update

from gripcode.codebook.loader import codebook_hash, parse_codebook
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import AutocodeProgress, Code, Coder, Coding, Document, Event, utcnow
from gripcode.nlp.autocode import autocode
from gripcode.nlp.suggestions import StaleScope, drop_stale_suggestions

from conftest import Gripcode

CODEBOOK = """
codebook: autocode-test
codes:
  - id: market
    name: Market control
    children:
      - id: quotas
        name: Export quotas
        rules:
          unit: sentence
          terms:
            en: [export quota, export quotas]
  - id: costs
    name: Environmental costs
    rules:
      unit: paragraph
      terms:
        en: [tailings]
  - id: talk
    name: Magnet talk
    rules:
      unit: turn
      terms:
        en: [magnet]
  - id: licences
    name: Licences
    rules:
      unit: match
      terms:
        en: [licence system]
  - id: old-prices
    name: Old prices
    merged_into: quotas
    rules:
      terms:
        en: [prices]
  - id: rivers
    name: Rivers
    retired: true
    rules:
      unit: paragraph
      terms:
        en: [rivers]
"""

# Paragraphs separated by blank lines; sentences end with full stops.
NEWS = ("China cut export quotas in 2010. Prices rose sharply.\n\n"
        "Tailings leaked into rivers. A magnet plant opened nearby.\n\n"
        "Export quotas were later replaced by a licence system.\n")
# A transcript: a header line, then turns; the second turn runs over two paragraphs.
INTERVIEW = ("Interview 4, recorded at the magnet plant.\n\n"
             "Interviewer: Tell me about the plant.\n\n"
             "R1: The magnet plant opened in 2015.\n\n"
             "It was noisy and the tailings pond leaked.\n\n"
             "Interviewer: Anything about export quotas?\n\n"
             "R1: No.\n")
PLAIN = "Nothing here is about any of the codes.\n"

SENTENCE_1 = "China cut export quotas in 2010."
SENTENCE_3 = "Export quotas were later replaced by a licence system."
NEWS_P2 = "Tailings leaked into rivers. A magnet plant opened nearby."
TURN_2 = "R1: The magnet plant opened in 2015.\n\nIt was noisy and the tailings pond leaked."
INTERVIEW_P4 = "It was noisy and the tailings pond leaked."
INTERVIEW_HEADER = "Interview 4, recorded at the magnet plant."
TURN_3 = "Interviewer: Anything about export quotas?"

# (document, code, quote, rule) of every suggestion the codebook above makes on the three documents.
EXPECTED = {
    ("News", "quotas", SENTENCE_1, "term:export quotas"),
    ("News", "quotas", SENTENCE_3, "term:export quotas"),
    ("News", "costs", NEWS_P2, "term:tailings"),
    ("News", "talk", NEWS_P2, "term:magnet"),  # no turns in a news item: the paragraph
    ("News", "licences", "licence system", "term:licence system"),
    ("Interview", "talk", INTERVIEW_HEADER, "term:magnet"),  # outside every turn: the paragraph
    ("Interview", "talk", TURN_2, "term:magnet"),  # the whole turn, two paragraphs
    ("Interview", "costs", INTERVIEW_P4, "term:tailings"),  # the paragraph, not the turn
    ("Interview", "quotas", TURN_3, "term:export quotas"),
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def setup_project(grip: Gripcode, folder: Path, codebook: str = CODEBOOK) -> Gripcode:
    grip.ok("codebook", "sync", str(write(folder, "cb.yaml", codebook)))
    grip.ok("case", "add", "China")
    grip.ok("import", str(write(folder, "news.txt", NEWS)), "--kind", "media", "--title", "News", "--case", "China")
    grip.ok("import", str(write(folder, "interview.txt", INTERVIEW)), "--kind", "interview", "--title", "Interview")
    grip.ok("import", str(write(folder, "plain.txt", PLAIN)), "--kind", "policy", "--title", "Plain")
    return grip


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    return setup_project(grip, tmp_path)


def suggestions(url: str, **where: Any) -> list[dict[str, Any]]:
    """Every rule-origin coding with its document title, code, coder, offsets, quote and text at the offsets."""
    engine = make_engine(url)
    with transaction(engine) as s:
        query = (select(Coding, Document.title, Document.text, Code.slug, Coder.name, Coder.kind)
                 .join(Document, Coding.document_id == Document.id).join(Code, Coding.code_id == Code.id)
                 .join(Coder, Coding.coder_id == Coder.id).where(Coding.origin == "rule").order_by(Coding.id))
        for key, value in where.items():
            query = query.where(getattr(Coding, key) == value)
        rows = [{"id": c.id, "doc": title, "code": slug, "coder": coder, "coder_kind": kind, "start": c.start,
                 "end": c.end, "quote": c.quote, "at_offsets": text[c.start:c.end], "rule": c.rule_ref,
                 "origin": c.origin, "status": c.status, "version": c.codebook_version_id}
                for c, title, text, slug, coder, kind in s.execute(query).all()]
    engine.dispose()
    return rows


def found(url: str) -> set[tuple[str, str, str, str]]:
    return {(r["doc"], r["code"], r["quote"], r["rule"]) for r in suggestions(url)}


def count(url: str, model: Any, *where: Any) -> int:
    engine = make_engine(url)
    with transaction(engine) as s:
        n = s.scalar(select(func.count()).select_from(model).where(*where))
    engine.dispose()
    return n


def rules_coder(codebook: str) -> str:
    return f"rules@{codebook_hash(parse_codebook(codebook))[:12]}"


def set_status(url: str, coding_id: int, status: str) -> None:
    """Review a suggestion directly in the database, as `gripcode review` would."""
    engine = make_engine(url)
    with transaction(engine) as s:
        reviewer = s.scalar(select(Coder.id).where(Coder.kind == "person").limit(1))
        s.execute(update(Coding).where(Coding.id == coding_id)
                  .values(status=status, reviewed_by_id=reviewer, reviewed_at=utcnow()))
    engine.dispose()


def forget_run(url: str) -> None:
    engine = make_engine(url)
    with transaction(engine) as s:
        s.execute(delete(Coding).where(Coding.origin == "rule"))
        s.execute(delete(AutocodeProgress))
    engine.dispose()


# ------------------------------------------------------------------------------------------- what is stored


def test_suggestions_are_stored_with_coder_rule_and_unit_quotes(project: Gripcode) -> None:
    out = project.ok("autocode").output
    coder = rules_coder(CODEBOOK)
    assert f"Added {len(EXPECTED)} suggestion(s)" in out and coder in out
    rows = suggestions(project.url)
    assert {(r["doc"], r["code"], r["quote"], r["rule"]) for r in rows} == EXPECTED
    assert len(rows) == len(EXPECTED)
    for r in rows:
        assert (r["origin"], r["status"], r["coder"], r["coder_kind"]) == ("rule", "suggested", coder, "rules")
        assert r["quote"] == r["at_offsets"]
        assert r["version"] is not None
    by_quote = {(r["doc"], r["quote"]): r for r in rows}
    assert by_quote[("News", SENTENCE_1)]["start"] == 0 and by_quote[("News", SENTENCE_1)]["end"] == len(SENTENCE_1)
    assert by_quote[("News", "licence system")]["start"] == NEWS.index("licence system")
    assert by_quote[("Interview", TURN_2)]["start"] == INTERVIEW.index("R1: The magnet")
    # The machine coder and the run are recorded.
    assert count(project.url, Coder, Coder.name == coder, Coder.kind == "rules") == 1
    assert count(project.url, Event, Event.action == "autocode.run") == 1


def test_bulk_inserted_timestamps_are_stored_like_any_other(project: Gripcode) -> None:
    project.ok("autocode")
    engine = make_engine(project.url)
    with transaction(engine) as s:
        coding = s.scalars(select(Coding).limit(1)).one()
        coder = s.scalars(select(Coder).where(Coder.id == coding.coder_id)).one()
        assert coding.created_at.tzinfo is not None and coding.created_at == coding.updated_at
        assert abs((coding.created_at - coder.created_at).total_seconds()) < 60
        if engine.dialect.name == "sqlite":
            # The text the ORM writes for every other timestamp: no "+00:00" appended.
            raw = s.execute(text("SELECT created_at FROM codings LIMIT 1")).scalar_one()
            orm = s.execute(text("SELECT created_at FROM coders WHERE id = :id"), {"id": coder.id}).scalar_one()
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", orm)
            assert len(raw) == len(orm) and raw[10] == orm[10] == " ", (raw, orm)
    engine.dispose()


def test_rerun_adds_no_duplicates(project: Gripcode) -> None:
    project.ok("autocode")
    before = suggestions(project.url)
    out = project.ok("autocode").output
    assert "Added 0 suggestion(s)" in out
    assert "3 document(s) were already done" in out
    assert suggestions(project.url) == before
    # Even when the progress record is gone, spans already suggested are not stored twice.
    engine = make_engine(project.url)
    with transaction(engine) as s:
        s.execute(delete(AutocodeProgress))
    engine.dispose()
    out = project.ok("autocode").output
    assert "Added 0 suggestion(s)" in out and f"{len(EXPECTED)} suggestion(s) already present" in out
    assert suggestions(project.url) == before


def test_dry_run_writes_nothing(project: Gripcode) -> None:
    events = count(project.url, Event)
    out = project.ok("autocode", "--dry-run").output
    assert f"Would add {len(EXPECTED)} suggestion(s)" in out
    assert count(project.url, Coding) == 0
    assert count(project.url, Coder, Coder.kind == "rules") == 0
    assert count(project.url, AutocodeProgress) == 0
    assert count(project.url, Event) == events
    assert f"Added {len(EXPECTED)} suggestion(s)" in project.ok("autocode").output


def test_interrupted_run_resumes_to_the_same_result(project: Gripcode, tmp_path: Path) -> None:
    # What an uninterrupted run finds, in a fresh SQLite project.
    fresh_folder = tmp_path / "fresh"
    fresh_folder.mkdir()
    fresh = Gripcode(f"sqlite:///{fresh_folder / 'fresh.db'}")
    fresh.ok("init")
    setup_project(fresh, fresh_folder)
    fresh.ok("autocode")
    uninterrupted = suggestions(fresh.url)

    batches: list[int] = []

    def stop_after_first_batch(docs: int, words: int) -> None:
        batches.append(docs)
        raise KeyboardInterrupt

    engine = make_engine(project.url)
    with pytest.raises(KeyboardInterrupt):
        autocode(engine, actor="tester", batch_size=1, progress=stop_after_first_batch)
    engine.dispose()
    assert batches == [1]
    first = suggestions(project.url)
    assert 0 < len(first) < len(uninterrupted)
    assert count(project.url, AutocodeProgress) == 1

    out = project.ok("autocode").output
    assert "1 document(s) were already done by this codebook version" in out
    assert f"Added {len(uninterrupted) - len(first)} suggestion(s)" in out
    resumed = suggestions(project.url)
    assert len(resumed) == len(uninterrupted)
    key = lambda r: (r["doc"], r["code"], r["start"], r["end"], r["quote"], r["rule"], r["coder"])  # noqa: E731
    assert sorted(map(key, resumed)) == sorted(map(key, uninterrupted))


# ------------------------------------------------------------------------------------------- codebook versions


def test_new_codebook_version_replaces_unreviewed_and_keeps_reviewed(project: Gripcode, tmp_path: Path) -> None:
    project.ok("autocode")
    old_coder = rules_coder(CODEBOOK)
    rows = {(r["doc"], r["code"], r["quote"]): r for r in suggestions(project.url)}
    accepted = rows[("News", "quotas", SENTENCE_1)]
    rejected = rows[("News", "licences", "licence system")]
    set_status(project.url, accepted["id"], "accepted")
    set_status(project.url, rejected["id"], "rejected")

    # Version 2: "tailings" is no longer a term of costs (its suggestions must go, not come back); "pond" is.
    changed = CODEBOOK.replace("en: [tailings]", "en: [pond]")
    project.ok("codebook", "sync", str(write(tmp_path, "cb.yaml", changed)))
    new_coder = rules_coder(changed)
    assert new_coder != old_coder
    out = project.ok("autocode").output
    assert f"Removed {len(EXPECTED) - 2} unreviewed suggestion(s) of older codebook versions" in out
    assert "2 suggestion(s) already present or reviewed; not repeated" in out

    after = suggestions(project.url)
    # The reviewed ones are untouched: same row, coder and status.
    kept = {r["id"]: r for r in after if r["coder"] == old_coder}
    assert set(kept) == {accepted["id"], rejected["id"]}
    assert kept[accepted["id"]]["status"] == "accepted" and kept[rejected["id"]]["status"] == "rejected"
    assert kept[accepted["id"]] == {**accepted, "status": "accepted"}
    # Nothing else of the old version waits for review; the new version does not repeat a decided span.
    new = {(r["doc"], r["code"], r["quote"], r["rule"]) for r in after if r["coder"] == new_coder}
    assert all(r["status"] == "suggested" for r in after if r["coder"] == new_coder)
    assert new == (EXPECTED - {("News", "quotas", SENTENCE_1, "term:export quotas"),
                               ("News", "licences", "licence system", "term:licence system"),
                               ("News", "costs", NEWS_P2, "term:tailings"),
                               ("Interview", "costs", INTERVIEW_P4, "term:tailings")}) \
        | {("Interview", "costs", INTERVIEW_P4, "term:pond")}


def test_retiring_a_code_removes_its_waiting_suggestions(project: Gripcode, tmp_path: Path) -> None:
    project.ok("autocode")
    changed = CODEBOOK.replace("    name: Licences\n", "    name: Licences\n    retired: true\n")
    project.ok("codebook", "sync", str(write(tmp_path, "cb.yaml", changed)))
    project.ok("autocode")
    assert not [r for r in suggestions(project.url) if r["code"] == "licences"]
    assert {r["coder"] for r in suggestions(project.url)} == {rules_coder(changed)}


def test_retired_and_merged_codes_never_suggest(project: Gripcode) -> None:
    # "prices" (merged code) and "rivers" (retired code) occur in the news item.
    out = project.ok("autocode").output
    codes = {r["code"] for r in suggestions(project.url)}
    assert codes == {"quotas", "costs", "talk", "licences"}
    assert "old-prices" not in out and "rivers" not in out
    for retired in ("rivers", "old-prices"):
        result = project("autocode", "--codes", retired)
        assert result.exit_code == 1 and "Error:" in result.output and "no active code with rules" in result.output


# ------------------------------------------------------------------------------------------- filters and errors


def test_codes_filter_and_its_own_progress(project: Gripcode) -> None:
    out = project.ok("autocode", "--codes", "quotas,licences").output
    assert {r["code"] for r in suggestions(project.url)} == {"quotas", "licences"}
    assert "Added 4 suggestion(s)" in out
    # A run over all codes is not marked done by the restricted one, and adds only what is missing.
    out = project.ok("autocode").output
    assert "already done" not in out
    assert found(project.url) == EXPECTED
    assert f"Added {len(EXPECTED) - 4} suggestion(s)" in out


@pytest.mark.parametrize(("option", "value", "docs"), [
    ("--case", "China", {"News"}),
    ("--kind", "interview", {"Interview"}),
    ("--kind", "policy", set()),
    ("--doc", "Interview", {"Interview"}),
])
def test_document_filters(project: Gripcode, option: str, value: str, docs: set[str]) -> None:
    out = project.ok("autocode", option, value).output
    assert {r["doc"] for r in suggestions(project.url)} == docs
    assert found(project.url) == {e for e in EXPECTED if e[0] in docs}
    assert "in 1 document(s)" in out


def test_unknown_code_case_or_document_is_an_error(project: Gripcode) -> None:
    for args, message in ((("--codes", "quotas,nope"), "no active code with rules called nope"),
                          (("--codes", "market"), "no active code with rules called market"),
                          (("--case", "Atlantis"), "no case 'Atlantis'"),
                          (("--doc", "Missing"), "Missing")):
        result = project("autocode", *args)
        assert result.exit_code == 1, args
        assert result.output.startswith("Error:") and message in result.output, result.output
    assert count(project.url, Coding) == 0


def test_no_synced_codebook_is_a_clear_error(grip: Gripcode, tmp_path: Path) -> None:
    grip.ok("import", str(write(tmp_path, "news.txt", NEWS)))
    result = grip("autocode")
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "codebook sync" in result.output


# ------------------------------------------------------------------------------------------- workers


def _stored_spans(url: str) -> list[tuple[Any, ...]]:
    """Every stored suggestion's document, code, span, quote and rule, in order: what two runs must agree on."""
    return sorted((r["doc"], r["code"], r["start"], r["end"], r["quote"], r["rule"]) for r in suggestions(url))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_worker_process_gives_the_same_suggestions(project: Gripcode, jobs: str) -> None:
    project.ok("autocode", "--jobs", "0")
    in_process = [(r["doc"], r["code"], r["start"], r["end"], r["quote"], r["rule"], r["coder"])
                  for r in suggestions(project.url)]
    forget_run(project.url)
    out = project.ok("autocode", "--jobs", jobs, "--batch-size", "1").output
    assert f"Added {len(EXPECTED)} suggestion(s)" in out
    in_worker = [(r["doc"], r["code"], r["start"], r["end"], r["quote"], r["rule"], r["coder"])
                 for r in suggestions(project.url)]
    assert sorted(in_worker) == sorted(in_process)
    assert len(in_worker) == len(EXPECTED)


# ------------------------------------------------------------------------------------------- counting


def test_suggestions_never_count_until_accepted(project: Gripcode) -> None:
    project.ok("autocode")
    shown = {row["id"]: row for row in json.loads(project.ok("codebook", "show", "--format", "json").output)}
    assert (shown["quotas"]["codings"], shown["quotas"]["suggested"]) == (0, 3)
    assert (shown["talk"]["codings"], shown["talk"]["suggested"]) == (0, 3)
    assert all(row["codings"] == 0 for row in shown.values())
    first = next(r for r in suggestions(project.url) if r["code"] == "quotas")
    set_status(project.url, first["id"], "accepted")
    shown = {row["id"]: row for row in json.loads(project.ok("codebook", "show", "--format", "json").output)}
    assert (shown["quotas"]["codings"], shown["quotas"]["suggested"]) == (1, 2)


# ------------------------------------------------------------------------------------------- large scopes


def test_stale_suggestions_are_dropped_for_more_documents_than_one_statement_takes(project: Gripcode) -> None:
    project.ok("autocode")
    engine = make_engine(project.url)
    with transaction(engine) as s:
        ids = list(s.scalars(select(Document.id)))
        other = s.scalar(select(Coder.id).where(Coder.kind == "person").limit(1))
        # More ids than SQLite (at most 250,000 here) or PostgreSQL (65,535) bind in one statement, the real ones last.
        scope = list(range(10_000_000, 10_260_000)) + ids
        removed = drop_stale_suggestions(s, StaleScope("rule", other), scope)
    engine.dispose()
    assert removed == len(EXPECTED)
    assert count(project.url, Coding) == 0


def test_warnings_reach_the_report_from_worker_processes_too(project: Gripcode) -> None:
    engine = make_engine(project.url)
    reports = []
    for jobs in (0, 1):
        forget_run(project.url)
        reports.append(autocode(engine, actor="tester", jobs=jobs, trained={"en": "en_missing_pipeline"}))
    engine.dispose()
    for report in reports:
        assert len(report.warnings) == 1 and "'en_missing_pipeline'" in report.warnings[0]
        assert report.suggestions == len(EXPECTED)


def test_a_worker_follows_the_codebook_it_is_given() -> None:
    from gripcode.nlp import pipelines

    changed = CODEBOOK.replace("en: [tailings]", "en: [pond]")
    saved = dict(pipelines._WORKER)
    try:
        pipelines.init_worker(CODEBOOK, {}, "char")
        docs = [(1, "en", INTERVIEW)]
        before, _ = pipelines.match_in_worker(CODEBOOK, docs)
        after, _ = pipelines.match_in_worker(changed, docs)
    finally:
        pipelines._WORKER.clear()
        pipelines._WORKER.update(saved)
    assert ("costs", "term:tailings") in {(m[1], m[4]) for m in before}
    assert ("costs", "term:pond") in {(m[1], m[4]) for m in after}
    assert "term:tailings" not in {m[4] for m in after}


def test_this_process_may_match_batches_beside_the_worker(project: Gripcode, monkeypatch: pytest.MonkeyPatch) -> None:
    from gripcode.nlp import autocode as autocode_module

    project.ok("autocode", "--jobs", "0")
    in_process = _stored_spans(project.url)
    forget_run(project.url)
    # One batch in flight, and a slow worker (the patch reaches a forked one; a spawned one is slow to start):
    # while it works, this process takes the other documents itself.
    from gripcode.nlp import pipelines

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return real_match(*args, **kwargs)

    real_match = pipelines.match_documents
    here: list[int] = []
    monkeypatch.setattr(pipelines, "match_documents", slow)
    monkeypatch.setattr(autocode_module, "match_documents",
                        lambda *args, **kwargs: here.append(1) or real_match(*args, **kwargs))
    monkeypatch.setattr(autocode_module, "_WINDOW_PER_JOB", 1)
    engine = make_engine(project.url)
    report = autocode(engine, actor="tester", jobs=1, batch_size=1)
    engine.dispose()
    assert here  # batches this process matched itself
    assert (report.documents, report.suggestions) == (3, len(EXPECTED))
    assert _stored_spans(project.url) == in_process
    assert count(project.url, AutocodeProgress) == 3


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_a_forked_worker_matches_with_the_pipelines_built_here(project: Gripcode, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker is a fork taken once this process has built the pipelines: it matches batches without
    building one itself (a blank pipeline is only ever made in this process)."""
    from gripcode.nlp import autocode as autocode_module
    from gripcode.nlp import pipelines

    project.ok("autocode", "--jobs", "0")
    in_process = _stored_spans(project.url)
    forget_run(project.url)
    log = tmp_path / "pids.log"

    def logged(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with log.open("a") as fh:
                fh.write(f"{name} {os.getpid()}\n")
            return real(*args, **kwargs)
        return call

    # Patches made here reach a forked worker. This process matches through autocode's own reference to
    # match_documents, the worker through the pipelines module's.
    monkeypatch.setattr(pipelines, "_blank", logged("blank", pipelines._blank))
    monkeypatch.setattr(pipelines, "match_documents", logged("match", pipelines.match_documents))
    monkeypatch.setattr(autocode_module, "_WINDOW_PER_JOB", 3)
    engine = make_engine(project.url)
    report = autocode(engine, actor="tester", jobs=1, batch_size=1)
    engine.dispose()
    calls = [line.split() for line in log.read_text().splitlines()]
    here = str(os.getpid())
    assert {pid for name, pid in calls if name == "blank"} == {here}
    assert {pid for name, pid in calls if name == "match"} - {here}  # the worker matched
    assert (report.documents, report.suggestions) == (3, len(EXPECTED))
    assert _stored_spans(project.url) == in_process


_WORKER_PARENT = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from gripcode.corpus.segment import exit_quickly

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=get_context(sys.argv[1]), initializer=exit_quickly)
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(120)
"""


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended; only its exit status waits to be collected


@pytest.mark.skipif(sys.platform != "linux", reason="reads process states from /proc")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_worker_ends_when_its_parent_is_killed(tmp_path: Path, method: str) -> None:
    """A worker whose parent is killed (out of memory, say) ends too, rather than wait for work for good and,
    forked, hold on to the parent's database connections."""
    import subprocess

    script = tmp_path / "parent.py"
    script.write_text(_WORKER_PARENT, encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script), method], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert _running(worker)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphaned = _running(worker)
    if orphaned:
        os.kill(worker, 9)  # not left behind by a failing run
    assert not orphaned


def test_auto_starts_one_worker_when_trained_pipelines_are_configured(project: Gripcode,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker loads a trained pipeline itself: with one configured, ``auto`` starts a single worker
    however many cores there are; without, one per core (at most four)."""
    from gripcode.nlp import autocode as autocode_module

    started: list[int] = []
    real_start = autocode_module._start_workers

    def start(jobs: int, *args: Any, **kwargs: Any) -> Any:
        started.append(jobs)
        return real_start(jobs, *args, **kwargs)

    monkeypatch.setattr(autocode_module, "_start_workers", start)
    monkeypatch.setattr(autocode_module, "AUTO_JOBS_MIN_DOCUMENTS", 1)
    monkeypatch.setattr(autocode_module.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    engine = make_engine(project.url)
    for trained in ({"en": "en_missing_pipeline"}, {}):
        forget_run(project.url)
        report = autocode(engine, actor="tester", jobs=None, trained=trained)
        assert report.suggestions == len(EXPECTED)
    engine.dispose()
    assert started == [1, 4]


def test_workers_are_spawned_while_another_thread_runs(project: Gripcode, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork copies locks that other threads may hold; with a second thread running, workers start afresh
    (spawn) and give the same suggestions."""
    import threading

    from gripcode import worker_pool
    from gripcode.nlp import autocode as autocode_module

    project.ok("autocode", "--jobs", "0")
    in_process = _stored_spans(project.url)
    methods: list[str] = []
    real_get_context = worker_pool.get_context

    def get_context(method: str) -> Any:
        methods.append(method)
        return real_get_context(method)

    monkeypatch.setattr(worker_pool, "get_context", get_context)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        forget_run(project.url)
        engine = make_engine(project.url)
        report = autocode(engine, actor="tester", jobs=1, batch_size=1)
        engine.dispose()
    finally:
        stop.set()
        other.join()
    assert methods == ["spawn"]
    assert report.suggestions == len(EXPECTED)
    assert _stored_spans(project.url) == in_process
    if sys.platform == "linux":
        forget_run(project.url)
        engine = make_engine(project.url)
        autocode(engine, actor="tester", jobs=1, batch_size=1)
        engine.dispose()
        assert methods == ["spawn", "fork"]


def test_batches_matched_while_one_is_stored_go_in_one_transaction(project: Gripcode,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """While the storing thread is busy, the next batches are matched and then stored together (a commit for
    them all); the result is the same as storing batch by batch."""
    from gripcode.nlp import autocode as autocode_module

    project.ok("autocode", "--jobs", "0")
    one_by_one = _stored_spans(project.url)
    forget_run(project.url)
    stored: list[int] = []  # documents with matches, per transaction

    def slow_new_spans(session, found, **kwargs):  # noqa: ANN001, ANN003, ANN202 - the library's own signature
        stored.append(len({span[0] for span in found}))
        if len(stored) == 1:
            time.sleep(0.5)  # the first batch takes long to store; the other two are matched meanwhile
        return real_new_spans(session, found, **kwargs)

    real_new_spans = autocode_module.new_spans
    monkeypatch.setattr(autocode_module, "new_spans", slow_new_spans)
    engine = make_engine(project.url)
    report = autocode(engine, actor="tester", jobs=0, batch_size=1)
    engine.dispose()
    assert len(stored) == 2  # three batches, two transactions
    assert (report.documents, report.suggestions) == (3, len(EXPECTED))
    assert _stored_spans(project.url) == one_by_one
    assert count(project.url, AutocodeProgress) == 3


def test_jobs_auto_and_its_choice(project: Gripcode, monkeypatch: pytest.MonkeyPatch) -> None:
    from gripcode.nlp import autocode as autocode_module

    assert f"Added {len(EXPECTED)} suggestion(s)" in project.ok("autocode", "--jobs", "auto").output
    result = project("autocode", "--jobs", "many")
    assert result.exit_code != 0 and "'many'" in result.output
    monkeypatch.setattr(autocode_module.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert autocode_module.auto_jobs(autocode_module.AUTO_JOBS_MIN_DOCUMENTS) == 2
    assert autocode_module.auto_jobs(autocode_module.AUTO_JOBS_MIN_DOCUMENTS - 1) == 0
    monkeypatch.setattr(autocode_module.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert autocode_module.auto_jobs(100_000) == autocode_module.AUTO_JOBS_MAX == 4
    monkeypatch.setattr(autocode_module.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert autocode_module.auto_jobs(100_000) == 0


def test_a_synced_codebook_reads_the_same_as_a_checked_one() -> None:
    from gripcode.nlp.pipelines import synced_codebook

    grip_arm = (Path(__file__).resolve().parent.parent / "codebooks" / "grip-arm.yaml").read_text(encoding="utf-8")
    for yaml_text in (CODEBOOK, grip_arm):
        assert synced_codebook(yaml_text) == parse_codebook(yaml_text)
        assert codebook_hash(synced_codebook(yaml_text)) == codebook_hash(parse_codebook(yaml_text))


def test_a_pattern_this_spacy_refuses_is_a_codebook_error() -> None:
    from gripcode.errors import CodebookError
    from gripcode.nlp.pipelines import build_pipeline

    cb = parse_codebook(CODEBOOK)
    rules = cb.flat()[1].code.rules
    assert rules is not None
    rules.patterns["en"] = [[{"NOT_AN_ATTRIBUTE": "x"}]]
    with pytest.raises(CodebookError, match="patterns for en cannot be used"):
        build_pipeline(cb, "en")


def test_dry_run_after_a_codebook_change_counts_what_the_run_does(project: Gripcode, tmp_path: Path) -> None:
    """The older version's waiting suggestions are dropped before a run stores: a dry run must count them as
    removed and must not count the spans they cover as already present."""
    project.ok("autocode")
    changed = CODEBOOK.replace("en: [tailings]", "en: [pond]")
    project.ok("codebook", "sync", str(write(tmp_path, "cb.yaml", changed)))
    before = suggestions(project.url)
    dry = project.ok("autocode", "--dry-run").output
    assert suggestions(project.url) == before
    real = project.ok("autocode").output
    added = re.search(r"Added (\d+) suggestion", real).group(1)
    removed = re.search(r"Removed (\d+) unreviewed", real).group(1)
    assert int(added) > 0 and int(removed) == len(EXPECTED)
    assert f"Would add {added} suggestion(s)" in dry
    assert f"Would remove {removed} unreviewed suggestion(s) of older codebook versions" in dry
    assert "already present" not in dry


def test_dry_run_with_codes_counts_only_their_stale_suggestions(project: Gripcode, tmp_path: Path) -> None:
    project.ok("autocode")
    project.ok("codebook", "sync", str(write(tmp_path, "cb.yaml", CODEBOOK.replace("en: [tailings]", "en: [pond]"))))
    dry = project.ok("autocode", "--codes", "costs", "--dry-run").output
    real = project.ok("autocode", "--codes", "costs").output
    removed = re.search(r"Removed (\d+) unreviewed", real).group(1)
    added = re.search(r"Added (\d+) suggestion", real).group(1)
    assert 0 < int(removed) < len(EXPECTED)
    assert f"Would remove {removed} unreviewed" in dry and f"Would add {added} suggestion(s)" in dry


@pytest.mark.parametrize("jobs", ["0", "1"])
def test_a_refused_pattern_stops_the_run_before_older_suggestions_go(project: Gripcode, tmp_path: Path,
                                                                     jobs: str) -> None:
    """A version whose pattern this spaCy refuses (synced under another spaCy, say) must fail before the older
    version's waiting suggestions are removed, with or without worker processes."""
    from gripcode.db.models import CodebookVersion

    project.ok("autocode")
    before = suggestions(project.url)
    changed = CODEBOOK.replace("en: [tailings]", "en: [pond]")
    project.ok("codebook", "sync", str(write(tmp_path, "cb.yaml", changed)))
    refused = changed.replace("        en: [pond]\n", "        en: [pond]\n      patterns:\n"
                                                    "        en: [[{NOT_AN_ATTRIBUTE: x}]]\n")
    assert refused != changed
    engine = make_engine(project.url)
    with transaction(engine) as session:
        newest = session.scalar(select(func.max(CodebookVersion.id)))
        session.execute(update(CodebookVersion).where(CodebookVersion.id == newest).values(yaml_snapshot=refused))
    engine.dispose()
    result = project("autocode", "--jobs", jobs)
    assert result.exit_code == 1 and "patterns for en cannot be used" in result.output
    assert "Traceback" not in result.output
    assert suggestions(project.url) == before


def _die(*_: object) -> None:
    os._exit(3)


def test_a_worker_that_dies_is_a_clear_error_and_the_run_resumes(project: Gripcode,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed mid-run (out of memory, say) stops the run with a message, not a hang; the finished
    batches stay and the next run completes the rest."""
    from gripcode.errors import CodingError
    from gripcode.nlp import autocode as autocode_module

    monkeypatch.setattr(autocode_module, "match_and_widen_in_worker", _die)
    engine = make_engine(project.url)
    with pytest.raises(CodingError, match="worker process ended unexpectedly"):
        autocode(engine, actor="tester", jobs=1, batch_size=1)
    engine.dispose()
    assert count(project.url, AutocodeProgress) < 3
    monkeypatch.undo()
    out = project.ok("autocode", "--jobs", "0").output
    assert {(r["doc"], r["code"], r["quote"], r["rule"]) for r in suggestions(project.url)} == EXPECTED
    assert "Added" in out


def test_a_pool_broken_before_a_batch_is_handed_over_is_the_same_clear_error(project: Gripcode,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker can die before this process hands over the next batch (a forked one starts at once), so the
    pool refuses the batch itself rather than a result: the same message, and nothing stored."""
    from concurrent.futures.process import BrokenProcessPool

    from gripcode.errors import CodingError
    from gripcode.nlp import autocode as autocode_module

    real_start = autocode_module._start_workers

    def broken_pool(*args: Any, **kwargs: Any) -> Any:
        pool = real_start(*args, **kwargs)

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise BrokenProcessPool("A child process terminated abruptly")

        pool.submit = refuse
        return pool

    monkeypatch.setattr(autocode_module, "_start_workers", broken_pool)
    result = project("autocode", "--jobs", "1")
    assert result.exit_code == 1
    assert result.output.startswith("Error: a worker process ended unexpectedly")
    assert count(project.url, AutocodeProgress) == 0 and count(project.url, Coding) == 0
