"""Autocoding: run the synced codebook's rules over documents and store what they find as suggestions.

Documents stream from the database in batches through ``nlp.pipe`` (one pipeline per language), in this
process or in worker processes (``jobs``); each match is widened to its code's unit (sentence, paragraph or
speaker turn, from the stored units, which a worker receives with the texts), and the batch's new suggestions
are bulk-inserted, in a thread while the next batch is matched. With workers, this process reads ahead, stores,
and matches a batch itself whenever the workers have not finished the oldest one yet.

Each batch is committed with a record of the documents it finished, so an interrupted run picks up where it
stopped and a repeated run adds nothing. The coder is ``rules@<codebook hash>``: a run under a new codebook
version first removes the older versions' suggestions that nobody has reviewed yet.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gripcode.codebook.loader import codebook_hash
from gripcode.codebook.model import Codebook
from gripcode.codebook.sync import current_codebook, latest_version
from gripcode.coding.coders import get_or_create_coder
from gripcode.db.audit import record_event
from gripcode.db.bulk import chunks
from gripcode.db.engine import is_sqlite, sqlite_path, transaction
from gripcode.db.locks import lock_codebook
from gripcode.corpus.documents import document_ids
from gripcode.db.models import AutocodeProgress, Code, CodebookVersion, Coder, Document
from gripcode.errors import CodingError
from gripcode.nlp.languages import spacy_lang
from gripcode.nlp.pipelines import (
    Match,
    PipelineSet,
    UnitRow,
    Widened,
    adopt_worker,
    build_pipeline,
    match_and_widen_in_worker,
    match_documents,
    start_worker,
    synced_codebook,
    unit_indexes,
    unit_kinds,
    widen,
)
from gripcode.nlp.suggestions import (
    StaleScope,
    count_stale_suggestions,
    drop_stale_suggestions,
    insert_spans,
    new_spans,
    rules_coder_name,
    unit_rows,
)
from gripcode.worker_pool import WorkerPool

Progress = Callable[[int, int], None]  # documents and words done in the last batch

_WINDOW_PER_JOB = 6  # batches handed to the workers at a time, per worker
AUTO_JOBS_MIN_DOCUMENTS = 500
AUTO_JOBS_MAX = 4
_STORE_BEHIND = 4  # matched batches that may wait for the storing thread before matching waits for it


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


def auto_jobs(documents: int, *, trained: bool = False) -> int:
    """Worker processes for a run over ``documents``: where there is a second core and enough documents to
    repay a worker's start, one per core (at most ``AUTO_JOBS_MAX``; one with ``trained`` pipelines, which
    each worker loads itself), otherwise none.

    As many workers as cores, with this process beside them, because this process mostly stores: it matches
    a batch itself only while the workers have not returned the oldest one, and matching here competes for
    the interpreter lock with the thread that stores. (On two cores, two forked workers finish a large run
    about 6% sooner than one.)"""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cores = os.cpu_count() or 1
    if cores < 2 or documents < AUTO_JOBS_MIN_DOCUMENTS:
        return 0
    return 1 if trained else min(cores, AUTO_JOBS_MAX)


def _forking() -> bool:
    """Whether workers start as forks of this process: on Linux, and only while this process runs no other
    Python thread (one holding a lock at the fork would leave it held for good in the child). A forked worker
    has the pipelines this process built and matches within milliseconds; a spawned one loads spaCy first,
    for about a second. The worker never uses the database connections it inherits, and ends with its
    parent (``exit_quickly``)."""
    return sys.platform == "linux" and threading.active_count() == 1


def _start_workers(jobs: int, yaml_text: str, trained: dict[str, str], chinese: str,
                   pipelines: PipelineSet | None = None) -> WorkerPool:
    """A pool of ``jobs`` worker processes, started at once: forks of this process that take over
    ``pipelines``, or (without them) new interpreters that load spaCy while this process plans."""
    if pipelines is not None:
        # Objects that exist at the fork stay out of the children's garbage collections: the collector
        # would otherwise touch (and copy) every page of them, and could finalise an inherited connection.
        frozen_before = gc.get_freeze_count()
        gc.freeze()
        try:
            return WorkerPool(jobs, "fork", adopt_worker, (yaml_text, pipelines))
        finally:
            if not frozen_before:  # what a caller froze stays frozen
                gc.unfreeze()
    return WorkerPool(jobs, "spawn", start_worker, (yaml_text, trained, chinese))


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


def _plan(session: Session, version: CodebookVersion | None, *, codes: Sequence[str] | None,
          case: str | None, kind: str | None, doc: str | None) -> _Plan:
    """What the run will do, read without writing: the machine coder is looked up (None until the run's first
    write transaction creates it) with the documents it has done."""
    if version is None:
        current_codebook(session)  # raises: nothing synced yet
    assert version is not None
    cb = synced_codebook(version.yaml_snapshot, name=f"codebook version {version.id}")
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
    coder_id = session.scalar(select(Coder.id).where(Coder.name == coder_name))
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


Docs = list[tuple[int, str, str, int]]  # id, language, text, word count


def _read(engine: Engine, ids: list[int], kinds: set[str]) -> tuple[Docs, list[UnitRow]]:
    """The documents, and their units of ``kinds`` (for a worker, which has no database connection)."""
    with engine.connect() as conn:
        rows = conn.execute(select(Document.id, Document.language, Document.text, Document.word_count)
                            .where(Document.id.in_(ids)).order_by(Document.id)).tuples().all()
        units = unit_rows(conn, ids, kinds) if kinds else []
    return list(rows), units


def _widen_here(engine: Engine, plan: _Plan, matches: list[Match]) -> list[Widened]:
    # Units only of the documents that have a match to widen, and only of the kinds needed.
    wide = [m for m in matches if m[1] in plan.code_ids and plan.units[m[1]] != "match"]
    rows: list[UnitRow] = []
    if wide:
        with engine.connect() as conn:
            rows = unit_rows(conn, {m[0] for m in wide}, unit_kinds(plan.units, {m[1] for m in wide}))
    return widen(matches, plan.code_ids, plan.units, unit_indexes(rows))


def _matched_batches(engine: Engine, plan: _Plan, pipelines: PipelineSet, batch_size: int, jobs: int,
                     pool: WorkerPool | None) -> Iterator[tuple[Docs, list[Widened], int]]:
    """Each batch's documents, its matches widened to their units, and how many matches there were."""
    if pool is None:
        for ids in _batches(plan.todo, batch_size):
            docs, _ = _read(engine, ids, set())
            matches = match_documents(pipelines, [(d, lang, text) for d, lang, text, _ in docs])
            yield docs, _widen_here(engine, plan, matches), len(matches)
        return
    try:
        yield from _worker_batches(engine, plan, pipelines, batch_size, jobs, pool)
    except BrokenProcessPool as exc:
        # Raised by whichever call to the pool comes first once a worker died: a result, or the next batch.
        raise CodingError(f"{pool.why_broken()}; the batches stored so far are kept: run autocode again to "
                          "resume, or with --jobs 0 to match in this process") from exc


def _worker_batches(engine: Engine, plan: _Plan, pipelines: PipelineSet, batch_size: int, jobs: int,
                    pool: WorkerPool) -> Iterator[tuple[Docs, list[Widened], int]]:
    """:func:`_matched_batches` with workers, which match and widen; this process reads ahead and writes.

    The window keeps each worker a few batches ahead while this one stores the oldest, and holds only a few
    batches' texts at once. While the oldest is not back yet (workers starting, or busy), this process matches
    the next batch itself rather than wait; not with a trained pipeline, which would take long to load a
    second time."""
    kinds = unit_kinds(plan.units)
    todo = _batches(plan.todo, batch_size)
    help_here = not pipelines.trained
    window: deque[tuple[Docs, Future[tuple[list[Widened], int, list[str]]]]] = deque()

    def submit(ids: list[int]) -> None:
        docs, units = _read(engine, ids, kinds)
        window.append((docs, pool.submit(match_and_widen_in_worker, plan.yaml_text,
                                         [(d, lang, text) for d, lang, text, _ in docs], plan.code_ids,
                                         plan.units, units)))

    for ids in todo:
        submit(ids)
        if len(window) >= _WINDOW_PER_JOB * jobs:
            break
    while window:
        head, future = window[0]
        if help_here and not future.done():
            ids = next(todo, None)
            if ids is not None:
                docs, _ = _read(engine, ids, set())
                matches = match_documents(pipelines, [(d, lang, text) for d, lang, text, _ in docs])
                yield docs, _widen_here(engine, plan, matches), len(matches)
                continue
        window.popleft()
        spans, matches, warnings = future.result()
        pipelines.warnings.extend(w for w in dict.fromkeys(warnings) if w not in pipelines.warnings)
        yield head, spans, matches
        ids = next(todo, None)
        if ids is not None:
            submit(ids)


def autocode(engine: Engine, *, actor: str, codes: Sequence[str] | None = None, case: str | None = None,
             kind: str | None = None, doc: str | None = None, dry_run: bool = False, jobs: int | None = 0,
             batch_size: int = 256, trained: dict[str, str] | None = None, chinese: str = "char",
             progress: Progress | None = None) -> AutocodeReport:
    """Autocode the documents in scope; ``jobs`` worker processes match beside this one, which stores what they
    find (0: all in this process; None: :func:`auto_jobs` for the documents to do)."""
    started = time.perf_counter()
    trained = dict(trained or {})
    pool: WorkerPool | None = None
    try:
        # Planned in a short read transaction; the pipelines are built (spaCy loads, a second or more) with no
        # transaction open, so neither a lock nor a reader's hold on a SQLite file keeps coders waiting; the
        # write lock is taken only afterwards, briefly, to create the machine coder and drop stale suggestions.
        with transaction(engine, write=False) as session:
            plan = _plan(session, latest_version(session), codes=codes, case=case, kind=kind, doc=doc)
            report = AutocodeReport(plan.coder_name, plan.digest, dry_run=dry_run, already_done=plan.already_done)
            languages = _languages(session, plan.todo)
            scope_docs = plan.todo if (case or kind or doc) else None
            if dry_run:
                # What the real run would remove first, and then no longer find in its way.
                report.stale_removed = count_stale_suggestions(session, _stale_scope(plan), scope_docs)
        if jobs is None:
            jobs = auto_jobs(len(plan.todo), trained=bool(trained))
        workers = jobs > 0 and bool(plan.todo)
        fork = workers and _forking()
        if workers and not fork:
            # Spawned before the pipelines are built here: the workers load spaCy meanwhile.
            pool = _start_workers(jobs, plan.yaml_text, trained, chinese)
        pipelines = PipelineSet(plan.cb, trained=trained, chinese=chinese, warnings=report.warnings)
        _check_rules(plan, pipelines, languages)
        if fork:
            pool = _start_workers(jobs, plan.yaml_text, trained, chinese, pipelines)
        if not dry_run:
            with transaction(engine) as session:
                _still_current(session, plan)  # no sync since the plan was made
                if plan.coder_id is None:
                    plan.coder_id = get_or_create_coder(session, plan.coder_name, "rules", actor=actor).id
                report.stale_removed = drop_stale_suggestions(session, _stale_scope(plan), scope_docs)
        _run(engine, plan, report, pipelines,
             batch_size, jobs, pool, dry_run, progress)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    report.warnings[:] = dict.fromkeys(report.warnings)  # the same warning from this process and a worker
    report.seconds = time.perf_counter() - started
    if not dry_run:
        with transaction(engine) as session:
            record_event(session, actor, "autocode.run", "coder", plan.coder_id, coder=plan.coder_name,
                         documents=report.documents, resumed_after=report.already_done,
                         suggestions=report.suggestions, stale_removed=report.stale_removed,
                         codes=sorted(plan.code_ids))
    return report


def _languages(session: Session, doc_ids: list[int]) -> set[str]:
    languages: set[str] = set()
    for chunk in chunks(doc_ids):
        languages.update(session.scalars(select(Document.language).distinct().where(Document.id.in_(chunk))))
    return languages


def _check_rules(plan: _Plan, pipelines: PipelineSet, languages: set[str]) -> None:
    """Build the rule component for every language the run will meet before anything is removed: a pattern
    this spaCy refuses (the codebook was checked when synced, perhaps under another version) stops the run
    with the older suggestions still in place. The pipelines built here serve the run; with a trained
    pipeline configured, a blank one checks the same rules without loading the trained one twice."""
    for lang in sorted({spacy_lang(language) for language in languages}):
        if lang in pipelines.trained:
            build_pipeline(plan.cb, lang, chinese=pipelines.chinese)
        else:
            pipelines.for_language(lang)


def _stale_scope(plan: _Plan) -> StaleScope:
    """The older versions' waiting suggestions a run replaces: of the codes it was given, or without --codes of
    every code (also of codes that lost their rules or were retired since)."""
    return StaleScope("rule", plan.coder_id, None if plan.scope == "*" else tuple(plan.code_ids.values()))


def _run(engine: Engine, plan: _Plan, report: AutocodeReport, pipelines: PipelineSet, batch_size: int, jobs: int,
         pool: WorkerPool | None, dry_run: bool, progress: Progress | None) -> None:
    slug_of = {code_id: slug for slug, code_id in plan.code_ids.items()}

    replacing = _stale_scope(plan) if dry_run else None  # a real run has dropped them already

    def store(docs: Docs, found: list[Widened]) -> tuple[list[Widened], int]:
        with transaction(engine) as session:
            _still_current(session, plan)
            fresh, present = new_spans(session, found, origin="rule", replacing=replacing)
            if not dry_run:
                assert plan.coder_id is not None
                insert_spans(session, fresh, coder_id=plan.coder_id, origin="rule",
                             texts={d[0]: d[2] for d in docs}, codebook_version_id=plan.version_id)
                session.execute(AutocodeProgress.__table__.insert(),
                                [{"coder_id": plan.coder_id, "document_id": d[0], "scope": plan.scope} for d in docs])
            else:
                session.rollback()
        return fresh, present

    def count(docs: Docs, matches: int, stored: tuple[list[Widened], int]) -> None:
        fresh, present = stored
        words = sum(d[3] for d in docs)
        report.documents += len(docs)
        report.words += words
        report.matches += matches
        report.suggestions += len(fresh)
        report.already_present += present
        report.per_code.update(slug_of[s[1]] for s in fresh)
        if progress is not None:
            progress(len(docs), words)

    batches = _matched_batches(engine, plan, pipelines, batch_size, jobs, pool)
    if not _threads_share(engine):
        for docs, found, matches in batches:
            count(docs, matches, store(docs, found))
        return
    # Matched batches are stored in a thread while the next ones are matched (SQLite and the database drivers let
    # go of the interpreter while they work). Whatever was matched while the thread stored goes to it next, as one
    # transaction: when storing is the slower part, fewer and larger commits; when it is not, a batch at a time.
    # Batches are counted once committed, so an interruption leaves every counted batch recorded and nothing
    # half done; matching waits for the thread only when _STORE_BEHIND batches are waiting for it.
    with ThreadPoolExecutor(1, thread_name_prefix="autocode-store") as writer:
        pending: tuple[Docs, int, Future[tuple[list[Widened], int]]] | None = None
        waiting: list[tuple[Docs, list[Widened], int]] = []

        def hand_over() -> None:
            nonlocal pending
            if pending is not None:
                count(pending[0], pending[1], pending[2].result())
            docs = [d for batch, _, _ in waiting for d in batch]
            found = [span for _, spans, _ in waiting for span in spans]
            pending = (docs, sum(matches for _, _, matches in waiting), writer.submit(store, docs, found))
            waiting.clear()

        for batch in batches:
            waiting.append(batch)
            if pending is None or pending[2].done() or len(waiting) >= _STORE_BEHIND:
                hand_over()
        if waiting:
            hand_over()
        if pending is not None:
            count(pending[0], pending[1], pending[2].result())


def _still_current(session: Session, plan: _Plan) -> None:
    """A batch is stored only while the codebook version the run matched is still the newest, checked under
    the codebook lock: a sync in between may have merged, retired or removed the codes it would be stored on."""
    lock_codebook(session, exclusive=False)
    latest = latest_version(session)
    if latest is None or latest.id != plan.version_id:
        newer = f" (version {latest.id})" if latest is not None else ""
        raise CodingError(f"the codebook was synced{newer} while autocode ran; the batches stored before are kept, "
                          "and moved with any merge: run autocode again to go on with the new version")


def _threads_share(engine: Engine) -> bool:
    """Whether a thread's connection sees this one's database: not so for SQLite in memory, one per thread."""
    return not is_sqlite(engine) or sqlite_path(engine) is not None
