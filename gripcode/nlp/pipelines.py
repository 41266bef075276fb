"""The spaCy pipelines autocoding runs: one per language, built from the project's codebook.

By default a pipeline is ``spacy.blank(lang)`` (Chinese split into characters, or words with jieba when asked)
plus the ``gripcode_rules`` component; units come from the database, so no sentencizer is needed. A trained
pipeline can be named per language in ``gripcode.toml`` (``[pipelines] en = "en_core_web_sm"``): its entities
then feed the codebook's ``entities`` rules. A named pipeline that is not installed gives a warning and the
blank pipeline; nothing is ever downloaded.

Widening matches to the stored units (:class:`UnitIndex`, :func:`widen`) lives here too, without the database
layer, so that worker processes can do it.
"""

from __future__ import annotations

import bisect
import importlib.util
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from gripcode.codebook.model import Codebook
from gripcode.errors import CodebookError
from gripcode.nlp.languages import spacy_lang

if TYPE_CHECKING:
    from gripcode.nlp.rules import RuleMatcher

# gripcode.nlp.rules, and with it spaCy (about half a second), is imported where a pipeline is built, not here:
# a spawned worker of an autocoding run (where it cannot fork) starts first and loads spaCy while this process
# does too.

CHINESE_SEGMENTERS = ("char", "jieba")

Match = tuple[int, str, int, int, str]  # document id, code id, start, end, rule reference
Widened = tuple[int, int, int, int, str]  # document id, code's database id, start, end, rule reference
# A document's units of one kind: document id, unit kind, and every unit's start and end as "start,end,start,end"
# (in any order). One packed row per document and kind is a twentieth of the rows, and of the objects to build
# and to send to a worker, that a row per unit would be.
UnitRow = tuple[int, str, str]


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
    try:
        component.set_rules(rules)
    except (ValueError, TypeError, KeyError, re.error) as exc:
        # A pattern this spaCy refuses (the codebook was checked when synced, perhaps under another version).
        reason = " ".join(str(exc).split())[:300]
        raise CodebookError(f"the codebook's patterns for {lang} cannot be used: {reason}") from None
    return nlp


class UnitIndex:
    """A document's units of one kind, for widening a match to the unit(s) it falls in."""

    __slots__ = ("starts", "ends")

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.ends = [e for _, e in ordered]

    @classmethod
    def from_bounds(cls, bounds: list[int]) -> UnitIndex:
        """From ``[start, end, start, end, ...]``, ordered or not (units come ordered from the database)."""
        starts, ends = bounds[0::2], bounds[1::2]
        if starts != sorted(starts):
            return cls(zip(starts, ends))
        index = cls.__new__(cls)
        index.starts, index.ends = starts, ends
        return index

    @property
    def spans(self) -> list[tuple[int, int]]:
        return list(zip(self.starts, self.ends))

    def holds(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` lies inside a unit (or a run of adjacent ones), not partly outside all."""
        if not self.starts:
            return False
        first = bisect.bisect_right(self.starts, start) - 1
        if first < 0:
            return False
        last = max(bisect.bisect_right(self.starts, max(end - 1, start)) - 1, first)
        return self.ends[first] > start and self.ends[last] >= end

    def cover(self, start: int, end: int) -> tuple[int, int]:
        """The smallest run of units covering ``[start, end)``; the span itself where no unit holds it."""
        if not self.starts:
            return start, end
        first = max(bisect.bisect_right(self.starts, start) - 1, 0)
        last = max(bisect.bisect_right(self.starts, max(end - 1, start)) - 1, first)
        unit_start, unit_end = self.starts[first], self.ends[last]
        if unit_start > start or unit_end < end:
            # The match lies (partly) in a gap between units, such as a blank line: keep what is covered.
            return min(unit_start, start), max(unit_end, end)
        return unit_start, unit_end


def unit_indexes(rows: Iterable[UnitRow]) -> dict[tuple[int, str], UnitIndex]:
    """Each (document, kind)'s units, from packed rows (a document and kind may span several)."""
    bounds: dict[tuple[int, str], list[int]] = {}
    for doc_id, kind, packed in rows:
        if packed:
            bounds.setdefault((doc_id, kind), []).extend(map(int, packed.split(",")))
    return {key: UnitIndex.from_bounds(values) for key, values in bounds.items()}


def unit_kinds(units: dict[str, str], slugs: Iterable[str] | None = None) -> set[str]:
    """The unit kinds needed to widen matches of these codes (default: all), given each code's unit."""
    kinds = {units[slug] for slug in (units if slugs is None else slugs)} - {"match"}
    if "turn" in kinds:
        kinds.add("paragraph")  # documents without speaker turns fall back to paragraphs
    return kinds


def widen(matches: Iterable[Match], code_ids: dict[str, int], units: dict[str, str],
          indexes: dict[tuple[int, str], UnitIndex]) -> list[Widened]:
    """The matches of the codes in ``code_ids`` widened to each code's unit, with the code's database id."""
    out: list[Widened] = []
    for doc_id, slug, start, end, ref in matches:
        code_id = code_ids.get(slug)
        if code_id is None:
            continue
        unit = units[slug]
        if unit != "match":
            index = indexes.get((doc_id, unit))
            if unit == "turn" and (index is None or not index.holds(start, end)):
                # No speaker turns in the document, or a match outside every turn (a transcript's header):
                # the paragraph, rather than a span reaching into the next turn.
                index = indexes.get((doc_id, "paragraph"))
            if index is not None:
                start, end = index.cover(start, end)
        out.append((doc_id, code_id, start, end, ref))
    return out


def match_documents(pipelines: PipelineSet, docs: Sequence[tuple[int, str, str]], batch_size: int = 64) -> list[Match]:
    """Rule matches in ``docs`` (id, language, text) as character offsets, grouped through nlp.pipe by language."""
    from gripcode.nlp.rules import DEFAULT_SPANS_KEY

    by_lang: dict[str, list[tuple[int, str]]] = {}
    for doc_id, lang, text in docs:
        by_lang.setdefault(lang or "xx", []).append((doc_id, text))
    out: list[Match] = []
    # One string object per code and rule, however often they match: a worker's results pickle and load each once.
    names: dict[str, str] = {}
    for lang, items in by_lang.items():
        nlp = pipelines.for_language(lang)
        for (doc_id, _), doc in zip(items, nlp.pipe((text for _, text in items), batch_size=batch_size)):
            out.extend((doc_id, names.setdefault(s.label_, s.label_), s.start_char, s.end_char,
                        names.setdefault(s.kb_id_, s.kb_id_)) for s in doc.spans[DEFAULT_SPANS_KEY])
    return out


# Worker processes of an autocoding run. They live here rather than in gripcode.nlp.autocode, so that a worker
# imports spaCy and the codebook but not the database layer, and starts sooner.
_WORKER: dict[str, Any] = {}


def synced_codebook(yaml_text: str, name: str = "<string>") -> Codebook:
    """A codebook from YAML that ``gripcode codebook sync`` has already validated (a version's snapshot).

    Read without the full check, which asks spaCy about every pattern: that import and a blank pipeline per
    language cost more than the rest of a small run, and :func:`build_pipeline` checks the patterns again.
    Anything the quick reading does not accept goes through the full check, for its report.
    """
    import yaml
    from pydantic import ValidationError

    from gripcode.codebook.loader import parse_codebook

    try:
        data = yaml.load(yaml_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return Codebook.model_validate(data)
    except (yaml.YAMLError, ValidationError, ValueError, TypeError, RecursionError):
        return parse_codebook(yaml_text, name=name)


def init_worker(yaml_text: str, trained: dict[str, str], chinese: str) -> None:
    """Load the codebook for matching in this process (a worker, or again when a codebook changes)."""
    _WORKER.update(yaml=yaml_text, trained=trained, chinese=chinese,
                   pipelines=PipelineSet(synced_codebook(yaml_text), trained=trained, chinese=chinese))


def start_worker(yaml_text: str, trained: dict[str, str], chinese: str) -> None:
    """A new worker process's start: spaCy and the codebook load while the parent plans the run."""
    import spacy  # noqa: F401 - now, not at the first batch

    from gripcode.corpus.segment import exit_quickly

    init_worker(yaml_text, trained, chinese)
    exit_quickly()


def adopt_worker(yaml_text: str, pipelines: PipelineSet) -> None:
    """A forked worker process's start: it holds the pipelines its parent built for ``yaml_text`` before the
    fork, so it matches at once instead of loading spaCy again. Its warnings start anew."""
    from gripcode.corpus.segment import exit_quickly

    exit_quickly()
    _WORKER.update(yaml=yaml_text, trained=pipelines.trained, chinese=pipelines.chinese,
                   pipelines=PipelineSet(pipelines.codebook, trained=pipelines.trained, chinese=pipelines.chinese,
                                         _built=pipelines._built))


def match_in_worker(yaml_text: str, docs: list[tuple[int, str, str]]) -> tuple[list[Match], list[str]]:
    """The matches in ``docs`` under the codebook ``yaml_text``, and the worker's warnings so far."""
    if _WORKER.get("yaml") != yaml_text:  # a codebook synced after the worker started
        init_worker(yaml_text, _WORKER.get("trained", {}), _WORKER.get("chinese", "char"))
    pipelines: PipelineSet = _WORKER["pipelines"]
    return match_documents(pipelines, docs), list(pipelines.warnings)


def match_and_widen_in_worker(yaml_text: str, docs: list[tuple[int, str, str]], code_ids: dict[str, int],
                              units: dict[str, str], rows: list[UnitRow]) -> tuple[list[Widened], int, list[str]]:
    """The matches in ``docs`` widened with the units ``rows``, how many matches there were, and the worker's
    warnings so far."""
    matches, warnings = match_in_worker(yaml_text, docs)
    return widen(matches, code_ids, units, unit_indexes(rows)), len(matches), warnings
