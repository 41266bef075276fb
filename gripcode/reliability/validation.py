"""Validating a machine coder against people, code by code: pure statistics on yes/no decisions per unit.

For each code, the machine's decisions (did it suggest the code for the unit, whatever a reviewer later said)
are compared with a reference coding: the adjudicated coding where there is one, otherwise the majority of the
people (a unit where they split evenly has no majority and is left out of the machine's comparison, counted as
a tie). Beside that comparison stand the people's own agreement among themselves, which is what the machine
should be held to: a machine that agrees with the reference about as well as people agree with each other codes
like one more of them.

Statistics: Cohen's kappa, Krippendorff's alpha with its bootstrapped interval (Hayes & Krippendorff 2007,
:mod:`gripcode.reliability.bootstrap`), Gwet's AC1 (stable where a code is rare), and the machine's precision,
recall and F1 against the reference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gripcode.reliability.bootstrap import bootstrap_alpha
from gripcode.reliability.statistics import cohen_kappa, fleiss_kappa, gwet_ac1

COLUMNS = ("code", "units", "ties", "machine_yes", "reference_yes", "kappa", "alpha", "alpha_low", "alpha_high",
           "ac1", "precision", "recall", "f1", "humans_alpha", "humans_alpha_low", "humans_alpha_high",
           "humans_kappa", "humans_ac1")

_NAN = float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b else _NAN


def majority(humans: np.ndarray) -> np.ndarray:
    """Per unit 1 where more than half of the people applied the code, 0 where fewer did, NaN on a tie."""
    yes = humans.sum(axis=0)
    half = humans.shape[0] / 2
    return np.where(yes > half, 1.0, np.where(yes < half, 0.0, np.nan))


def validate_code(code: str, machine: np.ndarray, humans: np.ndarray, reference: np.ndarray | None = None, *,
                  samples: int = 1000, seed: int | None = 0, confidence: float = 0.95) -> dict[str, Any]:
    """The row of one code: ``machine`` is a 0/1 vector over the units, ``humans`` a people x units 0/1 matrix,
    ``reference`` the adjudicated 0/1 vector (None: the majority of ``humans``)."""
    ref = majority(humans) if reference is None else reference.astype(float)
    keep = ~np.isnan(ref)
    m, r = machine[keep].astype(int), ref[keep].astype(int)
    row: dict[str, Any] = {"code": code, "units": int(keep.sum()), "ties": int((~keep).sum()),
                           "machine_yes": int(m.sum()), "reference_yes": int(r.sum())}
    if keep.any():
        boot = bootstrap_alpha([m.tolist(), r.tolist()], samples=samples, seed=seed, confidence=confidence)
        tp = int((m & r).sum())
        precision, recall = _ratio(tp, m.sum()), _ratio(tp, r.sum())
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else _NAN
        row.update(kappa=cohen_kappa(m.tolist(), r.tolist()), alpha=boot.alpha, alpha_low=boot.lower,
                   alpha_high=boot.upper, ac1=gwet_ac1([m.tolist(), r.tolist()], (0, 1)), precision=precision,
                   recall=recall, f1=f1)
    else:
        row.update({name: _NAN for name in ("kappa", "alpha", "alpha_low", "alpha_high", "ac1", "precision",
                                             "recall", "f1")})
    if humans.shape[0] >= 2:
        boot = bootstrap_alpha(humans.tolist(), samples=samples, seed=seed, confidence=confidence)
        if humans.shape[0] == 2:
            kappa = cohen_kappa(humans[0].tolist(), humans[1].tolist())
        else:
            yes = humans.sum(axis=0)
            kappa = fleiss_kappa(np.column_stack([humans.shape[0] - yes, yes]))
        row.update(humans_alpha=boot.alpha, humans_alpha_low=boot.lower, humans_alpha_high=boot.upper,
                   humans_kappa=kappa, humans_ac1=gwet_ac1(humans.tolist(), (0, 1)))
    else:
        row.update(humans_alpha=_NAN, humans_alpha_low=_NAN, humans_alpha_high=_NAN, humans_kappa=_NAN,
                   humans_ac1=_NAN)
    return row


def json_safe(row: dict[str, Any]) -> dict[str, Any]:
    return {key: (None if isinstance(value, float) and math.isnan(value) else value) for key, value in row.items()}
