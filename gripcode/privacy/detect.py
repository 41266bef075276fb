"""What is proposed for replacement: names from lists the researcher gives, entities from a trained spaCy
pipeline where one is configured, and e-mail addresses, phone numbers and URLs by pattern.

Each detector yields ``(kind, value, source)`` for one document's text; ``review.add_findings`` turns them into
proposals. Detection only proposes: a person decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gripcode.errors import GripcodeError
from gripcode.privacy.keyfile import read_text
from gripcode.privacy.review import KINDS, check_kind
from gripcode.privacy.spans import normal

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
# Phone numbers as they are written with a country code (+7 701 555 12 34), an area code in brackets
# ((021) 3456-7890) or in three groups (555-123-4567). Digits in running text (years, percentages, tonnes) are
# left alone, so a number written as plain digits is missed: the README says so.
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?(?:\(\d{1,5}\)[\s.-]?)?\d{1,5}(?:[\s.-]\d{1,5}){1,5}"
                   r"|\(\d{2,5}\)[\s.-]?\d{2,5}(?:[\s.-]\d{2,5}){1,4}"
                   r"|\d{3}[.-]\d{3}[.-]\d{4})(?![\w])")
# Labels of spaCy's pipelines (OntoNotes for English and Chinese, WikiNER for Russian and Portuguese).
NER_LABELS = {"PERSON": "person", "PER": "person", "ORG": "organisation", "GPE": "place", "LOC": "place",
              "FAC": "place"}
# A trained pipeline reads at most this many characters at a time; longer texts go in pieces cut at paragraphs.
NER_PIECE = 100_000


class DetectionError(GripcodeError):
    """A name list or a pipeline that cannot be used."""


def pattern_findings(text: str, kinds: set[str]) -> Iterator[tuple[str, str, str]]:
    if "email" in kinds:
        for m in EMAIL.finditer(text):
            yield "email", m.group(0), "pattern"
    if "url" in kinds:
        for m in URL.finditer(text):
            yield "url", m.group(0).rstrip(".,;:!?"), "pattern"
    if "phone" in kinds:
        for m in PHONE.finditer(text):
            if sum(ch.isdigit() for ch in m.group(0)) >= 7:
                yield "phone", m.group(0), "pattern"


def read_name_list(path: Path) -> list[tuple[str, str]]:
    """A file of values, one a line: ``Ivan Petrov``, or with a kind: ``organisation: Ministry of Industry``.
    Blank lines and lines starting with # are skipped."""
    return parse_name_list(read_text(path, "name list", DetectionError), str(path))


def parse_name_list(text: str, where: str, default: str = "person") -> list[tuple[str, str]]:
    names = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, value = default, line
        head, sep, rest = line.partition(":")
        if sep and head.strip().lower() in KINDS:
            kind, value = head.strip().lower(), rest.strip()
        if len(value) < 2:
            raise DetectionError(f"{where}, line {number}: a value needs at least two characters")
        names.append((check_kind(kind), normal(value)))
    return names


def informants(meta: Any) -> list[str]:
    """The informants a document's metadata names (the manifest's ``informant`` column)."""
    if not isinstance(meta, dict):
        return []
    value = meta.get("informant")
    values = value if isinstance(value, list) else [value]
    return [normal(v) for v in values if isinstance(v, str) and len(v.strip()) >= 2]


class EntityFinder:
    """Named entities from the trained pipelines configured per language; none for other languages."""

    def __init__(self, pipelines: dict[str, str], kinds: set[str]) -> None:
        self.names = dict(pipelines)
        self.kinds = kinds
        self.loaded: dict[str, Any] = {}
        self.notes: list[str] = []
        self.without: list[str] = []

    @property
    def warnings(self) -> list[str]:
        missing = (["no trained pipeline is configured for " + ", ".join(sorted(self.without)) + ": names there "
                    "are found only from name lists and the informant metadata"] if self.without else [])
        return self.notes + missing

    def _pipeline(self, language: str) -> Any | None:
        from gripcode.nlp.languages import spacy_lang  # the project's mapping of languages to spaCy classes

        key = spacy_lang(language)
        if key not in self.loaded:
            name = self.names.get(key) or self.names.get(language)
            nlp = None
            if name:
                from gripcode.nlp.pipelines import load_trained

                nlp = load_trained(name, key, self.notes)
                if nlp is not None and not nlp.has_pipe("ner") and not nlp.has_pipe("entity_ruler"):
                    self.notes.append(f"the pipeline {name!r} for {key} finds no entities (no ner component)")
                    nlp = None
            else:
                self.without.append(key)
            self.loaded[key] = nlp
        return self.loaded[key]

    def findings(self, text: str, language: str) -> Iterator[tuple[str, str, str]]:
        if not self.kinds & {"person", "organisation", "place"}:
            return
        nlp = self._pipeline(language)
        if nlp is None:
            return
        keep = [name for name in nlp.pipe_names if name in ("ner", "entity_ruler") or "tok2vec" in name
                or "transformer" in name]
        with nlp.select_pipes(enable=keep):
            for piece in _pieces(text, NER_PIECE):
                for ent in nlp(piece).ents:
                    kind = NER_LABELS.get(ent.label_)
                    value = " ".join(ent.text.split()).strip(" .,;:!?\"'«»“”()")
                    if kind in self.kinds and len(value) >= 2 and any(ch.isalpha() for ch in value):
                        yield kind, value, "ner"


def _pieces(text: str, size: int) -> Sequence[str]:
    if len(text) <= size:
        return [text]
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        pieces.append(text[start:end])
        start = end
    return pieces
