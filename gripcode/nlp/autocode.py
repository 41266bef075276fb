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
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gripcode.codebook.loader import codebook_hash, parse_codebook
from gripcode.codebook.model import Codebook
from gripcode.codebook.sync import current_codebook
from gripcode.coding.coders import get_or_create_coder
from gripcode.db.audit import record_event
from gripcode.db.engine import transaction
from gripcode.db.models import AutocodeProgress, Case, Code, Document
from gripcode.errors import CodingError
from gripcode.nlp.pipelines import PipelineSet
from gripcode.nlp.suggestions import (
    Suggestion,
    drop_stale_suggestions,
    insert_suggestions,
    load_unit_indexes,
    new_suggestions,
    rules_coder_name,
)

Match = tuple[int, str, int, int, str]  # document id, code id, start, end, rule reference
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


def match_documents(pipelines: PipelineSet, docs: Sequence[tuple[int, str, str]], batch_size: int = 64) -> list[Match]:
    """Rule matches in ``docs`` (id, language, text) as character offsets, grouped through nlp.pipe by language."""
    from gripcode.nlp.rules import DEFAULT_SPANS_KEY

    by_lang: dict[str, list[tuple[int, str]]] = {}
    for doc_id, lang, text in docs:
        by_lang.setdefault(lang or "xx", []).append((doc_id, text))
    out: list[Match] = []
    for lang, items in by_lang.items():
        nlp = pipelines.for_language(lang)
        for (doc_id, _), doc in zip(items, nlp.pipe((text for _, text in items), batch_size=batch_size)):
            out.extend((doc_id, s.label_, s.start_char, s.end_char, s.kb_id_) for s in doc.spans[DEFAULT_SPANS_KEY])
    return out


_WORKER: dict[str, Any] = {}


def _init_worker(yaml_text: str, trained: dict[str, str], chinese: str) -> None:
    _WORKER["pipelines"] = PipelineSet(parse_codebook(yaml_text), trained=trained, chinese=chinese)


def _match_in_worker(docs: list[tuple[int, str, str]]) -> list[Match]:
    return match_documents(_WORKER["pipelines"], docs)


# ------------------------------------------------------------------------------------------- the run


@dataclass
class _Plan:
    cb: Codebook
    yaml_text: str
    version_id: int
    coder_id: int
    coder_name: str
    digest: str
    code_ids: dict[str, int]  # slug -> id, the codes in scope that have rules
    units: dict[str, str]  # slug -> unit a match widens to
    scope: str
    todo: list[int]
    already_done: int


def _document_ids(session: Session, *, case: str | None, kind: str | None, doc: str | None) -> list[int]:
    query = select(Document.id).order_by(Document.id)
    if case:
        if session.scalar(select(Case.id).where(Case.name == case)) is None:
            raise CodingError(f"no case {case!r}; see `gripcode case list`")
        query = query.join(Case, Document.case_id == Case.id).where(Case.name == case)
    if kind:
        query = query.where(Document.kind == kind)
    if doc:
        from gripcode.corpus.documents import find_document

        query = query.where(Document.id == find_document(session, doc).id)
    return list(session.scalars(query))


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
    coder = get_or_create_coder(session, rules_coder_name(digest), "rules", actor=actor)
    doc_ids = _document_ids(session, case=case, kind=kind, doc=doc)
    done = set(session.scalars(select(AutocodeProgress.document_id).where(
        AutocodeProgress.coder_id == coder.id, AutocodeProgress.scope == scope)))
    todo = [d for d in doc_ids if d not in done]
    units = {slug: with_rules[slug].rules.unit for slug in wanted}  # type: ignore[union-attr]
    return _Plan(cb, version.yaml_snapshot, version.id, coder.id, coder.name, digest, ids, units, scope, todo,
                 len(doc_ids) - len(todo))


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _read(engine: Engine, ids: list[int]) -> list[tuple[int, str, str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Document.id, Document.language, Document.text, Document.word_count)
                            .where(Document.id.in_(ids)).order_by(Document.id)).tuples().all()
    return list(rows)


def _matched_batches(engine: Engine, plan: _Plan, pipelines: PipelineSet, batch_size: int,
                     jobs: int, chinese: str, trained: dict[str, str]) -> Iterator[tuple[list[tuple[int, str, str, int]], list[Match]]]:
    batches = (_read(engine, ids) for ids in _batches(plan.todo, batch_size))
    if jobs <= 0:
        for docs in batches:
            yield docs, match_documents(pipelines, [(d, lang, text) for d, lang, text, _ in docs])
        return
    # spawn, not fork: this process holds database connections.
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(plan.yaml_text, trained, chinese)) as pool:
        window: deque[tuple[list[tuple[int, str, str, int]], Future[list[Match]]]] = deque()
        for docs in batches:
            window.append((docs, pool.submit(_match_in_worker, [(d, lang, text) for d, lang, text, _ in docs])))
            if len(window) > 2 * jobs:
                head, future = window.popleft()
                yield head, future.result()
        while window:
            head, future = window.popleft()
            yield head, future.result()


def _suggestions(session: Session, plan: _Plan, docs: list[tuple[int, str, str, int]],
                 matches: list[Match]) -> list[Suggestion]:
    matches = [m for m in matches if m[1] in plan.code_ids]
    kinds = {plan.units[m[1]] for m in matches} - {"match"}
    if "turn" in kinds:
        kinds.add("paragraph")  # documents without speaker turns fall back to paragraphs
    indexes = load_unit_indexes(session, [d[0] for d in docs], kinds)
    out = []
    for doc_id, slug, start, end, ref in matches:
        unit = plan.units[slug]
        if unit != "match":
            index = indexes.get((doc_id, unit)) or (indexes.get((doc_id, "paragraph")) if unit == "turn" else None)
            if index is not None:
                start, end = index.cover(start, end)
        out.append(Suggestion(doc_id, plan.code_ids[slug], start, end, ref))
    return out


def autocode(engine: Engine, *, actor: str, codes: Sequence[str] | None = None, case: str | None = None,
             kind: str | None = None, doc: str | None = None, dry_run: bool = False, jobs: int = 0,
             batch_size: int = 64, trained: dict[str, str] | None = None, chinese: str = "char",
             progress: Progress | None = None) -> AutocodeReport:
    started = time.perf_counter()
    trained = dict(trained or {})
    with transaction(engine) as session:
        plan = _plan(session, actor=actor, codes=codes, case=case, kind=kind, doc=doc, dry_run=dry_run)
        report = AutocodeReport(plan.coder_name, plan.digest, dry_run=dry_run, already_done=plan.already_done)
        if not dry_run:
            scope_docs = plan.todo if (case or kind or doc) else None
            report.stale_removed = drop_stale_suggestions(session, origin="rule", keep_coder_id=plan.coder_id,
                                                          document_ids=scope_docs,
                                                          code_ids=list(plan.code_ids.values()))
        else:
            session.rollback()  # the machine coder made for the plan is not kept on a dry run
    pipelines = PipelineSet(plan.cb, trained=trained, chinese=chinese, warnings=report.warnings)
    slug_of = {code_id: slug for slug, code_id in plan.code_ids.items()}
    for docs, matches in _matched_batches(engine, plan, pipelines, batch_size, jobs, chinese, trained):
        with transaction(engine) as session:
            found = _suggestions(session, plan, docs, matches)
            fresh = new_suggestions(session, found, origin="rule")
            if not dry_run:
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
    report.seconds = time.perf_counter() - started
    if not dry_run:
        with transaction(engine) as session:
            record_event(session, actor, "autocode.run", "coder", plan.coder_id, coder=plan.coder_name,
                         documents=report.documents, resumed_after=report.already_done,
                         suggestions=report.suggestions, stale_removed=report.stale_removed,
                         codes=sorted(plan.code_ids))
    return report

