"""The spaCy component that turns codebook rules into spans.

Codes overlap (a sentence about export quotas can also be about resource nationalism), so matches go into
``doc.spans[spans_key]`` rather than ``doc.ents``. Each span's ``label_`` is the code id and its ``kb_id_``
names the rule that fired (``term:<term>`` or ``pattern:<n>``), which autocoding stores as the rule reference.

Fixed phrases go to a PhraseMatcher on LOWER and token patterns to a Matcher: the PhraseMatcher is several
times faster, so codebooks should keep patterns for inflections that a term list cannot cover.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from gripcode.codebook.model import Codebook
from gripcode.nlp.languages import spacy_lang

COMPONENT = "gripcode_rules"
DEFAULT_SPANS_KEY = "gripcode"
RULES_FILE = "rules.json"


class RuleMatcher:
    """Matches each code's terms and patterns and stores the hits as labelled spans."""

    def __init__(
        self,
        nlp: Language,
        name: str = COMPONENT,
        rules: Iterable[dict[str, Any]] = (),
        spans_key: str = DEFAULT_SPANS_KEY,
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.spans_key = spans_key
        self.set_rules(rules)

    def set_rules(self, rules: Iterable[dict[str, Any]]) -> None:
        """Replace all rules and rebuild the matchers."""
        self.rules: list[dict[str, Any]] = [
            # Documents are stored in NFC, so a term typed in decomposed form ("a" + combining tilde) is too.
            {"code": str(r["code"]), "terms": [unicodedata.normalize("NFC", t) for t in r.get("terms", [])],
             "patterns": list(r.get("patterns", [])),
             "entities": list(r.get("entities", []))}
            for r in rules
        ]
        # Entity label -> codes whose rules name it; used only when a trained pipeline has set doc.ents.
        self._entities: dict[str, list[str]] = {}
        for rule in self.rules:
            for label in rule["entities"]:
                self._entities.setdefault(label, []).append(rule["code"])
        vocab = self.nlp.vocab
        self._phrases = PhraseMatcher(vocab, attr="LOWER")
        self._matcher = Matcher(vocab, validate=True)
        # match id -> (code, rule reference, position in the rule list), the position breaking ties on duplicates
        self._refs: dict[int, tuple[str, str, int]] = {}
        order = 0
        for rule in self.rules:
            code = rule["code"]
            for term in rule["terms"]:
                key = self._key(code, f"term:{term}", order)
                order += 1
                # make_doc, so a term is split exactly like the text (e.g. one token per Chinese character).
                self._phrases.add(key, [self.nlp.make_doc(term)])
            for index, pattern in enumerate(rule["patterns"]):
                key = self._key(code, f"pattern:{index}", order)
                order += 1
                # LONGEST keeps one span per stretch for patterns with + or *, instead of every sub-span.
                self._matcher.add(key, [pattern], greedy="LONGEST")

    def _key(self, code: str, ref: str, order: int) -> str:
        key = f"{code}\x1f{ref}"
        self._refs.setdefault(self.nlp.vocab.strings.add(key), (code, ref, order))
        return key

    def __call__(self, doc: Doc) -> Doc:
        found: dict[tuple[str, int, int], tuple[int, str]] = {}
        matches = list(self._phrases(doc)) if len(self._phrases) else []
        if len(self._matcher):
            matches.extend(self._matcher(doc))
        for match_id, start, end in matches:
            code, ref, order = self._refs[match_id]
            slot = (code, start, end)
            if slot not in found or order < found[slot][0]:
                found[slot] = (order, ref)
        if self._entities and doc.ents:
            for ent in doc.ents:
                for code in self._entities.get(ent.label_, ()):
                    found.setdefault((code, ent.start, ent.end), (1 << 30, f"entity:{ent.label_}"))
        ordered = sorted(found.items(), key=lambda item: (item[0][1], item[0][2], item[0][0]))
        doc.spans[self.spans_key] = [
            Span(doc, start, end, label=code, kb_id=ref) for (code, start, end), (_, ref) in ordered
        ]
        return doc

    def to_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        payload = {"spans_key": self.spans_key, "rules": self.rules}
        (path / RULES_FILE).write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")

    def from_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> RuleMatcher:
        payload = json.loads((Path(path) / RULES_FILE).read_text(encoding="utf-8"))
        self.spans_key = payload.get("spans_key", self.spans_key)
        self.set_rules(payload.get("rules", []))
        return self


@Language.factory(COMPONENT, default_config={"rules": [], "spans_key": DEFAULT_SPANS_KEY})
def make_rule_matcher(nlp: Language, name: str, rules: list[dict[str, Any]], spans_key: str) -> RuleMatcher:
    return RuleMatcher(nlp, name, rules, spans_key)


def _is_active(code: Any) -> bool:
    return not code.retired and code.merged_into is None


def rules_for_language(cb: Codebook, lang: str) -> list[dict[str, Any]]:
    """The ``gripcode_rules`` configuration for one language.

    Only active codes take part (retired and merged codes keep their rules in the YAML for the record, but no
    longer match). Each language uses only its own ``terms``/``patterns`` lists: English terms are not reused
    for Portuguese, Chinese or Russian text, so a loanword must be listed under every language that uses it.
    ``lang`` may be any code :func:`spacy_lang` accepts (``kk`` reads the ``xx`` lists).
    """
    key = spacy_lang(lang)
    out = []
    for fc in cb.flat():
        rules = fc.code.rules
        if rules is None or not _is_active(fc.code):
            continue
        terms, patterns = rules.terms.get(key, []), rules.patterns.get(key, [])
        if terms or patterns or rules.entities:
            out.append({"code": fc.id, "terms": list(terms), "patterns": [list(p) for p in patterns],
                        "entities": list(rules.entities)})
    return out


def build_rules_pipeline(cb: Codebook, lang: str) -> Language:
    """A blank pipeline for ``lang`` with a sentencizer and the codebook's rules for that language."""
    nlp = spacy.blank(spacy_lang(lang))
    nlp.add_pipe("sentencizer")
    # The rules go in through set_rules, not the config: spaCy's config format would try to interpolate
    # "${...}" and "$" inside terms and regular expressions. to_disk stores them as plain JSON instead.
    component = cast(RuleMatcher, nlp.add_pipe(COMPONENT))
    component.set_rules(rules_for_language(cb, lang))
    return nlp
