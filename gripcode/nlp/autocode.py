"""Autocoding: run the synced codebook's rules over documents and store what they find as suggestions.

Documents stream from the database in batches through ``nlp.pipe`` (one pipeline per language), in this
process or in worker processes (``jobs``) that return plain ``(document, code, start, end, rule)`` tuples.
Each match is widened to its code's unit (sentence, paragraph or speaker turn, from the stored units) and
the batch's new suggestions are bulk-inserted.

Each batch is committed with a record of the documents it finished, so an interrupted run picks up where it
stopped and a repeated run adds nothing. The coder is ``rules@<codebook hash>``: a run under a new codebook
version first removes the older versions' suggestions that nobody has reviewed yet.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gripcode.codebook.loader import codebook_hash
from gripcode.codebook.model import Codebook
from gripcode.codebook.sync import current_codebook, latest_version
from gripcode.coding.coders import get_or_create_coder
from gripcode.db.audit import record_event
from gripcode.db.engine import transaction
from gripcode.corpus.documents import document_ids
from gripcode.db.models import AutocodeProgress, Code, Coder, Document
from gripcode.errors import CodingError
from gripcode.nlp.pipelines import Match, PipelineSet, init_worker, match_documents, match_in_worker
from gripcode.nlp.suggestions import (
    Suggestion,
    drop_stale_suggestions,
    insert_suggestions,
    load_unit_indexes,
    new_suggestions,
    rules_coder_name,
)

Progress = Callable[[int, int], None]  # documents and words done in the last batch


@dataclass
class AutocodeReport:
    coder: str
    codebook_hash: str
    dry_run: bool = False
    documents: int = 0
    already_done: int = 0
    words: int = 0
    matches: int = 0
    suggestions: int = 0
    already_present: int = 0
    stale_removed: int = 0
    per_code: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------- matching


def _start_workers(jobs: int, yaml_text: str, trained: dict[str, str], chinese: str) -> ProcessPoolExecutor:
    """A pool of ``jobs`` worker processes, started at once: they load spaCy while this process plans."""
    # spawn, not fork: this process holds database connections.
    pool = ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=init_worker,
                               initargs=(yaml_text, trained, chinese))
    for _ in range(jobs):
        pool.submit(match_in_worker, yaml_text, [])  # the pool starts a process for each task it cannot place
    return pool


# ------------------------------------------------------------------------------------------- the run


@dataclass
class _Plan:
    cb: Codebook
    yaml_text: str
    version_id: int
    coder_id: int | None  # None on a dry run before any real run of this codebook version
    coder_name: str
    digest: str
    code_ids: dict[str, int]  # slug -> id, the codes in scope that have rules
    units: dict[str, str]  # slug -> unit a match widens to
    scope: str
    todo: list[int]
    already_done: int


def _plan(session: Session, *, actor: str, codes: Sequence[str] | None, case: str | None, kind: str | None,
          doc: str | None, dry_run: bool) -> _Plan:
    version, cb = current_codebook(session)
    digest = codebook_hash(cb)
    with_rules = {fc.id: fc.code for fc in cb.flat()
                  if fc.code.rules is not None and not fc.code.rules.is_empty()
                  and not fc.code.retired and fc.code.merged_into is None}
    wanted = list(dict.fromkeys(codes)) if codes else list(with_rules)
    unknown = [c for c in wanted if c not in with_rules]
    if unknown:
        raise CodingError(f"no active code with rules called {', '.join(unknown)}; codes with rules: "
                          f"{', '.join(with_rules) or 'none'}")
    ids = dict(session.execute(select(Code.slug, Code.id).where(Code.slug.in_(wanted))).tuples().all())
    scope = "*" if not codes else hashlib.sha1(",".join(sorted(wanted)).encode()).hexdigest()[:16]
    coder_name = rules_coder_name(digest)
    if dry_run:
        # Only looked up: a dry run writes nothing, not even the machine coder.
        coder_id = session.scalar(select(Coder.id).where(Coder.name == coder_name))
    else:
        coder_id = get_or_create_coder(session, coder_name, "rules", actor=actor).id
    doc_ids = document_ids(session, case=case, kind=kind, doc=doc)
    done = set(session.scalars(select(AutocodeProgress.document_id).where(
        AutocodeProgress.coder_id == coder_id, AutocodeProgress.scope == scope))) if coder_id is not None else set()
    todo = [d for d in doc_ids if d not in done]
    units = {slug: with_rules[slug].rules.unit for slug in wanted}  # type: ignore[union-attr]
    return _Plan(cb, version.yaml_snapshot, version.id, coder_id, coder_name, digest, ids, units, scope, todo,
                 len(doc_ids) - len(todo))


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _read(engine: Engine, ids: list[int]) -> list[tuple[int, str, str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Document.id, Document.language, Document.text, Document.word_count)
                            .where(Document.id.in_(ids)).order_by(Document.id)).tuples().all()
    return list(rows)


def _matched_batches(engine: Engine, plan: _Plan, pipelines: PipelineSet, batch_size: int, jobs: int,
                     pool: ProcessPoolExecutor | None) -> Iterator[tuple[list[tuple[int, str, str, int]], list[Match]]]:
    batches = (_read(engine, ids) for ids in _batches(plan.todo, batch_size))
    if pool is None:
        for docs in batches:
            yield docs, match_documents(pipelines, [(d, lang, text) for d, lang, text, _ in docs])
        return
    window: deque[tuple[list[tuple[int, str, str, int]], Future[tuple[list[Match], list[str]]]]] = deque()

    def result(future: Future[tuple[list[Match], list[str]]]) -> list[Match]:
        matches, warnings = future.result()
        pipelines.warnings.extend(w for w in dict.fromkeys(warnings) if w not in pipelines.warnings)
        return matches

    for docs in batches:
        window.append((docs, pool.submit(match_in_worker, plan.yaml_text,
                                         [(d, lang, text) for d, lang, text, _ in docs])))
        if len(window) > 2 * jobs:
            head, future = window.popleft()
            yield head, result(future)
    while window:
        head, future = window.popleft()
        yield head, result(future)


def _suggestions(session: Session, plan: _Plan, docs: list[tuple[int, str, str, int]],
                 matches: list[Match]) -> list[Suggestion]:
    matches = [m for m in matches if m[1] in plan.code_ids]
    widened = [m for m in matches if plan.units[m[1]] != "match"]
    kinds = {plan.units[m[1]] for m in widened}
    if "turn" in kinds:
        kinds.add("paragraph")  # documents without speaker turns fall back to paragraphs
    # Units only of the documents that have a match to widen, and only of the kinds needed.
    indexes = load_unit_indexes(session, {m[0] for m in widened}, kinds)
    out = []
    for doc_id, slug, start, end, ref in matches:
        unit = plan.units[slug]
        if unit != "match":
            index = indexes.get((doc_id, unit))
            if unit == "turn" and (index is None or not index.holds(start, end)):
                # No speaker turns in the document, or a match outside every turn (a transcript's header):
                # the paragraph, rather than a span reaching into the next turn.
                index = indexes.get((doc_id, "paragraph"))
            if index is not None:
                start, end = index.cover(start, end)
        out.append(Suggestion(doc_id, plan.code_ids[slug], start, end, ref))
    return out


def autocode(engine: Engine, *, actor: str, codes: Sequence[str] | None = None, case: str | None = None,
             kind: str | None = None, doc: str | None = None, dry_run: bool = False, jobs: int = 0,
             batch_size: int = 256, trained: dict[str, str] | None = None, chinese: str = "char",
             progress: Progress | None = None) -> AutocodeReport:
    started = time.perf_counter()
    trained = dict(trained or {})
    pool: ProcessPoolExecutor | None = None
    try:
        with transaction(engine) as session:
            latest = latest_version(session) if jobs > 0 else None
            if latest is not None:
                pool = _start_workers(jobs, latest.yaml_snapshot, trained, chinese)
            plan = _plan(session, actor=actor, codes=codes, case=case, kind=kind, doc=doc, dry_run=dry_run)
            report = AutocodeReport(plan.coder_name, plan.digest, dry_run=dry_run, already_done=plan.already_done)
            if not dry_run:
                scope_docs = plan.todo if (case or kind or doc) else None
                # Without --codes, every code's: also those of codes that lost their rules or were retired since.
                scope_codes = list(plan.code_ids.values()) if codes else None
                report.stale_removed = drop_stale_suggestions(session, origin="rule", keep_coder_id=plan.coder_id,
                                                              document_ids=scope_docs, code_ids=scope_codes)
            else:
                session.rollback()
        _run(engine, plan, report, PipelineSet(plan.cb, trained=trained, chinese=chinese, warnings=report.warnings),
             batch_size, jobs, pool, dry_run, progress)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    report.seconds = time.perf_counter() - started
    if not dry_run:
        with transaction(engine) as session:
            record_event(session, actor, "autocode.run", "coder", plan.coder_id, coder=plan.coder_name,
                         documents=report.documents, resumed_after=report.already_done,
                         suggestions=report.suggestions, stale_removed=report.stale_removed,
                         codes=sorted(plan.code_ids))
    return report


def _run(engine: Engine, plan: _Plan, report: AutocodeReport, pipelines: PipelineSet, batch_size: int, jobs: int,
         pool: ProcessPoolExecutor | None, dry_run: bool, progress: Progress | None) -> None:
    slug_of = {code_id: slug for slug, code_id in plan.code_ids.items()}
    for docs, matches in _matched_batches(engine, plan, pipelines, batch_size, jobs, pool):
        with transaction(engine) as session:
            found = _suggestions(session, plan, docs, matches)
            fresh = new_suggestions(session, found, origin="rule")
            if not dry_run:
                assert plan.coder_id is not None
                insert_suggestions(session, fresh, coder_id=plan.coder_id, origin="rule",
                                   texts={d[0]: d[2] for d in docs}, codebook_version_id=plan.version_id)
                session.execute(AutocodeProgress.__table__.insert(),
                                [{"coder_id": plan.coder_id, "document_id": d[0], "scope": plan.scope} for d in docs])
            else:
                session.rollback()
        report.documents += len(docs)
        report.words += sum(d[3] for d in docs)
        report.matches += len(matches)
        report.suggestions += len(fresh)
        report.already_present += len({(s.document_id, s.code_id, s.start, s.end) for s in found}) - len(fresh)
        report.per_code.update(slug_of[s.code_id] for s in fresh)
        if progress is not None:
            progress(len(docs), sum(d[3] for d in docs))
