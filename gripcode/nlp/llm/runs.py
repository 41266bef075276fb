"""A language-model run's database side: what it covers, the cache, and its records.

A run is planned in one read transaction: the synced codebook's codes become the prompt; the units of the
chosen kind in the documents in scope are read with their text; units an interrupted run of the same coder and
scope already finished are left out (that run is resumed); the cache is asked for the rest. Everything else
happens in short write transactions: creating (or resuming) the run, and storing each batch of answers with
its suggestions, per-unit outcomes, cache rows and counters. No transaction is open while the model is asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, aliased

from gripcode.codebook.versions import latest_version
from gripcode.corpus.documents import document_ids
from gripcode.db.bulk import chunks
from gripcode.db.locks import lock_codebook
from gripcode.db.models import (Code, Coder, CodebookVersion, Document, LlmAnswer, LlmRun, LlmRunUnit, Unit,
                                utcnow)
from gripcode.errors import CodingError, NotFoundError
from gripcode.nlp.llm.prompt import Answer, CodeForPrompt, Prompt, build_prompt, coder_name, text_hash
from gripcode.nlp.suggestions import Suggestion, insert_suggestions, new_suggestions

RESUMABLE = ("running", "interrupted", "incomplete", "failed")


@dataclass(frozen=True)
class UnitItem:
    unit_id: int
    document_id: int
    start: int
    end: int
    text: str
    hash: str


@dataclass
class Plan:
    version_id: int
    prompt: Prompt
    coder_name: str
    code_ids: dict[str, int]  # slug -> id, the codes in the prompt
    scope: dict[str, Any]
    unit: str
    documents: int
    units: list[UnitItem]  # every unit in scope, in document order
    texts: dict[int, str]  # document id -> text, for the suggestions' quotes
    coder_id: int | None = None
    resume_run: int | None = None
    done: set[int] = field(default_factory=set)  # units the resumed run finished
    cached: dict[str, Answer] = field(default_factory=dict)  # text hash -> answer

    @property
    def todo(self) -> list[UnitItem]:
        return [u for u in self.units if u.unit_id not in self.done]


def prompt_codes(session: Session, codes: Sequence[str] | None) -> tuple[str, list[CodeForPrompt], dict[str, int]]:
    """The codebook's name and its active codes (or those named) as the prompt shows them, in codebook order."""
    version = latest_version(session)
    if version is None:
        raise CodingError("no codebook is synced yet: `gripcode codebook sync FILE` first")
    parent = aliased(Code)
    rows = session.execute(select(Code, parent.slug).outerjoin(parent, Code.parent_id == parent.id)
                           .where(Code.status == "active").order_by(Code.position, Code.id)).all()
    active = {code.slug: (code, parent_slug) for code, parent_slug in rows}
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip())) if codes else list(active)
    unknown = [c for c in wanted if c not in active]
    if unknown:
        raise NotFoundError(f"no active code {', '.join(unknown)}; active codes: {', '.join(list(active)[:15])}"
                            + (", ..." if len(active) > 15 else ""))
    if not wanted:
        raise CodingError("the codebook has no active codes to ask about")
    chosen = [active[slug] for slug in wanted]
    prompt = [CodeForPrompt.from_examples(code.slug, code.name, parent_slug, code.definition, code.include,
                                          code.exclude, code.examples) for code, parent_slug in chosen]
    return version.name, prompt, {code.slug: code.id for code, _ in chosen}


def plan_run(session: Session, *, model: str, unit: str, parameters: dict[str, Any], structured: bool,
             codes: Sequence[str] | None, case: str | None, kind: str | None, doc: str | None,
             retry_malformed: bool = False) -> Plan:
    version = latest_version(session)
    name, prompt_codes_, code_ids = prompt_codes(session, codes)
    assert version is not None
    prompt = build_prompt(name, prompt_codes_, parameters=parameters, structured=structured)
    coder = coder_name(model, prompt.digest)
    scope = {"codes": sorted(code_ids) if codes else None, "case": case, "kind": kind, "doc": doc}
    doc_ids = document_ids(session, case=case, kind=kind, doc=doc)
    texts: dict[int, str] = {}
    units: list[UnitItem] = []
    for chunk in chunks(doc_ids, 500):
        texts.update(session.execute(select(Document.id, Document.text).where(Document.id.in_(chunk))).tuples().all())
        for unit_id, doc_id, start, end in session.execute(
                select(Unit.id, Unit.document_id, Unit.start, Unit.end)
                .where(Unit.document_id.in_(chunk), Unit.kind == unit).order_by(Unit.document_id, Unit.seq)):
            text = texts[doc_id][start:end]
            units.append(UnitItem(unit_id, doc_id, start, end, text, text_hash(text)))
    documents = len({u.document_id for u in units})
    texts = {doc_id: texts[doc_id] for doc_id in {u.document_id for u in units}}
    plan = Plan(version.id, prompt, coder, code_ids, scope, unit, documents, units, texts)
    plan.coder_id = session.scalar(select(Coder.id).where(Coder.name == coder))
    if plan.coder_id is not None:
        run = session.scalars(select(LlmRun).where(LlmRun.coder_id == plan.coder_id, LlmRun.unit == unit,
                                                   LlmRun.status.in_(RESUMABLE))
                              .order_by(LlmRun.id.desc())).first()
        if run is not None and run.scope == scope:
            plan.resume_run = run.id
            plan.done = set(session.scalars(select(LlmRunUnit.unit_id).where(LlmRunUnit.run_id == run.id)))
    plan.cached = cached_answers(session, model, prompt.digest, {u.hash for u in plan.todo},
                                 retry_malformed=retry_malformed)
    return plan


def cached_answers(session: Session, model: str, digest: str, hashes: Iterable[str], *,
                   retry_malformed: bool = False) -> dict[str, Answer]:
    found: dict[str, Answer] = {}
    for chunk in chunks(sorted(hashes)):
        for text_hash_, malformed, codes, problem in session.execute(
                select(LlmAnswer.text_hash, LlmAnswer.malformed, LlmAnswer.codes, LlmAnswer.problem)
                .where(LlmAnswer.model == model, LlmAnswer.prompt_hash == digest, LlmAnswer.text_hash.in_(chunk))):
            if malformed and retry_malformed:
                continue
            found[text_hash_] = Answer(problem=problem or "malformed") if malformed else \
                Answer(tuple((str(c), str(r)) for c, r in codes))
    return found


def still_current(session: Session, plan: Plan) -> None:
    """Answers are stored only while the codebook version the prompt was built from is the newest, checked under
    the codebook lock (a sync in between may have merged or retired the codes they name)."""
    lock_codebook(session, exclusive=False)
    latest = latest_version(session)
    if latest is None or latest.id != plan.version_id:
        raise CodingError("the codebook was synced while the language model was asked; the answers stored so far "
                          "are kept: run the command again to go on with the new version (a new prompt)")


def start_run(session: Session, plan: Plan, *, actor: str, model: str, endpoint: str) -> int:
    """Create the run (or mark the interrupted one running again); returns its id."""
    from gripcode.coding.coders import get_or_create_coder
    from gripcode.db.audit import record_event

    still_current(session, plan)
    if plan.coder_id is None:
        plan.coder_id = get_or_create_coder(session, plan.coder_name, "llm", actor=actor).id
    if plan.resume_run is not None:
        session.execute(update(LlmRun).where(LlmRun.id == plan.resume_run)
                        .values(status="running", finished_at=None, message=None, endpoint=endpoint))
        record_event(session, actor, "llm.run_resumed", "llm_run", plan.resume_run, coder=plan.coder_name)
        return plan.resume_run
    run = LlmRun(coder_id=plan.coder_id, model=model, endpoint=endpoint, parameters=plan.prompt.parameters,
                 prompt_hash=plan.prompt.digest, prompt=plan.prompt.system, codebook_version_id=plan.version_id,
                 unit=plan.unit, scope=plan.scope, status="running", units_total=len(plan.units),
                 created_by=actor)
    session.add(run)
    session.flush()
    record_event(session, actor, "llm.run_started", "llm_run", run.id, coder=plan.coder_name, model=model,
                 endpoint=endpoint, units=len(plan.units))
    return run.id


@dataclass(frozen=True)
class Outcome:
    """What became of one unit: its answer, and whether it came from the model (``sent``) or the cache."""

    unit: UnitItem
    answer: Answer
    sent: bool
    raw: str | None = None  # the answer as received, kept when it was malformed


@dataclass
class Stored:
    suggestions: int = 0
    per_code: dict[str, int] = field(default_factory=dict)


def store_batch(session: Session, plan: Plan, run_id: int, model: str, outcomes: Sequence[Outcome]) -> Stored:
    """One batch in one transaction: new cache rows, suggestions, per-unit outcomes, the run's counters."""
    still_current(session, plan)
    assert plan.coder_id is not None
    fresh: dict[str, Outcome] = {}
    for outcome in outcomes:
        if outcome.sent:
            fresh.setdefault(outcome.unit.hash, outcome)
    if fresh:
        _insert_answers(session, [{"model": model, "prompt_hash": plan.prompt.digest, "text_hash": key,
                                   "malformed": o.answer.malformed,
                                   "codes": [list(pair) for pair in o.answer.codes],
                                   "raw": o.raw if o.answer.malformed else None, "problem": o.answer.problem,
                                   "run_id": run_id, "created_at": utcnow()} for key, o in fresh.items()])
    ref = f"llm-run:{run_id}"
    wanted = [Suggestion(o.unit.document_id, plan.code_ids[code], o.unit.start, o.unit.end, ref, None,
                         rationale or None)
              for o in outcomes for code, rationale in o.answer.codes]
    new = new_suggestions(session, wanted, origin="llm", coder_id=plan.coder_id)
    insert_suggestions(session, new, coder_id=plan.coder_id, origin="llm", texts=plan.texts,
                       codebook_version_id=plan.version_id)
    session.execute(insert(LlmRunUnit), [
        {"run_id": run_id, "unit_id": o.unit.unit_id, "codes": len(o.answer.codes),
         "outcome": "malformed" if o.answer.malformed else ("answered" if o.sent else "cached")}
        for o in outcomes])
    sent = [o for o in outcomes if o.sent]
    session.execute(update(LlmRun).where(LlmRun.id == run_id).values(
        units_sent=LlmRun.units_sent + len(sent),
        units_cached=LlmRun.units_cached + (len(outcomes) - len(sent)),
        answers=LlmRun.answers + sum(1 for o in outcomes if not o.answer.malformed),
        malformed=LlmRun.malformed + sum(1 for o in outcomes if o.answer.malformed),
        suggestions=LlmRun.suggestions + len(new),
        characters_sent=LlmRun.characters_sent + sum(len(o.unit.text) for o in sent)))
    slug_of = {code_id: slug for slug, code_id in plan.code_ids.items()}
    stored = Stored(len(new))
    for s in new:
        stored.per_code[slug_of[s.code_id]] = stored.per_code.get(slug_of[s.code_id], 0) + 1
    return stored


def _insert_answers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Cache rows; one another run stored meanwhile for the same question is kept (the same question, the same
    key: whichever answer came first stays)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    session.execute(dialect_insert(LlmAnswer).on_conflict_do_nothing(), rows)


def finish_run(session: Session, run_id: int, *, status: str, failed: int, message: str | None, actor: str) -> None:
    from gripcode.db.audit import record_event

    session.execute(update(LlmRun).where(LlmRun.id == run_id).values(
        status=status, failed=failed, message=message, finished_at=utcnow()))
    run = session.get(LlmRun, run_id)
    assert run is not None
    record_event(session, actor, "llm.run_ended", "llm_run", run_id, status=status, sent=run.units_sent,
                 cached=run.units_cached, malformed=run.malformed, failed=failed, suggestions=run.suggestions)


RUN_COLUMNS = ("run", "coder", "model", "endpoint", "unit", "status", "started", "finished", "units", "sent",
               "cached", "malformed", "failed", "suggestions", "temperature", "seed", "prompt_hash",
               "codebook_version")


def list_runs(session: Session, coder: str | None = None) -> list[dict[str, Any]]:
    query = (select(LlmRun, Coder.name, CodebookVersion.id).join(Coder, Coder.id == LlmRun.coder_id)
             .outerjoin(CodebookVersion, CodebookVersion.id == LlmRun.codebook_version_id).order_by(LlmRun.id))
    if coder:
        query = query.where(Coder.name == coder)
    return [{"run": run.id, "coder": name, "model": run.model, "endpoint": run.endpoint, "unit": run.unit,
             "status": run.status, "started": run.started_at, "finished": run.finished_at,
             "units": run.units_total, "sent": run.units_sent, "cached": run.units_cached,
             "malformed": run.malformed, "failed": run.failed, "suggestions": run.suggestions,
             "temperature": run.parameters.get("temperature"), "seed": run.parameters.get("seed"),
             "prompt_hash": run.prompt_hash[:12], "codebook_version": version}
            for run, name, version in session.execute(query).tuples()]


def malformed_units(session: Session, run_id: int) -> list[dict[str, Any]]:
    """The units of a run whose answer could not be read, with what was wrong and the answer as it came."""
    run = session.get(LlmRun, run_id)
    if run is None:
        raise NotFoundError(f"no language-model run {run_id}; see `gripcode llm runs`")
    rows = session.execute(
        select(Unit.id, Unit.document_id, Unit.seq, Document.text, Unit.start, Unit.end)
        .join(LlmRunUnit, LlmRunUnit.unit_id == Unit.id).join(Document, Document.id == Unit.document_id)
        .where(LlmRunUnit.run_id == run_id, LlmRunUnit.outcome == "malformed")
        .order_by(Unit.document_id, Unit.seq)).tuples().all()
    out = []
    for unit_id, doc_id, seq, text, start, end in rows:
        answer = session.scalars(select(LlmAnswer).where(
            LlmAnswer.model == run.model, LlmAnswer.prompt_hash == run.prompt_hash,
            LlmAnswer.text_hash == text_hash(text[start:end]))).first()
        out.append({"document": doc_id, "unit": f"{run.unit}:{seq}", "problem": answer.problem if answer else None,
                    "answer": (answer.raw or "")[:200] if answer else None})
    return out


def find_run(session: Session, run_id: int) -> LlmRun:
    run = session.get(LlmRun, run_id)
    if run is None:
        raise NotFoundError(f"no language-model run {run_id}; see `gripcode llm runs`")
    return run
