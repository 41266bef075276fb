"""The prompt a language-model coder is given, the answer it must return, and the strict reading of that answer.

The system message holds the instructions and the codebook section: each code's id, name, parent, definition,
include and exclude criteria, and positive and negative examples. The user message holds one unit's text and
nothing else, so an answer depends only on the prompt and that text: the cache is keyed by (model, prompt hash,
text hash). The prompt hash covers everything sent besides the unit's text (instructions, codebook section,
answer schema, sampling parameters), so two runs with the same hash asked the same question.

An answer is one JSON object, ``{"codes": [{"code": "<id>", "rationale": "..."}]}``. It is read strictly:
anything else (prose around it, an unknown code id, a code twice, an answer cut off at the token limit) is
malformed and recorded as such for that unit; nothing is guessed from it. A Markdown code fence around the
object is the one wrapping accepted, since some servers add it whatever they are asked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

HASH_LENGTH = 12
# Raised whenever the wording or layout below changes: it is part of the prompt hash.
TEMPLATE_VERSION = 1
MAX_EXAMPLES = 3  # per code and kind: the codebook's first ones

INSTRUCTIONS = """\
You are a careful qualitative coder. You apply a codebook to passages from research documents (interviews, \
policy texts, media items). For the passage you are given, decide which of the codes below apply to it.

A code applies only when the passage itself fits the code's definition and its inclusion criteria, and is not \
excluded by its exclusion criteria. Judge the passage alone: do not assume what surrounds it. Several codes may \
apply, or none. Apply a parent code only when the passage fits the parent as such, not merely one of its \
children."""

ANSWER_FORMAT = """\
Answer with one JSON object and nothing else, in this form:
{"codes": [{"code": "<code id>", "rationale": "<one sentence: what in the passage fits the code>"}]}
Use only the code ids listed above, each at most once. If no code applies, answer {"codes": []}."""

USER_TEMPLATE = 'The passage (a {unit}):\n"""\n{text}\n"""'


@dataclass(frozen=True)
class CodeForPrompt:
    id: str
    name: str
    parent: str | None = None
    definition: str = ""
    include: str = ""
    exclude: str = ""
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()

    @classmethod
    def from_examples(cls, id: str, name: str, parent: str | None, definition: str, include: str, exclude: str,
                      examples: Mapping[str, Any] | None) -> CodeForPrompt:
        def texts(kind: str) -> tuple[str, ...]:
            items = (examples or {}).get(kind) or []
            return tuple(str(item.get("text", "")) if isinstance(item, Mapping) else str(item)
                         for item in items)[:MAX_EXAMPLES]

        return cls(id, name, parent, definition or "", include or "", exclude or "", texts("positive"),
                   texts("negative"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def codebook_section(name: str, codes: Sequence[CodeForPrompt]) -> str:
    lines = [f'The codebook "{name}" has these codes:']
    for code in codes:
        lines.append("")
        lines.append(f"Code id: {code.id}")
        lines.append(f"Name: {_one_line(code.name)}")
        if code.parent:
            lines.append(f"Parent code: {code.parent}")
        for label, value in (("Definition", code.definition), ("Include", code.include),
                             ("Exclude", code.exclude)):
            if value.strip():
                lines.append(f"{label}: {_one_line(value)}")
        for label, examples in (("Fits", code.positive), ("Does not fit", code.negative)):
            for example in examples:
                lines.append(f"{label}: {_one_line(example)}")
    return "\n".join(lines)


def answer_schema(code_ids: Sequence[str]) -> dict[str, Any]:
    """The JSON schema of an answer, for servers that constrain their output to one (``response_format``)."""
    return {
        "type": "object",
        "properties": {
            "codes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"code": {"type": "string", "enum": list(code_ids)},
                                   "rationale": {"type": "string"}},
                    "required": ["code", "rationale"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["codes"],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class Prompt:
    system: str
    code_ids: tuple[str, ...]
    schema: dict[str, Any] | None  # None: the server is not asked for structured output
    parameters: dict[str, Any] = field(default_factory=dict)  # temperature, seed, max_tokens

    @property
    def digest(self) -> str:
        """The prompt hash: everything sent besides the unit's text."""
        payload = {"template": TEMPLATE_VERSION, "system": self.system, "user": USER_TEMPLATE,
                   "schema": self.schema, "parameters": self.parameters}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def user_message(self, unit: str, text: str) -> str:
        return USER_TEMPLATE.format(unit=unit, text=text)

    def messages(self, unit: str, text: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user_message(unit, text)}]

    def response_format(self) -> dict[str, Any] | None:
        if self.schema is None:
            return None
        return {"type": "json_schema", "json_schema": {"name": "codes", "strict": True, "schema": self.schema}}


def build_prompt(codebook_name: str, codes: Sequence[CodeForPrompt], *, parameters: Mapping[str, Any],
                 structured: bool = True) -> Prompt:
    system = "\n\n".join([INSTRUCTIONS, codebook_section(codebook_name, codes), ANSWER_FORMAT])
    ids = tuple(code.id for code in codes)
    return Prompt(system, ids, answer_schema(ids) if structured else None, dict(parameters))


def coder_name(model: str, prompt_digest: str) -> str:
    return f"llm@{model}@{prompt_digest[:HASH_LENGTH]}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Answer:
    """A read answer: the codes with their rationales, or why it could not be read."""

    codes: tuple[tuple[str, str], ...] = ()
    problem: str | None = None

    @property
    def malformed(self) -> bool:
        return self.problem is not None


def _unfenced(content: str) -> str:
    text = content.strip()
    if text.startswith("```") and text.endswith("```") and text.count("```") == 2:
        body = text[3:-3]
        first, _, rest = body.partition("\n")
        return (rest if first.strip().lower() in ("", "json") else body).strip()
    return text


def parse_answer(content: str | None, code_ids: Sequence[str], *, finish_reason: str | None = None) -> Answer:
    """Read an answer strictly (see the module's docstring); never raises."""
    if finish_reason == "length":
        return Answer(problem="the answer was cut off at the token limit (max_tokens)")
    if content is None or not content.strip():
        return Answer(problem="the answer was empty")
    try:
        data = json.loads(_unfenced(content))
    except ValueError as exc:
        return Answer(problem=f"the answer is not JSON: {exc}")
    if not isinstance(data, dict) or set(data) != {"codes"}:
        return Answer(problem='the answer is not an object with the one key "codes"')
    if not isinstance(data["codes"], list):
        return Answer(problem='"codes" is not a list')
    known = set(code_ids)
    found: list[tuple[str, str]] = []
    for item in data["codes"]:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str) \
                or not set(item) <= {"code", "rationale"} \
                or not isinstance(item.get("rationale", ""), str):
            return Answer(problem='an entry of "codes" is not {"code": "...", "rationale": "..."}')
        code = item["code"]
        if code not in known:
            return Answer(problem=f"the answer names the code {code!r}, which is not in the prompt")
        if any(code == seen for seen, _ in found):
            return Answer(problem=f"the answer names the code {code!r} twice")
        found.append((code, item.get("rationale", "").strip()))
    return Answer(tuple(found))
