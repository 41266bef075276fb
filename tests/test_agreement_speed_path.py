"""Agreement at a unit counts each code's units by pattern of decisions and computes the statistics in closed
form; these tests compare every figure with the statistics module run on the full coders x units matrix, as
agreement was computed before, on random codings by two and three coders, with codes everyone used
everywhere and codes only one coder used."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import Gripcode

from gripcode.db.engine import make_engine, transaction
from gripcode.reliability.agreement import OVERALL, compute_agreement
from gripcode.reliability.statistics import cohen_kappa, fleiss_kappa, krippendorff_alpha, percent_agreement
from gripcode.reliability.units import select_documents, unit_presence

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


def test_character_stretches_merged_by_batch_are_those_merged_at_once(project: Gripcode,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document's "everyone" coding runs to its end and the next one's starts at 0: stretches touch across
    documents and across batches of one document, and must join as when all codings were merged at once."""
    from collections import defaultdict

    from sqlalchemy import func, select

    from gripcode.db.models import Coding, Document
    from gripcode.reliability import units as units_module
    from gripcode.reliability.units import _counted, character_segments, merge

    engine = make_engine(project.url)
    try:
        with transaction(engine, write=False) as session:
            selection = select_documents(session, ["ana", "ben", "cy"], "character")
            # as they were computed before: every coding read at once, then merged
            lengths = dict(session.execute(select(Document.id, func.length(Document.text))).tuples().all())
            offset, offsets = 0, {}
            for doc_id in selection.documents:
                offsets[doc_id], offset = offset, offset + lengths[doc_id]
            raw: dict = defaultdict(lambda: defaultdict(list))
            for doc_id, code_id, coder_id, start, end in session.execute(
                    select(Coding.document_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end)
                    .where(_counted(selection)).order_by(Coding.start)).tuples():
                raw[code_id][coder_id].append((offsets[doc_id] + start, offsets[doc_id] + end))
            expected = (offset, {code: {coder: merge(spans) for coder, spans in by_coder.items()}
                                 for code, by_coder in raw.items()})
            for batch in (1, 4, 500):
                monkeypatch.setattr(units_module, "DOCUMENTS_PER_BATCH", batch)
                assert character_segments(session, selection) == expected, batch
            everyone = next(code_id for code_id, slug in selection.code_ids.items() if slug == "everyone")
            assert expected[1][everyone][selection.coder_ids[0]] == [(0, offset)]  # one stretch across them all
    finally:
        engine.dispose()
