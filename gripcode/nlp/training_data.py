"""Training data for the text classifier: the project's units labelled with the codes that counted codings give
them, split by document into training and held-out parts, and the scores on the held-out part.

Which units
    The sentences or paragraphs (stored units) of every document with at least one counted coding, of any code.
    A coding counts when its status is ``accepted``: manual and imported codings are stored accepted, rule and
    model suggestions count only once a researcher has accepted them. Units of those documents that no chosen
    code labels are the negatives; documents nobody has coded are left out, since silence there means
    "not read yet", not "not about this".

Labelling rule
    A coding labels a unit when it covers at least half of the unit, or when the whole coding lies inside the
    unit. So a quote of a few words labels the sentence or paragraph it sits in, a coding of a whole paragraph
    labels each of its sentences, and a coding that only spills over the edge into a neighbouring unit does not
    label that neighbour. Several coders' codings are pooled: a unit's labels are the union of every coder's
    codes, because the classifier learns where a code applies, not who applied it.

Held-out split
    By document, so the units of one document are never on both sides. Only documents researchers coded
    themselves (manual or imported codings) can be held out, since only their codings are a fair test (see
    Evaluation); documents coded only through accepted suggestions always train. The eligible documents are
    ordered by a hash of their SHA-256 and the seed, and the first ``fraction`` of them (at least one) are held
    out, so adding a document moves at most one other across the split.

Evaluation
    A model is scored on the units of its held-out documents that researchers coded themselves, labelled by
    their own (manual or imported) codings only. Accepted rule suggestions would make the comparison with the
    rules circular: the rules cannot miss what only they proposed.

Hash
    The SHA-256 of the sorted (document SHA-256, start, end, sorted labels) tuples and the training settings:
    the same data and settings always give the same hash, and so the same model name ``model@<hash>``.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.db.bulk import chunks
from gripcode.db.models import COUNTED_STATUS, Code, Coding, Document, Unit
from gripcode.errors import AnalysisError
from gripcode.nlp.languages import spacy_lang

UNIT_CHOICES = ("sentence", "paragraph")
DEFAULT_MIN_UNITS = 10
DEFAULT_HELD_OUT = 0.2
# Codings a researcher made (by hand or in another program), as opposed to accepted machine suggestions.
HUMAN_ORIGINS = ("manual", "import")


@dataclass(frozen=True)
class LabelledUnit:
    document_id: int
    document_sha256: str
    language: str  # spaCy language of the document
    start: int
    end: int
    text: str
    labels: frozenset[str]  # code ids (slugs)


def labels_unit(unit_start: int, unit_end: int, coding_start: int, coding_end: int) -> bool:
    """The labelling rule: the coding covers at least half of the unit, or lies wholly inside it."""
    overlap = min(unit_end, coding_end) - max(unit_start, coding_start)
    if overlap <= 0:
        return False
    inside = coding_start >= unit_start and coding_end <= unit_end
    return inside or 2 * overlap >= unit_end - unit_start


def label_units(units: Sequence[tuple[int, int]], codings: Iterable[tuple[str, int, int]]) -> list[frozenset[str]]:
    """The labels of each of one document's ``units`` (start, end) from its ``codings`` (code, start, end)."""
    order = sorted(range(len(units)), key=lambda i: units[i])
    starts = [units[i][0] for i in order]
    ends = [units[i][1] for i in order]
    # Units of one kind do not overlap, so their ends are sorted too and a coding's candidates are one run.
    tiled = all(a <= b for a, b in zip(ends, ends[1:]))
    labels: list[set[str]] = [set() for _ in units]
    for code, start, end in codings:
        first = bisect.bisect_right(ends, start) if tiled else 0
        for k in range(first, bisect.bisect_left(starts, end)):
            unit_start, unit_end = units[order[k]]
            if labels_unit(unit_start, unit_end, start, end):
                labels[order[k]].add(code)
    return [frozenset(s) for s in labels]


def coded_document_ids(session: Session, *, origins: Sequence[str] | None = None,
                       among: Sequence[int] | None = None) -> list[int]:
    """Documents with at least one counted coding (of one of ``origins``, if given; among ``among``, if given)."""
    query = select(Coding.document_id).where(Coding.status == COUNTED_STATUS)
    if origins is not None:
        query = query.where(Coding.origin.in_(list(origins)))
    if among is None:
        return list(session.scalars(query.distinct().order_by(Coding.document_id)))
    found: set[int] = set()
    for chunk in chunks(list(among)):
        found.update(session.scalars(query.where(Coding.document_id.in_(chunk)).distinct()))
    return sorted(found)


def labelled_units(session: Session, unit: str, document_ids: Sequence[int], codes: Iterable[str] | None = None,
                   *, origins: Sequence[str] | None = None) -> list[LabelledUnit]:
    """The ``unit`` units of ``document_ids`` in text order, labelled by counted codings (of ``codes`` and of
    ``origins`` only, if given)."""
    wanted = set(codes) if codes is not None else None
    out: list[LabelledUnit] = []
    for chunk in chunks(list(document_ids)):
        out.extend(_labelled_chunk(session, unit, chunk, wanted, origins))
    return out


def _labelled_chunk(session: Session, unit: str, ids: Sequence[int], wanted: set[str] | None,
                    origins: Sequence[str] | None) -> list[LabelledUnit]:
    docs = {d.id: d for d in session.execute(
        select(Document.id, Document.sha256, Document.language, Document.text).where(Document.id.in_(ids)))}
    spans: dict[int, list[tuple[int, int]]] = {}
    for doc_id, start, end in session.execute(
            select(Unit.document_id, Unit.start, Unit.end).where(Unit.document_id.in_(ids), Unit.kind == unit)
            .order_by(Unit.document_id, Unit.start)).tuples():
        spans.setdefault(doc_id, []).append((start, end))
    query = (select(Coding.document_id, Code.slug, Coding.start, Coding.end).join(Code, Coding.code_id == Code.id)
             .where(Coding.document_id.in_(ids), Coding.status == COUNTED_STATUS))
    if origins is not None:
        query = query.where(Coding.origin.in_(list(origins)))
    codings: dict[int, list[tuple[str, int, int]]] = {}
    for doc_id, slug, start, end in session.execute(query).tuples():
        if wanted is None or slug in wanted:
            codings.setdefault(doc_id, []).append((slug, start, end))
    out: list[LabelledUnit] = []
    for doc_id in ids:
        if doc_id not in spans:
            continue
        doc = docs[doc_id]
        lang = spacy_lang(doc.language)
        for (start, end), labels in zip(spans[doc_id], label_units(spans[doc_id], codings.get(doc_id, []))):
            out.append(LabelledUnit(doc_id, doc.sha256, lang, start, end, doc.text[start:end], labels))
    return out


def evaluation_units(session: Session, unit: str, held_out_shas: Sequence[str],
                     codes: Sequence[str]) -> tuple[int, list[LabelledUnit]]:
    """The units a model is scored on: those of its held-out documents that researchers coded themselves,
    labelled by their own codings only. Returns how many held-out documents are still in the project, too."""
    ids = sorted(doc_id for chunk in chunks(list(held_out_shas))
                 for doc_id in session.scalars(select(Document.id).where(Document.sha256.in_(chunk))))
    scored = coded_document_ids(session, origins=HUMAN_ORIGINS, among=ids)
    return len(ids), labelled_units(session, unit, scored, codes, origins=HUMAN_ORIGINS)


def held_out_documents(shas: Iterable[str], fraction: float, seed: int,
                       eligible: Iterable[str] | None = None) -> set[str]:
    """The documents (by SHA-256) held out for evaluation: a fixed pseudo-random ``fraction`` of the ``eligible``
    ones (default: all), at least one, and never every document."""
    unique = set(shas)
    pool = unique & set(eligible) if eligible is not None else unique
    ranked = sorted(pool or unique, key=lambda sha: hashlib.sha256(f"{seed}:{sha}".encode()).hexdigest())
    if len(unique) < 2:
        return set()
    count = min(max(1, round(fraction * len(ranked))), len(unique) - 1)
    return set(ranked[:count])


@dataclass
class TrainingData:
    unit: str
    codes: list[str]
    train: list[LabelledUnit]
    held_out: list[LabelledUnit]
    held_out_shas: list[str]
    documents: int
    languages: Counter[str] = field(default_factory=Counter)
    left_out: dict[str, int] = field(default_factory=dict)  # codes with too few positive training units

    def positives(self, part: Sequence[LabelledUnit]) -> Counter[str]:
        counts: Counter[str] = Counter({code: 0 for code in self.codes})
        for u in part:
            counts.update(label for label in u.labels if label in counts)
        return counts


def _code_statuses(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Code.slug, Code.status).order_by(Code.position, Code.id)).tuples().all())


def _listing(counts: Mapping[str, int], limit: int = 8) -> str:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{code} {n}" for code, n in ranked[:limit])
    return shown + (f" and {len(ranked) - limit} more" if len(ranked) > limit else "")


def collect_training_data(session: Session, *, unit: str, codes: Sequence[str] | None, held_out: float,
                          seed: int, min_units: int) -> TrainingData:
    """Labelled units split into training and held-out parts, with the codes to learn.

    Raises :class:`AnalysisError` when the data cannot train a classifier: every code learned needs
    ``min_units`` positive units among the training documents and some units without it.
    """
    if unit not in UNIT_CHOICES:
        raise AnalysisError(f"the classifier learns sentences or paragraphs, not {unit!r}")
    if not 0 < held_out < 1:
        raise AnalysisError(f"the held-out share of documents must lie between 0 and 1, not {held_out}")
    statuses = _code_statuses(session)
    if codes:
        wanted = list(dict.fromkeys(codes))
        unknown = [c for c in wanted if c not in statuses]
        if unknown:
            raise AnalysisError(f"no code called {', '.join(unknown)}; see `gripcode codebook show`")
        inactive = [c for c in wanted if statuses[c] != "active"]
        if inactive:
            raise AnalysisError(f"code(s) {', '.join(inactive)} are retired or merged; a model learns active codes")
    else:
        wanted = [slug for slug, status in statuses.items() if status == "active"]
    doc_ids = coded_document_ids(session)
    units = labelled_units(session, unit, doc_ids, wanted)
    shas = sorted({u.document_sha256 for u in units})
    if len(shas) < 2:
        raise AnalysisError(
            f"too little training data: the classifier needs coded {unit}s in at least 2 documents (one to learn "
            f"from, one to test on); {len(shas)} document(s) have counted codings. Code more documents first")
    human_ids = set(coded_document_ids(session, origins=HUMAN_ORIGINS))
    human = {u.document_sha256 for u in units if u.document_id in human_ids}
    held = held_out_documents(shas, held_out, seed, eligible=human)
    data = TrainingData(unit, wanted, [u for u in units if u.document_sha256 not in held],
                        [u for u in units if u.document_sha256 in held], sorted(held), len(shas),
                        Counter(u.language for u in units))
    positives = data.positives(data.train)
    negatives = {code: len(data.train) - n for code, n in positives.items()}
    need = (f"at least {min_units} positive {unit} units in the {len(shas) - len(held)} training documents "
            f"(the units of {len(held)} of the {len(shas)} coded documents are held out for evaluation)")
    if codes:
        short = {c: positives[c] for c in wanted if positives[c] < min_units}
        if short:
            raise AnalysisError(f"too little training data: each code needs {need}; "
                                f"{_listing(short)} (code more {unit}s, lower --min-units, or leave these codes out)")
    else:
        data.codes = [c for c in wanted if positives[c] >= min_units]
        data.left_out = {c: positives[c] for c in wanted if 0 < positives[c] < min_units}
        if not data.codes:
            coded = {c: n for c, n in positives.items() if n}
            found = f"the most are: {_listing(coded)}" if coded else "no code has any"
            hint = " or try --unit sentence" if unit == "paragraph" else ""
            raise AnalysisError(f"too little training data: a code needs {need}; no code has that many, "
                                f"{found} (code more {unit}s, lower --min-units{hint})")
    everywhere = [c for c in data.codes if negatives[c] == 0]
    if everywhere:
        raise AnalysisError(f"code(s) {', '.join(everywhere)} label every training {unit}; the classifier needs "
                            f"{unit}s without them to tell them apart")
    return data


def training_data_hash(data: TrainingData, settings: Mapping[str, Any]) -> str:
    """SHA-256 over the sorted (document SHA-256, start, end, sorted labels) of every unit, and the settings."""
    chosen = set(data.codes)
    rows = sorted((u.document_sha256, u.start, u.end, sorted(u.labels & chosen))
                  for u in [*data.train, *data.held_out])
    digest = hashlib.sha256()
    digest.update(json.dumps(dict(settings), sort_keys=True, ensure_ascii=True).encode())
    for row in rows:
        digest.update(json.dumps(row, ensure_ascii=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------- held-out scores


@dataclass
class CodeScore:
    """Counts of one code's decisions on units.

    Precision is None when nothing was predicted, recall and F1 when no unit has the code: a researcher should
    see "not measurable" rather than a zero that reads as failure."""

    code: str
    units: int = 0  # positive units (the code's support)
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        self.units += truth
        self.tp += truth and predicted
        self.fp += predicted and not truth
        self.fn += truth and not predicted

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.units if self.units else None

    @property
    def f1(self) -> float | None:
        if not self.units:
            return None
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn)

    def as_dict(self) -> dict[str, Any]:
        return {"units": self.units, "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


def score_codes(codes: Sequence[str], truth: Sequence[frozenset[str]],
                predicted: Sequence[frozenset[str]]) -> dict[str, CodeScore]:
    out = {code: CodeScore(code) for code in codes}
    for gold, guess in zip(truth, predicted, strict=True):
        for code, score in out.items():
            score.add(code in gold, code in guess)
    return out


def averages(scores: Mapping[str, CodeScore]) -> dict[str, float | None]:
    """Micro (pooled counts) and macro (mean over the codes with positive units) precision, recall and F1.

    A code without positive units stays out of the macro average, but its false positives count in the micro
    average; the macro precision is the mean over the codes that were predicted at all."""
    pooled = CodeScore("micro", sum(s.units for s in scores.values()), sum(s.tp for s in scores.values()),
                       sum(s.fp for s in scores.values()), sum(s.fn for s in scores.values()))
    measured = [s for s in scores.values() if s.units]
    return {"micro_precision": pooled.precision, "micro_recall": pooled.recall, "micro_f1": pooled.f1,
            "macro_precision": _mean([s.precision for s in measured]),
            "macro_recall": _mean([s.recall for s in measured]), "macro_f1": _mean([s.f1 for s in measured])}


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None
