"""Agreement statistics against published worked examples and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gripcode.errors import AnalysisError
from gripcode.reliability import cohen_kappa, fleiss_kappa, krippendorff_alpha, percent_agreement

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for Communication,
# University of Pennsylvania (repository.upenn.edu/asc_papers/43), section C: 4 observers x 12 units with
# missing values. Rows are observers A-D, columns units 1-12.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological Bulletin
# 76:378-382, Table 1: 30 patients, 6 psychiatrists, 5 diagnoses (1 depression, 2 personality disorder,
# 3 schizophrenia, 4 neurosis, 5 other). Raw ratings as distributed with the R package irr
# (dataset `diagnoses`, Gamer et al.), whose kappam.fleiss gives 0.4302445; Fleiss reports 0.430.
FLEISS_1971_DIAGNOSES = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]

# Wikipedia, "Fleiss' kappa", section "Worked example": 10 subjects, 14 raters, 5 categories.
# The page gives P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]

# R package irr (Gamer, Lemon, Fellows & Singh), dataset `anxiety`: 20 subjects rated 1-6 by 3 raters.
# Raters 2 and 3, as used in irr's kappa2 examples.
ANXIETY_RATER2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
ANXIETY_RATER3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]


def expand(table: list[list[int]], labels: list[object]) -> tuple[list[object], list[object]]:
    """Two label sequences whose cross-tabulation (rows: coder A, columns: coder B) is ``table``."""
    a: list[object] = []
    b: list[object] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [labels[i]] * count
            b += [labels[j]] * count
    return a, b


def counts_per_category(ratings: list[list[int]], categories: list[int]) -> list[list[int]]:
    return [[row.count(c) for c in categories] for row in ratings]


# --- Cohen's kappa ---------------------------------------------------------------------------------


def test_cohen_kappa_wikipedia_worked_example() -> None:
    """Wikipedia, "Cohen's kappa", "Simple example": 50 grant proposals, two readers.

    Yes/Yes 20, A yes/B no 5, A no/B yes 10, No/No 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    """
    a, b = expand([[20, 5], [10, 15]], ["Yes", "No"])
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_wikipedia_same_percentages_different_numbers() -> None:
    """Wikipedia, "Cohen's kappa", "Same percentages but different numbers": both tables have
    p_o = 0.60 but kappa 0.1304 and 0.2593 (p_e 0.54 and 0.46)."""
    assert cohen_kappa(*expand([[45, 15], [25, 15]], ["yes", "no"])) == pytest.approx(0.06 / 0.46)
    assert cohen_kappa(*expand([[25, 35], [5, 35]], ["yes", "no"])) == pytest.approx(0.14 / 0.54)
    assert round(cohen_kappa(*expand([[45, 15], [25, 15]], ["yes", "no"])), 4) == 0.1304
    assert round(cohen_kappa(*expand([[25, 35], [5, 35]], ["yes", "no"])), 4) == 0.2593


def test_cohen_kappa_sas_example_unweighted_and_linear() -> None:
    """SAS PROC FREQ AGREE printout reproduced in statsmodels' test_inter_rater.py: the 3 x 3 table
    [[0, 4, 1], [0, 8, 0], [0, 1, 5]] gives simple kappa 0.4842 and (linear) weighted kappa 0.4701."""
    a, b = expand([[0, 4, 1], [0, 8, 0], [0, 1, 5]], [0, 1, 2])
    assert cohen_kappa(a, b) == pytest.approx(0.4842, abs=5e-5)
    assert cohen_kappa(a, b, weights="linear") == pytest.approx(0.4701, abs=5e-5)


def test_cohen_kappa_irr_anxiety_raters_2_and_3() -> None:
    """R package irr, kappa2(anxiety[, 2:3]): unweighted -0.006289308, "equal" (linear) 0.1459075,
    "squared" (quadratic) 0.2520325. irr positions the levels both raters used (1, 2, 3, 4, 6) by
    rank, as this implementation does; 5 was used by neither rater."""
    assert cohen_kappa(ANXIETY_RATER2, ANXIETY_RATER3) == pytest.approx(-0.006289308, abs=1e-9)
    assert cohen_kappa(ANXIETY_RATER2, ANXIETY_RATER3, "linear") == pytest.approx(0.1459075, abs=1e-7)
    assert cohen_kappa(ANXIETY_RATER2, ANXIETY_RATER3, "quadratic") == pytest.approx(0.2520325, abs=1e-7)


def test_weighted_kappa_hand_computed() -> None:
    """Hand computation; labels 1 < 2 < 3 at positions 0, 1, 2 (k = 3).

    Pairs (A, B): (1,1) (2,3) (3,3) (3,1), each with proportion 1/4.
    Marginals: A 1:1/4 2:1/4 3:1/2; B 1:1/2 2:0 3:1/2.
    Unweighted: p_o = 1/2, p_e = 1/4*1/2 + 1/2*1/2 = 3/8, kappa = (1/2 - 3/8) / (5/8) = 0.2.
    Linear w = |i-j|/2: observed (0 + 1/2 + 0 + 1)/4 = 3/8;
      expected 1/4*1/2*1 + 1/4*1/2*1/2 + 1/4*1/2*1/2 + 1/2*1/2*1 = 1/2; kappa = 1 - (3/8)/(1/2) = 0.25.
    Quadratic w = ((i-j)/2)**2: observed (1/4 + 1)/4 = 5/16;
      expected 1/8 + 1/32 + 1/32 + 1/4 = 7/16; kappa = 1 - 5/7 = 2/7.
    """
    a, b = [1, 2, 3, 3], [1, 3, 3, 1]
    assert cohen_kappa(a, b) == pytest.approx(0.2)
    assert cohen_kappa(a, b, weights="linear") == pytest.approx(0.25)
    assert cohen_kappa(a, b, weights="quadratic") == pytest.approx(2 / 7)
    # Positions are ranks of the labels used: 1, 2, 10 behave exactly like 1, 2, 3.
    assert cohen_kappa([1, 2, 10, 10], [1, 10, 10, 1], weights="linear") == pytest.approx(0.25)


def test_quadratic_kappa_equals_pearson_type_identity() -> None:
    """Quadratic-weighted kappa equals 2 cov(a, b) / (var a + var b + (mean a - mean b)**2) on the label
    positions, with population moments (Fleiss & Cohen 1973, Educational and Psychological Measurement
    33:613-619)."""
    rng = np.random.default_rng(7)
    a = rng.integers(0, 5, size=200)
    b = np.clip(a + rng.integers(-2, 3, size=200), 0, 4)
    cov = np.mean((a - a.mean()) * (b - b.mean()))
    identity = 2 * cov / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)
    assert cohen_kappa(a.tolist(), b.tolist(), "quadratic") == pytest.approx(identity)


def test_cohen_kappa_labels_of_any_kind_and_undefined_case() -> None:
    a, b = expand([[20, 5], [10, 15]], [("code", 1), ("code", 2)])
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(["x", "y"], ["x", "y"]) == 1.0
    # Both coders used one and the same category: p_e = 1, kappa undefined.
    assert math.isnan(cohen_kappa(["x", "x", "x"], ["x", "x", "x"]))
    assert math.isnan(cohen_kappa([2, 2], [2, 2], weights="quadratic"))


# --- Fleiss' kappa ---------------------------------------------------------------------------------


def test_fleiss_kappa_fleiss_1971_table_1() -> None:
    """Fleiss (1971), Table 1 (30 patients, 6 raters, 5 categories): kappa = .430 (irr: 0.4302445)."""
    table = counts_per_category(FLEISS_1971_DIAGNOSES, [1, 2, 3, 4, 5])
    assert [sum(column) for column in zip(*table)] == [26, 26, 30, 55, 43]
    assert fleiss_kappa(table) == pytest.approx(0.4302445, abs=1e-7)
    assert round(fleiss_kappa(np.array(table)), 3) == 0.430


def test_fleiss_kappa_wikipedia_worked_example() -> None:
    """Wikipedia, "Fleiss' kappa", worked example (10 subjects, 14 raters): kappa = 0.210."""
    assert round(fleiss_kappa(WIKIPEDIA_FLEISS), 3) == 0.210


def test_fleiss_kappa_undefined_when_one_category() -> None:
    assert math.isnan(fleiss_kappa([[3, 0], [3, 0]]))


# --- Krippendorff's alpha --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_alpha_2011_worked_example(level: str, published: float) -> None:
    """Krippendorff (2011), sections C-E: the 4 x 12 example gives nominal .743, ordinal .815,
    interval .849 and ratio .797."""
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, level), 3) == published  # type: ignore[arg-type]


def test_krippendorff_alpha_2011_nominal_exact_and_as_numpy() -> None:
    """Krippendorff (2011), section C, recomputed from the coincidence matrix by hand: n = 40 pairable
    values with n_c = 9, 13, 10, 5, 3 for values 1-5; off-diagonal coincidences sum to 8;
    alpha = 1 - (n - 1) * 8 / sum_{c != k} n_c n_k = 1 - 39 * 8 / 1216 = 113/152 = 0.7434.
    NaN marks missing values as well as None."""
    data = np.array([[np.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011])
    assert krippendorff_alpha(data) == pytest.approx(113 / 152)
    assert krippendorff_alpha(KRIPPENDORFF_2011) == pytest.approx(113 / 152)


def test_krippendorff_alpha_2011_binary_two_observers() -> None:
    """Krippendorff (2011), section A: binary data, two observers, no missing data: alpha = 0.095.

    Coincidences o_00 = 10, o_01 = o_10 = 4, o_11 = 2; n = 20; alpha = 1 - 19 * 4 / (14 * 6) = 0.0952.
    """
    data = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    assert krippendorff_alpha(data) == pytest.approx(1 - 19 * 4 / (14 * 6))
    assert round(krippendorff_alpha(data), 3) == 0.095


def test_krippendorff_alpha_string_labels_match_integer_coding() -> None:
    """Code names instead of numbers: nominal alpha does not depend on how labels are spelled."""
    names = {1: "coop", 2: "conflict", 3: "state-led", 4: "market", 5: "other"}
    data = [[None if v is None else names[v] for v in row] for row in KRIPPENDORFF_2011]
    assert krippendorff_alpha(data) == pytest.approx(krippendorff_alpha(KRIPPENDORFF_2011))
    assert round(krippendorff_alpha(data), 3) == 0.743
    # Ordinal with labels in an explicit order reproduces the ordinal figure (.815).
    ranks = ["very low", "low", "mid", "high", "very high"]
    ordinal = [[None if v is None else ranks[v - 1] for v in row] for row in KRIPPENDORFF_2011]
    assert round(krippendorff_alpha(ordinal, "ordinal", order=ranks), 3) == 0.815


def test_krippendorff_alpha_ignores_units_with_one_value_and_handles_no_variation() -> None:
    base = [[1, 2, 2], [1, 2, 1]]
    with_lonely = [[1, 2, 2, 7], [1, 2, 1, None]]
    assert krippendorff_alpha(with_lonely) == pytest.approx(krippendorff_alpha(base))
    # Only one value among pairable values: no variation, alpha undefined.
    assert math.isnan(krippendorff_alpha([["a", "a", "b"], ["a", "a", None]]))


# --- percent agreement -----------------------------------------------------------------------------


def test_percent_agreement_hand_computed_on_krippendorff_2011_data() -> None:
    """Pairs of values within units of the Krippendorff (2011) example, computed by hand.

    Unit:    1  2  3  4  5  6  7  8  9 10 11 (12 has one value and is ignored)
    values:  3  4  4  4  4  4  4  4  4  3  2
    pairs:   3  6  6  6  6  6  6  6  6  3  1  = 55
    agree:   3  3  6  6  6  0  6  3  6  3  1  = 43
    (unit 2 is 2,2,3,2: three agreeing pairs among the 2s; unit 6 is 1,2,3,4: none.)
    """
    assert percent_agreement(KRIPPENDORFF_2011) == pytest.approx(43 / 55)


def test_percent_agreement_equals_fleiss_observed_agreement_for_complete_data() -> None:
    """With complete data it is Fleiss' P-bar: 0.378 in Wikipedia's "Fleiss' kappa" worked example.

    That page gives counts only; pair counts do not depend on which rater gave which label, so each
    subject's ratings are dealt out to 14 coders in category order. Then the same identity on the raw
    Fleiss (1971) ratings (patients as units, psychiatrists as coders)."""
    dealt = [[c for c, count in enumerate(row) for _ in range(count)] for row in WIKIPEDIA_FLEISS]
    assert round(percent_agreement([list(coder) for coder in zip(*dealt)]), 3) == 0.378
    coders_by_units = [list(column) for column in zip(*FLEISS_1971_DIAGNOSES)]
    table = counts_per_category(FLEISS_1971_DIAGNOSES, [1, 2, 3, 4, 5])
    n = 6
    p_bar = np.mean([(sum(c * c for c in row) - n) / (n * (n - 1)) for row in table])
    assert percent_agreement(coders_by_units) == pytest.approx(p_bar)


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: cohen_kappa([1, 2], [1]), "coder A has 2"),
        (lambda: cohen_kappa([], []), "at least one unit"),
        (lambda: cohen_kappa([1, 2], [1, 2], weights="cubic"), "Unknown kappa weights"),
        (lambda: cohen_kappa([1, None], [1, 2]), "complete pairs"),
        (lambda: cohen_kappa(["a", 1], ["a", 2], weights="linear"), "put in order"),
        (lambda: fleiss_kappa([[2, 1], [1, 1]]), "same number of raters"),
        (lambda: fleiss_kappa([[1, 0], [0, 1]]), "at least 2 raters"),
        (lambda: fleiss_kappa([[3, -1], [1, 1]]), "negative"),
        (lambda: fleiss_kappa([[1.5, 0.5], [1, 1]]), "whole numbers"),
        (lambda: fleiss_kappa([1, 2, 3]), "one row per subject"),
        (lambda: krippendorff_alpha([[1, 2, 3]]), "at least 2 coders"),
        (lambda: krippendorff_alpha([[1, 2], [1]]), "same units"),
        (lambda: krippendorff_alpha([[1, None], [None, 2]]), "two or more coders"),
        (lambda: krippendorff_alpha([[1, 2], [1, 2]], "cardinal"), "Unknown level"),  # type: ignore[arg-type]
        (lambda: krippendorff_alpha([["a", "b"], ["a", "c"]], "interval"), "needs numbers"),
        (lambda: krippendorff_alpha([[1, -2], [1, 2]], "ratio"), "absolute zero"),
        (lambda: krippendorff_alpha([["a", 1], ["a", 2]], "ordinal"), "put in order"),
        (lambda: krippendorff_alpha([["a", "b"], ["a", "b"]], "ordinal", order=["a"]), "missing from"),
        (lambda: krippendorff_alpha(["ab", "ab"]), "one row of values per coder"),
        (lambda: percent_agreement([[1, None], [None, 2]]), "two or more coders"),
        (lambda: percent_agreement([[1, 2]]), "at least 2 coders"),
    ],
)
def test_bad_input_raises_analysis_error(call, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AnalysisError, match=fragment):
        call()
