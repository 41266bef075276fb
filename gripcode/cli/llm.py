"""gripcode llm code | runs"""

from __future__ import annotations

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option
from gripcode.db.engine import transaction
from gripcode.db.models import DOCUMENT_KINDS

# gripcode.nlp.llm.endpoint's default, named here so that `--help` imports nothing of the language-model
# coder (a test keeps the two equal).
DEFAULT_ENDPOINT = "http://127.0.0.1:11434/v1"
UNIT_CHOICES = ("sentence", "paragraph", "turn")


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@click.group("llm")
def llm_group() -> None:
    """A language model as a coder: suggestions to review, and the record of every run.

    The model runs behind an OpenAI-compatible chat endpoint: Ollama, llama.cpp's server or vLLM on this
    machine by default. Text goes to another host only with --allow-remote. An API key, if the server needs one,
    comes from the environment variable GRIPCODE_LLM_API_KEY (OPENAI_API_KEY is used for api.openai.com only).
    """


@llm_group.command("code")
@click.option("--model", envvar="GRIPCODE_LLM_MODEL", metavar="NAME",
              help="The model, as the server names it (qwen2.5:7b-instruct, ...) [env GRIPCODE_LLM_MODEL].")
@click.option("--endpoint", envvar="GRIPCODE_LLM_ENDPOINT", default=DEFAULT_ENDPOINT, show_default=True,
              metavar="URL", help="The OpenAI-compatible API's base address [env GRIPCODE_LLM_ENDPOINT].")
@click.option("--unit", type=click.Choice(UNIT_CHOICES), default="paragraph", show_default=True,
              help="What one question is about.")
@click.option("--codes", metavar="X,Y", help="Only these code ids in the prompt (default: every active code).")
@click.option("--case", help="Only documents of this case.")
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS), help="Only documents of this kind.")
@click.option("--doc", help="Only this document (id or title).")
@click.option("--temperature", type=click.FloatRange(0, 2), default=0.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed, for servers that take one.")
@click.option("--max-tokens", type=click.IntRange(min=16), default=1024, show_default=True,
              help="Longest answer; one cut off here is malformed.")
@click.option("--schema/--no-schema", default=True, show_default=True,
              help="Ask for structured output (a JSON schema) where the server supports it.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Requests in flight at once.")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Answers stored per commit.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True,
              help="Seconds to wait for one answer before trying again.")
@click.option("--retries", type=click.IntRange(0, 20), default=4, show_default=True,
              help="Tries again after a timeout, a dropped connection, 429 or 5xx, with growing pauses.")
@click.option("--allow-remote", is_flag=True, help="Allow an endpoint that is not this machine: the text leaves it.")
@click.option("--retry-malformed", is_flag=True, help="Ask again about units whose cached answer was malformed.")
@click.option("--dry-run", is_flag=True, help="Count units, characters and tokens; send and store nothing.")
@pass_app
def code(app: App, model: str | None, endpoint: str, unit: str, codes: str | None, case: str | None,
         kind: str | None, doc: str | None, temperature: float, seed: int, max_tokens: int, schema: bool,
         concurrency: int, batch_size: int, timeout: float, retries: int, allow_remote: bool,
         retry_malformed: bool, dry_run: bool) -> None:
    """Ask a language model which codes apply to each unit; store its answers as suggestions to review.

    The prompt is built from the synced codebook: each code's definition, include and exclude criteria and
    examples. Suggestions are made by the coder llm@<model>@<prompt hash>, with the model's rationale as memo,
    and count nowhere until accepted (validate the coder first: `gripcode validate`). Answers are cached, so
    running again sends nothing new; an interrupted run resumes.
    """
    if not model:
        raise click.UsageError("name the model with --model (or GRIPCODE_LLM_MODEL), as the server names it")
    from gripcode.nlp.llm.coder import LlmSettings, llm_code

    settings = LlmSettings(model=model, endpoint=endpoint, unit=unit, temperature=temperature, seed=seed,
                           max_tokens=max_tokens, structured=schema, concurrency=concurrency,
                           batch_size=batch_size, timeout=timeout, retries=retries, allow_remote=allow_remote,
                           retry_malformed=retry_malformed)
    report = llm_code(app.engine(), settings, actor=app.coder, codes=_split(codes), case=case, kind=kind, doc=doc,
                      dry_run=dry_run, announce=lambda text: click.echo(text, err=True))
    where = "this machine" if report.local else "NOT this machine"
    click.echo(f"Coder {report.coder}: model {report.model} at {report.endpoint} ({where}), {report.unit} units")
    done = f"; {report.already_done} already done by run {report.run_id}" if report.already_done else ""
    click.echo(f"{report.units} unit(s) in {report.documents} document(s): {report.to_send} to ask, "
               f"{report.from_cache} answered from the cache{done}")
    if dry_run:
        click.echo(f"Dry run: would send {report.to_send} request(s) with {report.characters_to_send:,} characters "
                   f"of text from {report.documents_to_send} document(s); about "
                   f"{report.estimated_input_tokens:,} input tokens (the {report.prompt_characters:,}-character "
                   f"prompt goes with every request; 4 characters a token) and at most "
                   f"{report.estimated_output_tokens:,} output tokens")
        if not report.local and report.to_send:
            click.echo("The endpoint is not this machine: the text would leave it (a real run needs --allow-remote)")
        return
    verb = "Resumed" if report.resumed else "Run"
    click.echo(f"{verb} {report.run_id} {report.status} in {report.seconds:.1f} s: {report.sent} asked, "
               f"{report.answered} answer(s) read, {report.malformed} malformed, {report.failed} without an answer")
    if report.malformed:
        click.echo(f"Malformed answers are recorded per unit and never guessed: `gripcode llm runs {report.run_id}` "
                   "lists them; --retry-malformed asks again")
    if report.failed:
        click.echo(f"Run the command again to ask about the {report.failed} unit(s) without an answer "
                   f"(last error: {report.last_error})")
    click.echo(f"Added {report.suggestions} suggestion(s) as {report.coder}; they count nowhere until accepted "
               "(`gripcode validate` compares the coder with people first)")
    for name, n in sorted(report.per_code.items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"  {n:6d}  {name}")


@llm_group.command("runs")
@click.argument("run", type=int, required=False)
@click.option("--coder", "coder_name", metavar="CODER", help="Only the runs of this llm@... coder.")
@format_option()
@pass_app
def runs(app: App, run: int | None, coder_name: str | None, fmt: str) -> None:
    """List the language-model runs (model, endpoint, parameters, prompt hash, codebook version, time, units);
    with RUN, that run in full: its prompt, parameters and the units whose answer was malformed."""
    from gripcode.nlp.llm.runs import RUN_COLUMNS, find_run, list_runs, malformed_units

    with transaction(app.engine(), write=False) as session:
        if run is None:
            emit_rows(list_runs(session, coder_name), RUN_COLUMNS, fmt, empty="No language-model runs yet.")
            return
        row = next(r for r in list_runs(session) if r["run"] == find_run(session, run).id)
        record = find_run(session, run)
        malformed = malformed_units(session, run)
        detail = {**row, "parameters": record.parameters, "prompt_hash": record.prompt_hash,
                  "scope": record.scope, "characters_sent": record.characters_sent, "message": record.message,
                  "prompt": record.prompt, "malformed_units": malformed}
    if fmt == "json":
        from gripcode.cli.output import to_json

        click.echo(to_json(detail))
        return
    for key in (*RUN_COLUMNS, "parameters", "scope", "characters_sent", "message"):
        if key in ("prompt_hash",):
            continue
        value = detail[key]
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v is not None) or "-"
        click.echo(f"{key}: {value if value is not None else '-'}")
    click.echo(f"prompt_hash: {detail['prompt_hash']}")
    click.echo("prompt (the system message; the user message is the unit's text):")
    for line in record.prompt.splitlines():
        click.echo(f"  {line}")
    if malformed:
        click.echo(f"malformed answers ({len(malformed)}):")
        emit_rows(malformed, ("document", "unit", "problem", "answer"), "table" if fmt == "table" else fmt)


COMMANDS = [llm_group]
