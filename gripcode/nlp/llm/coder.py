"""A language-model coding run: plan, ask the model concurrently, store each batch of answers as suggestions.

Units whose answer is in the cache are stored without asking; units with the same text are asked once. Requests
go out from a pool of threads (``concurrency`` in flight, twice as many queued), and answers are stored every
``batch_size`` units in a short write transaction, never while a request is waited for. A request that still
fails after the client's retries leaves its unit undone (an interrupted or incomplete run resumes with it); a
failure every request would meet (an unknown model, a refused key) stops the run, as do many failures in a row
(no server). Ctrl-C stops it too, keeping every batch stored so far.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from sqlalchemy import Engine

from gripcode.db.engine import transaction
from gripcode.errors import LlmError
from gripcode.nlp.llm.client import ChatClient, ClientSettings, Reply
from gripcode.nlp.llm.endpoint import DEFAULT_ENDPOINT, api_key, parse_endpoint
from gripcode.nlp.llm.prompt import parse_answer
from gripcode.nlp.llm.runs import Outcome, Plan, UnitItem, finish_run, plan_run, start_run, store_batch

CHARS_PER_TOKEN = 4  # a rough rule for English and other alphabetic text; Chinese takes more tokens per character


@dataclass(frozen=True)
class LlmSettings:
    model: str
    endpoint: str = DEFAULT_ENDPOINT
    unit: str = "paragraph"
    temperature: float = 0.0
    seed: int | None = 0
    max_tokens: int = 1024
    structured: bool = True
    concurrency: int = 4
    batch_size: int = 32
    timeout: float = 120.0
    retries: int = 4
    allow_remote: bool = False
    retry_malformed: bool = False

    def parameters(self) -> dict[str, object]:
        params: dict[str, object] = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.seed is not None:
            params["seed"] = self.seed
        return params


@dataclass
class LlmReport:
    coder: str
    model: str
    endpoint: str
    local: bool
    unit: str
    dry_run: bool = False
    run_id: int | None = None
    resumed: bool = False
    status: str = "planned"
    documents: int = 0
    units: int = 0
    already_done: int = 0
    from_cache: int = 0
    to_send: int = 0  # requests: units with distinct texts not in the cache
    documents_to_send: int = 0
    characters_to_send: int = 0
    prompt_characters: int = 0
    max_tokens: int = 0
    sent: int = 0
    answered: int = 0
    malformed: int = 0
    failed: int = 0
    suggestions: int = 0
    per_code: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None
    seconds: float = 0.0

    @property
    def estimated_input_tokens(self) -> int:
        return round((self.to_send * self.prompt_characters + self.characters_to_send) / CHARS_PER_TOKEN)

    @property
    def estimated_output_tokens(self) -> int:
        return self.to_send * self.max_tokens


Announce = Callable[[str], None]


def remote_summary(report: LlmReport) -> str:
    return (f"{report.to_send} unit(s) from {report.documents_to_send} document(s), {report.characters_to_send:,} "
            f"characters of text (and the {report.prompt_characters:,}-character prompt with each), would leave "
            f"this machine for {report.endpoint}")


def llm_code(engine: Engine, settings: LlmSettings, *, actor: str, codes: Sequence[str] | None = None,
             case: str | None = None, kind: str | None = None, doc: str | None = None, dry_run: bool = False,
             announce: Announce | None = None) -> LlmReport:
    """Ask the model about every unit in scope (see the module's docstring); returns what was done."""
    started = time.perf_counter()
    endpoint = parse_endpoint(settings.endpoint)
    if settings.concurrency < 1 or settings.batch_size < 1:
        raise LlmError("concurrency and batch size must be at least 1")
    with transaction(engine, write=False) as session:
        plan = plan_run(session, model=settings.model, unit=settings.unit, parameters=settings.parameters(),
                        structured=settings.structured, codes=codes, case=case, kind=kind, doc=doc,
                        retry_malformed=settings.retry_malformed)
    todo = plan.todo
    groups: dict[str, list[UnitItem]] = defaultdict(list)
    for item in todo:
        if item.hash not in plan.cached:
            groups[item.hash].append(item)
    report = LlmReport(plan.coder_name, settings.model, endpoint.url, endpoint.local, settings.unit, dry_run=dry_run,
                       run_id=plan.resume_run, resumed=plan.resume_run is not None, documents=plan.documents,
                       units=len(plan.units), already_done=len(plan.done),
                       from_cache=sum(1 for item in todo if item.hash in plan.cached), to_send=len(groups),
                       documents_to_send=len({item.document_id for group in groups.values() for item in group}),
                       characters_to_send=sum(len(group[0].text) for group in groups.values()),
                       prompt_characters=len(plan.prompt.system) + len(plan.prompt.user_message(settings.unit, "")),
                       max_tokens=settings.max_tokens)
    if groups and not endpoint.local and not settings.allow_remote:
        raise LlmError(f"{endpoint.url} is not on this machine: {remote_summary(report)}. Use a local model "
                       "(the default endpoint is Ollama's, " + DEFAULT_ENDPOINT + "), or add --allow-remote if "
                       "this text may be sent there")
    if dry_run:
        report.status = "dry run"
        report.seconds = time.perf_counter() - started
        return report
    if groups and not endpoint.local and announce is not None:
        announce(f"Sending to a server that is not this machine: {remote_summary(report).replace('would leave', 'leave')}")
    with transaction(engine) as session:
        report.run_id = start_run(session, plan, actor=actor, model=settings.model, endpoint=endpoint.url)
    assert report.run_id is not None
    status, message = "finished", None
    try:
        cached = [Outcome(item, plan.cached[item.hash], sent=False) for item in todo if item.hash in plan.cached]
        for i in range(0, len(cached), settings.batch_size):
            _store(engine, plan, report, settings.model, cached[i:i + settings.batch_size])
        if groups:
            _ask_all(engine, plan, report, settings, endpoint, groups)
        if report.failed:
            status = "incomplete"
            message = f"{report.failed} unit(s) got no answer: {report.last_error}"
    except KeyboardInterrupt:
        _end(engine, report, "interrupted", "stopped by the user", actor)
        raise LlmError(f"interrupted: the answers stored so far are kept (run {report.run_id}); run the same "
                       "command again to resume") from None
    except _Stopped as stop:
        _end(engine, report, "failed", str(stop), actor)
        raise LlmError(f"{stop}; the answers stored so far are kept (run {report.run_id}): run the same command "
                       "again to resume") from None
    except BaseException as exc:
        _end(engine, report, "interrupted", str(exc)[:500], actor)
        raise
    _end(engine, report, status, message, actor)
    report.seconds = time.perf_counter() - started
    return report


class _Stopped(Exception):
    """The run cannot go on (see :func:`_ask_all`)."""


def _end(engine: Engine, report: LlmReport, status: str, message: str | None, actor: str) -> None:
    report.status = status
    assert report.run_id is not None
    with transaction(engine) as session:
        finish_run(session, report.run_id, status=status, failed=report.failed, message=message, actor=actor)


def _store(engine: Engine, plan: Plan, report: LlmReport, model: str, outcomes: list[Outcome]) -> None:
    if not outcomes:
        return
    assert report.run_id is not None
    with transaction(engine) as session:
        stored = store_batch(session, plan, report.run_id, model, outcomes)
    report.suggestions += stored.suggestions
    report.per_code.update(stored.per_code)
    for outcome in outcomes:
        if outcome.sent:
            report.sent += 1
        if outcome.answer.malformed:
            report.malformed += 1
        else:
            report.answered += 1


def _ask_all(engine: Engine, plan: Plan, report: LlmReport, settings: LlmSettings, endpoint: object,
             groups: dict[str, list[UnitItem]]) -> None:
    from gripcode.nlp.llm.endpoint import Endpoint

    assert isinstance(endpoint, Endpoint)
    prompt = plan.prompt
    parameters = dict(prompt.parameters)
    response_format = prompt.response_format()
    client = ChatClient(endpoint, api_key(endpoint), ClientSettings(settings.model, settings.timeout,
                                                                    settings.retries),
                        concurrency=settings.concurrency)
    # Many failures in a row mean no server (or one that is down), not bad luck with a few units.
    give_up_after = max(8, 2 * settings.concurrency)

    def ask(group: list[UnitItem]) -> tuple[list[UnitItem], Reply]:
        return group, client.ask(prompt.messages(settings.unit, group[0].text), parameters=parameters,
                                 response_format=response_format)

    queue = iter(groups.values())
    pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="llm")
    pending: set[Future[tuple[list[UnitItem], Reply]]] = set()
    waiting: list[Outcome] = []
    in_a_row = 0
    stop: str | None = None
    interrupted = False
    try:
        def fill() -> None:
            while stop is None and len(pending) < 2 * settings.concurrency:
                group = next(queue, None)
                if group is None:
                    return
                pending.add(pool.submit(ask, group))

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                pending.discard(future)
                group, reply = future.result()
                if reply.error is not None:
                    report.failed += len(group)
                    report.last_error = reply.error
                    in_a_row += 1
                    if reply.fatal:
                        stop = reply.error
                    elif in_a_row >= give_up_after:
                        stop = (f"{in_a_row} requests in a row got no answer from {endpoint.url} (the last: "
                                f"{reply.error}); is the server running, and is the model {settings.model!r} "
                                "available there?")
                    continue
                in_a_row = 0
                answer = parse_answer(reply.content, prompt.code_ids, finish_reason=reply.finish_reason)
                raw = (reply.content or "")[:4000] if answer.malformed else None
                waiting.extend(Outcome(item, answer, sent=i == 0, raw=raw) for i, item in enumerate(group))
            if len(waiting) >= settings.batch_size:
                _store(engine, plan, report, settings.model, waiting)
                waiting = []
            fill()
        _store(engine, plan, report, settings.model, waiting)
        waiting = []
    except BaseException:
        interrupted = True
        if waiting:  # answers already here are kept, so a resumed run does not ask for them again
            _store(engine, plan, report, settings.model, waiting)
        raise
    finally:
        # On Ctrl-C the requests still under way are abandoned rather than waited for.
        pool.shutdown(wait=not interrupted, cancel_futures=True)
        if not interrupted:
            client.close()
    if stop is None and report.failed and not report.sent:
        stop = (f"none of {report.failed} request(s) got an answer from {endpoint.url} (the last: "
                f"{report.last_error}); is the server running, and is the model {settings.model!r} available there?")
    if stop is not None:
        raise _Stopped(stop)
