"""Agreement between coders, per code and overall, at an explicit unit (`gripcode agreement`).

Per code, each unit is a yes/no decision for every coder: did the coder apply the code to it? On those
decisions: percent agreement, Cohen's kappa (two coders), Fleiss' kappa and Krippendorff's alpha (nominal),
computed by :mod:`gripcode.reliability.statistics`. "Overall" pools the (unit, code) decisions of all codes.
At the character unit the decisions are made per character, and Krippendorff's unitized alpha (per code,
and for coded-versus-uncoded overall) measures agreement on where coded stretches begin and end.

Characters are too many to expand into one value per character, so at that unit the same four statistics
are computed in closed form from how many characters carry each pattern of yes/no decisions; the tests check
these against the statistics module on expanded data. Those counts, and the sums unitized alpha needs, are
gathered a batch of documents at a time, so memory does not grow with the project.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from gripcode.collector import collector_paused
from gripcode.errors import AnalysisError
from gripcode.reliability.unitized import ContinuumTally, alpha_from_sums, coverage_patterns
from gripcode.reliability.units import (
    Selection,
    Stretches,
    character_batches,
    merge,
    select_documents,
    unit_patterns,
)

__all__ = ["OVERALL", "AgreementResult", "character_rows", "compute_agreement", "coverage_patterns",
           "statistics_from_patterns"]

OVERALL = "(overall)"
COLUMNS = ("code", "units", "coded_units", "percent_agreement", "cohen_kappa", "fleiss_kappa",
           "krippendorff_alpha", "unitized_alpha")


@dataclass
class AgreementResult:
    selection: Selection
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        cols = list(COLUMNS)
        if len(self.selection.coders) != 2:
            cols.remove("cohen_kappa")
        if self.selection.unit != "character":
            cols.remove("unitized_alpha")
        return cols


def _nan() -> float:
    return float("nan")


def statistics_from_patterns(weights: dict[tuple[int, ...], float]) -> dict[str, float]:
    """The same statistics for binary decisions with no missing values, from the weight (number of units)
    of each pattern of decisions, e.g. ``{(1, 0): 40, (1, 1): 300, (0, 0): 9000}`` for two coders."""
    total = float(sum(weights.values()))
    m = len(next(iter(weights)))
    if total <= 0 or m < 2:
        return {name: _nan() for name in ("percent_agreement", "fleiss_kappa", "krippendorff_alpha", "cohen_kappa")}
    ones = {p: sum(p) for p in weights}
    pairs = m * (m - 1) / 2
    agreeing = sum(w * (k * (k - 1) / 2 + (m - k) * (m - k - 1) / 2) for p, w in weights.items() for k in [ones[p]])
    observed = agreeing / (total * pairs)
    share = sum(w * ones[p] for p, w in weights.items()) / (total * m)
    chance = share ** 2 + (1 - share) ** 2
    fleiss = (observed - chance) / (1 - chance) if chance < 1 else _nan()
    n = total * m  # pairable values
    n1 = n * share
    n0 = n - n1
    mixed = sum(w * ones[p] * (m - ones[p]) / (m - 1) for p, w in weights.items())  # o_01 (= o_10)
    alpha = 1 - (n - 1) * mixed / (n0 * n1) if n0 > 0 and n1 > 0 else _nan()
    stats = {"percent_agreement": observed, "fleiss_kappa": fleiss, "krippendorff_alpha": alpha}
    if m == 2:
        both, neither = weights.get((1, 1), 0.0), weights.get((0, 0), 0.0)
        first = (both + weights.get((1, 0), 0.0)) / total
        second = (both + weights.get((0, 1), 0.0)) / total
        expected = first * second + (1 - first) * (1 - second)
        stats["cohen_kappa"] = ((both + neither) / total - expected) / (1 - expected) if expected < 1 else _nan()
    return stats


def _row(code: str, units: int, coded: int, stats: dict[str, float], unitized: float | None = None) -> dict[str, Any]:
    row = {"code": code, "units": units, "coded_units": coded, **stats}
    if unitized is not None:
        row["unitized_alpha"] = unitized
    return row


def _by_units(session: Session, selection: Selection, result: AgreementResult) -> None:
    """Per code, the units counted by pattern of decisions (who applied the code): the statistics in closed
    form from those counts, so the work grows with the codings, not with units times codes."""
    units, patterns = unit_patterns(session, selection)
    if not units:
        raise AnalysisError(f"the documents coded by all of {', '.join(selection.coders)} have no "
                            f"{selection.unit} units")
    coder_ids = selection.coder_ids
    nobody = (0,) * len(coder_ids)
    pooled: Counter[tuple[int, ...]] = Counter()
    coded_in_all = 0
    for code_id, slug in selection.code_ids.items():
        counts = patterns[code_id]
        coded = sum(counts.values())
        counts[nobody] += units - coded
        pooled.update(counts)
        coded_in_all += coded
        result.rows.append(_row(slug, units, coded, statistics_from_patterns(dict(counts))))
    if selection.code_ids:
        result.rows.append(_row(OVERALL, units * len(selection.code_ids), coded_in_all,
                                statistics_from_patterns(dict(pooled))))


def character_rows(length: int, pieces: Iterable[tuple[int, Stretches]], coder_ids: list[int],
                   code_ids: dict[int, str]) -> list[dict[str, Any]]:
    """The rows at the character unit, from the continuum of ``length`` characters read piece after piece
    (``units.character_batches``): per code, and overall, the characters counted by pattern of coders
    covering them and the sums unitized alpha needs (``unitized.ContinuumTally``), so that memory holds one
    piece and a few numbers per code however long the continuum. Per code, the units of unitized alpha are
    that code's stretches; overall, the stretches where a coder applied any code."""
    m = len(coder_ids)
    tallies = {code_id: ContinuumTally(m) for code_id in code_ids}
    union = ContinuumTally(m)
    for end, stretches in pieces:
        anything: list[list[tuple[int, int]]] = [[] for _ in coder_ids]
        for code_id, by_coder in stretches.items():
            tally = tallies.get(code_id)
            if tally is None:
                continue
            spans = [by_coder.get(c, []) for c in coder_ids]
            tally.add(end, spans)
            for mine, more in zip(anything, spans):
                mine.extend(more)
        union.add(end, [merge(spans) for spans in anything])
    rows = []
    overall: Counter[tuple[int, ...]] = Counter()
    for code_id, slug in code_ids.items():
        tally = tallies[code_id]
        tally.add(length, [[]] * m)  # the rest of the continuum, where no batch had the code
        patterns = dict(tally.weights)
        overall.update(patterns)
        coded = tally.coded()
        if not coded:
            raise AnalysisError(f"No coder used the value {slug!r}, so there is nothing to compare.")
        rows.append(_row(slug, length, coded, statistics_from_patterns(patterns), alpha_from_sums(tally.sums())))
    if code_ids:
        union.add(length, [[]] * m)
        coded = sum(w for p, w in overall.items() if any(p))
        rows.append(_row(OVERALL, length * len(code_ids), int(coded), statistics_from_patterns(dict(overall)),
                         alpha_from_sums(union.sums())))
    return rows


def _by_characters(session: Session, selection: Selection, result: AgreementResult) -> None:
    length, pieces = character_batches(session, selection)
    result.rows.extend(character_rows(length, pieces, selection.coder_ids, selection.code_ids))
    if selection.code_ids:
        result.notes.append("unitized alpha overall is for coded versus uncoded text (any code), per code for "
                            "that code's stretches; the continuum is the documents laid end to end")


def compute_agreement(session: Session, coders: list[str], unit: str, *, codes: list[str] | None = None,
                      case: str | None = None, kind: str | None = None, doc: str | None = None,
                      among: Collection[int] | None = None) -> AgreementResult:
    """Agreement of ``coders`` at ``unit``; ``among`` keeps to those documents (a reliability round's)."""
    selection = select_documents(session, coders, unit, codes=codes, case=case, kind=kind, doc=doc, among=among)
    result = AgreementResult(selection)
    with collector_paused():  # millions of spans and rows without cycles (see gripcode.collector)
        if unit == "character":
            _by_characters(session, selection, result)
        else:
            _by_units(session, selection, result)
    result.notes.insert(0, f"{len(selection.documents)} document(s) coded by all of {', '.join(selection.coders)}")
    for reason, ids in selection.left_out.items():
        result.notes.append(f"left out {len(ids)} document(s): {reason} ({', '.join(map(str, ids[:12]))}"
                            f"{', ...' if len(ids) > 12 else ''})")
    if any(row["krippendorff_alpha"] != row["krippendorff_alpha"] for row in result.rows):
        result.notes.append("nan: no variation to agree about (nobody, or everybody, applied the code to every unit)")
    return result
