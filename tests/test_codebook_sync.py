"""Syncing codebook files into a project: plans, versions, renames, merges, retirements, refusals."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Code, CodebookVersion, Coder, Coding, Document, Event, Memo

from conftest import REPO, Gripcode

BASE = """
codebook: demo
codes:
  - id: market
    name: Market control
    definition: Control over trade.
    children:
      - id: quotas
        name: Export quotas
        color: "#c00000"
      - id: prices
        name: Prices
  - id: costs
    name: Environmental costs
"""


def write(tmp_path: Path, text: str, name: str = "cb.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def seed_document(grip: Gripcode, tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("China cut export quotas in 2010. Prices rose sharply.\n\nTailings leaked into rivers.\n")
    grip.ok("import", str(doc), "--kind", "media")


def add_coding(url: str, code: str, start: int, end: int, coder: str = "ana", memo: str | None = None) -> int:
    engine = make_engine(url)
    with transaction(engine) as s:
        doc = s.scalars(select(Document)).one()
        person = s.scalars(select(Coder).where(Coder.name == coder)).first() or Coder(name=coder)
        s.add(person)
        row = Coding(document=doc, code=s.scalars(select(Code).where(Code.slug == code)).one(), coder=person,
                     start=start, end=end, quote=doc.text[start:end], memo=memo)
        s.add(row)
        s.flush()
        coding_id = row.id
    engine.dispose()
    return coding_id


def codings_by_code(url: str) -> dict[str, list[tuple[int, int, str]]]:
    engine = make_engine(url)
    with transaction(engine) as s:
        rows = s.execute(select(Code.slug, Coding.start, Coding.end, Coder.name)
                         .join(Coding.code).join(Coding.coder).order_by(Coding.start)).all()
    engine.dispose()
    out: dict[str, list[tuple[int, int, str]]] = {}
    for slug, start, end, coder in rows:
        out.setdefault(slug, []).append((start, end, coder))
    return out


def scalar(url: str, query):
    engine = make_engine(url)
    with transaction(engine) as s:
        value = s.scalar(query)
    engine.dispose()
    return value


def test_first_sync_builds_the_tree_and_records_a_version(grip: Gripcode, tmp_path: Path) -> None:
    out = grip.ok("codebook", "sync", write(tmp_path, BASE)).output
    assert "added       market" in out and "codebook version 1" in out
    tree = json.loads(grip.ok("codebook", "show", "--format", "json").output)
    assert [(r["id"], r["depth"], r["parent"]) for r in tree] == [
        ("market", 0, None), ("quotas", 1, "market"), ("prices", 1, "market"), ("costs", 0, None)]
    assert tree[1]["color"] == "#C00000"
    engine = make_engine(grip.url)
    with transaction(engine) as s:
        version = s.scalars(select(CodebookVersion)).one()
        assert version.synced_by == "tester" and version.yaml_snapshot == BASE and len(version.content_hash) == 64
        assert version.summary == {"added": 4}
        assert s.scalar(select(func.count()).select_from(Event).where(Event.action == "codebook.synced")) == 1
    engine.dispose()
    again = grip.ok("codebook", "sync", write(tmp_path, BASE)).output
    assert "nothing to do" in again
    assert scalar(grip.url, select(func.count()).select_from(CodebookVersion)) == 1


def test_dry_run_prints_the_plan_and_writes_nothing(grip: Gripcode, tmp_path: Path) -> None:
    out = grip.ok("codebook", "sync", "--dry-run", write(tmp_path, BASE)).output
    assert "added       quotas" in out and "Dry run" in out
    assert scalar(grip.url, select(func.count()).select_from(Code)) == 0
    assert scalar(grip.url, select(func.count()).select_from(CodebookVersion)) == 0


def test_rename_keeps_the_codings(grip: Gripcode, tmp_path: Path) -> None:
    seed_document(grip, tmp_path)
    grip.ok("codebook", "sync", write(tmp_path, BASE))
    add_coding(grip.url, "quotas", 0, 32)
    renamed = BASE.replace("id: quotas", "id: export-restrictions\n        renamed_from: quotas")
    out = grip.ok("codebook", "sync", write(tmp_path, renamed)).output
    assert "renamed     export-restrictions  (from quotas, with 1 coding)" in out
    assert codings_by_code(grip.url) == {"export-restrictions": [(0, 32, "ana")]}
    # The old id keeps listing in renamed_from without anything happening on the next sync.
    assert "nothing to do" in grip.ok("codebook", "sync", write(tmp_path, renamed)).output


def test_merge_moves_codings_and_memos_and_combines_identical_ones(grip: Gripcode, tmp_path: Path) -> None:
    seed_document(grip, tmp_path)
    grip.ok("codebook", "sync", write(tmp_path, BASE))
    add_coding(grip.url, "prices", 33, 53, memo="price spike")
    add_coding(grip.url, "prices", 0, 32, coder="ben")
    add_coding(grip.url, "market", 33, 53, memo="control")  # same coder and span as the first: combined
    engine = make_engine(grip.url)
    with transaction(engine) as s:
        prices = s.scalars(select(Code).where(Code.slug == "prices")).one()
        s.add(Memo(target="code", code_id=prices.id, text="on prices",
                   coder_id=s.scalars(select(Coder)).first().id))
    engine.dispose()
    merged = BASE.replace("name: Prices", "name: Prices\n        merged_into: market")
    out = grip.ok("codebook", "sync", write(tmp_path, merged)).output
    assert "merged      prices  (into market, moving 2 codings and 1 memo)" in out
    assert "2 coding(s) moved" not in out and "1 coding(s) moved, 1 combined" in out
    assert codings_by_code(grip.url) == {"market": [(0, 32, "ben"), (33, 53, "ana")]}
    engine = make_engine(grip.url)
    with transaction(engine) as s:
        market = s.scalars(select(Code).where(Code.slug == "market")).one()
        prices = s.scalars(select(Code).where(Code.slug == "prices")).one()
        assert prices.status == "merged" and prices.merged_into_id == market.id
        kept = s.scalars(select(Coding).where(Coding.start == 33)).one()
        assert kept.memo == "control\n\nprice spike"
        assert s.scalars(select(Memo)).one().code_id == market.id
    engine.dispose()


def test_retire_keeps_codings_and_reactivation_is_reported(grip: Gripcode, tmp_path: Path) -> None:
    seed_document(grip, tmp_path)
    grip.ok("codebook", "sync", write(tmp_path, BASE))
    add_coding(grip.url, "costs", 55, 82)
    retired = BASE.replace("name: Environmental costs", "name: Environmental costs\n    retired: true")
    assert "retired     costs  (keeps 1 coding)" in grip.ok("codebook", "sync", write(tmp_path, retired)).output
    assert codings_by_code(grip.url) == {"costs": [(55, 82, "ana")]}
    tree = json.loads(grip.ok("codebook", "show", "--format", "json", "--active").output)
    assert "costs" not in [r["id"] for r in tree]
    assert "reactivated costs" in grip.ok("codebook", "sync", write(tmp_path, BASE)).output


def test_removing_a_coded_code_is_refused_and_changes_nothing(grip: Gripcode, tmp_path: Path) -> None:
    seed_document(grip, tmp_path)
    grip.ok("codebook", "sync", write(tmp_path, BASE))
    add_coding(grip.url, "costs", 55, 82)
    add_coding(grip.url, "costs", 0, 10, coder="ben")
    removed = BASE.split("  - id: costs")[0].replace("name: Prices", "name: Price levels")
    result = grip("codebook", "sync", write(tmp_path, removed))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Error:" in result.output and "costs has 2 codings" in result.output
    assert scalar(grip.url, select(Code.name).where(Code.slug == "prices")) == "Prices"
    assert scalar(grip.url, select(func.count()).select_from(CodebookVersion)) == 1


def test_uncoded_code_removed_changed_and_moved_are_reported(grip: Gripcode, tmp_path: Path) -> None:
    grip.ok("codebook", "sync", write(tmp_path, BASE))
    new = """
codebook: demo
codes:
  - id: market
    name: Market control
    definition: Control over trade and prices.
    children:
      - id: quotas
        name: Export quotas
        color: "#c00000"
  - id: costs
    name: Environmental costs
    children:
      - id: tailings
        name: Tailings
"""
    out = grip.ok("codebook", "sync", write(tmp_path, new)).output
    assert "added       tailings" in out
    assert "changed     market  (definition)" in out
    assert "removed     prices" in out
    assert sorted(r["id"] for r in json.loads(grip.ok("codebook", "show", "--format", "json").output)) == [
        "costs", "market", "quotas", "tailings"]
    moved = new.replace("    children:\n      - id: tailings\n        name: Tailings\n", "") + (
        "  - id: tailings\n    name: Tailings\n    parent: market\n")
    assert "moved       tailings  (from costs to market)" in grip.ok("codebook", "sync", write(tmp_path, moved)).output
    history = json.loads(grip.ok("codebook", "history", "--format", "json").output)
    assert [h["version"] for h in history] == [1, 2, 3]
    assert history[1]["changes"] == "1 added, 1 changed, 1 removed"


def test_diff_between_files_and_against_the_project(grip: Gripcode, tmp_path: Path) -> None:
    a = write(tmp_path, BASE, "a.yaml")
    b = write(tmp_path, BASE.replace("id: prices", "id: price-levels\n        renamed_from: prices")
              .replace("Control over trade.", "Control over trade and prices."), "b.yaml")
    out = grip.ok("codebook", "diff", a, b).output
    # Two files hold no codings, so the plan does not count any.
    assert "renamed     price-levels  (from prices)\n" in out and "coding" not in out
    assert "changed     market  (definition)" in out
    assert grip.ok("codebook", "diff", a, a).output.strip() == "No differences."
    c = write(tmp_path, BASE.replace("name: Prices", "name: Prices\n        merged_into: quotas")
              .replace("name: Environmental costs", "name: Environmental costs\n    retired: true"), "c.yaml")
    out = grip.ok("codebook", "diff", a, c).output
    assert "merged      prices  (into quotas)\n" in out and "retired     costs\n" in out and "coding" not in out
    # Against the project: everything is new until it is synced.
    assert "added       market" in grip.ok("codebook", "diff", a).output
    grip.ok("codebook", "sync", a)
    assert grip.ok("codebook", "diff", a).output.strip() == "No differences."
    # The project's codes are counted, even when none hang on them.
    assert "renamed     price-levels  (from prices, with 0 codings)" in grip.ok("codebook", "diff", b).output
    out = grip.ok("codebook", "diff", c).output
    assert "merged      prices  (into quotas, moving 0 codings)" in out and "retired     costs  (keeps 0 codings)" in out


def test_show_tree_and_markdown(grip: Gripcode, tmp_path: Path) -> None:
    seed_document(grip, tmp_path)
    grip.ok("codebook", "sync", write(tmp_path, BASE))
    add_coding(grip.url, "quotas", 0, 32)
    tree = grip.ok("codebook", "show").output.splitlines()
    assert tree[0].startswith("market ") and tree[1].startswith("  quotas ") and " 1  Export quotas" in tree[1]
    markdown = grip.ok("codebook", "show", "--format", "markdown").output
    assert markdown.startswith("# demo\n")
    assert "  - **Export quotas** (`quotas`, 1 codings)" in markdown


def test_invalid_codebook_is_not_synced(grip: Gripcode, tmp_path: Path) -> None:
    result = grip("codebook", "sync", write(tmp_path, BASE.replace('"#c00000"', "blue")))
    assert result.exit_code == 1 and "bad colour" in result.output and "Traceback" not in result.output
    assert scalar(grip.url, select(func.count()).select_from(Code)) == 0
    missing = grip("codebook", "sync", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_study_codebook_syncs(grip: Gripcode) -> None:
    out = grip.ok("codebook", "sync", str(REPO / "codebooks" / "grip-arm.yaml")).output
    assert "codebook version 1" in out
    assert scalar(grip.url, select(func.count()).select_from(Code)) >= 20
