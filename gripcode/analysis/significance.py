"""Exploratory tests of whether a code's presence differs across groups (`gripcode compare --test`).

For each code, documents are classified as having the code or not, per group. Two groups: Fisher's exact
test on the 2 x 2 table. More groups: Pearson's chi-square test of independence on the 2 x k table (its
approximation is poor when expected counts fall below 5; the result says so). p-values are then adjusted
across codes with Holm's step-down method (default) or Benjamini-Hochberg's false discovery rate.

These are exploratory: documents in a qualitative corpus are chosen on purpose, not sampled at random, so
the p-values describe how surprising a difference would be under random allocation, nothing more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gripcode.errors import AnalysisError

CORRECTIONS = ("holm", "fdr_bh", "none")
NOTE = ("exploratory: documents were selected on purpose, not sampled; p-values adjusted across codes "
        "({method}); read them as a guide to where to look, not as inference")


def _holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def adjust(p_values: np.ndarray, method: str) -> np.ndarray:
    if method not in CORRECTIONS:
        raise AnalysisError(f"correction {method!r}: use {', '.join(CORRECTIONS)}")
    p = np.asarray(p_values, dtype=float)
    result = np.full(len(p), np.nan)
    valid = ~np.isnan(p)
    if not valid.any() or method == "none":
        return p
    if method == "holm":
        result[valid] = _holm(p[valid])
    else:
        from scipy import stats  # half a second to load: only where a test runs, not whenever analysis loads

        result[valid] = stats.false_discovery_control(p[valid], method="bh")
    return result


def presence_tests(coded: pd.DataFrame, sizes: pd.Series, *, correction: str = "holm") -> pd.DataFrame:
    """``coded``: codes x groups, documents with the code; ``sizes``: documents per group.

    Returns, per code, the test used, its statistic, p, the adjusted p and a note on small expected counts.
    """
    from scipy import stats  # half a second to load: only where a test runs, not whenever analysis loads

    sizes = sizes.reindex(coded.columns).fillna(0).astype(int)
    rows = []
    for code, with_code in coded.astype(int).iterrows():
        without = sizes - with_code
        table = np.array([with_code.to_numpy(), without.to_numpy()])
        table = table[:, table.sum(axis=0) > 0]  # groups with no documents say nothing
        if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
            rows.append({"code": code, "test": "none", "statistic": np.nan, "p": np.nan,
                         "note": "no variation" if table.shape[1] >= 2 else "fewer than two groups"})
            continue
        if table.shape[1] == 2:
            statistic, p = stats.fisher_exact(table)
            rows.append({"code": code, "test": "Fisher exact", "statistic": float(statistic), "p": float(p), "note": ""})
        else:
            statistic, p, _, expected = stats.chi2_contingency(table, correction=False)
            small = (expected < 5).mean()
            note = f"{small:.0%} of expected counts < 5: approximate" if small > 0 else ""
            rows.append({"code": code, "test": "chi-square", "statistic": float(statistic), "p": float(p), "note": note})
    result = pd.DataFrame(rows).set_index("code")
    result.insert(3, "p_adjusted", adjust(result["p"].to_numpy(), correction))
    return result
