"""A text classifier that learns the project's codes from its counted codings and suggests them elsewhere.

The model is spaCy's ``textcat_multilabel`` with the bag-of-words architecture (``spacy.TextCatBOW.v3``, unigrams
and bigrams): one independent yes/no score per code, trained with a fixed seed, batch size, number of epochs
and shuffling, so the same data and settings give the same model. Which units it learns from, how they are
labelled and held out, and how the data are hashed is described in :mod:`gripcode.nlp.training_data`.

Languages: one model covers every language of the project. Each text is split into tokens by the blank
pipeline of its own language (Chinese into characters), and the tokens go to a single ``xx`` classifier.
Bag-of-words features of different languages hardly ever collide, so one model behaves like a model per
language that pools its codes' positive units for the minimum-data check; a model per language would leave
most languages of a small comparative corpus below that minimum.

A model is stored in ``trained_models`` under ``model@<training data hash>`` (the payload is ``nlp.to_bytes()``
compressed with zlib: most of the bag-of-words weight table stays zero), with its settings, the held-out
documents, and its held-out scores. Its suggestions are codings with origin ``model`` by the coder of that name.
"""

from __future__ import annotations

import random
import time
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gripcode.codebook.sync import current_codebook, latest_version
from gripcode.coding.coders import get_or_create_coder
from gripcode.db.audit import record_event
from gripcode.db.engine import transaction
from gripcode.db.locks import lock_codebook
from gripcode.corpus.documents import document_ids
from gripcode.db.models import Code, Coder, Document, TrainedModel, utcnow
from gripcode.errors import AnalysisError, CodebookError, CodingError
from gripcode.nlp.suggestions import (
    StaleScope,
    Suggestion,
    drop_stale_suggestions,
    insert_suggestions,
    model_coder_name,
    new_suggestions,
)
from gripcode.nlp.training_data import (
    DEFAULT_HELD_OUT,
    DEFAULT_MIN_UNITS,
    CodeScore,
    LabelledUnit,
    averages,
    collect_training_data,
    evaluation_units,
    labelled_units,
    score_codes,
    training_data_hash,
)

COMPONENT = "textcat_multilabel"
ARCHITECTURE = "spacy.TextCatBOW.v3"
NGRAM_SIZE = 2
BOW_LENGTH = 2**18
DEFAULT_EPOCHS = 10
DEFAULT_BATCH_SIZE = 32
DEFAULT_SEED = 0
# Ten times spaCy's default rate: that one suits thousands of updates, and a small project gives a few dozen.
LEARN_RATE = 0.01
DEFAULT_THRESHOLD = 0.5
PAYLOAD_FORMAT = "zlib(nlp.to_bytes())"

Scores = dict[str, float]


# ------------------------------------------------------------------------------------------- the spaCy model


def _model_config(ngram_size: int, length: int) -> dict[str, Any]:
    return {"model": {"@architectures": ARCHITECTURE, "exclusive_classes": False, "ngram_size": ngram_size,
                      "no_output_layer": False, "length": length}}


def _blank_classifier(settings: Mapping[str, Any]) -> Any:
    import spacy

    nlp = spacy.blank("xx")
    nlp.add_pipe(COMPONENT, config=_model_config(settings["ngram_size"], settings["length"]))
    return nlp


def _tokens(units: Sequence[LabelledUnit]) -> Iterator[Any]:
    """Each unit's text as a Doc made by the blank pipeline of its own language."""
    from gripcode.nlp.languages import sentence_pipeline

    for u in units:
        yield sentence_pipeline(u.language).make_doc(u.text)


def predict(nlp: Any, units: Sequence[LabelledUnit], batch_size: int = 256) -> list[Scores]:
    """The model's score for every code on each unit, in order."""
    return [dict(doc.cats) for doc in nlp.pipe(_tokens(units), batch_size=batch_size)]


def load_classifier(model: TrainedModel) -> Any:
    """The stored model as a spaCy pipeline (blank ``xx`` plus ``textcat_multilabel``)."""
    nlp = _blank_classifier(model.settings)
    try:
        return nlp.from_bytes(zlib.decompress(model.payload))
    except (zlib.error, ValueError, KeyError) as exc:
        raise AnalysisError(f"model {model.name} cannot be loaded ({exc.__class__.__name__}); train it again with "
                            f"`gripcode model train`") from exc


def _train(units: Sequence[LabelledUnit], codes: Sequence[str], settings: Mapping[str, Any]) -> tuple[Any, list[float]]:
    from spacy.training import Example
    from spacy.util import fix_random_seed, minibatch
    from thinc.api import Adam

    fix_random_seed(settings["seed"])
    nlp = _blank_classifier(settings)
    textcat = nlp.get_pipe(COMPONENT)
    for code in codes:
        textcat.add_label(code)
    examples = [Example.from_dict(doc, {"cats": {c: float(c in u.labels) for c in codes}})
                for u, doc in zip(units, _tokens(units))]
    nlp.initialize(lambda: examples)
    # No parameter averages: they are never saved, and keeping them doubles the work on the dense weight table.
    optimizer = Adam(settings["learn_rate"], use_averages=False)
    rng = random.Random(settings["seed"])
    losses_by_epoch = []
    for _ in range(settings["epochs"]):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=settings["batch_size"]):
            nlp.update(batch, sgd=optimizer, losses=losses)
        losses_by_epoch.append(round(losses.get(COMPONENT, 0.0), 6))
    return nlp, losses_by_epoch


def _decide(scores: Sequence[Scores], codes: Sequence[str], threshold: float) -> list[frozenset[str]]:
    return [frozenset(c for c in codes if s.get(c, 0.0) >= threshold) for s in scores]


# ------------------------------------------------------------------------------------------- training


@dataclass
class TrainReport:
    name: str
    data_hash: str
    replaced: bool
    unit: str
    codes: list[str]
    language: str
    languages: dict[str, int]
    documents: int
    held_out_documents: int
    train_units: int
    held_out_units: int  # units of held-out documents researchers coded, the ones scored
    scored_documents: int  # held-out documents researchers coded
    positives: dict[str, int]  # positive units per code among the training documents
    left_out: dict[str, int]  # codes with positive units, but too few to learn
    scores: dict[str, CodeScore]  # on the held-out units
    averages: dict[str, float | None]
    epochs: int
    seconds: float
    seconds_per_epoch: float
    payload_bytes: int
    warnings: list[str] = field(default_factory=list)


def training_settings(*, unit: str, codes: Sequence[str], epochs: int, batch_size: int, seed: int,
                      held_out: float, min_units: int) -> dict[str, Any]:
    """Everything that shapes a model; part of its hash."""
    return {"unit": unit, "codes": sorted(codes), "epochs": epochs, "batch_size": batch_size, "seed": seed,
            "held_out": held_out, "min_units": min_units, "architecture": ARCHITECTURE, "ngram_size": NGRAM_SIZE,
            "length": BOW_LENGTH, "learn_rate": LEARN_RATE}


def train_model(engine: Engine, *, actor: str, unit: str = "sentence", codes: Sequence[str] | None = None,
                epochs: int = DEFAULT_EPOCHS, batch_size: int = DEFAULT_BATCH_SIZE, seed: int = DEFAULT_SEED,
                held_out: float = DEFAULT_HELD_OUT, min_units: int = DEFAULT_MIN_UNITS) -> TrainReport:
    """Train a classifier on the counted codings, score it on the held-out documents and store it.

    Training again on the same data with the same settings gives the same name; the stored model is replaced.
    """
    if epochs < 1 or batch_size < 1:
        raise AnalysisError("epochs and batch size must be at least 1")
    with transaction(engine, write=False) as session:
        data = collect_training_data(session, unit=unit, codes=codes, held_out=held_out, seed=seed,
                                     min_units=min_units)
    settings = training_settings(unit=unit, codes=data.codes, epochs=epochs, batch_size=batch_size, seed=seed,
                                 held_out=held_out, min_units=min_units)
    digest = training_data_hash(data, settings)
    name = model_coder_name(digest)
    started = time.perf_counter()
    nlp, losses = _train(data.train, data.codes, settings)
    seconds = time.perf_counter() - started
    with transaction(engine, write=False) as session:
        _, scored = evaluation_units(session, unit, data.held_out_shas, data.codes)
    scores = score_codes(data.codes, [u.labels for u in scored],
                         _decide(predict(nlp, scored), data.codes, DEFAULT_THRESHOLD))
    summary = averages(scores)
    warnings = _evaluation_warnings(unit, scored, scores)
    payload = zlib.compress(nlp.to_bytes())
    languages = dict(sorted(data.languages.items()))
    language = next(iter(languages)) if len(languages) == 1 else "xx"
    positives = dict(data.positives(data.train))
    metrics = {"held_out": {code: s.as_dict() for code, s in scores.items()}, **summary,
               "train_units": len(data.train), "held_out_units": len(scored), "train_positives": positives,
               "seconds": round(seconds, 3), "seconds_per_epoch": round(seconds / epochs, 3), "losses": losses}
    stored = {**settings, "codes": list(data.codes), "held_out_documents": data.held_out_shas,
              "languages": languages, "payload": PAYLOAD_FORMAT, "threshold": DEFAULT_THRESHOLD}
    with transaction(engine) as session:
        model = session.scalars(select(TrainedModel).where(TrainedModel.name == name)).first()
        replaced = model is not None
        if model is None:
            model = TrainedModel(name=name)
            session.add(model)
        model.language, model.unit, model.codes, model.data_hash = language, unit, list(data.codes), digest
        model.metrics, model.settings, model.created_by, model.payload = metrics, stored, actor, payload
        if replaced:
            model.created_at = utcnow()
        session.flush()
        record_event(session, actor, "model.trained", "model", model.id, name=name, unit=unit, codes=data.codes,
                     train_units=len(data.train), held_out_units=len(scored), macro_f1=summary["macro_f1"],
                     replaced=replaced)
    return TrainReport(name, digest, replaced, unit, list(data.codes), language, languages, data.documents,
                       len(data.held_out_shas), len(data.train), len(scored), len({u.document_id for u in scored}),
                       positives, data.left_out, scores, summary, epochs, seconds, seconds / epochs, len(payload),
                       warnings)


def _evaluation_warnings(unit: str, units: Sequence[LabelledUnit], scores: Mapping[str, CodeScore]) -> list[str]:
    if not units:
        return [f"no held-out document has codings made by a researcher, so the model cannot be scored; code "
                f"some {unit}s of the held-out documents by hand"]
    missing = [c for c, s in scores.items() if not s.units]
    if missing:
        return [f"no held-out {unit} is coded with {', '.join(missing)} by a researcher: recall and F1 of "
                f"{'this code' if len(missing) == 1 else 'these codes'} cannot be measured and stay out of the "
                "macro average"]
    return []


# ------------------------------------------------------------------------------------------- finding models


def find_model(session: Session, name: str | None = None) -> TrainedModel:
    """A stored model by name (``model@<hash>``, or just the hash), or the newest one."""
    query = select(TrainedModel).order_by(TrainedModel.created_at.desc(), TrainedModel.id.desc())
    if name is None:
        model = session.scalars(query.limit(1)).first()
        if model is None:
            raise AnalysisError("no model has been trained in this project yet: run `gripcode model train`")
        return model
    wanted = name.strip() if name.strip().startswith("model@") else f"model@{name.strip()}"
    model = session.scalars(select(TrainedModel).where(TrainedModel.name == wanted)).first()
    if model is None:
        known = session.scalars(query.with_only_columns(TrainedModel.name)).all()
        hint = f"known models: {', '.join(known)}" if known else "no model has been trained yet"
        raise AnalysisError(f"no model called {name!r}; {hint}")
    return model


LIST_COLUMNS = ("name", "created", "unit", "codes", "language", "train_units", "held_out_units", "macro_f1")


def list_models(session: Session) -> list[dict[str, Any]]:
    """Stored models, newest first, with their held-out macro F1 from training."""
    rows = session.execute(select(TrainedModel.name, TrainedModel.created_at, TrainedModel.unit, TrainedModel.codes,
                                  TrainedModel.language, TrainedModel.metrics)
                           .order_by(TrainedModel.created_at.desc(), TrainedModel.id.desc())).all()
    return [{"name": r.name, "created": r.created_at, "unit": r.unit, "codes": list(r.codes),
             "language": r.language, "train_units": r.metrics.get("train_units"),
             "held_out_units": r.metrics.get("held_out_units"), "macro_f1": r.metrics.get("macro_f1")}
            for r in rows]


# ------------------------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    name: str
    unit: str
    held_out_documents: int
    held_out_units: int
    model: dict[str, CodeScore]
    rules: dict[str, CodeScore]  # only codes that have rules in the current codebook
    model_averages: dict[str, float | None]
    rules_averages: dict[str, float | None]
    threshold: float
    warnings: list[str] = field(default_factory=list)


def _rule_decisions(session: Session, units: Sequence[LabelledUnit], codes: Sequence[str],
                    warnings: list[str]) -> tuple[list[str], list[frozenset[str]]]:
    """Codes with rules, and the ones whose rules match inside each unit (current codebook, blank pipelines)."""
    from gripcode.nlp.pipelines import PipelineSet
    from gripcode.nlp.rules import DEFAULT_SPANS_KEY

    try:
        _, cb = current_codebook(session)
    except CodebookError:
        warnings.append("no codebook is synced, so there are no rules to compare with")
        return [], [frozenset() for _ in units]
    with_rules = [fc.id for fc in cb.flat() if fc.code.rules is not None and not fc.code.rules.is_empty()]
    ruled = [c for c in codes if c in with_rules]
    found: list[frozenset[str]] = [frozenset()] * len(units)
    pipelines = PipelineSet(cb, warnings=warnings)
    by_lang: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        by_lang.setdefault(u.language, []).append(i)
    for lang, positions in by_lang.items():
        nlp = pipelines.for_language(lang)
        for i, doc in zip(positions, nlp.pipe((units[i].text for i in positions), batch_size=256)):
            found[i] = frozenset(s.label_ for s in doc.spans[DEFAULT_SPANS_KEY] if s.label_ in ruled)
    return ruled, found


def evaluate_model(engine: Engine, name: str | None = None, threshold: float = DEFAULT_THRESHOLD) -> Evaluation:
    """Precision, recall and F1 per code of the model and of the codebook's rules on the model's held-out units.

    The held-out documents are the ones chosen at training; the units scored are those of the documents
    researchers coded themselves, labelled by today's manual and imported codings (see
    :func:`gripcode.nlp.training_data.evaluation_units`), so corrections made since training count."""
    with transaction(engine, write=False) as session:
        model = find_model(session, name)
        nlp = load_classifier(model)
        shas = list(model.settings.get("held_out_documents", []))
        present, units = evaluation_units(session, model.unit, shas, model.codes)
        warnings: list[str] = []
        if present < len(shas):
            warnings.append(f"{len(shas) - present} of the {len(shas)} held-out documents are no longer in the "
                            "project")
        if not units:
            raise AnalysisError(f"model {model.name} has no held-out {model.unit}s coded by a researcher to be "
                                f"scored on; code some {model.unit}s of its held-out documents by hand")
        ruled, rule_found = _rule_decisions(session, units, model.codes, warnings)
    truth = [u.labels for u in units]
    scores = score_codes(model.codes, truth, _decide(predict(nlp, units), model.codes, threshold))
    rules = score_codes(ruled, truth, rule_found)
    warnings += _evaluation_warnings(model.unit, units, scores)
    return Evaluation(model.name, model.unit, len({u.document_id for u in units}), len(units), scores, rules,
                      averages(scores), averages(rules), threshold, warnings)


EVALUATION_COLUMNS = ("code", "units", "model_precision", "model_recall", "model_f1", "rules_precision",
                      "rules_recall", "rules_f1")


def evaluation_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """One row per code, then the micro and macro averages; rule columns are None for codes without rules."""
    rows: list[dict[str, Any]] = []
    for code, s in ev.model.items():
        r = ev.rules.get(code)
        rows.append({"code": code, "units": s.units, "model_precision": s.precision, "model_recall": s.recall,
                     "model_f1": s.f1, "rules_precision": r.precision if r else None,
                     "rules_recall": r.recall if r else None, "rules_f1": r.f1 if r else None})
    total = sum(s.units for s in ev.model.values())
    for kind in ("micro", "macro"):
        m, r = ev.model_averages, ev.rules_averages
        rows.append({"code": f"({kind} average)", "units": total, "model_precision": m[f"{kind}_precision"],
                     "model_recall": m[f"{kind}_recall"], "model_f1": m[f"{kind}_f1"],
                     "rules_precision": r[f"{kind}_precision"] if ev.rules else None,
                     "rules_recall": r[f"{kind}_recall"] if ev.rules else None,
                     "rules_f1": r[f"{kind}_f1"] if ev.rules else None})
    return rows


# ------------------------------------------------------------------------------------------- suggestions


@dataclass
class SuggestReport:
    model: str
    dry_run: bool
    threshold: float
    documents: int = 0
    units: int = 0
    suggestions: int = 0
    already_coded: int = 0  # units a counted coding of the code already labels
    already_present: int = 0  # suggested, accepted or rejected before
    stale_removed: int = 0
    per_code: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def suggest_codings(engine: Engine, *, actor: str, name: str | None = None, codes: Sequence[str] | None = None,
                    case: str | None = None, kind: str | None = None, doc: str | None = None,
                    threshold: float = DEFAULT_THRESHOLD, dry_run: bool = False,
                    batch_size: int = 64) -> SuggestReport:
    """Store the model's codes scoring at least ``threshold`` on units as suggestions, the score as confidence.

    Units a counted coding of the code already labels are not suggested again, nor units where a model
    suggestion of the code was stored, accepted or rejected before. Unreviewed suggestions of other models for
    the same codes (and documents, when restricted) are removed first: the newer model replaces them.
    """
    if not 0 < threshold <= 1:
        raise CodingError(f"the threshold is a score between 0 and 1, not {threshold}")
    started = time.perf_counter()
    with transaction(engine) as session:
        lock_codebook(session, exclusive=False)  # the codes' states hold until these suggestions are stored
        model = find_model(session, name)
        wanted = list(dict.fromkeys(codes)) if codes else list(model.codes)
        unknown = [c for c in wanted if c not in model.codes]
        if unknown:
            raise CodingError(f"model {model.name} does not know the code(s) {', '.join(unknown)}; it learned "
                              f"{', '.join(model.codes)}")
        code_ids = dict(session.execute(select(Code.slug, Code.id).where(Code.slug.in_(wanted),
                                                                         Code.status == "active")).tuples().all())
        gone = [c for c in wanted if c not in code_ids]
        if gone and (codes or len(gone) == len(wanted)):
            raise CodingError(f"code(s) {', '.join(gone)} of model {model.name} are no longer active in the project; "
                              "train a new model")
        report = SuggestReport(model.name, dry_run, threshold)
        if gone:
            report.warnings.append(f"code(s) {', '.join(gone)} are no longer active; not suggested")
            wanted = [c for c in wanted if c in code_ids]
        nlp = load_classifier(model)
        if dry_run:
            # Not even the model's coder is created: on SQLite a savepoint's release would commit it.
            coder_id = session.scalar(select(Coder.id).where(Coder.name == model.name)) or -1
        else:
            coder_id = get_or_create_coder(session, model.name, "model", actor=actor).id
        version = latest_version(session)
        slug_of = {code_id: slug for slug, code_id in code_ids.items()}
        doc_ids = document_ids(session, case=case, kind=kind, doc=doc)
        replaced = StaleScope("model", coder_id, tuple(code_ids.values()))
        report.stale_removed = drop_stale_suggestions(session, replaced, doc_ids if case or kind or doc else None)
        for i in range(0, len(doc_ids), batch_size):
            batch = doc_ids[i:i + batch_size]
            units = labelled_units(session, model.unit, batch, wanted)
            found: list[Suggestion] = []
            for u, scores in zip(units, predict(nlp, units)):
                for code in wanted:
                    score = float(scores.get(code, 0.0))
                    if score < threshold:
                        continue
                    if code in u.labels:
                        report.already_coded += 1
                        continue
                    found.append(Suggestion(u.document_id, code_ids[code], u.start, u.end, model.name,
                                            min(max(score, 0.0), 1.0)))
            fresh = new_suggestions(session, found, origin="model")
            if fresh and not dry_run:
                texts = dict(session.execute(select(Document.id, Document.text)
                                             .where(Document.id.in_(sorted({s.document_id for s in fresh}))))
                             .tuples().all())
                insert_suggestions(session, fresh, coder_id=coder_id, origin="model", texts=texts,
                                   codebook_version_id=version.id if version else None)
            report.per_code.update(slug_of[s.code_id] for s in fresh)
            report.documents += len(batch)
            report.units += len(units)
            report.suggestions += len(fresh)
            report.already_present += len(found) - len(fresh)
        report.seconds = time.perf_counter() - started
        if dry_run:
            session.rollback()
        else:
            record_event(session, actor, "model.suggest", "coder", coder_id, model=model.name, codes=wanted,
                         documents=report.documents, suggestions=report.suggestions,
                         stale_removed=report.stale_removed, threshold=threshold)
    return report
