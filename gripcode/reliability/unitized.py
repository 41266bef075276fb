"""Krippendorff's alpha for unitizing a continuum: agreement on *where* codes apply, not only *which*.

Input: ``segments`` maps each coder to a list of ``(start, end, value)`` triples, half-open character
offsets ``[start, end)`` into a text of ``length`` characters (gripcode's offset convention), and
``value`` the code (any hashable label). Everything a coder left uncoded is a *gap*.

Coefficient (Krippendorff, Mathet, Bouvry & Widlöcher 2016, "On the reliability of unitizing textual
continua: Further developments", Quality & Quantity 50:2347-2364; also Krippendorff 2019, Content
Analysis, 4th ed., section 12.6). Each coder's units and the gaps between them partition the continuum.
With ``m`` coders, a continuum of length ``L`` and ``|x ∩ y|`` the length two sections share:

* observed coincidences ``l_ck = 1/(m-1) * sum over coders i != j, sections g of i valued c and h of j
  valued k, of |g ∩ h|`` (the gap counts as one more value), so ``l.. = m L``;
* expected coincidences ``e_ck = l.. (l_c. l_k. - [c = k] S_c) / (l..^2 - S)``, where ``S_c`` sums
  ``len^2`` over the units valued ``c`` (a unit cannot be paired with itself) and ``len`` over the gaps
  (gaps have no internal structure), and ``S = sum_c S_c``;
* ``alpha = 1 - (l.. - sum_c l_cc) / (l.. - sum_c e_cc)`` (nominal difference between values).

Krippendorff's earlier definitions (1995, Sociological Methodology 25:47-76; 2004, Quality & Quantity
38:787-800) compared overlapping units through squared differences of their boundaries; the 2016
revision used here was introduced because those behaved unexpectedly with more than two coders.
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Final

from gripcode.errors import AnalysisError

__all__ = ["unitized_alpha", "unitized_alpha_by_value"]

Segment = tuple[int, int, Hashable]
Variant = str | tuple[str, Hashable]


class _Mark:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# Private markers, so that no user label (not even None) can be mistaken for a gap.
_GAP: Final = _Mark("<gap>")
_CODED: Final = _Mark("<coded>")


def unitized_alpha(
    segments: Mapping[Hashable, Iterable[Segment]], length: int, variant: Variant = "u"
) -> float:
    """Krippendorff's alpha for the unitizing of one continuum (a text) by two or more coders.

    Unit of analysis: the character. Chance model: the coded stretches of all coders are paired at
    random across the whole continuum, each unit kept whole (Krippendorff et al. 2016; see the module
    docstring for the formulas).

    Variants:

    * ``"u"``: u-alpha (``_u alpha``) over all values at once: coders must agree on where units are
      *and* which value each carries. Each coder's segments must not overlap.
    * ``"binary"``: ``|_u alpha``: agreement on coded versus not coded; values are ignored, units keep
      their boundaries. Each coder's segments must not overlap.
    * ``("value", v)``: the binary coefficient for one value: segments with value ``v`` are the units,
      all else (including other values) is gap. This measures how reliably the code ``v`` was placed,
      and allows a coder's codes to overlap each other, as codings in a project often do. (It is not
      the 2016 paper's ``(k)u alpha``, which measures agreement on values where units intersect.)

    Returns ``nan`` when there is no variation to agree about (no coder coded anything, or every coder
    coded the whole text as one unit of one value): alpha is undefined then. Segments of one coder with
    the same value must not overlap; segments must lie inside ``[0, length)``.
    """
    kind, chosen = _parse_variant(variant)
    checked = _checked_segments(segments, length)
    return _alpha(_partitions(checked, length, kind, chosen), length)


def unitized_alpha_by_value(
    segments: Mapping[Hashable, Iterable[Segment]], length: int
) -> dict[Hashable, float]:
    """``unitized_alpha(segments, length, ("value", v))`` for every value ``v`` any coder used.

    Keys are in sorted order when the values can be sorted, otherwise in order of first use.
    """
    checked = _checked_segments(segments, length)
    values = list(dict.fromkeys(value for rows in checked.values() for _, _, value in rows))
    try:
        values = sorted(values)  # type: ignore[type-var]
    except TypeError:
        pass
    return {value: _alpha(_partitions(checked, length, "value", value), length) for value in values}


def _parse_variant(variant: Any) -> tuple[str, Hashable]:
    if isinstance(variant, str) and variant in ("u", "binary"):
        return variant, None
    if isinstance(variant, tuple) and len(variant) == 2 and variant[0] == "value":
        try:
            hash(variant[1])
        except TypeError:
            pass
        else:
            return "value", variant[1]
    raise AnalysisError(f"Unknown unitized alpha variant {variant!r}: use 'u', 'binary' or ('value', <code>).")


def _checked_segments(
    segments: Mapping[Hashable, Iterable[Segment]], length: int
) -> dict[Hashable, list[Segment]]:
    if isinstance(length, bool):
        raise AnalysisError(f"The continuum length must be a whole number of characters; got {length!r}.")
    try:
        length = operator.index(length)
    except TypeError as exc:
        raise AnalysisError(
            f"The continuum length must be a whole number of characters; got {length!r}."
        ) from exc
    if length < 1:
        raise AnalysisError(f"The continuum must be at least 1 character long; got length {length}.")
    if not isinstance(segments, Mapping):
        raise AnalysisError("Unitized alpha needs a mapping from each coder to that coder's list of segments.")
    if len(segments) < 2:
        raise AnalysisError(f"Unitized alpha needs at least 2 coders; got {len(segments)}.")
    checked: dict[Hashable, list[Segment]] = {}
    for coder, coder_segments in segments.items():
        rows = [_checked_segment(coder, item, length) for item in coder_segments]
        by_value: dict[Hashable, list[Segment]] = {}
        for row in rows:
            by_value.setdefault(row[2], []).append(row)
        for value, same in by_value.items():
            _reject_overlaps(
                coder,
                same,
                f"for the value {value!r}; unitizing assumes a coder's units of one value do not overlap",
            )
        checked[coder] = rows
    return checked


def _checked_segment(coder: Hashable, item: Any, length: int) -> Segment:
    try:
        start, end, value = item
        hash(value)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(
            f"Coder {coder!r}: each segment must be a (start, end, value) triple; got {item!r}."
        ) from exc
    try:
        if isinstance(start, bool) or isinstance(end, bool):
            raise TypeError
        start, end = operator.index(start), operator.index(end)
    except TypeError as exc:
        raise AnalysisError(f"Coder {coder!r}: segment offsets must be whole numbers; got {item!r}.") from exc
    if not 0 <= start < end <= length:
        raise AnalysisError(
            f"Coder {coder!r}: segment {item!r} is empty or lies outside the text [0, {length}) "
            "(offsets are half-open: start inclusive, end exclusive)."
        )
    return (start, end, value)


def _reject_overlaps(coder: Hashable, rows: list[Segment], context: str) -> None:
    ordered = sorted(rows, key=lambda row: (row[0], row[1]))
    for before, after in zip(ordered, ordered[1:]):
        if after[0] < before[1]:
            raise AnalysisError(
                f"Coder {coder!r}: segments {before[:2]} and {after[:2]} overlap {context}."
            )


def _partitions(
    checked: Mapping[Hashable, list[Segment]], length: int, kind: str, chosen: Hashable
) -> list[list[tuple[int, int, Hashable]]]:
    """Each coder's continuum as consecutive ``(start, end, label)`` sections, gaps included."""
    partitions = []
    for coder, rows in checked.items():
        if kind == "u":
            units = list(rows)
            _reject_overlaps(
                coder,
                units,
                "with different values; u-alpha needs each coder's units to be disjoint "
                "(use unitized_alpha_by_value for overlapping codes)",
            )
        elif kind == "binary":
            units = [(start, end, _CODED) for start, end, _ in rows]
            _reject_overlaps(
                coder,
                units,
                "as coded stretches; the binary variant needs each coder's units to be disjoint "
                "(use unitized_alpha_by_value for overlapping codes)",
            )
        else:
            units = [(start, end, _CODED) for start, end, value in rows if value == chosen]
        partitions.append(_with_gaps(sorted(units, key=lambda row: row[0]), length))
    if kind == "value" and not any(label is _CODED for sections in partitions for _, _, label in sections):
        raise AnalysisError(f"No coder used the value {chosen!r}, so there is nothing to compare.")
    return partitions


def _with_gaps(units: list[tuple[int, int, Hashable]], length: int) -> list[tuple[int, int, Hashable]]:
    sections: list[tuple[int, int, Hashable]] = []
    cursor = 0
    for start, end, label in units:
        if start > cursor:
            sections.append((cursor, start, _GAP))
        sections.append((start, end, label))
        cursor = end
    if cursor < length:
        sections.append((cursor, length, _GAP))
    return sections


def _alpha(partitions: list[list[tuple[int, int, Hashable]]], length: int) -> float:
    m = len(partitions)
    labels: dict[Hashable, int] = {_GAP: 0}
    for sections in partitions:
        for _, _, label in sections:
            labels.setdefault(label, len(labels))
    # Raw intersection totals; dividing by (m - 1) gives Krippendorff's l_ck.
    shared: dict[tuple[int, int], int] = {}
    for i in range(m):
        for j in range(i + 1, m):
            for c, k, overlap in _intersections(partitions[i], partitions[j], labels):
                shared[c, k] = shared.get((c, k), 0) + overlap
                shared[k, c] = shared.get((k, c), 0) + overlap
    total = m * length
    margins = [0.0] * len(labels)
    for (c, _), overlap in shared.items():
        margins[c] += overlap / (m - 1)
    self_pairs = [0] * len(labels)
    for sections in partitions:
        for start, end, label in sections:
            size = end - start
            self_pairs[labels[label]] += size if label is _GAP else size * size
    observed_agreement = sum(shared.get((c, c), 0) for c in range(len(labels))) / (m - 1)
    denominator = total * total - sum(self_pairs)
    expected_agreement = sum(
        total * (margins[c] ** 2 - self_pairs[c]) / denominator for c in range(len(labels))
    )
    expected = total - expected_agreement
    if expected <= 1e-9 * total:
        return float("nan")
    return 1.0 - (total - observed_agreement) / expected


def _intersections(
    first: list[tuple[int, int, Hashable]],
    second: list[tuple[int, int, Hashable]],
    labels: Mapping[Hashable, int],
) -> Iterable[tuple[int, int, int]]:
    """Walk two partitions of the same continuum together, yielding (label, label, shared length)."""
    a = b = 0
    while a < len(first) and b < len(second):
        start_a, end_a, label_a = first[a]
        start_b, end_b, label_b = second[b]
        overlap = min(end_a, end_b) - max(start_a, start_b)
        if overlap > 0:
            yield labels[label_a], labels[label_b], overlap
        if end_a <= end_b:
            a += 1
        if end_b <= end_a:
            b += 1
