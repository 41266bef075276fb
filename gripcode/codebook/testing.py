"""Check a codebook's rules against its own examples (``gripcode codebook test``).

For every active code with examples, each positive example must be matched by that code's own rules in the
example's language, and no negative example may be. Matches of child codes do not count for a parent: a theme
that should catch its examples needs rules of its own. Each language's pipeline is built once and the
examples are streamed through ``nlp.pipe``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gripcode.codebook.model import Code, Codebook, Example
from gripcode.nlp.languages import spacy_lang
from gripcode.nlp.rules import DEFAULT_SPANS_KEY, build_rules_pipeline

_QUOTE_LIMIT = 90


@dataclass
class CodeTestResult:
    """The outcome for one code: ``failures`` explains every example that did not behave, in file order."""

    code: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    positive_total: int = 0
    positive_matched: int = 0
    negative_total: int = 0
    negative_matched: int = 0


@dataclass
class _Case:
    code: Code
    positive: bool
    example: Example
    order: int


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return f'"{text}"' if len(text) <= _QUOTE_LIMIT else f'"{text[: _QUOTE_LIMIT - 1]}…"'


def _has_rules(code: Code, key: str) -> bool:
    rules = code.rules
    return rules is not None and bool(rules.terms.get(key) or rules.patterns.get(key))


def run_codebook_tests(cb: Codebook) -> list[CodeTestResult]:
    """Run every active code's examples through the rules of the example's language."""
    codes = [fc.code for fc in cb.flat() if not fc.code.retired and fc.code.merged_into is None]
    codes = [c for c in codes if c.examples.positive or c.examples.negative]
    results = {c.id: CodeTestResult(code=c.id, passed=True) for c in codes}
    failures: dict[str, list[tuple[int, str]]] = {c.id: [] for c in codes}

    # Cases grouped by language, so each language's pipeline is built and run once.
    by_language: dict[str, list[_Case]] = {}
    for code in codes:
        result = results[code.id]
        cases = [_Case(code, True, e, 0) for e in code.examples.positive]
        cases += [_Case(code, False, e, 0) for e in code.examples.negative]
        result.positive_total = len(code.examples.positive)
        result.negative_total = len(code.examples.negative)
        for order, case in enumerate(cases):
            case.order = order
            key = spacy_lang(case.example.lang)
            if case.positive and not _has_rules(code, key):
                failures[code.id].append(
                    (
                        order,
                        f"positive example cannot match ({case.example.lang}): the code has no terms or patterns "
                        f"for {key}: {_quote(case.example.text)}",
                    )
                )
                continue
            by_language.setdefault(key, []).append(case)

    for key, cases in by_language.items():
        nlp = build_rules_pipeline(cb, key)
        for case, doc in zip(cases, nlp.pipe(case.example.text for case in cases)):
            result, example = results[case.code.id], case.example
            refs = sorted({s.kb_id_ for s in doc.spans[DEFAULT_SPANS_KEY] if s.label_ == case.code.id})
            if case.positive and refs:
                result.positive_matched += 1
            elif case.positive:
                message = f"positive example not matched ({example.lang}): {_quote(example.text)}"
                failures[case.code.id].append((case.order, message))
            elif refs:
                result.negative_matched += 1
                message = f"negative example matched by {', '.join(refs)} ({example.lang}): {_quote(example.text)}"
                failures[case.code.id].append((case.order, message))

    for code_id, result in results.items():
        result.failures = [message for _, message in sorted(failures[code_id])]
        result.passed = not result.failures
    return [results[c.id] for c in codes]
