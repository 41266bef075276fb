"""The units a machine coder is validated on, and its and the people's decisions there, read in SQL.

A machine *decided* on a unit when it looked at it: a language-model coder on the units its runs answered
(malformed answers are no decision), a rule coder in the documents its autocode runs finished, a trained model
in every document. Its *yes* is any suggestion of the code overlapping the unit, whatever a reviewer later
decided: the validation is of the machine, not of the review. A person's yes is a counted (accepted) coding of
theirs overlapping the unit. Units come from the newest blind sample drawn for the machine at that unit
(`validate --sample N`), or else from the documents every person worked on.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from gripcode.coding.coders import find_coder
from gripcode.coding.service import find_code
from gripcode.corpus.documents import document_ids
from gripcode.db.bulk import chunks
from gripcode.db.models import (
    COUNTED_STATUS,
    MACHINE_CODER_KINDS,
    AutocodeProgress,
    Case,
    Code,
    Coder,
    Coding,
    Document,
    LlmRun,
    LlmRunUnit,
    TrainedModel,
    Unit,
    Validation,
    ValidationSample,
    ValidationSampleUnit,
)
from gripcode.errors import AnalysisError

MACHINE_STATUSES = ("suggested", "accepted", "rejected")


@dataclass
class ValidationData:
    machine: Coder
    humans: list[Coder]
    reference: Coder | None  # None: the majority of the people
    unit: str
    units: list[int]
    codes: dict[int, str]  # code id -> slug
    sample: ValidationSample | None = None
    notes: list[str] = field(default_factory=list)
    machine_yes: dict[int, set[int]] = field(default_factory=dict)  # code -> units
    human_yes: dict[int, dict[int, set[int]]] = field(default_factory=dict)  # code -> coder -> units

    def matrices(self, code_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        position = {unit: i for i, unit in enumerate(self.units)}

        def vector(units: set[int]) -> np.ndarray:
            out = np.zeros(len(self.units), dtype=np.int8)
            for unit in units:
                if unit in position:
                    out[position[unit]] = 1
            return out

        people = self.human_yes.get(code_id, {})
        humans = np.array([vector(people.get(h.id, set())) for h in self.humans])
        reference = vector(people.get(self.reference.id, set())) if self.reference is not None else None
        return vector(self.machine_yes.get(code_id, set())), humans, reference


def machine_coder(session: Session, name: str) -> Coder:
    coder = find_coder(session, name)
    if coder.kind not in MACHINE_CODER_KINDS:
        raise AnalysisError(f"{coder.name} is a {coder.kind} coder, not a machine coder (llm@..., rules@..., "
                            "model@...); compare people with `gripcode agreement`")
    return coder


def _units_of(session: Session, doc_ids: Sequence[int], unit: str) -> list[int]:
    out: list[int] = []
    for chunk in chunks(list(doc_ids)):
        out.extend(session.scalars(select(Unit.id).where(Unit.document_id.in_(chunk), Unit.kind == unit)
                                   .order_by(Unit.document_id, Unit.seq)))
    return out


def covered_units(session: Session, machine: Coder, unit: str, doc_ids: Sequence[int]) -> list[int]:
    """The units (of kind ``unit``, in these documents, in text order) the machine decided on."""
    if machine.kind == "llm":
        runs = select(LlmRun.id).where(LlmRun.coder_id == machine.id)
        answered = select(LlmRunUnit.unit_id).where(LlmRunUnit.run_id.in_(runs), LlmRunUnit.outcome != "malformed")
        same_kind = set(session.scalars(select(Unit.id).where(Unit.id.in_(answered), Unit.kind == unit)))
        if same_kind:
            return [u for u in _units_of(session, doc_ids, unit) if u in same_kind]
        docs = set(session.scalars(select(Unit.document_id).where(Unit.id.in_(answered)).distinct()))
        return _units_of(session, [d for d in doc_ids if d in docs], unit)
    if machine.kind == "rules":
        docs = set(session.scalars(select(AutocodeProgress.document_id)
                                   .where(AutocodeProgress.coder_id == machine.id).distinct()))
        return _units_of(session, [d for d in doc_ids if d in docs], unit)
    return _units_of(session, doc_ids, unit)


def machine_codes(session: Session, machine: Coder) -> set[str] | None:
    """The codes the machine was asked about, or None for every active code."""
    if machine.kind == "llm":
        scopes = [scope.get("codes") for scope in session.scalars(select(LlmRun.scope)
                                                                  .where(LlmRun.coder_id == machine.id))]
        if not scopes or any(codes is None for codes in scopes):
            return None
        return {code for codes in scopes for code in codes}
    if machine.kind == "rules":
        return {slug for slug, rules in session.execute(select(Code.slug, Code.rules)) if rules}
    model = session.scalars(select(TrainedModel).where(TrainedModel.name == machine.name)).first()
    return set(model.codes) if model is not None else None


def latest_sample(session: Session, machine: Coder, unit: str) -> ValidationSample | None:
    return session.scalars(select(ValidationSample).where(ValidationSample.coder_id == machine.id,
                                                          ValidationSample.unit == unit)
                           .order_by(ValidationSample.id.desc())).first()


def _presence(session: Session, coder_ids: list[int], statuses: Sequence[str], code_ids: list[int],
              units: list[int], unit: str) -> dict[tuple[int, int], set[int]]:
    """(code, coder) -> the units among ``units`` where the coder applied the code."""
    found: dict[tuple[int, int], set[int]] = defaultdict(set)
    for chunk in chunks(units):
        rows = session.execute(
            select(Unit.id, Coding.code_id, Coding.coder_id)
            .join(Coding, and_(Coding.document_id == Unit.document_id, Coding.start < Unit.end,
                               Coding.end > Unit.start))
            .where(Unit.id.in_(chunk), Unit.kind == unit, Coding.coder_id.in_(coder_ids),
                   Coding.status.in_(statuses), Coding.code_id.in_(code_ids)).distinct()).tuples()
        for unit_id, code_id, coder_id in rows:
            found[(code_id, coder_id)].add(unit_id)
    return found


def validation_data(session: Session, machine_name: str, against: Sequence[str], unit: str, *,
                    reference: str | None = None, codes: Sequence[str] | None = None, case: str | None = None,
                    kind: str | None = None, doc: str | None = None, all_units: bool = False) -> ValidationData:
    machine = machine_coder(session, machine_name)
    names = list(dict.fromkeys(n.strip() for n in against if n.strip()))
    if not names:
        raise AnalysisError("name the people to validate against: --against ana,ben")
    humans = [find_coder(session, name) for name in names]
    if any(h.id == machine.id for h in humans):
        raise AnalysisError(f"{machine.name} cannot be validated against itself")
    adjudicator = find_coder(session, reference) if reference else None
    people = [h.id for h in humans] + ([adjudicator.id] if adjudicator else [])
    data = ValidationData(machine, humans, adjudicator, unit, [], {})
    in_scope = document_ids(session, case=case, kind=kind, doc=doc)
    sample = None if all_units else latest_sample(session, machine, unit)
    if sample is not None:
        in_sample = set(session.scalars(select(ValidationSampleUnit.unit_id)
                                        .where(ValidationSampleUnit.sample_id == sample.id)))
        units = [u for u in _units_of(session, in_scope, unit) if u in in_sample]
        data.sample = sample
        data.notes.append(f"on the {len(units)} unit(s) of blind sample {sample.id} (drawn "
                          f"{sample.created_at:%Y-%m-%d} by {sample.created_by}; --all-units ignores it)")
    else:
        worked: dict[int, set[int]] = defaultdict(set)
        for doc_id, coder_id in session.execute(select(Coding.document_id, Coding.coder_id).where(
                Coding.status == COUNTED_STATUS, Coding.coder_id.in_(people)).distinct()).tuples():
            worked[doc_id].add(coder_id)
        docs = [d for d in in_scope if worked.get(d, set()) >= set(people)]
        if not docs:
            raise AnalysisError(f"no document was coded by all of {', '.join(names + ([reference] if reference else []))}"
                                + (" (with the filters given)" if (case or kind or doc) else ""))
        units = covered_units(session, machine, unit, docs)
        data.notes.append(f"{len(docs)} document(s) coded by all of {', '.join(names)}")
    if not units:
        raise AnalysisError(f"{machine.name} decided on none of these {unit} units: run it on them first")
    data.units = units
    asked = machine_codes(session, machine)
    if codes:
        data.codes = {find_code(session, c, for_coding=False).id: c for c in codes}
        outside = [c for c in codes if asked is not None and c not in asked]
        if outside:
            raise AnalysisError(f"{machine.name} was never asked about {', '.join(outside)}")
    else:
        used = select(Coding.code_id).where(Coding.coder_id.in_([machine.id, *people]))
        data.codes = {code_id: slug for code_id, slug in session.execute(
            select(Code.id, Code.slug).where(Code.id.in_(used)).order_by(Code.position, Code.id)).tuples()
            if asked is None or slug in asked}
    if not data.codes:
        raise AnalysisError("no code to validate: neither the machine nor the people applied one here")
    code_ids = list(data.codes)
    found = _presence(session, [machine.id], MACHINE_STATUSES, code_ids, units, unit)
    data.machine_yes = {code_id: found.get((code_id, machine.id), set()) for code_id in code_ids}
    counted = _presence(session, people, (COUNTED_STATUS,), code_ids, units, unit)
    data.human_yes = {code_id: {p: counted.get((code_id, p), set()) for p in people} for code_id in code_ids}
    if sample is not None:
        for h in humans + ([adjudicator] if adjudicator else []):
            if not any(data.human_yes[c][h.id] for c in code_ids) and not _coded_in(session, h.id, units, unit):
                raise AnalysisError(f"{h.name} has coded none of the {len(units)} units of sample {sample.id} yet; "
                                    "the people code them blind first (`gripcode validate ... --sample N` listed "
                                    "them)")
    return data


def _coded_in(session: Session, coder_id: int, units: list[int], unit: str) -> bool:
    for chunk in chunks(units):
        hit = session.scalar(select(Unit.id).join(Coding, and_(Coding.document_id == Unit.document_id,
                                                                Coding.start < Unit.end, Coding.end > Unit.start))
                             .where(Unit.id.in_(chunk), Unit.kind == unit, Coding.coder_id == coder_id,
                                    Coding.status == COUNTED_STATUS).limit(1))
        if hit is not None:
            return True
    return False


SAMPLE_COLUMNS = ("unit", "document", "title", "case", "kind", "text")


def draw_sample(session: Session, machine_name: str, unit: str, size: int, *, seed: int, actor: str,
                case: str | None = None, kind: str | None = None, doc: str | None = None,
                codes: Sequence[str] | None = None) -> tuple[ValidationSample, list[dict[str, Any]]]:
    """Draw ``size`` units the machine decided on, stratified by case and document kind and by the machine's
    decision (any code suggested or none), in proportion to the strata's sizes (largest remainders, at least one
    from every stratum while the sample allows), at random within each; record the sample and list its units
    (without the machine's decisions: the people code them blind)."""
    machine = machine_coder(session, machine_name)
    if size < 1:
        raise AnalysisError("a sample needs at least one unit")
    units = covered_units(session, machine, unit, document_ids(session, case=case, kind=kind, doc=doc))
    if not units:
        raise AnalysisError(f"{machine.name} decided on no {unit} units here: run it first")
    code_filter = [find_code(session, c, for_coding=False).id for c in codes] if codes else None
    yes: set[int] = set()
    for chunk in chunks(units):
        query = (select(Unit.id).join(Coding, and_(Coding.document_id == Unit.document_id, Coding.start < Unit.end,
                                                   Coding.end > Unit.start))
                 .where(Unit.id.in_(chunk), Unit.kind == unit, Coding.coder_id == machine.id,
                        Coding.status.in_(MACHINE_STATUSES)))
        if code_filter:
            query = query.where(Coding.code_id.in_(code_filter))
        yes.update(session.scalars(query.distinct()))
    info: dict[int, tuple[int, str, str, str, int, int, int]] = {}
    for chunk in chunks(units):
        for unit_id, doc_id, seq, title, case_name, doc_kind, start, end in session.execute(
                select(Unit.id, Unit.document_id, Unit.seq, Document.title, Case.name, Document.kind, Unit.start,
                       Unit.end).join(Document, Document.id == Unit.document_id)
                .outerjoin(Case, Case.id == Document.case_id).where(Unit.id.in_(chunk))).tuples():
            info[unit_id] = (doc_id, title, case_name or "(none)", doc_kind, seq, start, end)
    strata: dict[str, list[int]] = defaultdict(list)
    for unit_id in units:
        _, _, case_name, doc_kind, _, _, _ = info[unit_id]
        decision = "machine: a code" if unit_id in yes else "machine: none"
        strata[f"{case_name} / {doc_kind} / {decision}"].append(unit_id)
    size = min(size, len(units))
    keys = sorted(strata)
    quota = {k: size * len(strata[k]) / len(units) for k in keys}
    taken = {k: int(quota[k]) for k in keys}
    for k in sorted(keys, key=lambda k: (-(quota[k] - taken[k]), k))[:size - sum(taken.values())]:
        taken[k] += 1
    # At least one from each stratum while the sample allows, taken from the largest allocations.
    for k in keys:
        if taken[k] == 0:
            donor = max(keys, key=lambda d: (taken[d], d))
            if taken[donor] > 1:
                taken[donor] -= 1
                taken[k] = 1
    rng = random.Random(seed)
    drawn = {u for k in keys for u in rng.sample(strata[k], taken[k])}
    sample = ValidationSample(coder_id=machine.id, unit=unit, size=len(drawn), seed=seed, created_by=actor,
                              strata={k: [len(strata[k]), taken[k]] for k in keys})
    session.add(sample)
    session.flush()
    session.execute(ValidationSampleUnit.__table__.insert(),
                    [{"sample_id": sample.id, "unit_id": u} for u in sorted(drawn)])
    texts = dict(session.execute(select(Document.id, Document.text).where(
        Document.id.in_({info[u][0] for u in drawn}))).tuples().all())
    rows = []
    for unit_id in [u for u in units if u in drawn]:
        doc_id, title, case_name, doc_kind, seq, start, end = info[unit_id]
        rows.append({"unit": f"{unit}:{seq}", "document": doc_id, "title": title, "case": case_name, "kind": doc_kind,
                     "text": texts[doc_id][start:end]})
    return sample, rows


def record_validation(session: Session, data: ValidationData, rows: list[dict[str, Any]], *, actor: str,
                      settings: dict[str, Any]) -> Validation:
    from gripcode.db.audit import record_event
    from gripcode.reliability.validation import json_safe

    validation = Validation(coder_id=data.machine.id, against=[h.name for h in data.humans], unit=data.unit,
                            reference=data.reference.name if data.reference else "majority",
                            sample_id=data.sample.id if data.sample else None, settings=settings,
                            results={row["code"]: json_safe(row) for row in rows}, created_by=actor)
    session.add(validation)
    session.flush()
    record_event(session, actor, "coder.validated", "coder", data.machine.id, validation=validation.id,
                 against=validation.against, unit=data.unit)
    return validation


def latest_validation(session: Session, machine: Coder) -> Validation | None:
    return session.scalars(select(Validation).where(Validation.coder_id == machine.id)
                           .order_by(Validation.id.desc())).first()
