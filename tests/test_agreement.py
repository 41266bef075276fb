"""Agreement between coders at an explicit unit, from the project's codings."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import update

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coding
from gripcode.reliability import cohen_kappa, fleiss_kappa, krippendorff_alpha, percent_agreement, unitized_alpha
from gripcode.reliability.agreement import coverage_patterns, statistics_from_patterns

from conftest import Gripcode

CODEBOOK = """
codebook: agree
codes:
  - id: x
    name: X
    rules:
      unit: paragraph
      terms:
        en: [alpha]
  - id: y
    name: Y
"""
# Five paragraphs; ana codes X on 1, 2, 3 and ben on 1, 2, 4 (both 2, one each 1, neither 1).
PARAGRAPHS = ["First alpha part.", "Second part.", "Third part here.", "Fourth part.", "Fifth part."]


@pytest.fixture
def coded(grip: Gripcode, tmp_path: Path) -> Gripcode:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    (tmp_path / "a.txt").write_text("\n\n".join(PARAGRAPHS) + "\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Only ana coded this.\n", encoding="utf-8")
    grip.ok("import", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    rows = ["document,code,unit,coder"]
    rows += [f"1,x,paragraph:{n},ana" for n in (1, 2, 3)] + [f"1,x,paragraph:{n},ben" for n in (1, 2, 4)]
    rows += ["1,y,paragraph:5,ana", "1,y,paragraph:5,ben", "2,x,paragraph:1,ana"]
    (tmp_path / "codings.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    grip.ok("code", "import", str(tmp_path / "codings.csv"))
    return grip


def table(grip: Gripcode, *args: str) -> dict[str, dict]:
    out = grip.ok("agreement", "--format", "json", *args).output
    data = json.loads(out)
    return {row["code"]: row for row in records(data)}


def records(data: dict) -> list[dict]:
    return [dict(zip(data["columns"], row)) for row in data["rows"]]


def test_paragraph_agreement_matches_hand_computation(coded: Gripcode) -> None:
    rows = table(coded, "--coders", "ana,ben", "--unit", "paragraph")
    x = rows["x"]
    # Cohen (1960): p_o = 3/5, p_e = 0.6*0.6 + 0.4*0.4 = 0.52, kappa = (0.6 - 0.52) / 0.48.
    assert x["units"] == 5 and x["coded_units"] == 4
    assert x["percent_agreement"] == pytest.approx(0.6)
    assert x["cohen_kappa"] == pytest.approx(0.08 / 0.48)
    assert rows["y"]["percent_agreement"] == 1 and rows["y"]["cohen_kappa"] == pytest.approx(1.0)
    overall = rows["(overall)"]
    assert overall["units"] == 10 and overall["percent_agreement"] == pytest.approx(0.8)


def test_documents_not_coded_by_everyone_are_left_out_and_said_so(coded: Gripcode) -> None:
    out = coded.ok("agreement", "--coders", "ana,ben", "--unit", "paragraph").output
    assert "1 document(s) coded by all of ana, ben" in out
    assert "left out 1 document(s): not coded by ben (2)" in out


def test_suggestions_never_count(coded: Gripcode) -> None:
    coded.ok("autocode")
    result = coded("agreement", "--coders", "ana,rules@" + _rules_hash(coded), "--unit", "paragraph")
    assert result.exit_code == 1 and "no document was coded by all of" in result.output
    engine = make_engine(coded.url)
    with transaction(engine) as s:
        s.execute(update(Coding).where(Coding.origin == "rule").values(status="accepted"))
    engine.dispose()
    rows = table(coded, "--coders", "ana,rules@" + _rules_hash(coded), "--unit", "paragraph", "--codes", "x")
    # The rule found "alpha" only in paragraph 1 of the first document, where ana coded paragraphs 1-3;
    # the second document is left out because the rules coded nothing there.
    assert rows["x"]["units"] == 5 and rows["x"]["coded_units"] == 3
    assert rows["x"]["percent_agreement"] == pytest.approx(0.6)


def _rules_hash(grip: Gripcode) -> str:
    coders = json.loads(grip.ok("coder", "list", "--format", "json").output)
    return next(c["name"] for c in coders if c["name"].startswith("rules@")).split("@")[1]


def test_three_coders_drop_cohen_and_keep_fleiss(coded: Gripcode, tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("document,code,unit,coder\n1,x,paragraph:1,cy\n", encoding="utf-8")
    coded.ok("code", "import", str(tmp_path / "c.csv"))
    data = json.loads(coded.ok("agreement", "--coders", "ana,ben,cy", "--unit", "paragraph", "--format", "json").output)
    assert "cohen_kappa" not in data["columns"] and "fleiss_kappa" in data["columns"]
    x = {r["code"]: r for r in records(data)}["x"]
    matrix = [[1, 1, 1, 0, 0], [1, 1, 0, 1, 0], [1, 0, 0, 0, 0]]
    assert x["fleiss_kappa"] == pytest.approx(fleiss_kappa([[3 - sum(c), sum(c)] for c in zip(*matrix)]))
    assert x["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(matrix))


def test_character_unit_reports_unitized_alpha(coded: Gripcode) -> None:
    rows = table(coded, "--coders", "ana,ben", "--unit", "character", "--codes", "x")
    text = "\n\n".join(PARAGRAPHS) + "\n"
    starts = [text.index(p) for p in PARAGRAPHS]
    ana = [(starts[i], starts[i] + len(PARAGRAPHS[i]), "x") for i in (0, 1, 2)]
    ben = [(starts[i], starts[i] + len(PARAGRAPHS[i]), "x") for i in (0, 1, 3)]
    assert rows["x"]["units"] == len(text)
    assert rows["x"]["unitized_alpha"] == pytest.approx(unitized_alpha({"ana": ana, "ben": ben}, len(text), ("value", "x")))
    a = [1 if any(s <= i < e for s, e, _ in ana) else 0 for i in range(len(text))]
    b = [1 if any(s <= i < e for s, e, _ in ben) else 0 for i in range(len(text))]
    assert rows["x"]["cohen_kappa"] == pytest.approx(cohen_kappa(a, b))


def test_disagreements_list_units_with_each_coders_codes(coded: Gripcode) -> None:
    out = coded.ok("agreement", "disagreements", "--coders", "ana,ben", "--unit", "paragraph", "--format", "json").output
    rows = records(json.loads(out))
    assert [(r["unit"], r["ana"], r["ben"], r["differ"]) for r in rows] == [
        ("paragraph 3", "x", "-", "x"), ("paragraph 4", "-", "x", "x")]
    assert rows[0]["text"] == "Third part here."
    bad = coded("agreement", "disagreements", "--coders", "ana,ben", "--unit", "character")
    assert bad.exit_code == 1 and "pick one of those units" in bad.output


def test_bad_requests_are_clear_errors(coded: Gripcode) -> None:
    for args, message in ((["--coders", "ana", "--unit", "paragraph"], "at least two coders"),
                          (["--coders", "ana,zed", "--unit", "paragraph"], "zed"),
                          (["--coders", "ana,ben", "--unit", "page"], "page")):
        result = coded("agreement", *args)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("coders", [2, 3, 4])
def test_closed_forms_match_the_statistics_module(coders: int) -> None:
    rng = random.Random(coders)
    for _ in range(20):
        units = rng.randint(3, 40)
        matrix = [[1 if rng.random() < 0.3 + 0.1 * c else 0 for _ in range(units)] for c in range(coders)]
        if len({v for row in matrix for v in row}) < 2:
            continue
        weights: dict[tuple[int, ...], float] = {}
        for column in zip(*matrix):
            weights[column] = weights.get(column, 0) + 1
        stats = statistics_from_patterns(weights)
        assert stats["percent_agreement"] == pytest.approx(percent_agreement(matrix))
        assert stats["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(matrix), nan_ok=True)
        assert stats["fleiss_kappa"] == pytest.approx(
            fleiss_kappa([[coders - sum(c), sum(c)] for c in zip(*matrix)]), nan_ok=True)
        if coders == 2:
            assert stats["cohen_kappa"] == pytest.approx(cohen_kappa(matrix[0], matrix[1]), nan_ok=True)


def test_coverage_patterns_count_characters() -> None:
    assert coverage_patterns(10, [[(0, 4)], [(2, 6)]]) == {(1, 0): 2, (1, 1): 2, (0, 1): 2, (0, 0): 4}
    assert coverage_patterns(5, [[], []]) == {(0, 0): 5}


def test_cli_units_are_the_library_units() -> None:
    from gripcode.cli.agreement import UNIT_CHOICES as cli_units
    from gripcode.reliability.units import UNIT_CHOICES

    assert cli_units == UNIT_CHOICES
