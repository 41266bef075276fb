"""A bootstrapped confidence interval for Krippendorff's alpha (Hayes & Krippendorff 2007).

Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability measure for coding data.
Communication Methods and Measures 1(1):77-89; the algorithm as in Hayes's KALPHA macro (version 3.0, 2011) and
Krippendorff's "Bootstrapping distributions for Krippendorff's alpha". Alpha is ``1 - D_o / D_e``. The expected
disagreement ``D_e`` is held fixed; the observed disagreement is re-estimated from pairs of values drawn with
replacement from the coincidence matrix: an unordered pair of values (c, k) is drawn with probability
``2 o_ck / n`` (``o_cc / n`` for c = k), where ``o`` is the coincidence matrix and ``n`` the number of pairable
values. Each bootstrap sample draws as many pairs as the data hold (``sum_u m_u (m_u - 1) / 2`` for a unit with
``m_u`` values), and its alpha is ``1 - (sum of the drawn pairs' differences) / (D_e * pairs)``, at least -1.

Where this departs from the macro, and why:

- The macro draws at most 25 pairs per non-zero cell of the coincidence matrix (so at most 100 pairs for
  yes/no data), which bounds its loops in SPSS; the interval then stops narrowing as units are added. Here the
  pairs are drawn as one multinomial sample per bootstrap sample, whose cost does not depend on their number, so
  every pair counts; ``pairs=`` reproduces the macro's cap if wanted.
- A bootstrap sample whose pairs all fall in one diagonal cell has no variation, and alpha is undefined for it;
  it counts as 0, as the macro counts such samples where the data have a single observed value (the macro
  estimates their number otherwise; here they are known).

The interval is the percentile interval of the bootstrap alphas, at the macro's positions (for 95% and 1,000
samples: the 25th smallest and the 976th).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gripcode.errors import AnalysisError
from gripcode.reliability.statistics import (
    AlphaLevel,
    _coder_rows,
    _is_missing,
    _value_codes,
)

__all__ = ["BootstrapAlpha", "bootstrap_alpha", "coincidences"]


@dataclass(frozen=True)
class BootstrapAlpha:
    alpha: float
    lower: float
    upper: float
    confidence: float
    samples: int
    pairs: int  # pairs of values drawn per bootstrap sample
    estimates: np.ndarray = field(repr=False)

    def probability_below(self, minimum: float) -> float:
        """Hayes & Krippendorff's q: the share of bootstrap alphas below ``minimum`` (the probability of failing to
        reach it)."""
        return float((self.estimates < minimum).mean()) if self.samples else float("nan")


def coincidences(data: Any, level: AlphaLevel = "nominal", *,
                 order: Sequence[Hashable] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """The coincidence matrix ``o`` of the pairable values, the values' numeric codes (sorted), and the number
    of pairs of values within units."""
    rows = _coder_rows(data, "Krippendorff's alpha")
    codes = _value_codes(rows, level, order)
    values = sorted(set(codes.values()))
    index = {value: i for i, value in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    pairs = 0
    for column in zip(*rows):
        present = [index[codes[v]] for v in column if not _is_missing(v)]
        m = len(present)
        if m < 2:
            continue
        pairs += m * (m - 1) // 2
        counts = np.bincount(present, minlength=len(values)).astype(float)
        o += (np.outer(counts, counts) - np.diag(counts)) / (m - 1)
    return o, np.array(values), pairs


def _differences(values: np.ndarray, n_c: np.ndarray, level: str) -> np.ndarray:
    k = len(values)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "ordinal":
        delta = np.zeros((k, k))
        for i in range(k):
            for j in range(i + 1, k):
                delta[i, j] = delta[j, i] = (n_c[i:j + 1].sum() - n_c[i] / 2 - n_c[j] / 2) ** 2
        return delta
    diff = values[:, None] - values[None, :]
    if level == "interval":
        return diff ** 2
    total = values[:, None] + values[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total == 0, 0.0, (diff / total) ** 2)


def bootstrap_alpha(data: Any, level: AlphaLevel = "nominal", *, samples: int = 1000, confidence: float = 0.95,
                    seed: int | None = None, pairs: int | None = None,
                    order: Sequence[Hashable] | None = None) -> BootstrapAlpha:
    """Krippendorff's alpha for a coders x units matrix (``None`` or NaN for missing values) with a bootstrapped
    confidence interval (see the module's docstring). The same ``seed`` gives the same interval."""
    if samples < 1:
        raise AnalysisError("the bootstrap needs at least one sample")
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence {confidence!r} is not between 0 and 1")
    o, values, data_pairs = coincidences(data, level, order=order)
    if data_pairs == 0:
        raise AnalysisError("Krippendorff's alpha needs at least one unit coded by two or more coders; no unit was.")
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if (n_c > 0).sum() < 2:
        nan = float("nan")
        return BootstrapAlpha(nan, nan, nan, confidence, 0, 0, np.array([]))
    delta = _differences(values, n_c, level)
    expected = (np.outer(n_c, n_c) - np.diag(n_c)) / (n - 1)
    d_e = float((expected * delta).sum() / n)
    alpha = 1.0 - float((o * delta).sum() / n) / d_e
    upper_cells = np.triu_indices(len(values))
    probability = (2 * o - np.diag(np.diag(o)))[upper_cells] / n
    probability = probability / probability.sum()
    cell_delta = delta[upper_cells]
    diagonal = np.array([i == j for i, j in zip(*upper_cells)])
    draws = int(pairs if pairs is not None else data_pairs)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(draws, probability, size=samples)
    estimates = np.maximum(1.0 - (counts @ cell_delta) / (d_e * draws), -1.0)
    # No variation in a sample (every pair in one diagonal cell): alpha is undefined there; counted as 0.
    single = (counts[:, diagonal] == draws).any(axis=1)
    estimates[single] = 0.0
    ordered = np.sort(estimates)
    tail = (1 - confidence) / 2
    low = max(int(tail * samples), 1) - 1
    high = min(int((1 - tail) * samples), samples - 1)
    return BootstrapAlpha(alpha, float(ordered[low]), float(ordered[high]), confidence, samples, draws, estimates)
