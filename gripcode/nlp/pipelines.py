"""The spaCy pipelines autocoding runs: one per language, built from the project's codebook.

By default a pipeline is ``spacy.blank(lang)`` (Chinese split into characters, or words with jieba when asked)
plus the ``gripcode_rules`` component; units come from the database, so no sentencizer is needed. A trained
pipeline can be named per language in ``gripcode.toml`` (``[pipelines] en = "en_core_web_sm"``): its entities
then feed the codebook's ``entities`` rules. A named pipeline that is not installed gives a warning and the
blank pipeline; nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from gripcode.codebook.model import Codebook
from gripcode.nlp.languages import spacy_lang

if TYPE_CHECKING:
    from gripcode.nlp.rules import RuleMatcher

# gripcode.nlp.rules, and with it spaCy (about a second), is imported where a pipeline is built, not here: an
# autocoding run starts its worker processes first, so that they load spaCy while this process does too.

CHINESE_SEGMENTERS = ("char", "jieba")

Match = tuple[int, str, int, int, str]  # document id, code id, start, end, rule reference


@dataclass
class PipelineSet:
    """Pipelines by spaCy language, built on first use; ``warnings`` collects what the researcher should know."""

    codebook: Codebook
    trained: dict[str, str] = field(default_factory=dict)
    chinese: str = "char"
    warnings: list[str] = field(default_factory=list)
    _built: dict[str, Any] = field(default_factory=dict)

    def for_language(self, lang: str | None) -> Any:
        key = spacy_lang(lang)
        if key not in self._built:
            self._built[key] = build_pipeline(self.codebook, key, trained=self.trained.get(key),
                                              chinese=self.chinese, warnings=self.warnings)
        return self._built[key]


def _blank(lang: str, chinese: str, warnings: list[str]) -> Any:
    import spacy

    if lang == "zh":
        if chinese == "jieba" and importlib.util.find_spec("jieba") is None:
            warnings.append("jieba is not installed; Chinese is split into characters (pip install jieba)")
            chinese = "char"
        return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": chinese}}})
    return spacy.blank(lang)


def load_trained(name: str, lang: str, warnings: list[str]) -> Any | None:
    """A trained pipeline if it is installed (a package or a folder); otherwise a warning and None."""
    import spacy

    try:
        return spacy.load(name, exclude=["lemmatizer"])
    except (OSError, ImportError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:160]
        warnings.append(f"trained pipeline {name!r} for {lang} is not available ({reason}); "
                        "using the blank pipeline and the codebook's terms and patterns only")
        return None


def build_pipeline(cb: Codebook, lang: str, *, trained: str | None = None, chinese: str = "char",
                   warnings: list[str] | None = None) -> Any:
    """The autocoding pipeline for one language: tokenizer (and a trained pipeline's components, if any)
    followed by the codebook's rules."""
    notes = warnings if warnings is not None else []
    lang = spacy_lang(lang)
    if chinese not in CHINESE_SEGMENTERS:
        raise ValueError(f"Chinese segmenter {chinese!r} is not one of {', '.join(CHINESE_SEGMENTERS)}")
    nlp = load_trained(trained, lang, notes) if trained else None
    if nlp is None:
        nlp = _blank(lang, chinese, notes)
    nlp.max_length = 100_000_000
    from gripcode.nlp.rules import COMPONENT, rules_for_language

    component = cast("RuleMatcher", nlp.add_pipe(COMPONENT, last=True))
    rules = rules_for_language(cb, lang)
    for rule in rules:
        # Documents are stored in NFC; a term typed in decomposed form ("a" + combining tilde) must match too.
        rule["terms"] = [unicodedata.normalize("NFC", term) for term in rule["terms"]]
    component.set_rules(rules)
    return nlp


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


# Worker processes of an autocoding run. They live here rather than in gripcode.nlp.autocode, so that a worker
# imports spaCy and the codebook but not the database layer, and starts sooner.
_WORKER: dict[str, Any] = {}


def init_worker(yaml_text: str, trained: dict[str, str], chinese: str) -> None:
    """Load spaCy and the codebook in a new worker process, while the parent plans the run."""
    from gripcode.codebook.loader import parse_codebook

    _WORKER.update(yaml=yaml_text, trained=trained, chinese=chinese,
                   pipelines=PipelineSet(parse_codebook(yaml_text), trained=trained, chinese=chinese))


def match_in_worker(yaml_text: str, docs: list[tuple[int, str, str]]) -> tuple[list[Match], list[str]]:
    """The matches in ``docs`` under the codebook ``yaml_text``, and the worker's warnings so far."""
    if _WORKER.get("yaml") != yaml_text:  # a codebook synced after the worker started
        init_worker(yaml_text, _WORKER.get("trained", {}), _WORKER.get("chinese", "char"))
    pipelines: PipelineSet = _WORKER["pipelines"]
    return match_documents(pipelines, docs), list(pipelines.warnings)
