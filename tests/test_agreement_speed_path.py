"""Agreement at a unit counts each code's units by pattern of decisions and computes the statistics in closed
form; these tests compare every figure with the statistics module run on the full coders x units matrix, as
agreement was computed before, on random codings by two and three coders, with codes everyone used
everywhere and codes only one coder used.

At the character unit the counts and unitized alpha's sums are gathered a batch of documents at a time; the
rows are compared, to 1e-12, with those computed as before from every stretch of the project at once, on
random projects (any cut of the documents into batches) and through the database."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Gripcode
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gripcode.db.engine import make_engine, transaction
from gripcode.errors import AnalysisError
from gripcode.reliability.agreement import OVERALL, character_rows, compute_agreement, statistics_from_patterns
from gripcode.reliability.statistics import cohen_kappa, fleiss_kappa, krippendorff_alpha, percent_agreement
from gripcode.reliability.unitized import unitized_alpha
from gripcode.reliability.units import merge, select_documents, unit_presence

CODES = ["alpha", "beta", "gamma", "nobody", "everyone", "only-ana"]


def matrix_statistics(matrix: np.ndarray) -> dict[str, float]:
    """The statistics on a coders x units 0/1 matrix, as the statistics module computes them."""
    present = matrix.sum(axis=0)
    stats = {"percent_agreement": percent_agreement(matrix.tolist()),
             "fleiss_kappa": fleiss_kappa(np.column_stack([matrix.shape[0] - present, present])),
             "krippendorff_alpha": krippendorff_alpha(matrix.tolist(), "nominal")}
    if matrix.shape[0] == 2:
        stats["cohen_kappa"] = cohen_kappa(matrix[0].tolist(), matrix[1].tolist())
    return stats


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    codebook = "codebook: t\ncodes:\n" + "".join(f"  - id: {code}\n    name: {code}\n" for code in CODES)
    (tmp_path / "cb.yaml").write_text(codebook, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    rng = random.Random(5)
    texts = []
    for index in range(6):
        paragraphs = [" ".join(f"Sentence {index}.{p}.{s} about quotas." for s in range(3)) for p in range(5)]
        texts.append("\n\n".join(paragraphs) + "\n")
        (tmp_path / f"d{index}.txt").write_text(texts[-1], encoding="utf-8")
        grip.ok("import", str(tmp_path / f"d{index}.txt"))
    rows, seen = ["document,code,start,end,coder"], set()
    for doc, text in enumerate(texts, start=1):
        for coder in ("ana", "ben", "cy"):
            for _ in range(12):
                code = rng.choice(["alpha", "beta", "gamma"])
                start = rng.randrange(len(text) - 70)
                key = (doc, code, coder, start)
                if key not in seen:
                    seen.add(key)
                    rows.append(f"{doc},{code},{start},{start + rng.randint(3, 60)},{coder}")
            rows.append(f"{doc},everyone,0,{len(text)},{coder}")
        rows.append(f"{doc},only-ana,5,40,ana")
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    grip.ok("code", "import", str(tmp_path / "c.csv"))
    return grip


@pytest.mark.parametrize("batch", [2, 500])
@pytest.mark.parametrize("coders", [["ana", "ben"], ["ana", "ben", "cy"]])
@pytest.mark.parametrize("unit", ["sentence", "paragraph", "document"])
def test_closed_form_equals_the_matrix_statistics(project: Gripcode, coders: list[str], unit: str, batch: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted a batch of documents at a time (two, or all six at once), against the matrix of every unit."""
    from gripcode.reliability import units as units_module

    monkeypatch.setattr(units_module, "DOCUMENTS_PER_BATCH", batch)
    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            result = compute_agreement(session, coders, unit)
            selection = select_documents(session, coders, unit)
            units, presence = unit_presence(session, selection)
    finally:
        engine.dispose()
    position = {unit_id: i for i, unit_id in enumerate(units)}
    matrices = {}
    for code_id, slug in selection.code_ids.items():
        matrix = np.zeros((len(coders), len(units)), dtype=np.int8)
        for (unit_id, coded), who in presence.items():
            if coded == code_id:
                for row, coder_id in enumerate(selection.coder_ids):
                    matrix[row, position[unit_id]] = int(coder_id in who)
        matrices[slug] = matrix
    matrices[OVERALL] = np.concatenate(list(matrices.values()), axis=1)
    rows = {row["code"]: row for row in result.rows}
    assert set(rows) == set(selection.code_ids.values()) | {OVERALL}
    assert {"everyone", "only-ana"} <= set(rows)
    for slug, matrix in matrices.items():
        expected = matrix_statistics(matrix)
        assert rows[slug]["units"] == matrix.shape[1]
        assert rows[slug]["coded_units"] == int((matrix.sum(axis=0) > 0).sum())
        for name, value in expected.items():
            assert same(rows[slug][name], value), (slug, name, rows[slug][name], value)


def whole_continuum(session: Any, selection: Any) -> tuple[int, dict[int, dict[int, list[tuple[int, int]]]]]:
    """The continuum's length and every merged stretch, as computed before: every coding read at once, then
    merged."""
    from sqlalchemy import func, select

    from gripcode.db.models import Coding, Document
    from gripcode.reliability.units import _counted

    lengths = dict(session.execute(select(Document.id, func.length(Document.text))).tuples().all())
    offset, offsets = 0, {}
    for doc_id in selection.documents:
        offsets[doc_id], offset = offset, offset + lengths[doc_id]
    raw: dict = defaultdict(lambda: defaultdict(list))
    for doc_id, code_id, coder_id, start, end in session.execute(
            select(Coding.document_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end)
            .where(_counted(selection)).order_by(Coding.start)).tuples():
        raw[code_id][coder_id].append((offsets[doc_id] + start, offsets[doc_id] + end))
    return offset, {code: {coder: merge(spans) for coder, spans in by_coder.items()} for code, by_coder in raw.items()}


def test_character_stretches_merged_by_batch_are_those_merged_at_once(project: Gripcode,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document's "everyone" coding runs to its end and the next one's starts at 0: stretches touch across
    documents and across batches of one document, and must join as when all codings were merged at once."""
    from gripcode.reliability import units as units_module
    from gripcode.reliability.units import character_segments

    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            selection = select_documents(session, ["ana", "ben", "cy"], "character")
            expected = whole_continuum(session, selection)
            offset = expected[0]
            for batch in (1, 4, 500):
                monkeypatch.setattr(units_module, "DOCUMENTS_PER_BATCH", batch)
                assert character_segments(session, selection) == expected, batch
            everyone = next(code_id for code_id, slug in selection.code_ids.items() if slug == "everyone")
            assert expected[1][everyone][selection.coder_ids[0]] == [(0, offset)]  # one stretch across them all
    finally:
        engine.dispose()


def reference_character_rows(length: int, segments: dict[int, dict[int, list[tuple[int, int]]]],
                             coder_ids: list[int], code_ids: dict[int, str]) -> list[dict[str, Any]]:
    """The character rows as they were computed before batches: every stretch of the project held at once,
    characters counted one by one, unitized alpha from the coders' whole partitions of the continuum."""
    def patterns_of(spans: list[list[tuple[int, int]]]) -> dict[tuple[int, ...], int]:
        covered = [[0] * length for _ in spans]
        for row, coder_spans in zip(covered, spans):
            for start, end in coder_spans:
                row[start:end] = [1] * (end - start)
        return dict(Counter(zip(*covered)))

    rows, overall = [], Counter()
    union: dict[int, list[tuple[int, int]]] = {c: [] for c in coder_ids}
    for code_id, slug in code_ids.items():
        spans = [segments.get(code_id, {}).get(c, []) for c in coder_ids]
        patterns = patterns_of(spans)
        overall.update(patterns)
        alpha = unitized_alpha({c: [(s, e, slug) for s, e in spans[i]] for i, c in enumerate(coder_ids)}, length,
                               ("value", slug))
        rows.append({"code": slug, "units": length, "coded_units": sum(w for p, w in patterns.items() if any(p)),
                     **statistics_from_patterns(patterns), "unitized_alpha": alpha})
        for i, c in enumerate(coder_ids):
            union[c].extend(spans[i])
    if code_ids:
        binary = unitized_alpha({c: [(s, e, "coded") for s, e in merge(union[c])] for c in coder_ids}, length,
                                "binary")
        rows.append({"code": OVERALL, "units": length * len(code_ids),
                     "coded_units": sum(w for p, w in overall.items() if any(p)),
                     **statistics_from_patterns(dict(overall)), "unitized_alpha": binary})
    return rows


def assert_same_rows(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [row["code"] for row in got] == [row["code"] for row in expected]
    for mine, theirs in zip(got, expected):
        assert mine.keys() == theirs.keys(), mine["code"]
        for name, value in theirs.items():
            if isinstance(value, float):
                assert (math.isnan(value) and math.isnan(mine[name])) or math.isclose(
                    mine[name], value, rel_tol=1e-12, abs_tol=1e-12), (mine["code"], name, mine[name], value)
            else:
                assert mine[name] == value, (mine["code"], name)


Project = tuple[list[int], list[tuple[int, int, int, int, int]], int, list[int]]  # lengths, codings, coders, cuts


@st.composite
def projects(draw: st.DrawFn) -> Project:
    """A few short documents, codings (document, code, coder, start, end) of up to three codes by two or three
    coders, and where the documents are cut into batches (indices between documents)."""
    lengths = draw(st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=5))
    coders = draw(st.integers(min_value=2, max_value=3))
    codings = []
    for _ in range(draw(st.integers(min_value=0, max_value=10))):
        doc = draw(st.integers(min_value=0, max_value=len(lengths) - 1))
        start = draw(st.integers(min_value=0, max_value=lengths[doc] - 1))
        end = draw(st.integers(min_value=start + 1, max_value=lengths[doc]))
        codings.append((doc, draw(st.integers(min_value=1, max_value=3)), draw(st.integers(0, coders - 1)), start, end))
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=len(lengths) - 1), max_size=len(lengths)))) \
        if len(lengths) > 1 else []
    return lengths, codings, coders, cuts


def rows_both_ways(project: Project, cuts: list[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows from the batches that ``cuts`` makes (as ``units.character_batches`` gives them), and the rows
    computed from the whole continuum at once."""
    lengths, codings, coders, _ = project
    offsets = [sum(lengths[:i]) for i in range(len(lengths) + 1)]
    coder_ids = list(range(coders))
    code_ids = {code: f"code-{code}" for code in sorted({code for _, code, _, _, _ in codings})}
    whole: dict = defaultdict(lambda: defaultdict(list))
    for doc, code, coder, start, end in codings:
        whole[code][coder].append((offsets[doc] + start, offsets[doc] + end))
    segments = {code: {coder: merge(spans) for coder, spans in by_coder.items()} for code, by_coder in whole.items()}
    pieces = []
    bounds = [0, *cuts, len(lengths)]
    for first, last in zip(bounds, bounds[1:]):
        raw: dict = defaultdict(lambda: defaultdict(list))
        for doc, code, coder, start, end in codings:
            if first <= doc < last:
                raw[code][coder].append((offsets[doc] + start, offsets[doc] + end))
        pieces.append((offsets[last], {code: {coder: merge(spans) for coder, spans in by_coder.items()}
                                       for code, by_coder in raw.items()}))
    return (character_rows(offsets[-1], iter(pieces), coder_ids, code_ids),
            reference_character_rows(offsets[-1], segments, coder_ids, code_ids))


@settings(max_examples=200, deadline=None)
@given(projects())
# one coder's stretch runs over the cut between two batches (documents 0 and 1), the other's stops at it
@example(([4, 4], [(0, 1, 0, 0, 4), (1, 1, 0, 0, 4), (0, 1, 1, 0, 4)], 2, [1]))
# in each batch only one of the coders coded: ana the first document, ben the second
@example(([5, 5, 3], [(0, 1, 0, 1, 5), (1, 1, 1, 0, 3), (2, 2, 0, 0, 3), (2, 2, 1, 0, 3)], 2, [1, 2]))
# a code only one coder used, and a document without the code in between two that have it
@example(([3, 2, 3], [(0, 1, 0, 2, 3), (2, 1, 0, 0, 1), (0, 2, 1, 0, 3), (1, 2, 2, 0, 2)], 3, [1, 2]))
def test_character_rows_by_batches_equal_those_of_the_whole_continuum(project: Project) -> None:
    """Any cut of the documents into batches, and batches of one document each, give the rows computed from
    every stretch at once."""
    lengths, codings, coders, cuts = project
    for batches in (cuts, list(range(1, len(lengths))), []):
        got, expected = rows_both_ways(project, batches)
        assert_same_rows(got, expected)


def test_a_named_code_nobody_applied_is_an_error_as_before() -> None:
    pieces = [(10, {1: {0: [(0, 4)], 1: [(2, 6)]}})]
    with pytest.raises(AnalysisError, match="No coder used the value 'unused'"):
        character_rows(10, iter(pieces), [0, 1], {1: "used", 2: "unused"})
    with pytest.raises(AnalysisError, match="No coder used the value 'unused'"):
        reference_character_rows(10, pieces[0][1], [0, 1], {1: "used", 2: "unused"})


@pytest.mark.parametrize("coders", [["ana", "ben"], ["ana", "ben", "cy"]])
def test_character_agreement_by_batches_equals_the_whole_continuum(project: Gripcode, coders: list[str],
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the database, a batch of one document, of four (the six documents in two unequal batches) and
    of all of them: the rows of ``compute_agreement`` against those computed from every stretch at once. Ana's
    "beta" also runs over every cut between documents (to the end of one and on from the start of the next),
    where ben's starts only after it and cy's "gamma" stops at it: units that one coder carries over a cut."""
    from sqlalchemy import func, select

    from gripcode.db.models import Document
    from gripcode.reliability import units as units_module

    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            lengths = session.execute(select(Document.id, func.length(Document.text)).order_by(Document.id)).all()
    finally:
        engine.dispose()
    rows = ["document,code,start,end,coder"]
    for doc, length in lengths:
        rows += [f"{doc},beta,{length - 15},{length},ana", f"{doc},beta,0,10,ana", f"{doc},beta,0,10,ben",
                 f"{doc},gamma,{length - 5},{length},cy"]
    (tmp_path / "over-cuts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    project.ok("code", "import", str(tmp_path / "over-cuts.csv"))
    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            selection = select_documents(session, coders, "character")
            length, segments = whole_continuum(session, selection)
            expected = reference_character_rows(length, segments, selection.coder_ids, selection.code_ids)
            for batch in (1, 4, 500):
                monkeypatch.setattr(units_module, "DOCUMENTS_PER_BATCH", batch)
                assert_same_rows(compute_agreement(session, coders, "character").rows, expected)
    finally:
        engine.dispose()


@pytest.mark.parametrize("batch", [1, 500])
def test_a_coding_past_its_documents_end_is_an_error_whatever_the_batches(project: Gripcode, batch: int,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema allows a coding to end past its document (`gripcode check` reports it); by character it
    would run into the next document, so it is refused in every batch, not only in a batch's last document."""
    from sqlalchemy import text

    from gripcode.reliability import units as units_module

    engine = make_engine(project.url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE codings SET \"end\" = \"end\" + 100000 WHERE id = (SELECT min(id) FROM codings "
                              "WHERE document_id = 1)"))
        monkeypatch.setattr(units_module, "DOCUMENTS_PER_BATCH", batch)
        with transaction(engine, write=False) as session:
            with pytest.raises(AnalysisError, match=r"a coding in document 1 ends at \d+, past the document's end "
                                                    r"\(\d+ characters\): run `gripcode check`"):
                compute_agreement(session, ["ana", "ben"], "character")
    finally:
        engine.dispose()
