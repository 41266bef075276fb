"""Gwet's AC1 against published values, and the bootstrapped interval of Krippendorff's alpha (Hayes &
Krippendorff 2007): its point estimate against the krippendorff package, and the interval's properties."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest

from gripcode.errors import AnalysisError
from gripcode.reliability import bootstrap_alpha, gwet_ac1, krippendorff_alpha

# Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed. (Advanced Analytics): the data sets Gwet ships
# with his R package irrCAC, whose documented results (gwet.ac1.raw; the same in its Python port, irrCAC.raw.CAC)
# are the published values below. Rows are raters, columns units; None where a rater gave no rating.
# cac.raw4raters: 4 raters, 12 units, categories 1-5 (AC1 = 0.77544, p_a = 0.81818, p_e = 0.19032).
RAW_4RATERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, None],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
# cac.raw5obser: 5 observers, 15 units, scores 0-3 (Handbook, p. 120); AC1 = 0.49662.
RAW_5OBSERVERS = [
    [1, 1, 2, None, 0, 0, 1, 1, 2, 2, None, 0, 1, 3, 1],
    [1, 1, 3, 0, 0, 0, 0, None, 2, 1, 1, 0, 2, 3, 1],
    [2, 0, 3, 0, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 1],
    [None, 1, 3, None, None, None, None, 0, None, 1, 0, 0, 2, 2, None],
    [2, None, None, 0, 0, 0, 1, None, 2, None, None, None, None, 3, 1],
]
# cac.raw.gender: 4 raters, 15 subjects, categories a-c; AC1 = 0.20808.
RAW_GENDER = [
    "a a a a a b b b c a a a a a b".split(),
    "a a a a b a b c c a a a a b a".split(),
    "a b b c a a b b c a b b c a a".split(),
    "c c c c a a b b c c c c c a a".split(),
]

# Hayes & Krippendorff (2007), Table 1: 40 news paragraphs rated 0-3 by up to 5 observers (ordinal data);
# rows are observers, columns units.
HAYES_KRIPPENDORFF_2007 = np.array([
    [1, 1, 2, np.nan, 0, 0, 1, 1, 2, 2, np.nan, 0, 1, 3, 1, 1, 2, 1, 1, 0, 0, 0, 2, 0, 1, 0, 0, 1, 1, 1, 1, 2, 2,
     3, 2, 2, 2, 2, 2, 1],
    [1, 1, 3, 0, 0, 0, 0, np.nan, 2, 1, 1, 0, 2, 3, 1, 1, 1, 2, 1, 0, 0, 0, 3, 0, 2, 1, 0, 2, 1, 1, 1, 1, 2, 2,
     2, 2, 2, 2, 2, 1],
    [2, 0, 3, 0, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 1, 1, 2, 3, 0, 0, 1, np.nan, 3, 0, np.nan, 1, 0, 1, 2, 2, 0, 2,
     np.nan, 2, 2, 3, 2, np.nan, 2, 1],
    [np.nan, 1, 3, np.nan, np.nan, np.nan, np.nan, 0, np.nan, 1, 0, 0, 2, 2, np.nan, np.nan, np.nan, 3, 1, np.nan,
     1, 0, 3, 0, 2, 1, 1, 2, np.nan, np.nan, np.nan, 1, 2, 2, np.nan, np.nan, np.nan, 1, np.nan, np.nan],
    [2, np.nan, np.nan, 0, 0, 0, 1, np.nan, 2, np.nan, np.nan, np.nan, np.nan, 3, 1, 1, 2, np.nan, 1, 0, np.nan,
     0, np.nan, np.nan, 2, np.nan, 0, np.nan, np.nan, 2, 0, np.nan, 2, np.nan, 2, 2, 2, 2, 2, 1],
])


@pytest.mark.parametrize(("data", "published"), [(RAW_4RATERS, 0.77544), (RAW_5OBSERVERS, 0.49662),
                                                  (RAW_GENDER, 0.20808)])
def test_gwet_ac1_matches_gwets_published_values(data: list[list[object]], published: float) -> None:
    assert round(gwet_ac1(data), 5) == published


def test_gwet_ac1_for_two_coders_is_the_two_rater_formula() -> None:
    """Two raters, yes/no: p_a the share of agreement, p_e = 2 pi (1 - pi) with pi the mean share of yes
    (Gwet 2008, equation for two raters)."""
    a = [1] * 18 + [0] * 80 + [1, 0]
    b = [1] * 18 + [0] * 80 + [0, 1]
    pi = (sum(a) + sum(b)) / 200
    p_a, p_e = 0.98, 2 * pi * (1 - pi)
    assert gwet_ac1([a, b], (0, 1)) == pytest.approx((p_a - p_e) / (1 - p_e))


def test_gwet_ac1_stays_high_where_kappa_collapses_on_a_rare_code() -> None:
    """The kappa paradox (Wongpakaran et al. 2013): 98 of 100 units agree, but the code is rare."""
    from gripcode.reliability import cohen_kappa

    a, b = [0] * 98 + [1, 0], [0] * 98 + [0, 1]
    assert cohen_kappa(a, b) == pytest.approx(-0.0101, abs=1e-4)
    assert gwet_ac1([a, b], (0, 1)) == pytest.approx(0.9796, abs=1e-4)
    assert gwet_ac1([[0] * 10, [0] * 10], (0, 1)) == 1.0  # nobody applied the code: full agreement


def test_gwet_ac1_refuses_values_outside_the_categories_and_data_without_pairs() -> None:
    with pytest.raises(AnalysisError, match="Values missing from the given categories: 2"):
        gwet_ac1([[0, 1], [2, 1]], (0, 1))
    with pytest.raises(AnalysisError, match="at least one unit coded by two or more coders"):
        gwet_ac1([[0, None], [None, 1]])


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_bootstrap_alpha_point_estimate_is_krippendorffs_alpha(level: str) -> None:
    """Computed here from the coincidence matrix; checked against the krippendorff package."""
    result = bootstrap_alpha(HAYES_KRIPPENDORFF_2007, level, samples=200, seed=1)
    expected = krippendorff.alpha(reliability_data=HAYES_KRIPPENDORFF_2007, level_of_measurement=level)
    assert result.alpha == pytest.approx(expected, abs=1e-12)
    assert result.alpha == pytest.approx(krippendorff_alpha(HAYES_KRIPPENDORFF_2007.tolist(), level), abs=1e-12)


def test_bootstrap_interval_contains_the_estimate_and_is_reproducible_with_a_seed() -> None:
    first = bootstrap_alpha(HAYES_KRIPPENDORFF_2007, "ordinal", samples=2000, seed=7)
    again = bootstrap_alpha(HAYES_KRIPPENDORFF_2007, "ordinal", samples=2000, seed=7)
    other = bootstrap_alpha(HAYES_KRIPPENDORFF_2007, "ordinal", samples=2000, seed=8)
    assert first.lower < first.alpha < first.upper
    assert (first.lower, first.upper) == (again.lower, again.upper)
    assert (first.lower, first.upper) != (other.lower, other.upper)
    # Pairs drawn per sample: sum over units of m(m-1)/2 (the data's own number of pairs).
    m = (~np.isnan(HAYES_KRIPPENDORFF_2007)).sum(axis=0)
    assert first.pairs == int((m * (m - 1) // 2).sum())
    assert first.samples == 2000 and len(first.estimates) == 2000
    assert 0 < first.probability_below(first.alpha) < 1 and first.probability_below(-1.0) == 0.0


def _two_coders(units: int, disagree_every: int, seed: int = 3) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    a = (rng.random(units) < 0.3).astype(int)
    b = a.copy()
    b[::disagree_every] = 1 - b[::disagree_every]
    return [a.tolist(), b.tolist()]


def test_bootstrap_interval_narrows_with_more_units() -> None:
    widths = []
    for units in (50, 200, 800, 3200):
        result = bootstrap_alpha(_two_coders(units, 10), samples=2000, seed=0)
        widths.append(result.upper - result.lower)
    assert widths == sorted(widths, reverse=True) and widths[-1] < widths[0] / 4


def test_the_macros_cap_on_pairs_can_be_reproduced() -> None:
    """KALPHA draws at most 25 pairs per non-zero coincidence cell: for yes/no data 100, whatever the units."""
    data = _two_coders(3200, 10)
    capped = bootstrap_alpha(data, samples=2000, seed=0, pairs=100)
    full = bootstrap_alpha(data, samples=2000, seed=0)
    assert capped.pairs == 100 and full.pairs == 3200
    assert capped.upper - capped.lower > 3 * (full.upper - full.lower)


def test_bootstrap_of_perfect_agreement_and_of_no_variation() -> None:
    perfect = bootstrap_alpha([[0, 1, 0, 1, 1], [0, 1, 0, 1, 1]], samples=500, seed=0)
    assert perfect.alpha == 1.0 and perfect.upper == 1.0 and perfect.lower <= 1.0
    flat = bootstrap_alpha([[0, 0, 0], [0, 0, 0]], samples=500, seed=0)
    assert np.isnan(flat.alpha) and np.isnan(flat.lower) and flat.samples == 0
    with pytest.raises(AnalysisError, match="at least one unit coded by two or more coders"):
        bootstrap_alpha([[1, None], [None, 0]])
