"""Language codes and the blank spaCy pipelines used to split text into sentences.

The study's languages are English, Portuguese, Chinese and Russian, which spaCy supports, and Kazakh,
which it does not: Kazakh (and anything unknown) uses the multi-language class ``xx``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import spacy

SUPPORTED = ("en", "pt", "zh", "ru", "xx")

_ALIASES = {
    "en": "en", "eng": "en", "english": "en",
    "pt": "pt", "por": "pt", "portuguese": "pt", "português": "pt", "portugues": "pt",
    "zh": "zh", "zho": "zh", "chi": "zh", "cmn": "zh", "chinese": "zh", "mandarin": "zh",
    "中文": "zh", "汉语": "zh", "漢語": "zh", "普通话": "zh",
    "ru": "ru", "rus": "ru", "russian": "ru", "русский": "ru",
}

# Chinese and Japanese full stops, exclamation and question marks, in case the default list changes.
_EXTRA_PUNCT = ("。", "！", "？", "｡", "︒", "﹒", "﹗", "﹖")

# Documents are split into sentences only (no parser or NER), so long books fit in memory easily.
_MAX_LENGTH = 100_000_000


def spacy_lang(code: str | None) -> str:
    """Map a language code or name ("pt-BR", "zho", "English") to a spaCy language; unknown -> "xx"."""
    if not code:
        return "xx"
    key = code.strip().lower().replace("_", "-")
    return _ALIASES.get(key) or _ALIASES.get(key.split("-")[0], "xx")


def sentence_pipeline(lang: str | None) -> spacy.Language:
    """A blank pipeline for ``lang`` with a sentencizer; one shared instance per spaCy language."""
    return _sentence_pipeline(spacy_lang(lang))


@functools.lru_cache(maxsize=None)
def _sentence_pipeline(lang: str) -> spacy.Language:
    # spaCy loads here, not at import, so commands that never segment text start fast.
    import spacy
    from spacy.pipeline.sentencizer import Sentencizer

    config = {"nlp": {"tokenizer": {"segmenter": "char"}}} if lang == "zh" else {}
    nlp = spacy.blank(lang, config=config)
    punct_chars = list(Sentencizer.default_punct_chars)
    punct_chars += [char for char in _EXTRA_PUNCT if char not in punct_chars]
    nlp.add_pipe("sentencizer", config={"punct_chars": punct_chars})
    nlp.max_length = _MAX_LENGTH
    return nlp
