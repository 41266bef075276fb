"""Reliability rounds: named coders code the same documents blind; closing the round computes their agreement at
the round's unit, stores it, and lists the disagreements (unit, code, who applied it, who did not) to adjudicate.

A round's documents and coders are fixed when it starts. While it is open its coders see only their own codings
and memos on its documents (:mod:`gripcode.team.rounds_access`). Agreement is `gripcode agreement`'s
(:func:`gripcode.reliability.agreement.compute_agreement`) kept to the round's documents, over those every
coder of the round worked on. Adjudication decides per disagreement whether the code applies; the round's
adjudication coder (``adjudicated@NAME``) holds the result: at close a coding on every unit all coders gave a
code, and at each decision to apply one a coding on that unit, linked from the disagreement. Its codings are the
round's agreed coding, to analyse or to compare with a coder like anyone's.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from gripcode.coding.coders import find_coder, get_or_create_coder
from gripcode.coding.service import find_code, remove_coding
from gripcode.coding.unit_marks import marked_units
from gripcode.corpus.documents import document_ids, find_document
from gripcode.db.audit import record_event
from gripcode.db.models import (
    COUNTED_STATUS,
    ROUND_DECISIONS,
    ROUND_UNITS,
    Code,
    Coder,
    Coding,
    Document,
    Round,
    RoundCoder,
    RoundDisagreement,
    RoundDocument,
    Unit,
    utcnow,
)
from gripcode.errors import AnalysisError, RoundError

ADJUDICATION_PREFIX = "adjudicated@"
_MAX_NAME = 180  # so that the adjudication coder's name fits the coders' 200 characters
_IN_CHUNK = 1000  # ids per IN list when reading the units a round's disagreements are about

LIST_COLUMNS = ("name", "status", "unit", "coders", "documents", "created_by", "created_at", "closed_at", "alpha",
                "disagreements", "open")
STATUS_COLUMNS = ("coder", "documents_coded", "documents", "units_coded", "units")
DISAGREEMENT_COLUMNS = ("id", "doc_id", "document", "unit", "text", "code", "applied_by", "not_applied_by",
                        "decision", "decided_by", "decided_at", "note")


def adjudication_coder(round_name: str) -> str:
    return f"{ADJUDICATION_PREFIX}{round_name}"


def find_round(session: Session, name: str) -> Round:
    found = session.scalars(select(Round).where(Round.name == name.strip())).first()
    if found is None:
        known = session.scalars(select(Round.name).order_by(Round.id)).all()
        hint = f"rounds: {', '.join(known)}" if known else "there are no rounds yet (gripcode round start)"
        raise RoundError(f"no round {name!r}; {hint}")
    return found


def _coder_names(session: Session, round_: Round) -> list[tuple[int, str]]:
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(Coder.id, Coder.name).join(RoundCoder, RoundCoder.coder_id == Coder.id)
        .where(RoundCoder.round_id == round_.id).order_by(Coder.name)).tuples()]


def _document_ids(session: Session, round_: Round) -> list[int]:
    return list(session.scalars(select(RoundDocument.document_id).where(RoundDocument.round_id == round_.id)
                                .order_by(RoundDocument.document_id)))


# ------------------------------------------------------------------------------------------------- start

@dataclass(frozen=True)
class StartedRound:
    id: int
    name: str
    unit: str
    coders: list[str]
    documents: list[int]


def start_round(session: Session, name: str, *, coders: Sequence[str], docs: Sequence[str] = (),
                cases: Sequence[str] = (), unit: str = "paragraph", actor: str) -> StartedRound:
    """Open a round of ``coders`` (existing coders, two or more) on ``docs`` (ids or titles) and the documents of
    ``cases``, agreement to be computed at ``unit``."""
    name = name.strip()
    if not name:
        raise RoundError("a round needs a name")
    if len(name) > _MAX_NAME:
        raise RoundError(f"a round's name has at most {_MAX_NAME} characters; {name[:40]!r}... has {len(name)}")
    if unit not in ROUND_UNITS:
        raise RoundError(f"unit {unit!r} is not one of {', '.join(ROUND_UNITS)}")
    existing = session.scalars(select(Round).where(Round.name == name)).first()
    if existing is not None:
        raise RoundError(f"round {name!r} exists already ({existing.status}, started by {existing.created_by} on "
                         f"{existing.created_at:%Y-%m-%d}); give the new round another name")
    names = list(dict.fromkeys(c.strip() for c in coders if c.strip()))
    if len(names) < 2:
        raise RoundError("a round needs at least two coders: --coders A,B")
    people = [find_coder(session, coder) for coder in names]
    documents: dict[int, None] = {}
    for ref in docs:
        documents[find_document(session, ref).id] = None
    for case in cases:
        for doc_id in document_ids(session, case=case):
            documents[doc_id] = None
    if not documents:
        raise RoundError("a round needs documents: --docs ID,ID... or --case NAME (the case has none)"
                         if cases else "a round needs documents: --docs ID,ID... or --case NAME")
    if unit == "turn":
        with_turns = set(session.scalars(select(Unit.document_id).where(
            Unit.kind == "turn", Unit.document_id.in_(list(documents))).distinct()))
        without = [d for d in documents if d not in with_turns]
        if without:
            raise RoundError(f"document(s) {', '.join(map(str, without))} have no speaker turns; pick another "
                             "--unit or leave them out")
    round_ = Round(name=name, unit=unit, status="open", created_by=actor)
    session.add(round_)
    session.flush()
    session.execute(insert(RoundCoder), [{"round_id": round_.id, "coder_id": c.id} for c in people])
    session.execute(insert(RoundDocument), [{"round_id": round_.id, "document_id": d} for d in documents])
    record_event(session, actor, "round.started", "round", round_.id, name=name, unit=unit, coders=names,
                 documents=list(documents))
    return StartedRound(round_.id, name, unit, names, list(documents))


# ----------------------------------------------------------------------------------------------- listing

def list_rounds(session: Session) -> list[dict[str, Any]]:
    """Every round, oldest first, with its coders, documents and (once closed) overall alpha and disagreements."""
    coders: dict[int, list[str]] = defaultdict(list)
    for round_id, coder in session.execute(select(RoundCoder.round_id, Coder.name).join(
            Coder, Coder.id == RoundCoder.coder_id).order_by(Coder.name)).tuples():
        coders[round_id].append(coder)
    documents = dict(session.execute(select(RoundDocument.round_id, func.count()).group_by(
        RoundDocument.round_id)).tuples().all())
    disagreements = {round_id: (total, undecided) for round_id, total, undecided in session.execute(
        select(RoundDisagreement.round_id, func.count(), func.count().filter(RoundDisagreement.decision.is_(None)))
        .group_by(RoundDisagreement.round_id)).tuples()}
    rows = []
    for r in session.scalars(select(Round).order_by(Round.id)):
        total, undecided = disagreements.get(r.id, (0, 0))
        rows.append({"name": r.name, "status": r.status, "unit": r.unit, "coders": ", ".join(coders[r.id]),
                     "documents": documents.get(r.id, 0), "created_by": r.created_by, "created_at": r.created_at,
                     "closed_at": r.closed_at, "alpha": _overall(r.agreement, "krippendorff_alpha"),
                     "disagreements": total if r.status == "closed" else None,
                     "open": undecided if r.status == "closed" else None})
    return rows


def _overall(agreement: dict[str, Any] | None, statistic: str) -> float | None:
    if not agreement:
        return None
    for row in agreement.get("rows", []):
        if row.get("code") == "(overall)":
            return row.get(statistic)
    return None


@dataclass
class RoundStatus:
    round: dict[str, Any]
    coders: list[dict[str, Any]]  # per coder: documents and units coded
    agreement: dict[str, Any] | None
    disagreements: int = 0
    undecided: int = 0
    notes: list[str] = field(default_factory=list)


def round_status(session: Session, name: str, *, viewer: str) -> RoundStatus:
    """How far each coder is: of the round's documents and units (at its unit), how many carry at least one of
    the coder's counted codings. While the round is open a coder of it (``viewer``) sees only their own row; the
    organiser (anyone else) sees every coder's. Once closed: the stored agreement and the disagreements left."""
    round_ = find_round(session, name)
    coders = _coder_names(session, round_)
    documents = _document_ids(session, round_)
    shown = coders
    notes = []
    if round_.status == "open" and viewer in {n for _, n in coders}:
        shown = [(i, n) for i, n in coders if n == viewer]
        notes.append(f"you code in this open round, so only your own progress is shown; the others' is shown to "
                     f"whoever is not coding in it")
    ids = [i for i, _ in shown]
    counted = and_(Coding.status == COUNTED_STATUS, Coding.coder_id.in_(ids), Coding.document_id.in_(documents))
    docs_coded = dict(session.execute(select(Coding.coder_id, func.count(func.distinct(Coding.document_id)))
                                      .where(counted).group_by(Coding.coder_id)).tuples().all())
    if round_.unit == "document":
        total_units, units_coded = len(documents), docs_coded
    else:
        total_units = session.scalar(select(func.count()).select_from(Unit).where(
            Unit.kind == round_.unit, Unit.document_id.in_(documents))) or 0
        marked: set[tuple[int, int]] = set()
        for unit_id, coder_id in marked_units(session, round_.unit, documents, counted, Coding.coder_id):
            marked.add((unit_id, coder_id))
        units_coded = Counter(coder_id for _, coder_id in marked)
    rows = [{"coder": n, "documents_coded": docs_coded.get(i, 0), "documents": len(documents),
             "units_coded": units_coded.get(i, 0), "units": total_units} for i, n in shown]
    total = undecided = 0
    if round_.status == "closed":
        total, undecided = session.execute(
            select(func.count(), func.count().filter(RoundDisagreement.decision.is_(None)))
            .where(RoundDisagreement.round_id == round_.id)).one()
    info = {"name": round_.name, "status": round_.status, "unit": round_.unit,
            "coders": [n for _, n in coders], "documents": len(documents), "created_by": round_.created_by,
            "created_at": round_.created_at, "closed_by": round_.closed_by, "closed_at": round_.closed_at}
    return RoundStatus(info, rows, round_.agreement, total, undecided, notes)


def open_round_names(session: Session) -> list[str]:
    return list(session.scalars(select(Round.name).where(Round.status == "open").order_by(Round.id)))


# ------------------------------------------------------------------------------------------------- close

@dataclass
class CloseReport:
    name: str
    unit: str
    coders: list[str]
    documents: int  # taking part: coded by every coder of the round
    agreement: dict[str, Any]
    disagreements: int
    agreed: int  # (unit, code) pairs every coder gave, copied to the adjudication coder


def _finite(value: Any) -> Any:
    # JSON has no NaN (PostgreSQL refuses it): a statistic with nothing to agree about is stored as null.
    return None if isinstance(value, float) and math.isnan(value) else value


def close_round(session: Session, name: str, *, actor: str) -> CloseReport:
    """Close an open round: compute and store its agreement, store its disagreements for adjudication, and give
    its adjudication coder the codings every coder agreed on."""
    from gripcode.reliability.agreement import compute_agreement
    from gripcode.reliability.units import unit_presence

    round_ = find_round(session, name)
    if round_.status != "open":
        raise RoundError(f"round {round_.name!r} was closed already, by {round_.closed_by} on "
                         f"{round_.closed_at:%Y-%m-%d %H:%M} UTC; see gripcode round status {round_.name}")
    coders = [n for _, n in _coder_names(session, round_)]
    documents = _document_ids(session, round_)
    try:
        result = compute_agreement(session, coders, round_.unit, among=documents)
    except AnalysisError as exc:
        raise RoundError(f"round {round_.name!r} cannot be closed: {exc} among its {len(documents)} document(s); "
                         f"see gripcode round status {round_.name}") from None
    selection = result.selection
    units, presence = unit_presence(session, selection)
    everyone = set(selection.coder_ids)
    names = dict(zip(selection.coder_ids, selection.coders))
    differing = [(unit, code, who) for (unit, code), who in presence.items() if who != everyone]
    agreed = [(unit, code) for (unit, code), who in presence.items() if who == everyone]
    places = _unit_places(session, round_.unit, {u for u, _, _ in differing} | {u for u, _ in agreed})
    position = dict(session.execute(select(Code.id, Code.position).where(
        Code.id.in_(list(selection.code_ids)))).tuples().all())
    differing.sort(key=lambda d: (places[d[0]][0], places[d[0]][1], position.get(d[1], 0), d[1]))
    rows = []
    for seq, (unit, code, who) in enumerate(differing, start=1):
        doc_id, unit_seq, start, end = places[unit]
        rows.append({"round_id": round_.id, "seq": seq, "document_id": doc_id, "unit_seq": unit_seq,
                     "start": start, "end": end, "code_id": code,
                     "applied_by": [names[c] for c in selection.coder_ids if c in who],
                     "not_applied_by": [names[c] for c in selection.coder_ids if c not in who]})
    for first in range(0, len(rows), 5000):
        session.execute(insert(RoundDisagreement), rows[first:first + 5000])
    copied = _copy_agreed(session, round_, agreed, places, actor)
    stored = {"rows": [{k: _finite(v) for k, v in row.items()} for row in result.rows],
              "columns": result.columns, "notes": result.notes, "documents": selection.documents,
              "coders": selection.coders}
    round_.agreement = stored
    round_.status, round_.closed_by, round_.closed_at = "closed", actor, utcnow()
    session.flush()
    record_event(session, actor, "round.closed", "round", round_.id, name=round_.name, unit=round_.unit,
                 coders=coders, documents=len(selection.documents), disagreements=len(rows), agreed=copied,
                 alpha=_overall(stored, "krippendorff_alpha"))
    return CloseReport(round_.name, round_.unit, coders, len(selection.documents), stored, len(rows), copied)


def _unit_places(session: Session, unit: str, ids: Iterable[int]) -> dict[int, tuple[int, int, int, int]]:
    """Unit id (a document's id at the document unit) -> (document id, unit number, start, end)."""
    ids = sorted(ids)
    places: dict[int, tuple[int, int, int, int]] = {}
    for first in range(0, len(ids), _IN_CHUNK):
        chunk = ids[first:first + _IN_CHUNK]
        if unit == "document":
            for doc_id, length in session.execute(select(Document.id, func.length(Document.text))
                                                  .where(Document.id.in_(chunk))).tuples():
                places[doc_id] = (doc_id, 1, 0, length)
        else:
            for unit_id, doc_id, seq, start, end in session.execute(
                    select(Unit.id, Unit.document_id, Unit.seq, Unit.start, Unit.end)
                    .where(Unit.id.in_(chunk))).tuples():
                places[unit_id] = (doc_id, seq, start, end)
    return places


def _adjudicator(session: Session, round_: Round, actor: str) -> Coder:
    coder = get_or_create_coder(session, adjudication_coder(round_.name), "person", actor=actor)
    return coder


def _copy_agreed(session: Session, round_: Round, agreed: list[tuple[int, int]],
                 places: dict[int, tuple[int, int, int, int]], actor: str) -> int:
    if not agreed:
        return 0
    coder = _adjudicator(session, round_, actor)
    if session.scalar(select(Coding.id).where(Coding.coder_id == coder.id).limit(1)) is not None:
        raise RoundError(f"coder {coder.name} has codings already; the round's agreed codings would mix with "
                         "them (rename that coder, or give the round another name)")
    by_document: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for unit, code in agreed:
        doc_id, _, start, end = places[unit]
        by_document[doc_id].append((code, start, end))
    rows = []
    now = utcnow()
    for doc_id in sorted(by_document):
        text = session.scalar(select(Document.text).where(Document.id == doc_id)) or ""
        for code, start, end in sorted(by_document[doc_id], key=lambda r: (r[1], r[0])):
            rows.append({"document_id": doc_id, "code_id": code, "coder_id": coder.id, "start": start, "end": end,
                         "quote": text[start:end], "origin": "manual", "status": COUNTED_STATUS,
                         "memo": None, "created_at": now, "updated_at": now})
    for first in range(0, len(rows), 5000):
        session.execute(insert(Coding), rows[first:first + 5000])
    record_event(session, actor, "round.agreed_codings", "round", round_.id, name=round_.name, coder=coder.name,
                 codings=len(rows))
    return len(rows)


# ---------------------------------------------------------------------------------------- disagreements

def list_disagreements(session: Session, name: str, *, undecided_only: bool = False,
                       text_limit: int | None = 300) -> list[dict[str, Any]]:
    round_ = find_round(session, name)
    if round_.status != "closed":
        raise RoundError(f"round {round_.name!r} is still open: its disagreements are listed once it is closed "
                         f"(gripcode round close {round_.name})")
    query = (select(RoundDisagreement, Document.title, Document.text, Code.slug)
             .join(Document, Document.id == RoundDisagreement.document_id)
             .join(Code, Code.id == RoundDisagreement.code_id)
             .where(RoundDisagreement.round_id == round_.id).order_by(RoundDisagreement.seq))
    if undecided_only:
        query = query.where(RoundDisagreement.decision.is_(None))
    rows = []
    for d, title, text, slug in session.execute(query).tuples():
        passage = text[d.start:d.end]
        if text_limit and len(passage) > text_limit:
            passage = passage[:text_limit - 1] + "…"
        rows.append({"id": d.seq, "doc_id": d.document_id, "document": title,
                     "unit": "document" if round_.unit == "document" else f"{round_.unit} {d.unit_seq}",
                     "text": passage, "code": slug, "applied_by": ", ".join(d.applied_by),
                     "not_applied_by": ", ".join(d.not_applied_by), "decision": d.decision,
                     "decided_by": d.decided_by, "decided_at": d.decided_at, "note": d.note})
    return rows


@dataclass(frozen=True)
class Decision:
    seq: int
    code: str
    document: int
    unit: str
    decision: str
    coding_id: int | None
    changed_from: str | None


def adjudicate(session: Session, name: str, ids: Sequence[int], *, decision: str, actor: str,
               note: str | None = None) -> list[Decision]:
    """Decide disagreements ``ids`` of a closed round: the code applies (``apply``: the adjudication coder codes the
    unit with it) or not (``reject``). A decision may be changed: the earlier one's coding is removed."""
    if decision not in ROUND_DECISIONS:
        raise RoundError(f"decision {decision!r} is not one of {', '.join(ROUND_DECISIONS)}")
    if not ids:
        raise RoundError("say which disagreements: their ids, as `gripcode round disagreements` lists them")
    round_ = find_round(session, name)
    if round_.status != "closed":
        raise RoundError(f"round {round_.name!r} is still open: close it first (gripcode round close {round_.name})")
    wanted = list(dict.fromkeys(ids))
    found = {d.seq: d for d in session.scalars(select(RoundDisagreement).where(
        RoundDisagreement.round_id == round_.id, RoundDisagreement.seq.in_(wanted)))}
    missing = [i for i in wanted if i not in found]
    if missing:
        total = session.scalar(select(func.count()).select_from(RoundDisagreement)
                               .where(RoundDisagreement.round_id == round_.id)) or 0
        raise RoundError(f"round {round_.name!r} has no disagreement {', '.join(map(str, missing))} "
                         f"(it has {total}, numbered from 1)")
    decided = []
    for seq in wanted:
        d = found[seq]
        before = d.decision
        code = session.get(Code, d.code_id)
        assert code is not None
        if before == decision:
            raise RoundError(f"disagreement {seq} of round {round_.name!r} was decided {before} already, by "
                             f"{d.decided_by} on {d.decided_at:%Y-%m-%d %H:%M} UTC")
        if d.coding_id is not None:  # an earlier "apply", now changed
            remove_coding(session, d.coding_id, actor=actor)
            d.coding_id = None
        if decision == "apply":
            d.coding_id = _apply(session, round_, d, code, actor)
        d.decision, d.decided_by, d.decided_at, d.note = decision, actor, utcnow(), note or None
        session.flush()
        unit = "document" if round_.unit == "document" else f"{round_.unit} {d.unit_seq}"
        record_event(session, actor, "round.adjudicated", "round", round_.id, name=round_.name, disagreement=seq,
                     document=d.document_id, unit=unit, code=code.slug, decision=decision, before=before,
                     coding=d.coding_id, note=note or None)
        decided.append(Decision(seq, code.slug, d.document_id, unit, decision, d.coding_id, before))
    return decided


def _apply(session: Session, round_: Round, d: RoundDisagreement, code: Code, actor: str) -> int:
    find_code(session, code.slug)  # the codebook lock, and the code must still be active
    coder = _adjudicator(session, round_, actor)
    text = session.scalar(select(Document.text).where(Document.id == d.document_id)) or ""
    coding = Coding(document_id=d.document_id, code_id=code.id, coder_id=coder.id, start=d.start, end=d.end,
                    quote=text[d.start:d.end], origin="manual", status=COUNTED_STATUS,
                    memo=f"adjudicated in round {round_.name} (disagreement {d.seq})")
    session.add(coding)
    session.flush()
    record_event(session, actor, "coding.applied", "coding", coding.id, document=d.document_id, code=code.slug,
                 coder=coder.name, start=d.start, end=d.end, how=f"adjudication of round {round_.name}")
    return coding.id
