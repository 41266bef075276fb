"""Team work: stable identities, coders' copies (copy-for) and merges, on SQLite and on GRIPCODE_TEST_DB
(the team project on PostgreSQL; copies are always SQLite files)."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from conftest import PROGRAM, Gripcode
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Case, Code, Coder, Coding, Document, Memo, TeamTombstone

CODEBOOK = "codebook: t\ncodes:\n  - id: quotas\n    name: Quotas\n  - id: prices\n    name: Prices\n"
TEXT_A = "Export quotas were cut in 2010.\n\nPrices rose sharply after that.\n"
TEXT_B = "Second text about prices and quotas.\n"


@pytest.fixture
def team(grip: Gripcode, tmp_path: Path) -> Gripcode:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    (tmp_path / "a.txt").write_text(TEXT_A, encoding="utf-8")
    (tmp_path / "b.txt").write_text(TEXT_B, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    grip.ok("case", "add", "China")
    grip.ok("import", str(tmp_path / "a.txt"), "--case", "China")
    grip.ok("import", str(tmp_path / "b.txt"))
    Gripcode(grip.url, coder="lead").ok("code", "add", "1", "quotas", "--quote", "Export quotas")
    return grip


def as_coder(url: str | Path, coder: str) -> Gripcode:
    return Gripcode(str(url), coder=coder)


def codings(url: str) -> set[tuple[str, str, str, int, int, str, str | None]]:
    """Every coding by what it says (document text fingerprint, code, coder, span, status, memo)."""
    engine = make_engine(url if "://" in url else f"sqlite:///{url}")
    try:
        with transaction(engine, write=False) as s:
            rows = s.execute(select(Document.sha256, Code.slug, Coder.name, Coding.start, Coding.end,
                                    Coding.status, Coding.memo).join(Document, Coding.document_id == Document.id)
                             .join(Code, Coding.code_id == Code.id).join(Coder, Coding.coder_id == Coder.id)).all()
    finally:
        engine.dispose()
    return {tuple(r) for r in rows}  # type: ignore[misc]


def count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with transaction(engine, write=False) as s:
            return s.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def max_memo_id(url: str) -> int:
    engine = make_engine(url)
    try:
        with transaction(engine, write=False) as s:
            return s.scalar(select(func.max(Memo.id))) or 0
    finally:
        engine.dispose()


def test_every_row_has_a_guid_from_creation_and_derived_ones_agree_across_projects(team: Gripcode,
                                                                                     tmp_path: Path) -> None:
    team.ok("memo", "add", "A note.", "--project")
    engine = make_engine(team.url)
    with transaction(engine, write=False) as s:
        for model in (Case, Document, Code, Coder, Coding, Memo):
            guids = s.scalars(select(model.refi_guid)).all()
            assert guids and all(g and len(g) == 36 for g in guids), model
            assert len(set(guids)) == len(guids)
        ours = dict(s.execute(select(Code.slug, Code.refi_guid)).tuples().all())
    engine.dispose()
    # another project that syncs the same codebook gives its codes the same identities
    other = as_coder(f"sqlite:///{tmp_path / 'other.db'}", "x")
    other.ok("init")
    other.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    engine = make_engine(other.url)
    with transaction(engine, write=False) as s:
        assert dict(s.execute(select(Code.slug, Code.refi_guid)).tuples().all()) == ours
    engine.dispose()


def test_a_coding_s_version_changes_with_what_it_says_and_removals_leave_a_tombstone(team: Gripcode) -> None:
    engine = make_engine(team.url)

    def version() -> str:
        with transaction(engine, write=False) as s:
            return s.scalar(select(Coding.version).where(Coding.id == 1))  # type: ignore[return-value]

    first = version()
    team.ok("code", "edit", "1", "--memo", "why")
    second = version()
    assert second != first
    team.ok("code", "rm", "1")
    with transaction(engine, write=False) as s:
        stone = s.execute(select(TeamTombstone.entity, TeamTombstone.version)).one()
        history = s.execute(text("SELECT version FROM team_history")).scalars().all()
    engine.dispose()
    assert tuple(stone) == ("coding", second) and first in history


def test_copy_for_writes_a_project_with_the_same_identities_and_refuses_an_existing_file(team: Gripcode,
                                                                                          tmp_path: Path) -> None:
    out = tmp_path / "ana.db"
    result = team.ok("copy-for", "ana", str(out), "--case", "China")
    assert "1 document(s)" in result.output and "1 coding(s)" in result.output
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM units").fetchone()[0] > 0
        copied = conn.execute("SELECT refi_guid FROM codings").fetchall()
        info = dict(conn.execute("SELECT key, value FROM project_info").fetchall())
    assert '"coder": "ana"' in info["copied_from"]
    engine = make_engine(team.url)
    with transaction(engine, write=False) as s:
        assert copied == [(s.scalar(select(Coding.refi_guid)),)]
    engine.dispose()
    as_coder(out, "ana").ok("check")
    again = team("copy-for", "ana", str(out))
    assert again.exit_code == 1 and "exists already" in again.output
    blind = team.ok("copy-for", "ben", str(tmp_path / "ben.db"), "--blind")
    assert "0 coding(s)" in blind.output
    assert "team.copy_made" in team.ok("log").output


def test_merge_brings_new_edited_and_removed_codings_memos_and_reviews_and_is_idempotent(team: Gripcode,
                                                                                         tmp_path: Path) -> None:
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out))
    ana = as_coder(out, "ana")
    ana.ok("code", "add", "1", "prices", "--quote", "Prices rose")
    ana.ok("code", "add", "2", "quotas", "--quote", "quotas")
    ana.ok("code", "edit", "1", "--span", "0:6")  # the lead's coding, edited in the copy
    ana.ok("memo", "add", "Check the year.", "--doc", "1")
    ana.ok("code", "rm", "3")
    before = codings(team.url)
    dry = team.ok("merge", str(out), "--dry-run")
    assert "dry run, nothing was written" in dry.output
    assert "codings added 1" in dry.output and "codings edited 1" in dry.output and "memos added 1" in dry.output
    assert "~ coding" in dry.output and "span 0:13 -> 0:6" in dry.output
    assert codings(team.url) == before
    merged = team.ok("merge", str(out))
    assert "codings added 1" in merged.output
    assert codings(team.url) == codings(str(out))
    assert count(team.url, Memo) == 1
    again = team.ok("merge", str(out))
    assert "nothing new" in again.output
    assert codings(team.url) == codings(str(out))
    # removed in the copy after the first merge: removed here on the next
    ana.ok("code", "rm", "2")
    assert "codings removed 1" in team.ok("merge", str(out)).output
    assert codings(team.url) == codings(str(out))
    # a memo removed in the copy is removed here; one removed here is not brought back
    ana.ok("memo", "rm", "1")
    assert "memos removed 1" in team.ok("merge", str(out)).output and count(team.url, Memo) == 0
    team.ok("memo", "add", "The lead's note.", "--project")
    team.ok("copy-for", "dee", str(tmp_path / "dee.db"))
    team.ok("memo", "rm", str(max_memo_id(team.url)))
    assert "nothing new" in team.ok("merge", str(tmp_path / "dee.db")).output and count(team.url, Memo) == 0
    log = team.ok("log", "--action", "team.merged").output
    assert log.count("team.merged") == 5 and "source=" in log and "copied_from=" in log


def test_a_coding_the_copy_never_had_is_not_removed_and_one_removed_here_stays_removed(team: Gripcode,
                                                                                        tmp_path: Path) -> None:
    out = tmp_path / "ben.db"
    team.ok("copy-for", "ben", str(out), "--blind")
    lead = as_coder(team.url, "lead")
    lead.ok("code", "add", "2", "prices", "--quote", "prices")
    assert "nothing new" in team.ok("merge", str(out)).output
    assert count(team.url, Coding) == 2
    full = tmp_path / "full.db"
    team.ok("copy-for", "cy", str(full))
    lead.ok("code", "rm", "1")
    assert "nothing new" in team.ok("merge", str(full)).output
    assert count(team.url, Coding) == 1


def test_the_same_coding_changed_in_both_is_a_conflict_left_as_it_is_here(team: Gripcode, tmp_path: Path) -> None:
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out))
    as_coder(out, "ana").ok("code", "edit", "1", "--memo", "ana's reading")
    team.ok("code", "edit", "1", "--memo", "the lead's reading")
    result = team.ok("merge", str(out))
    assert "changed both here and in ana.db" in result.output and "1 conflict(s)" in result.output
    assert ("the lead's reading",) in {(c[6],) for c in codings(team.url)}
    # removed in the copy, changed here: a conflict too
    as_coder(out, "ana").ok("code", "rm", "1")
    assert "was removed in ana.db and changed here" in team.ok("merge", str(out)).output
    assert count(team.url, Coding) == 1


def test_merge_refuses_a_codebook_the_project_does_not_have_and_names_renames(team: Gripcode,
                                                                               tmp_path: Path) -> None:
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out))
    (tmp_path / "cb2.yaml").write_text(CODEBOOK.replace("name: Quotas", "name: Export quotas"), encoding="utf-8")
    (tmp_path / "cb3.yaml").write_text(CODEBOOK.replace("name: Quotas", "name: Quota policy"), encoding="utf-8")
    as_coder(out, "ana").ok("codebook", "sync", str(tmp_path / "cb2.yaml"))
    as_coder(out, "ana").ok("code", "add", "2", "quotas", "--quote", "quotas")
    team.ok("codebook", "sync", str(tmp_path / "cb3.yaml"))
    refused = team("merge", str(out))
    assert refused.exit_code == 1
    assert "Error:" in refused.output and "gripcode codebook sync FILE" in refused.output
    assert "code 'quotas' is named 'Quota policy' here and 'Export quotas' in ana.db" in refused.output
    assert count(team.url, Coding) == 1
    as_coder(out, "ana").ok("codebook", "sync", str(tmp_path / "cb3.yaml"))
    assert "codings added 1" in team.ok("merge", str(out)).output


def test_merge_brings_new_documents_deduplicated_by_text(team: Gripcode, tmp_path: Path) -> None:
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out), "--docs", "1")
    ana = as_coder(out, "ana")
    (tmp_path / "c.txt").write_text("A third text on quotas.\n", encoding="utf-8")
    ana.ok("import", str(tmp_path / "c.txt"))
    ana.ok("import", str(tmp_path / "b.txt"))  # the project has this text already
    ana.ok("code", "add", "c", "quotas", "--quote", "quotas")
    ana.ok("code", "add", "b", "prices", "--quote", "prices")
    dry = team.ok("merge", str(out), "--dry-run")
    assert "documents added 1" in dry.output and "codings added 2" in dry.output
    team.ok("merge", str(out))
    assert count(team.url, Document) == 3
    assert codings(team.url) == codings(str(out)) | {c for c in codings(team.url) if c[0] not in
                                                       {x[0] for x in codings(str(out))}}
    team.ok("check")


def test_a_project_exported_to_qdpx_and_merged_back_is_recognised_by_identity(team: Gripcode,
                                                                              tmp_path: Path) -> None:
    team.ok("export", "qdpx", str(tmp_path / "p.qdpx"))
    result = team.ok("merge", str(tmp_path / "p.qdpx"))
    assert "codings added" not in result.output and "documents added" not in result.output
    assert count(team.url, Coding) == 1


@pytest.mark.parametrize("content, message", [
    (b"not a database at all", "is not a gripcode project"),
    (b"PK\x03\x04broken", ""),
])
def test_merge_of_bad_input_is_an_error(team: Gripcode, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / ("bad.db" if message else "bad.qdpx")
    path.write_bytes(content)
    result = team("merge", str(path))
    assert result.exit_code == 1 and result.output.startswith("Error: ") and message in result.output
    missing = team("merge", str(tmp_path / "none.db"))
    assert missing.exit_code == 1 and "there is no file" in missing.output
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    assert "not a gripcode project" in team("merge", str(empty)).output
    newer = tmp_path / "newer.db"
    team.ok("copy-for", "zed", str(newer))
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert "a newer gripcode made" in team("merge", str(newer)).output


def test_copy_for_and_merge_through_the_installed_program(team: Gripcode, tmp_path: Path) -> None:
    def run(*args: str, db: str, coder: str = "lead") -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(PROGRAM), "--db", db, "--coder", coder, *args], capture_output=True, text=True,
                              timeout=300)

    out = tmp_path / "ana.db"
    made = run("copy-for", "ana", str(out), "--blind", db=team.url)
    assert made.returncode == 0, made.stderr
    assert run("code", "add", "2", "prices", "--quote", "prices", db=str(out), coder="ana").returncode == 0
    dry = run("merge", str(out), "--dry-run", db=team.url)
    assert dry.returncode == 0 and "+ coding" in dry.stdout and "Would change: codings added 1" in dry.stdout
    done = run("merge", str(out), db=team.url)
    assert done.returncode == 0 and "Merged: codings added 1" in done.stdout
    bad = run("merge", str(tmp_path / "missing.db"), db=team.url)
    assert bad.returncode == 1 and bad.stderr.startswith("Error: ") and "Traceback" not in bad.stderr
    exists = run("copy-for", "ana", str(out), db=team.url)
    assert exists.returncode == 1 and "exists already" in exists.stderr


# ------------------------------------------------------------------------------------ review findings


def in_copy(path: Path, work: "Any") -> Any:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with transaction(engine) as s:
            return work(s)
    finally:
        engine.dispose()


def test_an_undone_removal_clears_its_tombstone_and_no_merge_removes_the_coding(team: Gripcode,
                                                                                tmp_path: Path) -> None:
    from gripcode.coding.service import remove_coding
    from gripcode.coding.undo import copy_coding, restore_coding

    team.ok("memo", "add", "The lead's memo.", "--coding", "1")
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out))

    def remove_and_undo(s: Any) -> None:
        kept = copy_coding(s, 1)
        remove_coding(s, 1, actor="ana")
        restore_coding(s, kept, actor="ana")

    in_copy(out, remove_and_undo)
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT count(*) FROM team_tombstones").fetchone() == (0,)
    merged = team.ok("merge", str(out))
    assert "removed" not in merged.output
    assert count(team.url, Coding) == 1 and count(team.url, Memo) == 1
    # and the other way: the project undoes a removal, then the project is merged into a copy
    other = tmp_path / "ben.db"
    team.ok("copy-for", "ben", str(other))
    engine = make_engine(team.url)
    with transaction(engine) as s:
        coding_id = s.scalar(select(Coding.id))
        kept = copy_coding(s, coding_id)  # type: ignore[arg-type]
        remove_coding(s, coding_id, actor="lead")  # type: ignore[arg-type]
        restore_coding(s, kept, actor="lead")
    engine.dispose()
    project = tmp_path / "lead.db"
    team.ok("copy-for", "lead", str(project))  # the project as a file to merge into ben's copy
    as_coder(other, "ben").ok("merge", str(project))
    assert count(f"sqlite:///{other}", Coding) == 1 and count(f"sqlite:///{other}", Memo) == 1


def test_a_tombstone_of_a_coding_live_in_the_source_is_ignored(team: Gripcode, tmp_path: Path) -> None:
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out))
    with sqlite3.connect(out) as conn:  # a stale tombstone beside the live coding (made before the trigger)
        guid, version = conn.execute("SELECT refi_guid, version FROM codings").fetchone()
        conn.execute("INSERT INTO team_tombstones (entity, guid, version, removed_at) VALUES "
                     "('coding', ?, ?, '2026-01-01 00:00:00')", (guid, version))
    assert "nothing new" in team.ok("merge", str(out)).output
    assert count(team.url, Coding) == 1


def test_the_memo_of_a_coding_a_conflict_keeps_is_kept(team: Gripcode, tmp_path: Path) -> None:
    team.ok("memo", "add", "The lead's long memo.", "--coding", "1")
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out))
    as_coder(out, "ana").ok("code", "rm", "1")
    team.ok("code", "edit", "1", "--span", "0:20")
    merged = team.ok("merge", str(out))
    assert "removed in ana.db and changed here; kept here" in merged.output
    assert "kept here with the coding" in merged.output and "memos removed" not in merged.output
    assert count(team.url, Coding) == 1 and count(team.url, Memo) == 1


def test_a_coding_already_here_is_linked_memos_edits_and_removal_follow_it(team: Gripcode,
                                                                           tmp_path: Path) -> None:
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out), "--blind")
    as_coder(team.url, "ana").ok("code", "add", "1", "quotas", "--quote", "Export quotas")
    ana = as_coder(out, "ana")
    ana.ok("code", "add", "1", "quotas", "--quote", "Export quotas")
    ana.ok("memo", "add", "Ana's memo.", "--coding", "1")
    dry = team.ok("merge", str(out), "--dry-run")
    assert "codings already here 1" in dry.output and "memos added 1" in dry.output
    merged = team.ok("merge", str(out))
    assert "codings already here 1" in merged.output and "memos added 1" in merged.output
    assert count(team.url, Memo) == 1 and count(team.url, Coding) == 2
    assert "nothing new" in team.ok("merge", str(out)).output
    ana.ok("code", "edit", "1", "--span", "0:20")
    edited = team.ok("merge", str(out))
    assert "codings edited 1" in edited.output and "codings added" not in edited.output
    assert count(team.url, Coding) == 2
    assert ("ana", 0, 20) in {(c[2], c[3], c[4]) for c in codings(team.url)}
    ana.ok("code", "rm", "1")
    assert "codings removed 1" in team.ok("merge", str(out)).output
    assert count(team.url, Coding) == 1 and count(team.url, Memo) == 0


def test_codings_on_a_code_merged_away_here_go_to_the_code_that_took_its_codings(team: Gripcode,
                                                                                 tmp_path: Path) -> None:
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out), "--blind")
    ana = as_coder(out, "ana")
    ana.ok("code", "add", "2", "prices", "--quote", "prices")
    ana.ok("code", "add", "1", "prices", "--quote", "Export quotas")
    as_coder(team.url, "ana").ok("code", "add", "1", "quotas", "--quote", "Export quotas")
    (tmp_path / "cb2.yaml").write_text(
        CODEBOOK + "    merged_into: quotas\n", encoding="utf-8")
    synced = team("codebook", "sync", str(tmp_path / "cb2.yaml"))
    assert synced.exit_code == 0, synced.output
    merged = team.ok("merge", str(out))
    assert "codings added 1" in merged.output and "codings combined 1" in merged.output
    assert {c[1] for c in codings(team.url)} == {"quotas"}


def test_a_project_exported_to_qdpx_merges_back_without_conflicts_and_takes_edits_made_elsewhere(
        team: Gripcode, tmp_path: Path) -> None:
    team.ok("code", "edit", "1", "--memo", "why")
    team.ok("export", "qdpx", str(tmp_path / "p.qdpx"))
    dry = team.ok("merge", str(tmp_path / "p.qdpx"), "--dry-run")
    assert "conflict" not in dry.output and "nothing new" in dry.output
    assert "does not carry removals" in dry.output
    # edited in another project that read the file, written again: the edit is taken
    other = as_coder(f"sqlite:///{tmp_path / 'elsewhere.db'}", "x")
    other.ok("init")
    other.ok("import", "qdpx", str(tmp_path / "p.qdpx"))
    other.ok("code", "edit", "1", "--span", "0:20")
    other.ok("export", "qdpx", str(tmp_path / "q.qdpx"))
    merged = team.ok("merge", str(tmp_path / "q.qdpx"))
    assert "conflict" not in merged.output and "codings edited 1" in merged.output
    assert {(c[3], c[4], c[6]) for c in codings(team.url)} == {(0, 20, "why")}


def test_codebook_sync_gives_a_new_code_on_a_slug_a_rename_freed_a_guid_of_its_own(team: Gripcode,
                                                                                    tmp_path: Path) -> None:
    (tmp_path / "cb2.yaml").write_text(CODEBOOK.replace("id: quotas", "id: export-quotas\n    renamed_from: "
                                                        "[quotas]"), encoding="utf-8")
    team.ok("codebook", "sync", str(tmp_path / "cb2.yaml"))
    (tmp_path / "cb3.yaml").write_text(
        CODEBOOK.replace("id: quotas", "id: export-quotas") + "  - id: quotas\n    name: New quotas\n",
        encoding="utf-8")
    result = team("codebook", "sync", str(tmp_path / "cb3.yaml"))
    assert result.exit_code == 0, result.output
    engine = make_engine(team.url)
    with transaction(engine, write=False) as s:
        guids = dict(s.execute(select(Code.slug, Code.refi_guid)).tuples().all())
    engine.dispose()
    assert len(set(guids.values())) == len(guids) == 3


def test_a_file_copy_of_a_project_is_merged_by_identity_and_the_database_itself_is_refused(
        team: Gripcode, tmp_path: Path) -> None:
    import shutil

    first = tmp_path / "first.db"
    team.ok("copy-for", "ana", str(first))
    laptop = tmp_path / "laptop.db"
    shutil.copy(first, laptop)
    as_coder(laptop, "ana").ok("code", "add", "2", "prices", "--quote", "prices")
    merged = as_coder(first, "ana").ok("merge", str(laptop))
    assert "file copy of this project" in merged.output and "codings added 1" in merged.output
    itself = as_coder(first, "ana")("merge", str(first))
    assert itself.exit_code == 1 and "own database" in itself.output


def test_edits_moving_codings_across_each_other_s_spans_apply_in_any_order(team: Gripcode, tmp_path: Path) -> None:
    lead = as_coder(team.url, "lead")
    lead.ok("code", "add", "1", "quotas", "--span", "0:20")
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out))
    ana = as_coder(out, "ana")
    ana.ok("code", "edit", "2", "--span", "0:25")  # B: 0:20 -> 0:25
    ana.ok("code", "edit", "1", "--span", "0:20")  # A: 0:13 -> 0:20, the span B left
    merged = team.ok("merge", str(out))
    assert "conflict" not in merged.output and "codings edited 2" in merged.output
    assert codings(team.url) == codings(str(out))


def test_the_same_edit_merged_one_way_leaves_later_edits_free_of_conflicts(team: Gripcode, tmp_path: Path) -> None:
    out = tmp_path / "ana.db"
    team.ok("copy-for", "ana", str(out))
    ana = as_coder(out, "ana")
    ana.ok("code", "edit", "1", "--memo", "same")
    team.ok("code", "edit", "1", "--memo", "same")
    assert "conflict" not in team.ok("merge", str(out)).output
    ana.ok("code", "edit", "1", "--memo", "ana again")
    merged = team.ok("merge", str(out))
    assert "conflict" not in merged.output and "codings edited 1" in merged.output


def test_copy_for_in_small_batches_copies_everything(team: Gripcode, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import gripcode.team.copy as copy

    monkeypatch.setattr(copy, "DOCUMENTS_PER_BATCH", 1)
    monkeypatch.setattr(copy, "ROWS_PER_BATCH", 1)
    team.ok("memo", "add", "On the coding.", "--coding", "1")
    as_coder(team.url, "lead").ok("code", "add", "2", "prices", "--quote", "prices")
    engine = make_engine(team.url)
    copy.copy_for(engine, "ana", tmp_path / "ana.db", actor="lead")
    engine.dispose()
    assert codings(str(tmp_path / "ana.db")) == codings(team.url)
    assert count(f"sqlite:///{tmp_path / 'ana.db'}", Memo) == 1
    assert count(f"sqlite:///{tmp_path / 'ana.db'}", Document) == 2


def test_a_coding_and_memo_read_back_from_a_qdpx_after_their_removal_are_no_longer_removed(
        team: Gripcode, tmp_path: Path) -> None:
    from gripcode.db.models import TeamHistory

    team.ok("memo", "add", "A memo on the text.", "--doc", "1")
    team.ok("export", "qdpx", str(tmp_path / "p.qdpx"))
    engine = make_engine(team.url)
    try:
        with transaction(engine, write=False) as s:
            guid, version = s.execute(select(Coding.refi_guid, Coding.version)).one()
            memo_guid = s.scalar(select(Memo.refi_guid))
    finally:
        engine.dispose()
    team.ok("code", "rm", "1")
    team.ok("memo", "rm", "1")
    assert count(team.url, TeamTombstone) == 2
    team.ok("import", "qdpx", str(tmp_path / "p.qdpx"))
    engine = make_engine(team.url)
    try:
        with transaction(engine, write=False) as s:
            assert s.scalars(select(Coding.refi_guid)).all() == [guid]
            assert s.scalars(select(Memo.refi_guid)).all() == [memo_guid]
            assert s.scalar(select(func.count()).select_from(TeamTombstone)) == 0
            # the removed version is one this project moved on from: a copy still holding it is older
            assert (guid, version) in s.execute(select(TeamHistory.guid, TeamHistory.version)).tuples().all()
    finally:
        engine.dispose()
