"""compare, retrieve and the framework matrix build their tables from plain query rows (a Grid), so the command
line renders them without loading pandas. These tests hold them to the pandas implementations they replaced
(tests/reference_analysis.py): the same DataFrame for every measure, grouping, filter and roll-up on a
seeded project with overlapping spans, several coders, suggestions, a document without a case and a code tree,
and the same bytes in every table format."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import subprocess
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

from gripcode.analysis import compare_cases, compare_grid, framework_grid, framework_matrix, project_session
from gripcode.analysis.filters import make_filters
from gripcode.analysis.retrieve import brief, retrieve, retrieve_grid
from gripcode.db.engine import make_engine
from gripcode.export.formats import TABLE_FORMATS
from gripcode.export.grid import Grid, grid_frame, to_grid
from gripcode.export.provenance import Provenance
from gripcode.export.tables import render_table

from conftest import PROGRAM, Gripcode, reset_postgres
from reference_analysis import old_compare_cases, old_framework_matrix, old_retrieve

CODEBOOK = """
codebook: paths
codes:
  - id: policy
    name: Policy
    children:
      - id: quota
        name: Export quota
      - id: subsidy
        name: Subsidy
        children:
          - id: tax-break
            name: Tax break
  - id: risk
    name: Supply risk
  - id: price
    name: "=Price"
"""
CODES = ["policy", "quota", "subsidy", "tax-break", "risk", "price"]
WORDS = "rare earth quota magnet refinery province ministry price licence tailings stockpile turbine".split()


def _text(rng: random.Random) -> str:
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25))) + "." for _ in range(rng.randint(1, 5))]
    return "\n\n".join(paragraphs)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gripcode]:
    folder = tmp_path_factory.mktemp("paths")
    url = os.environ.get("GRIPCODE_TEST_DB", "")
    if url.startswith("postgresql"):
        reset_postgres(url)
    else:
        url = f"sqlite:///{folder / 'project.db'}"
    grip = Gripcode(url)
    grip.ok("init")
    (folder / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(folder / "cb.yaml"))
    for case, region in (("China", "asia"), ("Brazil", "americas"), ("Kazakhstan", "asia")):
        grip.ok("case", "add", case, "--attr", f"region={region}")
    rng = random.Random(2112)
    texts = []
    for i in range(24):
        body = _text(rng)
        texts.append(body)
        (folder / f"d{i}.txt").write_text(body, encoding="utf-8")
        case = ["China", "Brazil", "Kazakhstan", None][i % 4]
        args = ["import", str(folder / f"d{i}.txt"), "--kind", ["interview", "policy", "media"][i % 3],
                "--title", f"=Doc {i}" if i == 5 else f"Doc {i}"]
        grip.ok(*args, *(["--case", case] if case else []))
    rows: dict[tuple[int, str, int, int, str], str] = {}
    for _ in range(320):
        doc = rng.randrange(len(texts))
        start = rng.randrange(len(texts[doc]) - 1)
        end = min(len(texts[doc]), start + rng.randint(1, 90))
        memo = "a note, with a comma" if rng.random() < 0.1 else ""
        rows[(doc + 1, rng.choice(CODES), start, end, rng.choice(["ana", "ben", "chen"]))] = memo
    for doc, code, start, end, coder in rng.sample(sorted(rows), 40):  # the same passage by a second coder
        rows[(doc, code, start, end, "ben" if coder != "ben" else "ana")] = ""
    with (folder / "codings.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["document", "code", "start", "end", "coder", "memo"])
        writer.writerows([*key, memo] for key, memo in rows.items())
    grip.ok("code", "import", str(folder / "codings.csv"))
    engine = make_engine(url)
    with engine.begin() as conn:  # some suggestions and rejections, which count only when asked for
        conn.execute(text("UPDATE codings SET status = 'suggested' WHERE id % 7 = 0"))
        conn.execute(text("UPDATE codings SET status = 'rejected' WHERE id % 11 = 0"))
    engine.dispose()
    yield grip


FILTERS: list[dict[str, Any]] = [
    {},
    {"codes": ["quota", "risk"]},
    {"cases": ["China", "Brazil"]},
    {"kinds": ["interview"]},
    {"coders": ["ben"]},
    {"statuses": ["accepted", "suggested"]},
    {"codes": ["policy"], "coders": ["ana", "chen"]},
]


@pytest.mark.parametrize("criteria", FILTERS, ids=lambda c: ",".join(c) or "all")
@pytest.mark.parametrize("by", ["case", "kind", "language", "attr:region"])
@pytest.mark.parametrize("rollup", [False, True])
def test_compare_gives_the_pandas_implementations_table(project: Gripcode, criteria: dict[str, Any], by: str,
                                                        rollup: bool) -> None:
    measure_sets = [("documents", "share", "codings", "coverage", "per10k"), ("documents",), ("coverage",),
                    ("per10k", "codings")]
    with project_session(project.url) as session:
        for measures in measure_sets:
            new = compare_cases(session, make_filters(**criteria), by=by, measures=measures, rollup=rollup)
            old = old_compare_cases(session, make_filters(**criteria), by=by, measures=measures, rollup=rollup)
            pd.testing.assert_frame_equal(new, old, check_exact=True)
            assert new.to_numpy().sum() > 0 or criteria  # the project has something to compare


@pytest.mark.parametrize("criteria", FILTERS, ids=lambda c: ",".join(c) or "all")
@pytest.mark.parametrize("rollup", [False, True])
def test_retrieve_gives_the_pandas_implementations_table(project: Gripcode, criteria: dict[str, Any],
                                                         rollup: bool) -> None:
    with project_session(project.url) as session:
        for context, limit in ((120, None), (0, None), (7, 5)):
            new = retrieve(session, make_filters(**criteria), context=context, rollup=rollup, limit=limit)
            old = old_retrieve(session, make_filters(**criteria), context=context, rollup=rollup, limit=limit)
            pd.testing.assert_frame_equal(new, old, check_exact=True)
            assert len(new)


@pytest.mark.parametrize("criteria", FILTERS, ids=lambda c: ",".join(c) or "all")
@pytest.mark.parametrize("by", ["case", "kind", "attr:region"])
def test_framework_matrix_gives_the_pandas_implementations_table(project: Gripcode, criteria: dict[str, Any],
                                                                 by: str) -> None:
    with project_session(project.url) as session:
        for quotes, max_chars in ((1, 400), (2, 400), (3, 30)):
            new = framework_matrix(session, make_filters(**criteria), by=by, quotes=quotes, max_chars=max_chars)
            old = old_framework_matrix(session, make_filters(**criteria), by=by, quotes=quotes, max_chars=max_chars)
            pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_tables_with_nothing_in_them_match_too(project: Gripcode) -> None:
    nothing = make_filters(date_from="2999-01-01")
    with project_session(project.url) as session:
        pd.testing.assert_frame_equal(retrieve(session, nothing), old_retrieve(session, nothing))
        pd.testing.assert_frame_equal(framework_matrix(session, nothing), old_framework_matrix(session, nothing))
        new = compare_cases(session, nothing, measures=["documents"])
        pd.testing.assert_frame_equal(new, old_compare_cases(session, nothing, measures=["documents"]))
        # Without groups, the pandas version's column MultiIndex kept the unused measure names as a level.
        new = compare_cases(session, nothing, measures=["share", "coverage"])
        old = old_compare_cases(session, nothing, measures=["share", "coverage"])
        assert new.shape == old.shape == (len(old), 0) and len(old) == 6
        assert new.columns.names == old.columns.names and new.index.equals(old.index)


PROVENANCE = Provenance(what="paths", codebook="paths", database="x",
                        generated_at=dt.datetime(2026, 12, 6, tzinfo=dt.timezone.utc))


def _renderings(table: pd.DataFrame | Grid, index: bool = True) -> dict[str, bytes]:
    return {fmt: render_table(table, fmt, PROVENANCE, caption="Paths", label="tab:paths", index=index)
            for fmt in TABLE_FORMATS if fmt != "xlsx"}


@pytest.mark.parametrize("index", [True, False])
def test_a_grid_renders_exactly_as_its_dataframe(project: Gripcode, index: bool) -> None:
    with project_session(project.url) as session:
        grids = [compare_grid(session), compare_grid(session, measures=["share"], by="kind"),
                 retrieve_grid(session, context=10), framework_grid(session, quotes=2)]
        frames = [old_compare_cases(session), old_compare_cases(session, measures=["share"], by="kind"),
                  old_retrieve(session, context=10), old_framework_matrix(session, quotes=2)]
    for grid, frame in zip(grids, frames, strict=True):
        assert _renderings(grid, index) == _renderings(frame, index)
    terminal = frames[2][["doc_id", "code", "coder", "quote"]].assign(
        quote=frames[2]["quote"].map(lambda q: " ".join(q.split())[:100]))
    assert _renderings(brief(grids[2])) == _renderings(terminal)


def test_a_grid_turns_back_into_its_dataframe() -> None:
    frame = pd.DataFrame({("A", "n"): [1, 2], ("A", "share"): [0.5, float("nan")], ("B", "text"): ["x", None]},
                         index=pd.MultiIndex.from_tuples([("p", 1), ("q", 2)], names=["outer", "inner"]))
    frame.columns.names = ["group", "measure"]
    back = grid_frame(to_grid(frame, index=True))
    assert back.dtypes.tolist() == ["int64", "float64", "object"]
    pd.testing.assert_frame_equal(back, frame.astype({("B", "text"): object}))


def test_the_installed_program_writes_the_same_rows(project: Gripcode) -> None:
    with project_session(project.url) as session:
        expected = {"compare": old_compare_cases(session), "retrieve": old_retrieve(session, context=15),
                    "matrix": old_framework_matrix(session, quotes=1)}
    for command in (["compare"], ["retrieve", "--context", "15"], ["matrix", "--quotes", "1"]):
        wanted = json.loads(render_table(expected[command[0]], "json", PROVENANCE))
        for fmt in ("csv", "json"):
            done = subprocess.run([str(PROGRAM), "--db", project.url, *command, "--format", fmt],
                                  capture_output=True, text=True, check=True)
            if fmt == "json":  # the provenance differs (time, filters); the table must not
                got = json.loads(done.stdout)
                assert (got["columns"], got["rows"]) == (wanted["columns"], wanted["rows"]), command
            else:
                body = [line for line in done.stdout.splitlines() if not line.startswith("#")]
                table = render_table(expected[command[0]], "csv", PROVENANCE).decode()
                assert body == [line for line in table.splitlines() if not line.startswith("#")], command


def test_a_group_named_like_a_count_keeps_its_shares(grip: Gripcode, tmp_path: Path) -> None:
    """With one measure a column's only label is its group: a case called "codings" still holds shares."""
    from conftest import TWO_CODES

    (tmp_path / "cb.yaml").write_text(TWO_CODES.format(name="t"), encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    grip.ok("case", "add", "codings")
    for name in ("a", "b"):
        (tmp_path / f"{name}.txt").write_text(f"Export quotas in {name}.\n", encoding="utf-8")
        grip.ok("import", str(tmp_path / f"{name}.txt"), "--case", "codings")
    grip.ok("code", "add", "1", "price-control", "--unit", "paragraph:1")
    with project_session(grip.url) as session:
        table = compare_cases(session, measures=["share"])
        pd.testing.assert_frame_equal(table, old_compare_cases(session, measures=["share"]))
    assert table.loc["price-control", "codings"] == 0.5
