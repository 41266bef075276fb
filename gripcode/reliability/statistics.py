"""Agreement statistics for coded units: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha, percent agreement.

Every function takes plain Python or NumPy data, so the same numbers can be checked in a notebook.
Each returns a float; ``nan`` means the coefficient is undefined for the data (there was no variation
to agree about), and bad input raises :class:`gripcode.errors.AnalysisError`.

Layouts:

* ``cohen_kappa(a, b)``: two equal-length sequences, one label per unit and coder.
* ``fleiss_kappa(table)``: a subjects x categories table of counts (how many raters chose each category).
* ``krippendorff_alpha(data)`` and ``percent_agreement(data)``: a coders x units matrix (rows are coders,
  columns are units); ``None`` or NaN marks a unit the coder did not code.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Literal

import krippendorff
import numpy as np

from gripcode.errors import AnalysisError

__all__ = ["cohen_kappa", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha", "percent_agreement"]

KappaWeights = Literal["linear", "quadratic"]
AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]

_WEIGHTS = ("linear", "quadratic")
_LEVELS = ("nominal", "ordinal", "interval", "ratio")


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable], weights: KappaWeights | None = None) -> float:
    """Cohen's kappa for two coders who each gave one label to every unit.

    Unit: an item both coders labelled (position ``i`` in ``a`` and ``b``). Labels can be any hashable
    values (code names, numbers, booleans); every unit needs a label from both coders.

    Chance model: the two coders label independently, each following their own observed distribution
    of labels, so expected agreement is ``p_e = sum_c p_a(c) * p_b(c)`` and
    ``kappa = (p_o - p_e) / (1 - p_e)`` (Cohen 1960, "A coefficient of agreement for nominal scales",
    Educational and Psychological Measurement 20:37-46).

    Weighted kappa (Cohen 1968, "Weighted kappa", Psychological Bulletin 70:213-220) uses
    ``kappa_w = 1 - sum(w * observed) / sum(w * expected)`` with disagreement weights
    ``w = |i - j| / (k - 1)`` (``"linear"``) or ``((i - j) / (k - 1))**2`` (``"quadratic"``), where ``i``
    and ``j`` are the positions of the two labels among the ``k`` distinct labels either coder used,
    sorted in ascending order. Positions are ranks, not values: numeric labels 1, 2, 10 sit at
    positions 0, 1, 2, so they are treated as equally spaced, and a category nobody used takes no
    position. Weighted kappa therefore needs labels that can be sorted.

    If both coders used one and the same single label for every unit, expected agreement is 1 and
    kappa is undefined: the function returns ``float("nan")``.
    """
    if weights is not None and weights not in _WEIGHTS:
        raise AnalysisError(f"Unknown kappa weights {weights!r}: use None, 'linear' or 'quadratic'.")
    first, second = list(a), list(b)
    if len(first) != len(second):
        raise AnalysisError(
            f"Cohen's kappa needs one label per unit from each coder, but coder A has {len(first)} "
            f"labels and coder B has {len(second)}."
        )
    if not first:
        raise AnalysisError("Cohen's kappa needs at least one unit coded by both coders.")
    for position, (x, y) in enumerate(zip(first, second)):
        if _is_missing(x) or _is_missing(y):
            raise AnalysisError(
                f"Unit {position} lacks a label from one coder. Cohen's kappa needs complete pairs: "
                "drop incomplete units, or use krippendorff_alpha, which allows missing values."
            )
    categories = _categories(first + second, ordered=weights is not None, purpose="Weighted kappa")
    index = {label: i for i, label in enumerate(categories)}
    k = len(categories)
    observed = np.zeros((k, k))
    for x, y in zip(first, second):
        observed[index[x], index[y]] += 1
    observed /= len(first)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    positions = np.arange(k)
    if weights is None:
        disagreement = 1.0 - np.eye(k)
    else:
        distance = np.abs(positions[:, None] - positions[None, :]) / max(k - 1, 1)
        disagreement = distance if weights == "linear" else distance**2
    expected_disagreement = float((disagreement * expected).sum())
    if expected_disagreement <= 1e-15:
        return float("nan")
    return 1.0 - float((disagreement * observed).sum()) / expected_disagreement


def fleiss_kappa(table: Any) -> float:
    """Fleiss' kappa for many raters: ``table[i][j]`` raters put subject ``i`` into category ``j``.

    Unit: a subject, rated by the same number ``n >= 2`` of raters (not necessarily the same people).
    Every row must therefore sum to the same ``n``.

    Chance model: every rating is drawn from the pooled distribution of categories over all ratings,
    ``p_j = sum_i n_ij / (N n)``, so ``P_e = sum_j p_j**2``. Observed agreement is the mean over subjects
    of the share of agreeing rater pairs, ``P_i = (sum_j n_ij**2 - n) / (n (n - 1))``, and
    ``kappa = (mean(P_i) - P_e) / (1 - P_e)`` (Fleiss 1971, "Measuring nominal scale agreement among
    many raters", Psychological Bulletin 76:378-382).

    Returns ``nan`` when every rating falls into one category (``P_e = 1``), where kappa is undefined.
    """
    try:
        counts = np.asarray(table, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(
            "Fleiss' kappa needs a table of counts: one row per subject, one column per category."
        ) from exc
    if counts.ndim != 2 or counts.shape[0] == 0 or counts.shape[1] == 0:
        raise AnalysisError(
            "Fleiss' kappa needs a non-empty table of counts: one row per subject, one column per category."
        )
    if not np.all(np.isfinite(counts)):
        raise AnalysisError("Fleiss' kappa: the table contains missing or infinite counts.")
    if np.any(counts < 0):
        raise AnalysisError("Fleiss' kappa: counts of raters cannot be negative.")
    if np.any(counts != np.round(counts)):
        raise AnalysisError("Fleiss' kappa: counts of raters must be whole numbers.")
    per_subject = counts.sum(axis=1)
    n = per_subject[0]
    if np.any(per_subject != n):
        raise AnalysisError(
            "Fleiss' kappa needs the same number of raters for every subject, but the rows sum to "
            f"{sorted({int(s) for s in per_subject})}. Use krippendorff_alpha for unequal numbers of ratings."
        )
    if n < 2:
        raise AnalysisError("Fleiss' kappa needs at least 2 raters per subject.")
    agreement = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    shares = counts.sum(axis=0) / counts.sum()
    chance = float((shares**2).sum())
    if chance >= 1.0 - 1e-15:
        return float("nan")
    return (float(agreement.mean()) - chance) / (1.0 - chance)


def krippendorff_alpha(
    data: Any, level: AlphaLevel = "nominal", *, order: Sequence[Hashable] | None = None
) -> float:
    """Krippendorff's alpha for a coders x units matrix; ``None`` or NaN where a coder gave no value.

    Unit: a column of ``data``. Only *pairable* values count: units with fewer than two values are
    ignored. ``alpha = 1 - D_o / D_e``, where ``D_o`` is the observed disagreement between values
    paired within units and ``D_e`` the disagreement expected if the same pairable values were paired
    at random regardless of unit (the chance model: all pairable values pooled, drawn without
    replacement). Source: Krippendorff, K. (2011), "Computing Krippendorff's Alpha-Reliability",
    Annenberg School for Communication, University of Pennsylvania; the arithmetic is done by the
    ``krippendorff`` package.

    Levels (difference functions):

    * ``"nominal"``: values are labels of any hashable kind (code names, numbers); any two different
      labels differ by 1.
    * ``"ordinal"``: values are ranked; they must be sortable (numbers, or labels whose sort order is
      meaningful). Strings sort alphabetically ("high" < "low" < "mid"), so pass ``order=[...]``
      listing labels from lowest to highest whenever that is not the intended order.
    * ``"interval"``: numbers; squared difference.
    * ``"ratio"``: non-negative numbers; ``((c - k) / (c + k))**2``.

    Raises AnalysisError when no unit has two values. When all pairable values are the same there is
    no variation to agree about; Krippendorff treats alpha as undefined then, and this returns ``nan``.
    """
    if level not in _LEVELS:
        raise AnalysisError(f"Unknown level {level!r}: use 'nominal', 'ordinal', 'interval' or 'ratio'.")
    if order is not None and level != "ordinal":
        raise AnalysisError("An explicit order of values only applies to the ordinal level.")
    rows = _coder_rows(data, "Krippendorff's alpha")
    present = [[value for value in column if not _is_missing(value)] for column in zip(*rows)]
    pairable = [values for values in present if len(values) >= 2]
    if not pairable:
        raise AnalysisError(
            "Krippendorff's alpha needs at least one unit coded by two or more coders; no unit was."
        )
    codes = _value_codes(rows, level, order)
    if len({codes[value] for values in pairable for value in values}) < 2:
        return float("nan")
    matrix = np.array([[np.nan if _is_missing(v) else codes[v] for v in row] for row in rows], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    return float(result)


def gwet_ac1(data: Any, categories: Sequence[Hashable] | None = None) -> float:
    """Gwet's AC1 for a coders x units matrix (the layout of :func:`krippendorff_alpha`; ``None`` or NaN where a
    coder gave no value), any number of coders, nominal categories.

    Observed agreement ``p_a`` is the mean, over units with two or more values, of the share of agreeing pairs
    of values in the unit. Chance model: a rater agrees by chance only on a hard-to-classify unit, where the
    rating is random, so ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)``, where ``pi_k`` is the mean over units (with
    at least one value) of the share of the unit's values in category ``k`` and ``q`` the number of categories;
    ``AC1 = (p_a - p_e) / (1 - p_e)`` (Gwet 2008, "Computing inter-rater reliability and its variance in the
    presence of high agreement", British Journal of Mathematical and Statistical Psychology 61:29-48; Gwet 2014,
    Handbook of Inter-Rater Reliability, 4th ed., chapter 4). Unlike kappa it stays stable where one category is
    rare (the "kappa paradox": Wongpakaran et al. 2013, BMC Medical Research Methodology 13:61).

    ``categories`` lists every category that could be chosen (``q`` counts them); by default those observed.
    For a code's yes/no decisions pass ``(0, 1)``: a code nobody applied then has AC1 = 1, not an undefined
    value. Returns ``nan`` when there is a single category.
    """
    rows = _coder_rows(data, "Gwet's AC1")
    units = [[value for value in column if not _is_missing(value)] for column in zip(*rows)]
    units = [values for values in units if values]
    if not any(len(values) >= 2 for values in units):
        raise AnalysisError("Gwet's AC1 needs at least one unit coded by two or more coders; no unit was.")
    observed = list(_label_counts(v for values in units for v in values))
    cats = list(_label_counts(categories)) if categories is not None else observed
    unknown = [value for value in observed if value not in set(cats)]
    if unknown:
        raise AnalysisError(f"Values missing from the given categories: {', '.join(repr(v) for v in unknown[:5])}.")
    q = len(cats)
    if q < 2:
        return float("nan")
    index = {cat: i for i, cat in enumerate(cats)}
    counts = np.zeros((len(units), q))
    for i, values in enumerate(units):
        for value in values:
            counts[i, index[value]] += 1
    raters = counts.sum(axis=1)
    pairable = raters >= 2
    agreement = (counts[pairable] * (counts[pairable] - 1)).sum(axis=1) / (raters[pairable] * (raters[pairable] - 1))
    p_a = float(agreement.mean())
    pi = (counts / raters[:, None]).mean(axis=0)
    p_e = float((pi * (1 - pi)).sum() / (q - 1))
    return (p_a - p_e) / (1 - p_e)


def percent_agreement(data: Any) -> float:
    """Share of agreeing pairs of values, as a proportion between 0 and 1 (multiply by 100 for percent).

    Same layout as :func:`krippendorff_alpha`: coders x units, ``None`` or NaN for missing values.
    Within each unit with at least two values, every unordered pair of values from two different coders
    is one comparison, and it agrees when the two labels are equal. The result is
    ``(agreeing pairs over all units) / (pairs over all units)``; units with fewer than two values are
    ignored. A unit coded by ``m`` coders contributes ``m (m - 1) / 2`` pairs, so with complete data
    this equals Fleiss' observed agreement ``mean(P_i)``. No correction for chance.
    """
    rows = _coder_rows(data, "Percent agreement")
    agreeing = 0
    pairs = 0
    for column in zip(*rows):
        values = [value for value in column if not _is_missing(value)]
        if len(values) < 2:
            continue
        pairs += len(values) * (len(values) - 1) // 2
        agreeing += sum(count * (count - 1) // 2 for count in _label_counts(values).values())
    if pairs == 0:
        raise AnalysisError(
            "Percent agreement needs at least one unit coded by two or more coders; no unit was."
        )
    return agreeing / pairs


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    # pandas.NA and pandas.NaT, without importing pandas for a type check.
    return type(value).__name__ in {"NAType", "NaTType"}


def _label_counts(values: Iterable[object]) -> Counter[Hashable]:
    try:
        return Counter(values)  # type: ignore[arg-type]
    except TypeError as exc:
        raise AnalysisError(f"Labels must be single values such as code names or numbers: {exc}.") from exc


def _categories(labels: list[Hashable], *, ordered: bool, purpose: str) -> list[Hashable]:
    distinct = list(_label_counts(labels))
    if not ordered:
        return distinct
    try:
        return sorted(distinct)  # type: ignore[type-var]
    except TypeError as exc:
        raise AnalysisError(
            f"{purpose} needs labels that can be put in order (all numbers, or all text); "
            f"got {', '.join(repr(x) for x in distinct[:5])}."
        ) from exc


def _coder_rows(data: Any, purpose: str) -> list[list[Any]]:
    if hasattr(data, "to_numpy") and not isinstance(data, np.ndarray):
        data = data.to_numpy(dtype=object)  # a pandas DataFrame with coders as rows
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise AnalysisError(f"{purpose} needs a 2-D table: one row per coder, one column per unit.")
        rows = [list(row) for row in data]
    elif isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise AnalysisError(f"{purpose} needs a table: one row per coder, one column per unit.")
    else:
        rows = []
        for row in data:
            if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
                raise AnalysisError(
                    f"{purpose} needs one row of values per coder (a list per coder); got {row!r} as a row."
                )
            rows.append(list(row))
    if len(rows) < 2:
        raise AnalysisError(f"{purpose} needs at least 2 coders (rows); got {len(rows)}.")
    lengths = {len(row) for row in rows}
    if len(lengths) != 1:
        raise AnalysisError(
            f"{purpose}: every coder's row must cover the same units, but the rows have lengths "
            f"{sorted(lengths)}. Use None for units a coder did not code."
        )
    if not rows[0]:
        raise AnalysisError(f"{purpose} needs at least one unit (column).")
    return rows


def _value_codes(
    rows: list[list[Any]], level: str, order: Sequence[Hashable] | None
) -> dict[Hashable, float]:
    """Map each observed value to the number the ``krippendorff`` package computes with."""
    values = list(_label_counts(v for row in rows for v in row if not _is_missing(v)))
    if level == "nominal":
        return {value: float(i) for i, value in enumerate(values)}
    if level == "ordinal":
        if order is not None:
            ranks = {label: float(i) for i, label in enumerate(_label_counts(order))}
            unknown = [value for value in values if value not in ranks]
            if unknown:
                listed = ", ".join(repr(value) for value in unknown[:5])
                raise AnalysisError(f"Values missing from the given order: {listed}.")
            return {value: ranks[value] for value in values}
        # The ordinal difference function depends only on ranks and frequencies, so ranks suffice.
        ranked = _categories(values, ordered=True, purpose="The ordinal level")
        return {value: float(i) for i, value in enumerate(ranked)}
    codes: dict[Hashable, float] = {}
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise AnalysisError(f"The {level} level needs numbers; got {value!r}. Use 'nominal' for labels.")
        number = float(value)
        if not math.isfinite(number):
            raise AnalysisError(f"The {level} level needs finite numbers; got {value!r}.")
        if level == "ratio" and number < 0:
            raise AnalysisError(
                f"The ratio level assumes values on a scale with an absolute zero; got the negative value "
                f"{value!r}. Use 'interval' instead."
            )
        codes[value] = number
    return codes
