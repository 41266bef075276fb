"""The spaCy pipelines autocoding runs: one per language, built from the project's codebook.

By default a pipeline is ``spacy.blank(lang)`` (Chinese split into characters, or words with jieba when asked)
plus the ``gripcode_rules`` component; units come from the database, so no sentencizer is needed. A trained
pipeline can be named per language in ``gripcode.toml`` (``[pipelines] en = "en_core_web_sm"``): its entities
then feed the codebook's ``entities`` rules. A named pipeline that is not installed gives a warning and the
blank pipeline; nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, cast

from gripcode.codebook.model import Codebook
from gripcode.nlp.languages import spacy_lang
from gripcode.nlp.rules import COMPONENT, RuleMatcher, rules_for_language

CHINESE_SEGMENTERS = ("char", "jieba")


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
    component = cast(RuleMatcher, nlp.add_pipe(COMPONENT, last=True))
    component.set_rules(rules_for_language(cb, lang))
    return nlp
