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

Sufficient statistics (:class:`UnitizingSums`). Write ``T = l.. = m L``, ``r = m - 1``,
``n_c = l_c.`` (the length all coders together gave the value ``c``; gaps included),
``A = r sum_c l_cc`` (the length shared with the same value, summed over ordered pairs of different
coders), ``Q = sum_c n_c^2`` and ``D = T^2 - S``. Then ``sum_c e_cc = T (Q - S) / D``, so

* ``D_e = T - sum_c e_cc = T (T^2 - Q) / D`` and ``D_o = T - sum_c l_cc = (r T - A) / r``;
* ``alpha = 1 - D_o / D_e = 1 - (r T - A) D / (r T (T^2 - Q))``,

a ratio of whole numbers, computed exactly and rounded once. Alpha needs only ``m``, ``L``, ``A``,
``n_c`` and ``S_c``, and all but ``S_c`` are sums over characters (each character adds the pairs of
coders' labels it carries), so they add up over any cut of the continuum into pieces. ``S_c`` adds the
*squared* length of each unit: a unit that a cut splits into lengths ``a`` and ``b`` adds
``(a + b)^2 = a^2 + 2ab + b^2``, not ``a^2 + b^2``. :class:`ContinuumTally` therefore reads a continuum
piece after piece holding each coder's last unit open until a later piece shows where it ends, and adds
its square only then; gaps add their plain length, so a cut through a gap changes nothing.

For the binary coefficients (a unit is a coded stretch, all else is gap) ``A`` and ``n_c`` follow from how
many characters each combination of coders covers: a character covered by ``k`` of the ``m`` coders adds
``k (k - 1) + (m - k)(m - k - 1)`` to ``A``, ``k`` to ``n_coded`` and ``m - k`` to ``n_gap`` (which is
also ``S_gap``). The tally keeps those counts (at most ``2^m`` of them), the sum of the squared lengths of
the coders' closed stretches and one open stretch per coder: memory does not grow with the continuum.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from gripcode.errors import AnalysisError

__all__ = ["ContinuumTally", "UnitizingSums", "alpha_from_sums", "coverage_patterns", "unitized_alpha",
           "unitized_alpha_by_value"]

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


@dataclass
class UnitizingSums:
    """What unitized alpha needs of ``coders`` coders' unitizing of a continuum of ``length`` characters
    (notation of the module docstring): ``agreeing`` is ``A``, the length shared with the same value
    summed over ordered pairs of different coders; ``lengths[c]`` is ``n_c``, the length all coders gave
    the value ``c``; ``self_pairs[c]`` is ``S_c``. Values, gap included, are those of the labels used."""

    coders: int
    length: int
    agreeing: int = 0
    lengths: dict[Hashable, int] = field(default_factory=dict)
    self_pairs: dict[Hashable, int] = field(default_factory=dict)


def alpha_from_sums(sums: UnitizingSums) -> float:
    """``1 - D_o / D_e`` from the sums (module docstring), in whole numbers: exact, rounded once.

    ``nan`` when ``D_e`` is at most ``1e-9 l..``: no variation to agree about."""
    r = sums.coders - 1
    total = sums.coders * sums.length
    spread = total * total - sum(n * n for n in sums.lengths.values())  # T^2 - Q = D_e D / T
    denominator = total * total - sum(sums.self_pairs.values())  # D > 0 for m >= 2 and L >= 1
    if spread * 10**9 <= denominator:
        return float("nan")
    disagreement = (r * total - sums.agreeing) * denominator  # r T D D_o, over r T D D_e:
    expected = r * total * spread
    return (expected - disagreement) / expected


def _alpha(partitions: list[list[tuple[int, int, Hashable]]], length: int) -> float:
    return alpha_from_sums(_sums(partitions, length))


def _sums(partitions: list[list[tuple[int, int, Hashable]]], length: int) -> UnitizingSums:
    sums = UnitizingSums(len(partitions), length)
    for i in range(len(partitions)):
        for j in range(i + 1, len(partitions)):
            for c, k, overlap in _intersections(partitions[i], partitions[j]):
                if c is k or c == k:  # as a dict of labels would match them
                    sums.agreeing += 2 * overlap  # (i, j) and (j, i)
    lengths, self_pairs = sums.lengths, sums.self_pairs
    lengths[_GAP] = self_pairs[_GAP] = 0
    for sections in partitions:
        for start, end, label in sections:
            size = end - start
            lengths[label] = lengths.get(label, 0) + size
            self_pairs[label] = self_pairs.get(label, 0) + (size if label is _GAP else size * size)
    return sums


def coverage_patterns(length: int, spans_by_coder: Sequence[Sequence[tuple[int, int]]],
                      start: int = 0) -> dict[tuple[int, ...], int]:
    """How many characters of ``[start, length)`` each combination of coders covers: a pattern has a 1 for
    each coder (in order) whose stretches cover the character. Each coder's stretches lie inside
    ``[start, length)`` and do not overlap (merged)."""
    events: list[tuple[int, int, int]] = []
    for index, spans in enumerate(spans_by_coder):
        for begin, end in spans:
            events += [(begin, 1, index), (end, -1, index)]
    events.sort()
    state = [0] * len(spans_by_coder)
    weights: Counter[tuple[int, ...]] = Counter()
    position = start
    for at, change, index in events:
        if at > position:
            weights[tuple(state)] += at - position
            position = at
        state[index] += change
    if length > position:
        weights[tuple(state)] += length - position
    return dict(weights)


class ContinuumTally:
    """The binary unitizing of one continuum by ``coders`` coders (a unit is a coded stretch, all else is
    gap), read piece after piece (a batch of documents laid end to end at a time) into the sums alpha needs
    (module docstring): memory holds the counts of characters by pattern of coders covering them, the sum
    of the squared lengths of closed stretches and one open stretch per coder, however long the continuum.

    ``add(end, spans_by_coder)`` reads the continuum from where the tally stands (``self.end``) up to
    ``end``, each coder's stretches within it in offsets of the whole continuum; a coder's first stretch
    that starts where that coder's open stretch ends continues it, as one unit. ``weights`` are the
    patterns' counts so far; ``sums()`` the sums of the continuum read so far, taken as ending there."""

    def __init__(self, coders: int) -> None:
        self.coders = coders
        self.end = 0
        self.weights: Counter[tuple[int, ...]] = Counter()
        self.squares = 0  # sum of len^2 over the coders' closed stretches
        self._open: list[tuple[int, int] | None] = [None] * coders

    def add(self, end: int, spans_by_coder: Sequence[Sequence[tuple[int, int]]]) -> None:
        """Read ``[self.end, end)``; each coder's stretches sorted, inside it, none overlapping another."""
        if end < self.end or len(spans_by_coder) != self.coders:
            raise AnalysisError(f"a continuum piece must follow the last ({self.end}) and give each of the "
                                f"{self.coders} coders' stretches; got end {end} and {len(spans_by_coder)}")
        squares, opened = self.squares, list(self._open)  # kept aside until the whole piece is read
        for index, spans in enumerate(spans_by_coder):
            current = opened[index]
            floor = self.end
            for start, stop in spans:
                if not floor <= start < stop <= end:
                    raise AnalysisError(f"stretch ({start}, {stop}) of coder {index} is empty, unsorted, overlaps "
                                        f"another or lies outside the piece [{self.end}, {end})")
                if current is not None and start <= current[1]:  # touches the stretch before it: one unit
                    current = (current[0], stop)
                else:
                    if current is not None:
                        squares += (current[1] - current[0]) ** 2
                    current = (start, stop)
                floor = stop
            opened[index] = current
        self.weights.update(coverage_patterns(end, spans_by_coder, self.end))
        self.squares, self._open, self.end = squares, opened, end

    def coded(self) -> int:
        """Characters at least one coder covered."""
        return sum(weight for pattern, weight in self.weights.items() if any(pattern))

    def sums(self) -> UnitizingSums:
        m = self.coders
        sums = UnitizingSums(m, self.end)
        coded = gap = 0
        for pattern, weight in self.weights.items():
            k = sum(pattern)
            sums.agreeing += weight * (k * (k - 1) + (m - k) * (m - k - 1))
            coded += weight * k
            gap += weight * (m - k)
        squares = self.squares + sum((s[1] - s[0]) ** 2 for s in self._open if s is not None)
        sums.lengths = {_GAP: gap, _CODED: coded}
        sums.self_pairs = {_GAP: gap, _CODED: squares}
        return sums


def _intersections(
    first: list[tuple[int, int, Hashable]], second: list[tuple[int, int, Hashable]]
) -> Iterable[tuple[Hashable, Hashable, int]]:
    """Walk two partitions of the same continuum together, yielding (label, label, shared length)."""
    a = b = 0
    while a < len(first) and b < len(second):
        start_a, end_a, label_a = first[a]
        start_b, end_b, label_b = second[b]
        overlap = min(end_a, end_b) - max(start_a, start_b)
        if overlap > 0:
            yield label_a, label_b, overlap
        if end_a <= end_b:
            a += 1
        if end_b <= end_a:
            b += 1
