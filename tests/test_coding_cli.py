"""Manual coding from the command line: code add/rm/edit/import/session, codings list, show --codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coder, Coding, Event, Memo

from conftest import Gripcode

CODEBOOK = """
codebook: demo
codes:
  - id: market
    name: Market control
    color: "#C00000"
    children:
      - id: quotas
        name: Export quotas
  - id: costs
    name: Environmental costs
  - id: old
    name: Old code
    merged_into: market
  - id: gone
    name: Gone
    retired: true
"""

TEXT = ("China cut export quotas in 2010.  Prices rose\nsharply after the quotas.\n\n"
        "Tailings leaked into rivers near Baotou.\n\nExport quotas were later replaced by a licence system.\n")


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    (tmp_path / "quotas.txt").write_text(TEXT, encoding="utf-8")
    grip.ok("import", str(tmp_path / "quotas.txt"), "--kind", "media", "--title", "Quota story")
    return grip


def rows(grip: Gripcode, *args: str) -> list[dict]:
    return json.loads(grip.ok("codings", "list", "--format", "json", *args).output)


def count(url: str, model, *where) -> int:
    engine = make_engine(url)
    with transaction(engine) as s:
        n = s.scalar(select(func.count()).select_from(model).where(*where))
    engine.dispose()
    return n


def test_add_by_quote_records_quote_coder_and_event(project: Gripcode) -> None:
    out = project.ok("code", "add", "Quota story", "quotas", "--quote", "cut export quotas", "--memo", "2010 cut").output
    assert "found by quote" in out
    [row] = rows(project)
    assert {k: row[k] for k in ("document", "code", "coder", "start", "end", "quote", "origin", "status", "memo")} == {
        "document": "Quota story", "code": "quotas", "coder": "tester", "start": 6, "end": 23,
        "quote": "cut export quotas", "origin": "manual", "status": "accepted", "memo": "2010 cut"}
    assert count(project.url, Coder, Coder.name == "tester") == 1
    assert count(project.url, Event, Event.action == "coding.applied") == 1


def test_quote_found_ignoring_whitespace_is_reported(project: Gripcode) -> None:
    out = project.ok("code", "add", "1", "market", "--quote", "2010. Prices rose sharply").output
    assert "ignoring whitespace" in out
    [row] = rows(project)
    assert row["quote"] == "2010.  Prices rose\nsharply"


def test_ambiguous_quote_lists_occurrences_and_occurrence_picks_one(project: Gripcode) -> None:
    result = project("code", "add", "1", "quotas", "--quote", "quotas")
    assert result.exit_code == 1 and "--occurrence" in result.output
    assert "paragraph 1" in result.output and "Traceback" not in result.output
    assert count(project.url, Coding) == 0
    project.ok("code", "add", "1", "quotas", "--quote", "quotas", "--occurrence", "2")
    assert rows(project)[0]["start"] == TEXT.index("quotas", TEXT.index("quotas") + 1)
    too_far = project("code", "add", "1", "quotas", "--quote", "quotas", "--occurrence", "9")
    assert too_far.exit_code == 1 and "occurs" in too_far.output


def test_quote_not_found_shows_the_closest_passage(project: Gripcode) -> None:
    result = project("code", "add", "1", "costs", "--quote", "Tailings leaked into the rivers near Baotou")
    assert result.exit_code == 1 and "Closest passage" in result.output and "Tailings leaked into rivers" in result.output


def test_span_and_unit_placement_and_their_errors(project: Gripcode) -> None:
    project.ok("code", "add", "1", "costs", "--unit", "paragraph:2")
    project.ok("code", "add", "1", "market", "--span", "0:5")
    placed = {(r["code"], r["quote"]) for r in rows(project)}
    assert placed == {("costs", "Tailings leaked into rivers near Baotou."), ("market", "China")}
    for args, message in (
        (["--unit", "paragraph:9"], "has no paragraph 9"),
        (["--span", "5:2"], ""),
        (["--span", "0:5", "--quote", "China"], "exactly one of"),
        ([], "exactly one of"),
    ):
        result = project("code", "add", "1", "market", *args)
        assert result.exit_code == 1 and result.output.startswith("Error:") and message in result.output, args
    assert count(project.url, Coding) == 2


def test_duplicate_and_inactive_codes_are_refused(project: Gripcode) -> None:
    project.ok("code", "add", "1", "market", "--span", "0:5")
    again = project("code", "add", "1", "market", "--span", "0:5")
    assert again.exit_code == 1 and "already coded" in again.output
    merged = project("code", "add", "1", "old", "--span", "0:5")
    assert merged.exit_code == 1 and "use market instead" in merged.output
    retired = project("code", "add", "1", "gone", "--span", "0:5")
    assert retired.exit_code == 1 and "retired" in retired.output
    unknown = project("code", "add", "1", "nope", "--span", "0:5")
    assert unknown.exit_code == 1 and "no code 'nope'" in unknown.output


def test_edit_and_remove(project: Gripcode) -> None:
    project.ok("code", "add", "1", "market", "--quote", "China")
    [row] = rows(project)
    out = project.ok("code", "edit", str(row["id"]), "--code", "quotas", "--quote", "export quotas", "--occurrence", "1").output
    assert "code market -> quotas" in out and "span 0:5 -> 10:23" in out
    [edited] = rows(project)
    assert (edited["code"], edited["quote"]) == ("quotas", "export quotas")
    assert project("code", "edit", str(row["id"])).exit_code == 1
    project.ok("code", "rm", str(row["id"]))
    assert rows(project) == []
    assert project("code", "rm", "999").exit_code == 1
    assert count(project.url, Event, Event.action == "coding.removed") == 1


def test_list_filters(project: Gripcode) -> None:
    project.ok("code", "add", "1", "market", "--span", "0:5")
    Gripcode(project.url, coder="ben").ok("code", "add", "1", "costs", "--unit", "paragraph:2")
    assert [r["code"] for r in rows(project, "--coder", "ben")] == ["costs"]
    assert [r["coder"] for r in rows(project, "--code", "market")] == ["tester"]
    assert rows(project, "--status", "suggested") == []
    assert len(rows(project, "--doc", "Quota story", "--origin", "manual")) == 2
    csv_out = project.ok("codings", "list", "--format", "csv").output.splitlines()
    assert csv_out[0].startswith("id,document,doc_id,case,code,coder,start,end,quote,origin,status")


def test_csv_import_is_all_or_nothing(project: Gripcode, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("document,code,quote,start,end,coder,memo\n"
                    "Quota story,market,China,,,ana,first\n"
                    "1,costs,,55,95,ben,\n"
                    "1,quotas,,,,ana,\n", encoding="utf-8")
    result = project("code", "import", str(good))
    assert result.exit_code == 1 and "good.csv:4" in result.output and "exactly one of" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("document,code,quote,coder\n"
                   "1,market,China,ana\n"
                   "99,market,China,ana\n"
                   "1,nope,China,ana\n"
                   "1,quotas,quotas,ana\n"
                   "1,market,China,ana\n", encoding="utf-8")
    result = project("code", "import", str(bad))
    assert result.exit_code == 1
    for line in ("bad.csv:3", "bad.csv:4", "bad.csv:5", "bad.csv:6"):
        assert line in result.output
    assert "bad.csv:2:" not in result.output
    assert count(project.url, Coding) == 0
    good.write_text("document,code,quote,start,end,coder,memo\n"
                    "Quota story,market,China,,,ana,first\n"
                    "1,costs,,55,95,ben,\n", encoding="utf-8")
    assert "Imported 2 coding(s) by ana, ben" in project.ok("code", "import", str(good)).output
    assert {(r["coder"], r["quote"]) for r in rows(project)} == {("ana", "China"), ("ben", TEXT[55:95])}
    assert "already present, skipped" in project.ok("code", "import", str(good)).output
    assert count(project.url, Coding) == 2


def test_session_applies_memos_undoes_and_saves_each_step(project: Gripcode) -> None:
    script = "\n".join(["market quotas", "nope", "m about tailings", "costs", "b", "u", "costs", "q"]) + "\n"
    out = project.ok("code", "session", "1", "--unit", "paragraph", input=script).output
    assert "paragraph 1/3 of document 1" in out
    assert "Saved market, quotas on paragraph 1." in out
    assert "Unknown or inactive code(s): nope" in out
    assert "Memo saved on paragraph 2." in out
    assert "Undone: 1 coding(s) on paragraph 2." in out
    final = {(r["code"], r["quote"][:8]) for r in rows(project)}
    assert final == {("market", "China cu"), ("quotas", "China cu"), ("costs", "Tailings")}
    assert count(project.url, Memo, Memo.title == "paragraph 2") == 1


def test_session_input_ending_early_keeps_what_was_saved(project: Gripcode) -> None:
    project.ok("code", "session", "1", "--from", "2", input="costs\n")
    assert [r["code"] for r in rows(project)] == ["costs"]
    result = project("code", "session", "1", "--from", "7", input="q\n")
    assert result.exit_code == 1 and "outside 1..3" in result.output


def test_show_codes_and_html(project: Gripcode, tmp_path: Path) -> None:
    project.ok("code", "add", "1", "market", "--quote", "China", "--memo", "the actor")
    project.ok("memo", "add", "--doc", "1", "A note on the <document>")
    plain = project.ok("show", "1", "--codes", "--no-color").output
    assert "⟦China⟧{market}" in plain and "codes: market (tester)" in plain
    coloured = project.ok("show", "1", "--codes", "--color").output
    assert "\x1b[48;2;192;0;0m" in coloured
    page = tmp_path / "doc.html"
    assert "1 codings, 1 memos" in project.ok("show", "1", "--format", "html", "-o", str(page)).output
    html = page.read_text(encoding="utf-8")
    assert "<mark" in html and "Market control" in html and "A note on the &lt;document&gt;" in html
    assert "http://" not in html and "https://" not in html
    assert project("show", "1", "--format", "html").exit_code == 1
