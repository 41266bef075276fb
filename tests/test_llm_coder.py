"""The language-model coder against a chat-completions server the tests start on the loopback address.

Behaviour in process (``llm_code``); the commands through the installed program in test_llm_commands.py.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coder, Coding, LlmAnswer, LlmRun, LlmRunUnit
from gripcode.errors import LlmError
from gripcode.nlp.llm.coder import LlmSettings, llm_code
from gripcode.nlp.llm.endpoint import DEFAULT_ENDPOINT, NO_KEY, api_key, is_local_host, parse_endpoint
from gripcode.nlp.llm.prompt import build_prompt, CodeForPrompt, parse_answer

from conftest import Gripcode
from llm_stub import StubServer

CODEBOOK = """\
codebook: llm-test
codes:
  - id: export-restrictions
    name: Export restrictions
    definition: Limits on shipping rare earths abroad.
    include: Quotas, bans and licences for exports.
    exclude: Import tariffs (trade-defence).
    examples:
      positive: [China cut its export quotas for rare earths in 2010.]
      negative: [Prices of neodymium oxide fell over the summer.]
  - id: price-control
    name: Price control
    definition: A state that sets or steers prices.
"""

TEXT = ("Beijing cut the export quotas again in 2010.\n\n"
        "Prices for dysprosium rose by half within a year.\n\n"
        "The cooperative met in the village hall on Tuesday.\n\n"
        "Officials said the export quotas would stay; MALFORMED.\n")
CHARACTERS = sum(len(paragraph) for paragraph in TEXT.strip().split("\n\n"))


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    (tmp_path / "baotou.txt").write_text(TEXT, encoding="utf-8")
    grip.ok("import", str(tmp_path / "baotou.txt"), "--kind", "media")
    return grip


def run(url: str, server: StubServer | str, **options: Any) -> Any:
    engine = make_engine(url)
    endpoint = server if isinstance(server, str) else server.url
    settings = LlmSettings(model="stub-model", endpoint=endpoint, timeout=options.pop("timeout", 5.0),
                           retries=options.pop("retries", 2), **{k: options.pop(k) for k in list(options)
                                                               if k in LlmSettings.__dataclass_fields__})
    try:
        return llm_code(engine, settings, actor="tester", **options)
    finally:
        engine.dispose()


def llm_codings(url: str) -> list[tuple[str, str, str, str | None, str]]:
    engine = make_engine(url)
    with transaction(engine, write=False) as session:
        rows = session.execute(select(Coding.quote, Coding.status, Coding.origin, Coding.memo, Coder.name)
                               .join(Coder, Coder.id == Coding.coder_id).where(Coding.origin == "llm")
                               .order_by(Coding.start, Coding.code_id)).tuples().all()
    engine.dispose()
    return rows


def test_units_are_coded_with_structured_output_and_stored_as_suggestions(project: Gripcode) -> None:
    with StubServer() as server:
        report = run(project.url, server)
    assert report.status == "finished" and report.units == 4 and report.sent == 4
    assert (report.answered, report.malformed, report.failed, report.suggestions) == (3, 1, 0, 2)
    assert report.coder.startswith("llm@stub-model@") and len(report.coder) == len("llm@stub-model@") + 12
    request = server.requests[0]
    assert request["model"] == "stub-model" and request["temperature"] == 0.0 and request["seed"] == 0
    schema = request["response_format"]["json_schema"]["schema"]
    assert request["response_format"]["type"] == "json_schema"
    assert schema["properties"]["codes"]["items"]["properties"]["code"]["enum"] == ["export-restrictions",
                                                                                  "price-control"]
    system = request["messages"][0]["content"]
    for part in ("Code id: export-restrictions", "Definition: Limits on shipping rare earths abroad.",
                 "Include: Quotas, bans and licences for exports.", "Exclude: Import tariffs (trade-defence).",
                 "Fits: China cut its export quotas for rare earths in 2010.",
                 "Does not fit: Prices of neodymium oxide fell over the summer."):
        assert part in system
    users = sorted(r["messages"][1]["content"] for r in server.requests)
    assert users[0] == 'The passage (a paragraph):\n"""\nBeijing cut the export quotas again in 2010.\n"""'
    assert llm_codings(project.url) == [
        ("Beijing cut the export quotas again in 2010.", "suggested", "llm", "It mentions export quota.",
         report.coder),
        ("Prices for dysprosium rose by half within a year.", "suggested", "llm", "It mentions price.", report.coder),
    ]


def test_a_malformed_answer_is_recorded_for_its_unit_and_never_guessed(project: Gripcode) -> None:
    with StubServer() as server:
        report = run(project.url, server)
    engine = make_engine(project.url)
    with transaction(engine, write=False) as session:
        outcomes = session.execute(select(LlmRunUnit.outcome, LlmRunUnit.codes).order_by(LlmRunUnit.unit_id)).all()
        answer = session.scalars(select(LlmAnswer).where(LlmAnswer.malformed.is_(True))).one()
        run_row = session.get(LlmRun, report.run_id)
    engine.dispose()
    assert [tuple(o) for o in outcomes] == [("answered", 1), ("answered", 1), ("answered", 0), ("malformed", 0)]
    assert answer.raw == "The passage is about export quotas, I think."
    assert answer.problem.startswith("the answer is not JSON: Expecting value")
    assert (run_row.malformed, run_row.answers, run_row.units_sent) == (1, 3, 4)
    assert not any("would stay" in quote for quote, *_ in llm_codings(project.url))


def test_a_second_run_sends_nothing_and_stores_nothing_new(project: Gripcode) -> None:
    with StubServer() as server:
        first = run(project.url, server)
        sent = len(server.requests)
        second = run(project.url, server)
    assert sent == 4 and len(server.requests) == 4
    assert (second.sent, second.from_cache, second.suggestions, second.malformed) == (0, 4, 0, 1)
    assert second.run_id == first.run_id + 1 and second.coder == first.coder


def test_the_same_text_twice_is_asked_once(project: Gripcode, tmp_path: Path) -> None:
    (tmp_path / "copy.txt").write_text("Prices for dysprosium rose by half within a year.\n\nA second paragraph.\n",
                                       encoding="utf-8")
    project.ok("import", str(tmp_path / "copy.txt"))
    with StubServer() as server:
        report = run(project.url, server)
    assert report.units == 6 and report.to_send == 5 and len(server.requests) == 5
    assert sum(1 for quote, *_ in llm_codings(project.url) if quote.startswith("Prices for dysprosium")) == 2


@pytest.mark.parametrize("marker", ["RATE-LIMITED", "STALLS", "SLOW"])
def test_429_timeouts_and_slow_answers_are_waited_out(project: Gripcode, tmp_path: Path, marker: str) -> None:
    (tmp_path / "hard.txt").write_text(f"The export quotas were cut. {marker}\n", encoding="utf-8")
    project.ok("import", str(tmp_path / "hard.txt"))
    with StubServer(stall_seconds=2.0) as server:
        report = run(project.url, server, timeout=1.0, doc="hard")
    assert (report.status, report.answered, report.failed, report.suggestions) == ("finished", 1, 0, 1)
    expected_attempts = 1 if marker == "SLOW" else 2
    assert server.attempts[f"The export quotas were cut. {marker}"] == expected_attempts


def test_an_interrupted_run_resumes_where_it_stopped(project: Gripcode) -> None:
    with StubServer() as server:
        answered: list[str] = []

        def refuse_after_two(body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
            answered.append("x")
            if len(answered) > 2:
                return 404, {"error": {"message": "model 'stub-model' not found"}}
            return None

        server.status_override = refuse_after_two
        with pytest.raises(LlmError, match="the server does not know the model 'stub-model'"):
            run(project.url, server, concurrency=1, batch_size=1)
        engine = make_engine(project.url)
        with transaction(engine, write=False) as session:
            stopped = session.scalars(select(LlmRun)).one()
            done = session.scalar(select(LlmRunUnit.run_id).limit(1))
        assert stopped.status == "failed" and stopped.units_sent == 2 and done == stopped.id
        server.status_override = None
        server.requests.clear()
        report = run(project.url, server)
        with transaction(engine, write=False) as session:
            runs = session.scalars(select(LlmRun)).all()
        engine.dispose()
    assert report.resumed and report.run_id == stopped.id and report.already_done == 2
    assert len(server.requests) == 2 and report.status == "finished"
    assert [(r.id, r.status, r.units_sent) for r in runs] == [(stopped.id, "finished", 4)]


def test_no_server_stops_the_run_with_a_clear_message(project: Gripcode) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(LlmError) as stopped:
        run(project.url, f"http://127.0.0.1:{port}/v1", retries=0, timeout=1.0)
    assert str(stopped.value).startswith(f"none of 4 request(s) got an answer from http://127.0.0.1:{port}/v1 (the "
                                         "last: cannot connect: ")
    assert str(stopped.value).endswith("is the server running, and is the model 'stub-model' available there?; the "
                                       "answers stored so far are kept (run 1): run the same command again to resume")
    engine = make_engine(project.url)
    with transaction(engine, write=False) as session:
        assert session.scalars(select(LlmRun.status)).all() == ["failed"]
    engine.dispose()


def test_text_goes_to_another_host_only_when_allowed(project: Gripcode) -> None:
    dry = run(project.url, "https://llm.example.invalid/v1", dry_run=True, allow_remote=True)
    assert dry.to_send == 4 and not dry.local and dry.characters_to_send == CHARACTERS
    with pytest.raises(LlmError) as refused:
        run(project.url, "https://llm.example.invalid/v1")
    assert str(refused.value) == (
        f"https://llm.example.invalid/v1 is not on this machine: 4 unit(s) from 1 document(s), {CHARACTERS} "
        f"characters of text (and the {dry.prompt_characters:,}-character prompt with each), would leave this "
        "machine for "
        "https://llm.example.invalid/v1. Use a local model (the default endpoint is Ollama's, "
        "http://127.0.0.1:11434/v1), or add --allow-remote if this text may be sent there")


def test_dry_run_counts_units_characters_and_tokens_and_sends_nothing(project: Gripcode) -> None:
    with StubServer() as server:
        report = run(project.url, server, dry_run=True)
    assert server.requests == []
    assert (report.units, report.to_send, report.characters_to_send, report.documents_to_send) == (
        4, 4, CHARACTERS, 1)
    assert report.estimated_input_tokens == round((4 * report.prompt_characters + CHARACTERS) / 4)
    assert report.estimated_output_tokens == 4 * 1024
    engine = make_engine(project.url)
    with transaction(engine, write=False) as session:
        assert session.scalars(select(LlmRun)).all() == [] and session.scalars(select(Coder.name)).all() == []
    engine.dispose()


def test_endpoints_keys_and_strict_answers() -> None:
    assert parse_endpoint(DEFAULT_ENDPOINT).local
    assert [is_local_host(h) for h in ("localhost", "127.0.0.2", "::1", "[::1]", "10.0.0.5", "llm.lab.org")] == [
        True, True, True, True, False, False]
    with pytest.raises(LlmError, match="must not carry a user name or password"):
        parse_endpoint("http://ana:secret@127.0.0.1:11434/v1")
    local, openai_host = parse_endpoint(DEFAULT_ENDPOINT), parse_endpoint("https://api.openai.com/v1")
    assert api_key(local, {}) == NO_KEY
    assert api_key(local, {"OPENAI_API_KEY": "sk-1"}) == NO_KEY  # an OpenAI key never goes to another host
    assert api_key(openai_host, {"OPENAI_API_KEY": "sk-1"}) == "sk-1"
    assert api_key(local, {"GRIPCODE_LLM_API_KEY": "k", "OPENAI_API_KEY": "sk-1"}) == "k"
    ids = ["a", "b"]
    assert parse_answer('{"codes": [{"code": "a", "rationale": "fits"}]}', ids).codes == (("a", "fits"),)
    assert parse_answer('```json\n{"codes": []}\n```', ids).codes == ()
    for content, problem in [
        ('Sure! {"codes": []}', "the answer is not JSON"),
        ('{"codes": [{"code": "c", "rationale": ""}]}', "the answer names the code 'c', which is not in the prompt"),
        ('{"codes": [{"code": "a"}, {"code": "a"}]}', "the answer names the code 'a' twice"),
        ('{"codes": "a"}', '"codes" is not a list'),
        ('{"codes": [], "note": 1}', 'the answer is not an object with the one key "codes"'),
        ('{"codes": ["a"]}', 'an entry of "codes" is not'),
        ("", "the answer was empty"),
    ]:
        answer = parse_answer(content, ids)
        assert answer.malformed and answer.problem.startswith(problem), (content, answer)
    assert parse_answer('{"codes": []}', ids, finish_reason="length").problem == (
        "the answer was cut off at the token limit (max_tokens)")
    code = CodeForPrompt("a", "A")
    base = build_prompt("cb", [code], parameters={"temperature": 0.0, "seed": 0})
    assert base.digest == build_prompt("cb", [code], parameters={"temperature": 0.0, "seed": 0}).digest
    assert base.digest != build_prompt("cb", [code], parameters={"temperature": 0.7, "seed": 0}).digest
    assert base.digest != build_prompt("cb", [code], parameters={"temperature": 0.0, "seed": 0},
                                       structured=False).digest
    assert json.loads(json.dumps(base.response_format()))["json_schema"]["strict"] is True
