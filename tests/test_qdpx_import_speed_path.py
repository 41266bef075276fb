"""`import qdpx` numbers its codings itself on SQLite and reads positions of files that count every character
as one without a search; these tests hold both to the general paths, and hold what an import of a generated
project stores to a plain computation of what it must store (``qdpx_generated``)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import Gripcode
from qdpx_generated import Expected, ExpectedMemo, GProject, expected, generate, write_qdpx
from sqlalchemy import select, text

from gripcode.db.bulk import bulk_cache, insert_numbered, insert_numbered_rows, values_present
from gripcode.db.engine import make_engine, transaction
from gripcode.db.identity import new_versions
from gripcode.db.models import Code, Coder, Coding, Document, Memo
from gripcode.exchange.qdpx_positions import (
    EXACT,
    NO_MATCH,
    PREFIX,
    Convention,
    Placement,
    SourceText,
    _conv,
    collapse,
    conventions_for,
    count_names_matching,
    name_score,
    on_word_boundaries,
    place,
)
from gripcode.exchange.qdpx_read import when


def test_insert_numbered_gives_the_ids_and_stores_the_values_as_the_types_bind_them(grip: Gripcode) -> None:
    when = dt.datetime(2024, 3, 1, 12, 30, 15, tzinfo=dt.timezone.utc)
    rows = [{"name": f"coder {n}", "kind": "person", "created_at": when + dt.timedelta(minutes=n)}
            for n in range(250)]
    engine = make_engine(grip.url)
    try:
        with transaction(engine) as session:
            ids = insert_numbered(session.connection(), Coder.__table__, rows)
        with transaction(engine, write=False) as session:
            stored = session.execute(select(Coder.id, Coder.name, Coder.created_at)
                                     .where(Coder.name.like("coder %"))).tuples().all()
    finally:
        engine.dispose()
    assert len(ids) == len(set(ids)) == 250
    assert sorted(stored) == sorted((number, row["name"], row["created_at"]) for number, row in zip(ids, rows))


def test_insert_numbered_rows_stores_what_an_insert_through_sqlalchemy_stores(grip: Gripcode) -> None:
    """Rows as tuples with constants (COPY with ids from the sequence on PostgreSQL, numbered here on SQLite)
    against the same rows inserted one by one through SQLAlchemy's Core, which applies the types' binding."""
    when = dt.datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    plain = dt.datetime(2024, 3, 1, 12, 30, 15)  # no zone: taken as UTC
    engine = make_engine(grip.url)
    table = Coder.__table__
    try:
        with transaction(engine) as session:
            connection = session.connection()
            first = insert_numbered_rows(connection, table, ["name", "created_at", "refi_guid"],
                                         [(f"fast {n}", [when, plain][n % 2], str(uuid.UUID(int=n)))
                                          for n in range(250)], {"kind": "person"})
            # the reference: the same values through SQLAlchemy (with an aware time and a naive one)
            for n in range(250):
                connection.execute(table.insert().values(name=f"slow {n}", kind="person",
                                                         created_at=[when, plain][n % 2],
                                                         refi_guid=str(uuid.UUID(int=1000 + n))))
            later = insert_numbered_rows(connection, table, ["name", "kind", "created_at", "refi_guid"],
                                         [("after", "person", when, str(uuid.UUID(int=9999)))])
        with transaction(engine, write=False) as session:
            stored_rows = session.execute(select(Coder.id, Coder.name, Coder.kind, Coder.created_at, Coder.refi_guid)
                                          .order_by(Coder.id)).tuples().all()
    finally:
        engine.dispose()
    by_name = {name: (row_id, kind, created, guid) for row_id, name, kind, created, guid in stored_rows}
    assert first == sorted(first) and len(set(first)) == 250
    assert [by_name[f"fast {n}"][0] for n in range(250)] == first
    for n in range(250):
        fast, slow = by_name[f"fast {n}"], by_name[f"slow {n}"]
        assert fast[1:3] == slow[1:3] and fast[3] == str(uuid.UUID(int=n))
    assert later[0] > max(row_id for row_id, *_ in stored_rows if row_id != later[0])
    assert by_name["after"][2] == when


def test_values_present_finds_what_a_plain_lookup_finds(grip: Gripcode) -> None:
    """One array on PostgreSQL, IN lists of 5,000 elsewhere: the values found are those the column holds."""
    engine = make_engine(grip.url)
    try:
        with transaction(engine) as session:
            connection = session.connection()
            insert_numbered_rows(connection, Coder.__table__, ["name", "kind", "created_at", "refi_guid"],
                                 [(f"c{n}", "person", dt.datetime.now(dt.timezone.utc), str(uuid.UUID(int=7 * n)))
                                  for n in range(40)])
            asked = [str(uuid.UUID(int=n)) for n in range(12_000)]
            found = values_present(connection, Coder.__table__.c.refi_guid, asked)
            plain = set(connection.execute(select(Coder.refi_guid)).scalars()) & set(asked)
            assert values_present(connection, Coder.__table__.c.refi_guid, []) == set()
    finally:
        engine.dispose()
    assert found == plain == {str(uuid.UUID(int=7 * n)) for n in range(40)}


def test_bulk_cache_enlarges_sqlites_cache_for_the_block_only(grip: Gripcode) -> None:
    engine = make_engine(grip.url)
    try:
        with transaction(engine) as session:
            connection = session.connection()
            if connection.dialect.name != "sqlite":
                with bulk_cache(connection):
                    pass  # nothing to change elsewhere
                return
            size = lambda: connection.exec_driver_sql("PRAGMA cache_size").scalar()  # noqa: E731
            before = size()
            with bulk_cache(connection, 8192):
                assert size() == -8192
                with bulk_cache(connection, 4096):  # as large already: left alone
                    assert size() == -8192
            assert size() == before
            with pytest.raises(RuntimeError):
                with bulk_cache(connection, 8192):
                    raise RuntimeError("the block failed")
            assert size() == before
    finally:
        engine.dispose()


def test_new_versions_are_distinct_random_hexadecimal_strings() -> None:
    versions = new_versions(5000)
    assert len(set(versions)) == 5000 and all(len(v) == 32 and int(v, 16) >= 0 and v == v.lower() for v in versions)
    assert new_versions(0) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_positions_of_a_text_without_exceptions_take_the_short_way_to_the_same_place(seed: int) -> None:
    rng = random.Random(seed)
    raw = "".join(rng.choice("abc déf\n") for _ in range(300))
    text = SourceText(raw)
    convention = _conv("codepoint", "file")
    assert text._extra(convention) == ([], [])
    general = SourceText(raw)
    # the same text with a weightless exception past its end: the search, with identical positions
    general._weights[convention.key] = ([len(raw) + 10], [0])
    for _ in range(200):
        start = rng.randrange(-2, len(raw) + 3)
        end = rng.randrange(-2, len(raw) + 3)
        assert text._raw(start, convention, is_end=False) == general._raw(start, convention, is_end=False)
        assert text._raw(end, convention, is_end=True) == general._raw(end, convention, is_end=True)
        assert text.span(start, end, convention) == general.span(start, end, convention)


# ------------------------------------------------------------------- a generated project against a reference

def stored(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[str, str | None]]]:
    """The codings (in id order), memos (in id order) and tombstones of the project at ``url``."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            codings = [tuple(row) for row in connection.execute(
                select(Document.title, Code.name, Coder.name, Coding.start, Coding.end, Coding.quote, Coding.refi_guid,
                       Coding.memo, Coding.created_at, Coding.origin, Coding.status, Coding.id, Coding.version)
                .join(Document, Document.id == Coding.document_id).join(Code, Code.id == Coding.code_id)
                .join(Coder, Coder.id == Coding.coder_id).order_by(Coding.id))]
            memos = [tuple(row) for row in connection.execute(
                select(Memo.target, Memo.text, Coder.name, Document.title, Memo.coding_id)
                .join(Coder, Coder.id == Memo.coder_id).outerjoin(Document, Document.id == Memo.document_id)
                .order_by(Memo.id))]
            tombstones = [tuple(row) for row in connection.execute(text(
                "SELECT guid, version FROM team_tombstones ORDER BY guid"))]
    finally:
        engine.dispose()
    return codings, memos, tombstones  # type: ignore[return-value]


def parsed_when(value: str | None) -> dt.datetime | None:
    return when(value) if value else None


def check_against_reference(rows: list[tuple[Any, ...]], wanted: list[Expected], file_guids: set[str]) -> None:
    assert len(rows) == len(wanted)
    for row, want in zip(rows, wanted):
        title, code, coder, start, end, quote, guid, memo, created, origin, status = row[:11]
        assert (title, code, coder, start, end, quote, memo, origin, status) == (
            want.document, want.code, want.coder, want.start, want.end, want.quote, want.memo, "import",
            "accepted"), want
        if want.guid is not None:
            assert guid == want.guid
        else:  # a new GUID: none the file gives
            assert guid not in file_guids and uuid.UUID(guid)
        if want.created is not None:
            assert created == parsed_when(want.created)
    guids = [row[6] for row in rows]
    assert len(set(guids)) == len(guids)
    assert all(len(row[12]) == 32 for row in rows)  # a version each


def check_memos(url: str, memos: list[tuple[Any, ...]], wanted: list[ExpectedMemo]) -> None:
    ids = {}
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            for row in connection.execute(text(
                    'SELECT c.id, d.title, k.name, c2.name, c.start, c."end" FROM codings c '
                    "JOIN documents d ON d.id = c.document_id JOIN codes k ON k.id = c.code_id "
                    "JOIN coders c2 ON c2.id = c.coder_id")):
                ids[tuple(row[1:])] = row[0]
    finally:
        engine.dispose()
    got = [(target, body, coder, title, coding_id) for target, body, coder, title, coding_id in memos]
    assert got == [(m.target, m.text, m.coder, m.document, ids[m.coding] if m.coding else None) for m in wanted]


def file_guids(project: GProject) -> set[str]:
    return {c.guid for s in project.sources for c in [*(c for sel in s.selections for c in sel.codings), *s.whole]
            if c.guid}


@pytest.mark.parametrize("seed, batches", [(1, None), (2, None), (3, (1, 1)), (4, (2, 25))])
def test_a_generated_project_is_stored_as_a_plain_reference_computes_it(
        grip: Gripcode, tmp_path: Path, seed: int, batches: tuple[int, int] | None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from gripcode.exchange import qdpx_import

    if batches:  # a source (or two) per batch: codings of one batch find those of earlier batches in the project
        monkeypatch.setattr(qdpx_import, "_BATCH_SOURCES", batches[0])
        monkeypatch.setattr(qdpx_import, "_BATCH_CODINGS", batches[1])
    project = generate(seed)
    path = write_qdpx(project, tmp_path / "g.qdpx")
    wanted, wanted_memos = expected(project)
    assert len(wanted) > 150 and any(w.guid is None for w in wanted) and any(w.memo for w in wanted)
    assert {m.target for m in wanted_memos} == {"project", "document", "coding"}
    report = json.loads(grip.ok("import", "qdpx", str(path), "--json").output)
    rows, memos, _ = stored(grip.url)
    check_against_reference(rows, wanted, file_guids(project))
    check_memos(grip.url, memos, wanted_memos)
    assert report["codings_added"] == len(wanted)
    assert report["unplaced"] == 2 * len(project.sources)
    # read again: everything is present, nothing is added
    again = json.loads(grip.ok("import", "qdpx", str(path), "--json").output)
    assert again["codings_added"] == 0 and again["codings_present"] == report["codings_present"] + len(wanted)
    assert stored(grip.url)[:2] == (rows, memos)


def test_workers_started_while_the_file_is_read_segment_as_the_import_would(grip: Gripcode, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A file with enough sources has its segmenting worker started while it is read: the units, codings and
    memos are those of an import that segments in this process."""
    from conftest import reset_postgres
    from gripcode.corpus import importer
    from gripcode.exchange import qdpx_import

    project = generate(7)
    path = write_qdpx(project, tmp_path / "g.qdpx")
    results = []
    original = qdpx_import.Segmenter
    for workers in (0, 1):
        monkeypatch.setattr(importer, "default_jobs", lambda n: 0)
        monkeypatch.setattr(qdpx_import, "default_jobs", lambda n, w=workers: w if n >= 3 else 0)
        started: list[int] = []
        monkeypatch.setattr(qdpx_import, "Segmenter", lambda jobs: started.append(jobs) or original(jobs))
        if workers:
            if grip.url.startswith("postgresql"):
                reset_postgres(grip.url)
            else:
                Path(grip.url.removeprefix("sqlite:///")).unlink()
            grip.ok("init")
        grip.ok("import", "qdpx", str(path))
        assert started == ([1] if workers else [])
        engine = make_engine(grip.url)
        try:
            with engine.connect() as connection:
                units = connection.execute(text('SELECT document_id, kind, seq, start, "end" FROM units '
                                                "ORDER BY id")).all()
        finally:
            engine.dispose()
        rows, memos, _ = stored(grip.url)
        results.append(([(*row[:6], row[7]) for row in rows], memos, units))  # (new GUIDs are random)
    assert results[0] == results[1] and results[0][2]
    wanted, _ = expected(project)
    check_against_reference(stored(grip.url)[0], wanted, file_guids(project))


def test_a_file_that_fails_after_its_workers_started_leaves_no_worker_and_nothing_imported(
        grip: Gripcode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from gripcode.exchange import qdpx_import

    monkeypatch.setattr(qdpx_import, "default_jobs", lambda n: 1 if n >= 2 else 0)
    started: list[Any] = []
    original = qdpx_import.Segmenter
    monkeypatch.setattr(qdpx_import, "Segmenter", lambda jobs: started.append(original(jobs)) or started[-1])
    project = generate(8)
    path = write_qdpx(project, tmp_path / "g.qdpx")  # with a source whose GUID is refused after the fifth
    with zipfile.ZipFile(path) as archive:
        qde = archive.read("project.qde")
        members = {name: archive.read(name) for name in archive.namelist()}
    cut = qde.index(b"<TextSource", qde.index(b'name="Source 4"'))
    members["project.qde"] = qde[:cut] + b"<TextSource guid='not a guid'/>" + qde[cut:]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    result = grip("import", "qdpx", str(path))
    assert result.exit_code == 1 and "which is not a GUID" in result.output
    assert len(started) == 1 and started[0].pool is not None  # a worker was running when the file failed
    assert multiprocessing.active_children() == []
    assert stored(grip.url)[0] == []


def test_a_second_file_with_the_same_spans_and_guids_and_a_coding_read_back_after_its_removal(
        grip: Gripcode, tmp_path: Path) -> None:
    from gripcode.coding.service import remove_coding

    project = generate(5)
    grip.ok("import", "qdpx", str(write_qdpx(project, tmp_path / "a.qdpx")))
    first, _, _ = stored(grip.url)
    # the same texts and GUIDs, each coding under the next code: new spans (or ones present), GUIDs all taken
    codes = list(project.codes)
    moved = copy.deepcopy(project)
    for source in moved.sources:
        for c in [*(c for sel in source.selections for c in sel.codings), *source.whole]:
            if c.code in project.codes:
                c.code = codes[(codes.index(c.code) + 1) % len(codes)]
    wanted, _ = expected(moved, present={row[:5] for row in first}, taken={row[6] for row in first})
    assert any(w.guid is None for w in wanted)
    grip.ok("import", "qdpx", str(write_qdpx(moved, tmp_path / "b.qdpx")))
    rows, _, _ = stored(grip.url)
    assert rows[:len(first)] == first
    check_against_reference(rows[len(first):], [*wanted], file_guids(moved) | {row[6] for row in first})
    # a coding removed here and read back from the first file: stored again under its GUID, no longer removed
    engine = make_engine(grip.url)
    try:
        with transaction(engine) as session:
            remove_coding(session, first[3][11], actor="t")
    finally:
        engine.dispose()
    assert [guid for guid, _ in stored(grip.url)[2]] == [first[3][6]]
    grip.ok("import", "qdpx", str(tmp_path / "a.qdpx"))
    rows, _, tombstones = stored(grip.url)
    assert tombstones == []
    assert rows[-1][:8] == first[3][:8] and len(rows) == len(first) + len(wanted)


def test_a_generated_project_exported_and_read_into_a_new_project_is_the_same(grip: Gripcode,
                                                                               tmp_path: Path) -> None:
    from conftest import reset_postgres

    project = generate(6)
    grip.ok("import", "qdpx", str(write_qdpx(project, tmp_path / "g.qdpx")))
    rows, memos, _ = stored(grip.url)
    grip.ok("export", "qdpx", str(tmp_path / "out.qdpx"))
    if grip.url.startswith("postgresql"):
        reset_postgres(grip.url)
    else:
        Path(grip.url.removeprefix("sqlite:///")).unlink()
    grip.ok("init")
    grip.ok("import", "qdpx", str(tmp_path / "out.qdpx"))
    again, memos_again, _ = stored(grip.url)
    # document, code, coder, span, quote, GUID and memo (the file lists codings by selection, in its own order)
    assert sorted(row[:8] for row in again) == sorted(row[:8] for row in rows)
    assert sorted(m[:4] for m in memos_again) == sorted(m[:4] for m in memos)


# ------------------------------------------------- placement: each way of counting once, ending at an exact match

def reference_name_score(name: str | None, covered: str) -> int:
    wanted = collapse(name or "")
    if not wanted:
        return NO_MATCH
    shortened = False
    for mark in ("\u2026", "..."):
        if wanted.endswith(mark):
            wanted, shortened = wanted[: -len(mark)].rstrip(), True
            break
    got = collapse(covered)
    if not wanted or not got:
        return NO_MATCH
    if got == wanted and not shortened:
        return EXACT
    if got.startswith(wanted) and (shortened or len(wanted) >= min(len(got), 12)):
        return PREFIX
    return NO_MATCH


def reference_place(source: SourceText, start: int, end: int, name: str | None, conventions: list[Convention],
                    names_are_text: bool) -> Placement | str:
    """Every convention's span first, then the choice among them: the placement as it was first written."""
    candidates: list[tuple[Convention, tuple[int, int]]] = []
    seen: set[int] = set()
    for convention in conventions:
        signature = source.signature(convention)
        if signature in seen:
            continue
        seen.add(signature)
        span = source.span(start, end, convention)
        if span is not None:
            candidates.append((convention, span))
    if not candidates:
        return f"{start}-{end} lies outside the text ({len(source.text)} characters) under every convention"
    text = source.text
    if names_are_text and collapse(name or ""):
        best: tuple[int, Convention, tuple[int, int]] | None = None
        for convention, span in candidates:
            score = reference_name_score(name, text[span[0]:span[1]])
            if score > NO_MATCH and (best is None or score > best[0]):
                best = (score, convention, span)
        if best is None:
            return "its name does not match the text at its positions under any convention"
        return Placement(best[2][0], best[2][1], best[1], "name")
    for convention, span in candidates:
        if on_word_boundaries(text, *span):
            return Placement(span[0], span[1], convention, "word boundaries")
    convention, span = candidates[0]
    return Placement(span[0], span[1], convention, "unconfirmed")


def reference_count(samples: list[tuple[SourceText, int, int, str]], conventions: list[Convention]) -> tuple[int, int]:
    named = matched = 0
    for source, start, end, name in samples:
        if not collapse(name):
            continue
        named += 1
        for convention in conventions:
            span = source.span(start, end, convention)
            if span is not None and reference_name_score(name, source.text[span[0]:span[1]]) > NO_MATCH:
                matched += 1
                break
    return named, matched


@pytest.mark.parametrize("seed", range(6))
def test_placement_and_name_counts_equal_the_plain_computation(seed: int) -> None:
    rng = random.Random(seed)
    pieces = ["alpha", "beta", "caf\u00e9", "cafe\u0301", "\U0001f600", "\u4e2d\u6587", " ", " ", "\n", "\r\n", "\r",
              ".", "...", "\u2026"]
    raw = ("\ufeff" if seed % 2 else "") + "".join(rng.choice(pieces) for _ in range(160))
    source = SourceText(raw, from_word=seed % 3 == 0)
    origin = ("gripcode", "nvivo", "atlasti", "maxqda", "unknown", "qualcoder")[seed]
    conventions = conventions_for(origin, source.from_word)
    samples = []
    for _ in range(400):
        start = rng.randrange(-3, len(raw) + 8)
        end = start + rng.randrange(-2, 40)
        covered = raw[max(0, start):max(0, end)]
        name = rng.choice([None, "", "   ", covered, covered + "\u2026", covered[:15] + "...", covered.upper(),
                           " ".join(covered.split()), "\u2026", "...", "alpha beta", covered[:-1]])
        for names_are_text in (True, False):
            assert place(source, start, end, name, conventions, names_are_text) == \
                reference_place(source, start, end, name, conventions, names_are_text), (start, end, name)
        assert name_score(name, covered) == reference_name_score(name, covered)
        samples.append((source, start, end, name or ""))
    assert count_names_matching(samples, {id(source): conventions}) == reference_count(samples, conventions)


def test_a_source_that_reads_like_a_news_export_stays_one_document_with_its_codings(grip: Gripcode,
                                                                                     tmp_path: Path) -> None:
    """A source's text goes to the document import as it is (not written to a .txt file and read back, where a
    text that starts like a Nexis export was split into articles and its codings lost their document)."""
    from news_exports import nexis_lines
    from qdpx_generated import USERS, GCoding, GSelection, GSource

    raw = "\n".join(nexis_lines())
    start = raw.index("Separation plants around Baotou")
    end = start + len("Separation plants around Baotou")
    code, ana = "c0de0000-0000-4000-8000-000000000001", next(iter(USERS))
    selection = GSelection("5e1e0000-0000-4000-8000-000000000001", start, end, raw[start:end], ana,
                           [GCoding("c0d10000-0000-4000-8000-000000000001", code, ana)])
    source = GSource("50c00000-0000-4000-8000-000000000001", "Mining weekly clippings", raw, ana, [selection])
    path = write_qdpx(GProject({code: "Quota"}, [source]), tmp_path / "news.qdpx")
    report = json.loads(grip.ok("import", "qdpx", str(path), "--json").output)
    assert report["codings_added"] == 1 and report["unplaced"] == 0
    engine = make_engine(grip.url)
    with transaction(engine) as session:
        texts = session.scalars(select(Document.text)).all()
        quotes = session.scalars(select(Coding.quote)).all()
    engine.dispose()
    assert texts == [raw]
    assert quotes == ["Separation plants around Baotou"]
