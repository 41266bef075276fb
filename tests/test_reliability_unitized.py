"""Unitized alpha (Krippendorff, Mathet, Bouvry & Widlöcher 2016, Quality & Quantity 50:2347-2364).

No published worked example with reproducible numbers was available, so these tests use examples
computed by hand from the 2016 definitions (arithmetic in each docstring) and properties that follow
from them: perfect agreement gives 1, coders are exchangeable, shifting or mirroring the whole
coding leaves alpha unchanged, and with a single value u-alpha equals the binary coefficient.

Notation: l_ck observed coincidences (intersection lengths over ordered pairs of different coders,
divided by m - 1), l.. = m L, S_c self-pairing sums (len^2 per unit, len per gap),
e_cc = l.. (l_c.^2 - S_c) / (l..^2 - S), alpha = 1 - (l.. - sum l_cc) / (l.. - sum e_cc).
"""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gripcode.errors import AnalysisError
from gripcode.reliability import unitized_alpha, unitized_alpha_by_value
from gripcode.reliability.unitized import ContinuumTally, alpha_from_sums
from gripcode.reliability.units import merge

Coding = dict[str, list[tuple[int, int, str]]]
Case = tuple[Coding, int]


def test_perfect_agreement_is_one() -> None:
    """Identical unitizations: l_cc = l_c. for every c, so observed disagreement is 0 and alpha = 1."""
    coding = [(0, 5, "state"), (9, 14, "market"), (20, 30, "state")]
    segments = {"ana": coding, "bo": list(coding), "chen": list(reversed(coding))}
    assert unitized_alpha(segments, 40) == pytest.approx(1.0)
    assert unitized_alpha(segments, 40, "binary") == pytest.approx(1.0)
    assert unitized_alpha_by_value(segments, 40) == pytest.approx({"market": 1.0, "state": 1.0})


def test_hand_computed_one_value_two_coders() -> None:
    """L = 10. A codes [2, 6) as x, B codes [3, 6) as x.

    Sections: A = gap 2, x 4, gap 4; B = gap 3, x 3, gap 4.
    A vs B: gap-gap 2 + 4 = 6, x(A)-gap(B) 1, x-x 3; B vs A mirrors this. m - 1 = 1, so
    l_gg = 12, l_gx = l_xg = 1, l_xx = 6; l.. = 20, l_g. = 13, l_x. = 7.
    S_g = (2 + 4) + (3 + 4) = 13, S_x = 4^2 + 3^2 = 25, S = 38, l..^2 - S = 362.
    e_gg = 20 * (169 - 13) / 362 = 3120/362, e_xx = 20 * (49 - 25) / 362 = 480/362.
    D_o = 20 - 18 = 2, D_e = 20 - 3600/362 = 3640/362, alpha = 1 - 724/3640 = 729/910 = 0.8011.
    With one value, u-alpha, the binary coefficient and the per-value coefficient coincide.
    """
    segments = {"A": [(2, 6, "x")], "B": [(3, 6, "x")]}
    assert unitized_alpha(segments, 10) == pytest.approx(729 / 910)
    assert unitized_alpha(segments, 10, "binary") == pytest.approx(729 / 910)
    assert unitized_alpha(segments, 10, ("value", "x")) == pytest.approx(729 / 910)


def test_hand_computed_two_values() -> None:
    """L = 10. A: [0, 4) x, [6, 10) y. B: [0, 4) x, [6, 10) x. Same boundaries, one value differs.

    u-alpha: l_xx = 8, l_gg = 4, l_xy = l_yx = 4; l.. = 20; l_x. = 12, l_g. = 4, l_y. = 4.
      S_g = 2 + 2 = 4, S_x = 16 + 16 + 16 = 48, S_y = 16, S = 68, l..^2 - S = 332.
      e_xx = 20 * (144 - 48) / 332 = 1920/332, e_gg = 20 * (16 - 4) / 332 = 240/332, e_yy = 0.
      D_o = 20 - 12 = 8, D_e = 20 - 2160/332 = 4480/332, alpha = 1 - 2656/4480 = 57/140 = 0.4071.
    binary: both coders have units at [0, 4) and [6, 10): perfect agreement, 1.
    value x: A = x 4, gap 6; B = x 4, gap 2, x 4.
      l_xx = 8, l_gg = 4, l_xg = l_gx = 4; l_x. = 12, l_g. = 8; S_g = 6 + 2 = 8, S_x = 48; 400 - 56 = 344.
      e_xx = 20 * 96 / 344, e_gg = 20 * 56 / 344; D_o = 8, D_e = 20 - 3040/344 = 3840/344;
      alpha = 1 - 2752/3840 = 17/60 = 0.2833.
    value y: A = gap 6, y 4; B = gap 10. l_gg = 12, l_yg = l_gy = 4; l_g. = 16, l_y. = 4;
      S_g = 6 + 10 = 16, S_y = 16; 400 - 32 = 368; e_gg = 20 * 240 / 368, e_yy = 0;
      D_o = 8, D_e = 20 - 4800/368 = 2560/368; alpha = 1 - 2944/2560 = -3/20.
    """
    segments = {"A": [(0, 4, "x"), (6, 10, "y")], "B": [(0, 4, "x"), (6, 10, "x")]}
    assert unitized_alpha(segments, 10) == pytest.approx(57 / 140)
    assert unitized_alpha(segments, 10, "binary") == pytest.approx(1.0)
    assert unitized_alpha(segments, 10, ("value", "x")) == pytest.approx(17 / 60)
    assert unitized_alpha(segments, 10, ("value", "y")) == pytest.approx(-3 / 20)
    assert unitized_alpha_by_value(segments, 10) == pytest.approx({"x": 17 / 60, "y": -3 / 20})
    assert list(unitized_alpha_by_value(segments, 10)) == ["x", "y"]


def test_hand_computed_three_coders() -> None:
    """L = 6, m = 3. A and B code [0, 3) as x; C codes [1, 3) as x.

    Ordered pairs: A-B and B-A give x-x 3, gap-gap 3 each; A-C and B-C give x-gap 1, x-x 2, gap-gap 3;
    C-A and C-B give gap-x 1, x-x 2, gap-gap 3. Sums: x-x 14, gap-gap 18, x-gap 2, gap-x 2 (total 36 = m(m-1)L).
    Divided by m - 1 = 2: l_xx = 7, l_gg = 9, l_xg = l_gx = 1; l.. = 18, l_x. = 8, l_g. = 10.
    S_x = 9 + 9 + 4 = 22, S_g = 3 + 3 + (1 + 3) = 10, S = 32, l..^2 - S = 292.
    e_xx = 18 * (64 - 22) / 292 = 756/292, e_gg = 18 * (100 - 10) / 292 = 1620/292.
    D_o = 18 - 16 = 2, D_e = 18 - 2376/292 = 2880/292, alpha = 1 - 584/2880 = 287/360 = 0.7972.
    """
    segments = {"A": [(0, 3, "x")], "B": [(0, 3, "x")], "C": [(1, 3, "x")]}
    assert unitized_alpha(segments, 6) == pytest.approx(287 / 360)


def test_undefined_without_variation() -> None:
    """No coder coded anything, or all coded the whole text as one unit: only one category, alpha undefined."""
    assert math.isnan(unitized_alpha({"A": [], "B": []}, 10))
    assert math.isnan(unitized_alpha({"A": [(0, 10, "x")], "B": [(0, 10, "x")]}, 10))


def test_empty_coder_disagrees_with_a_coder_who_coded() -> None:
    assert unitized_alpha({"A": [(2, 8, "x")], "B": []}, 10) < 0


def test_overlapping_codes_only_per_value() -> None:
    """Codings of different codes overlap in practice: per-value alpha accepts that, u-alpha cannot."""
    segments = {"A": [(0, 5, "x"), (3, 8, "y")], "B": [(0, 5, "x"), (3, 8, "y")]}
    assert unitized_alpha_by_value(segments, 10) == pytest.approx({"x": 1.0, "y": 1.0})
    with pytest.raises(AnalysisError, match="unitized_alpha_by_value"):
        unitized_alpha(segments, 10)
    with pytest.raises(AnalysisError, match="unitized_alpha_by_value"):
        unitized_alpha(segments, 10, "binary")


def naive_alpha(segments: Coding, length: int) -> float:
    """The same definitions evaluated character by character, as an independent check of the bookkeeping."""
    gap = object()
    labels = []
    self_pairs: Counter[object] = Counter()
    for coding in segments.values():
        at = [gap] * length
        for start, end, value in coding:
            at[start:end] = [value] * (end - start)
            self_pairs[value] += (end - start) ** 2
        self_pairs[gap] += at.count(gap)
        labels.append(at)
    m = len(labels)
    pairs: Counter[tuple[object, object]] = Counter()
    for i in range(m):
        for j in range(m):
            if i != j:
                pairs.update(zip(labels[i], labels[j]))
    total = m * length
    margin: Counter[object] = Counter()
    for (c, _), count in pairs.items():
        margin[c] += count / (m - 1)
    denominator = total**2 - sum(self_pairs.values())
    expected = total - sum(total * (margin[c] ** 2 - self_pairs[c]) / denominator for c in margin)
    observed = total - sum(count for (c, k), count in pairs.items() if c == k) / (m - 1)
    return float("nan") if expected <= 1e-9 else 1 - observed / expected


@st.composite
def unitizations(draw: st.DrawFn) -> Case:
    length = draw(st.integers(min_value=4, max_value=40))
    coders = draw(st.integers(min_value=2, max_value=4))
    segments: Coding = {}
    for coder in range(coders):
        cuts = sorted(draw(st.sets(st.integers(min_value=0, max_value=length), max_size=8)))
        coding = []
        for start, end in zip(cuts, cuts[1:]):
            value = draw(st.sampled_from(["", "x", "y"]))  # "" leaves this stretch uncoded
            if value:
                coding.append((start, end, value))
        segments[f"c{coder}"] = coding
    return segments, length


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(unitizations())
def test_matches_character_by_character_evaluation(case: Case) -> None:
    segments, length = case
    assert same(unitized_alpha(segments, length), naive_alpha(segments, length))


@settings(max_examples=150, deadline=None)
@given(unitizations(), st.randoms(use_true_random=False))
def test_coders_are_exchangeable(case: Case, rnd: random.Random) -> None:
    segments, length = case
    names = list(segments)
    rnd.shuffle(names)
    shuffled = {f"renamed-{i}": list(reversed(segments[name])) for i, name in enumerate(names)}
    for variant in ("u", "binary", ("value", "x")):
        if variant == ("value", "x") and not any(v == "x" for s in segments.values() for *_, v in s):
            continue
        assert same(unitized_alpha(segments, length, variant), unitized_alpha(shuffled, length, variant))


@settings(max_examples=150, deadline=None)
@given(unitizations(), st.integers(min_value=1, max_value=10))
def test_shifting_or_mirroring_everything_leaves_alpha_unchanged(case: Case, shift: int) -> None:
    """Moving all segments by the same amount (staying inside the text) or reading the text backwards
    changes no intersection length or unit length, and gap lengths only enter linearly."""
    segments, length = case
    padded = length + shift
    moved = {c: [(s + shift, e + shift, v) for s, e, v in coding] for c, coding in segments.items()}
    assert same(unitized_alpha(segments, padded), unitized_alpha(moved, padded))
    mirrored = {c: [(length - e, length - s, v) for s, e, v in coding] for c, coding in segments.items()}
    assert same(unitized_alpha(segments, length), unitized_alpha(mirrored, length))


@settings(max_examples=100, deadline=None)
@given(unitizations())
def test_one_value_reduces_to_binary(case: Case) -> None:
    segments, length = case
    only_x = {c: [(s, e, "x") for s, e, _ in coding] for c, coding in segments.items()}
    u = unitized_alpha(only_x, length)
    assert same(u, unitized_alpha(segments, length, "binary"))
    assert same(u, unitized_alpha(only_x, length, "binary"))
    if any(only_x.values()):
        assert same(u, unitized_alpha(only_x, length, ("value", "x")))


@pytest.mark.parametrize(
    ("segments", "length", "variant", "fragment"),
    [
        ({"A": [(0, 5, "x"), (4, 8, "x")], "B": []}, 10, "u", "overlap for the value 'x'"),
        ({"A": [(0, 5, "x"), (4, 8, "x")], "B": []}, 10, ("value", "y"), "overlap for the value 'x'"),
        ({"A": [(0, 11, "x")], "B": []}, 10, "u", "outside the text"),
        ({"A": [(-1, 3, "x")], "B": []}, 10, "u", "outside the text"),
        ({"A": [(3, 3, "x")], "B": []}, 10, "u", "empty"),
        ({"A": [(1.5, 3, "x")], "B": []}, 10, "u", "whole numbers"),
        ({"A": [(1, 3)], "B": []}, 10, "u", "triple"),
        ({"A": [(1, 3, "x")]}, 10, "u", "at least 2 coders"),
        ({"A": [], "B": []}, 0, "u", "at least 1 character"),
        ({"A": [], "B": []}, 10, "alpha", "Unknown unitized alpha variant"),
        ({"A": [(1, 3, "x")], "B": []}, 10, ("value", "z"), "No coder used the value 'z'"),
        ([("A", 1, 3, "x")], 10, "u", "mapping from each coder"),
    ],
)
def test_bad_input_raises_analysis_error(segments: object, length: int, variant: object, fragment: str) -> None:
    with pytest.raises(AnalysisError, match=fragment):
        unitized_alpha(segments, length, variant)  # type: ignore[arg-type]


def test_sums_give_the_hand_computed_alpha() -> None:
    """The first hand example (A [2, 6) x, B [3, 6) x, L = 10) as sums: A = 12 + 6, n_gap = 13, n_x = 7,
    S_gap = 13, S_x = 25; (r T - A) D = 2 * 362 = 724 over r T (T^2 - Q) = 20 * 182 = 3640."""
    tally = ContinuumTally(2)
    tally.add(10, [[(2, 6)], [(3, 6)]])
    sums = tally.sums()
    assert (sums.agreeing, sorted(sums.lengths.values()), sorted(sums.self_pairs.values())) == (18, [7, 13], [13, 25])
    assert alpha_from_sums(sums) == 729 / 910


def _cut(spans: list[tuple[int, int]], cuts: list[int]) -> list[list[tuple[int, int]]]:
    """Each piece's share of ``spans``: a stretch over a cut is split there."""
    pieces = []
    for begin, end in zip(cuts, cuts[1:]):
        pieces.append([(max(s, begin), min(e, end)) for s, e in spans if s < end and e > begin])
    return pieces


@st.composite
def cut_unitizations(draw: st.DrawFn) -> tuple[Case, list[int]]:
    segments, length = draw(unitizations())
    inner = draw(st.sets(st.integers(min_value=1, max_value=length - 1), max_size=length - 1))
    return (segments, length), [0, *sorted(inner), length]


@settings(max_examples=150, deadline=None)
@given(cut_unitizations())
@example((({"A": [(0, 10, "x")], "B": [(0, 5, "x")]}, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
@example((({"A": [(2, 6, "x"), (6, 9, "y")], "B": [(3, 6, "x")]}, 10), [0, 6, 10]))  # touching at the cut
@example((({"A": [(0, 4, "x")], "B": [(4, 8, "y")], "C": []}, 8), [0, 4, 8]))  # one coder each side of the cut
@example((({"A": [], "B": []}, 5), [0, 2, 5]))
def test_a_continuum_read_in_pieces_gives_the_alpha_of_the_whole(case: tuple[Case, list[int]]) -> None:
    """The tally fed piece by piece (a stretch over a cut comes in two parts, which it joins again) gives, to
    1e-12, the binary coefficient of the whole and the per-value one, computed from the partitions at once."""
    (segments, length), cuts = case
    coders = list(segments)
    for value in (None, "x"):  # None: coded (any value) against uncoded
        stretches = [merge([(s, e) for s, e, v in segments[c] if value is None or v == value]) for c in coders]
        tally = ContinuumTally(len(coders))
        for end, pieces in zip(cuts[1:], zip(*(_cut(spans, cuts) for spans in stretches))):
            tally.add(end, list(pieces))
        got = alpha_from_sums(tally.sums())
        whole = {c: [(s, e, "v") for s, e in spans] for c, spans in zip(coders, stretches)}
        if value is None:
            expected = unitized_alpha(whole, length, "binary")
        elif any(stretches):
            expected = unitized_alpha(whole, length, ("value", "v"))
        else:
            continue
        assert (math.isnan(got) and math.isnan(expected)) or math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-12)
        assert sum(tally.weights.values()) == length


def test_the_tally_refuses_pieces_out_of_order() -> None:
    tally = ContinuumTally(2)
    tally.add(10, [[(0, 4)], []])
    for end, spans in ((5, [[], []]), (20, [[(4, 12)], []]), (20, [[(12, 14), (13, 15)], []]),
                       (20, [[(12, 20)], [(12, 21)]]), (20, [[]])):
        with pytest.raises(AnalysisError):
            tally.add(end, spans)
    tally.add(20, [[(10, 12)], [(12, 20)]])  # a refused piece left nothing behind: [0, 4) is one unit, [10, 12) one
    assert alpha_from_sums(tally.sums()) == unitized_alpha({"a": [(0, 4, "x"), (10, 12, "x")], "b": [(12, 20, "x")]},
                                                           20, "binary")
