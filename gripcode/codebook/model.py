"""The codebook as methodologists write it in YAML, validated with pydantic.

The YAML mirrors these classes: a codebook has a tree of codes (``children`` for nesting, or ``parent:``
naming another code's id), and each code may carry assisted-coding ``rules``. ``Codebook.flat()`` gives the
codes in tree order with their resolved parent, which is what sync, tests and exporters work from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
RULE_LANGUAGES = ("en", "pt", "zh", "ru", "xx")
UnitName = Literal["match", "sentence", "paragraph", "turn"]


class _Strict(BaseModel):
    # Unknown keys are almost always typos ("inlcude"), so they are errors, not silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Example(_Strict):
    """An example passage; ``lang`` says which language's rules must (or must not) match it."""

    text: str = Field(min_length=1)
    lang: str = "en"


def _coerce_examples(value: Any) -> Any:
    if isinstance(value, list):
        return [{"text": v} if isinstance(v, str) else v for v in value]
    return value


class Examples(_Strict):
    positive: list[Example] = Field(default_factory=list)
    negative: list[Example] = Field(default_factory=list)

    _coerce_positive = field_validator("positive", "negative", mode="before")(_coerce_examples)


class Rules(_Strict):
    """Assisted-coding rules for one code.

    ``terms`` are fixed phrases per language (matched case-insensitively on token LOWER with spaCy's
    PhraseMatcher); ``patterns`` are spaCy Matcher token patterns per language (each a list of token
    dicts); ``entities`` are entity labels, used only when a trained pipeline is configured. ``unit`` is the
    segment a match is widened to when it becomes a suggestion.
    """

    unit: UnitName = "sentence"
    terms: dict[str, list[str]] = Field(default_factory=dict)
    patterns: dict[str, list[list[dict[str, Any]]]] = Field(default_factory=dict)
    entities: list[str] = Field(default_factory=list)

    @field_validator("terms", "patterns")
    @classmethod
    def _known_languages(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(RULE_LANGUAGES))
        if unknown:
            raise ValueError(
                f"unknown rule language(s) {', '.join(unknown)}; use {', '.join(RULE_LANGUAGES)} (xx for Kazakh and others)"
            )
        return value

    @field_validator("terms")
    @classmethod
    def _no_empty_terms(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for lang, terms in value.items():
            if any(not t.strip() for t in terms):
                raise ValueError(f"empty term in terms.{lang}")
        return value

    def is_empty(self) -> bool:
        return not (any(self.terms.values()) or any(self.patterns.values()) or self.entities)


class Code(_Strict):
    id: str
    name: str = Field(min_length=1)
    parent: str | None = None
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: Examples = Field(default_factory=Examples)
    color: str | None = None
    renamed_from: list[str] = Field(default_factory=list)
    merged_into: str | None = None
    retired: bool = False
    refi_guid: str | None = None
    rules: Rules | None = None
    children: list[Code] = Field(default_factory=list)

    @field_validator("id", "merged_into")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not SLUG_RE.match(value):
            raise ValueError(f"{value!r} is not a slug (lowercase letters, digits and - _ . between them)")
        return value

    @field_validator("renamed_from", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("color")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not COLOR_RE.match(value):
            raise ValueError(f"bad colour {value!r}: use #RRGGBB or #RGB")
        return value

    @model_validator(mode="after")
    def _merge_or_retire(self) -> Code:
        if self.merged_into == self.id:
            raise ValueError("a code cannot be merged into itself")
        return self


@dataclass(frozen=True)
class FlatCode:
    """A code with its resolved parent and depth, in tree (document) order."""

    code: Code
    parent: str | None
    depth: int

    @property
    def id(self) -> str:
        return self.code.id


class Codebook(_Strict):
    codebook: str = Field(min_length=1, description="the codebook's name")
    description: str = ""
    languages: list[str] = Field(default_factory=lambda: ["en"])
    codes: list[Code] = Field(default_factory=list)

    def flat(self) -> list[FlatCode]:
        """Codes in tree order; a ``parent:`` key wins over nesting only when the code is top level."""
        out: list[FlatCode] = []

        def walk(codes: list[Code], parent: str | None, depth: int) -> None:
            for code in codes:
                out.append(FlatCode(code, parent if parent is not None else code.parent, depth))
                walk(code.children, code.id, depth + 1)

        walk(self.codes, None, 0)
        return _order_by_parent(out)

    def by_id(self) -> dict[str, Code]:
        return {fc.id: fc.code for fc in self.flat()}


def _order_by_parent(codes: list[FlatCode]) -> list[FlatCode]:
    """Put codes declared with ``parent:`` right after their parent's subtree, with the right depth."""
    by_parent: dict[str | None, list[FlatCode]] = {}
    ids = {fc.id for fc in codes}
    for fc in codes:
        key = fc.parent if fc.parent in ids else None
        by_parent.setdefault(key, []).append(fc)
    ordered: list[FlatCode] = []
    seen: set[str] = set()

    def visit(parent: str | None, depth: int) -> None:
        for fc in by_parent.get(parent, []):
            if fc.id in seen:  # cycles and duplicates are reported by the validator
                continue
            seen.add(fc.id)
            ordered.append(FlatCode(fc.code, fc.parent, depth))
            visit(fc.id, depth + 1)

    visit(None, 0)
    # Anything left is in a cycle; keep it so the validator can name it.
    ordered.extend(fc for fc in codes if fc.id not in seen)
    return ordered
