"""`import qdpx` reads the project file as a stream and holds a batch of sources at a time; these tests hold the
streamed reader to what the reader of the whole tree read, and a batched import to an import in one batch."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import Gripcode
from sqlalchemy import text

from gripcode.corpus.bounded_zip import ZipLimits
from gripcode.db.engine import make_engine, transaction
from gripcode.errors import ExchangeError
from gripcode.exchange import import_qdpx, qdpx_import
from gripcode.exchange.qdpx_model import XTextSource, read_project, stream_project

from test_qdpx_import import build

DATA = Path(__file__).resolve().parent / "data"
# What the reader of the whole tree (ElementTree, before streaming) made of each file, recorded as plain values.
EXPECTED = json.loads((DATA / "qdpx-model" / "projects.json").read_text(encoding="utf-8"))


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_streamed_reader_reads_what_the_whole_tree_reader_read(name: str) -> None:
    data = (DATA / name).read_bytes()
    assert plain(read_project(data, "x")) == EXPECTED[name]
    # Fed a few bytes at a time (pieces end inside tags, names and characters), the same again.
    sources: list[XTextSource] = []
    project = stream_project((data[i:i + 7] for i in range(0, len(data), 7)), "x", sources.append)
    project.sources = sources
    assert plain(project) == EXPECTED[name]


def test_a_source_goes_to_the_caller_when_it_ends_not_when_the_file_does() -> None:
    data = (DATA / "qdpx-model" / "tricky.qde").read_bytes()
    cut = data.index(b"<PDFSource")
    seen: list[str] = []
    from gripcode.exchange.qdpx_model import ProjectStream

    stream = ProjectStream("x", lambda source: seen.append(source.name))
    stream.feed(data[:cut])
    assert seen == ["Interview 1"]
    stream.feed(data[cut:])
    assert seen == ["Interview 1", "Report.pdf", "foreign source", "Second"]
    assert stream.close().sources == []


@pytest.mark.parametrize("bad, message", [
    (b"<Project xmlns='urn:QDA-XML:project:1.0'><Users></Project>", "not well-formed XML: mismatched tag at line 1"),
    (b"<CodeBook/>", "has the root element <CodeBook> (a REFI-QDA codebook"),
    (b"PK\x03\x04rest", "is a zip archive"),
    (b"<!DOCTYPE Project>\n<Project/>", "declares a DTD (<!DOCTYPE ...>) at line 1"),
])
def test_bad_project_files_are_refused_as_before(bad: bytes, message: str) -> None:
    with pytest.raises(ExchangeError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        read_project(bad, "x")


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table a .qdpx import writes, without timestamps (the import stamps the time it ran)."""
    queries = {
        "documents": "SELECT id, title, kind, case_id, language, source, sha256, original_name, refi_guid, text "
                     "FROM documents ORDER BY id",
        "units": "SELECT document_id, kind, start, \"end\", speaker FROM units ORDER BY id",
        "codes": "SELECT id, slug, name, parent_id, refi_guid FROM codes ORDER BY id",
        "coders": "SELECT id, name, refi_guid FROM coders ORDER BY id",
        "cases": "SELECT id, name, refi_guid FROM cases ORDER BY id",
        "codings": "SELECT id, document_id, code_id, coder_id, start, \"end\", quote, memo, refi_guid, origin, "
                   "status FROM codings ORDER BY id",
        "memos": "SELECT id, target, title, text, coder_id, document_id, code_id, coding_id, refi_guid FROM memos "
                 "ORDER BY id",
    }
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {name: [tuple(row) for row in connection.execute(text(sql))] for name, sql in queries.items()}
    finally:
        engine.dispose()


@pytest.mark.parametrize("tool", ["nvivo", "atlasti", "maxqda", "qualcoder"])
def test_a_source_per_batch_imports_what_one_batch_imports(grip: Gripcode, tmp_path: Path, tool: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import reset_postgres

    path = build(tool, tmp_path / f"{tool}.qdpx")
    results = []
    for sources, codings in ((10_000, 1_000_000), (1, 1)):
        monkeypatch.setattr(qdpx_import, "_BATCH_SOURCES", sources)
        monkeypatch.setattr(qdpx_import, "_BATCH_CODINGS", codings)
        if grip.url.startswith("postgresql"):
            reset_postgres(grip.url)
        else:
            Path(grip.url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        grip.ok("init")
        grip.ok("import", "qdpx", str(path))  # a first time: the second import finds everything present
        engine = make_engine(grip.url)
        try:
            with transaction(engine) as session:
                report = import_qdpx(session, path, actor="t")
        finally:
            engine.dispose()
        results.append((dump(grip.url), report.as_dict()))
    assert results[0] == results[1]
    assert results[0][0]["codings"]


def project_zip(path: Path, qde: bytes, source: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/s.txt", source)
    return path


QDE = (b'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="p">'
       b'<CodeBook><Codes><Code guid="22222222-2222-4222-8222-222222222222" name="C" isCodable="true"/></Codes>'
       b'</CodeBook><Sources><TextSource guid="33333333-3333-4333-8333-333333333333" name="s" '
       b'plainTextPath="internal://s.txt"><PlainTextSelection startPosition="0" endPosition="5"><Coding>'
       b'<CodeRef targetGUID="22222222-2222-4222-8222-222222222222"/></Coding></PlainTextSelection>'
       b'</TextSource></Sources><Description>%s</Description></Project>')


def test_the_project_file_is_not_held_to_the_limit_per_member_but_its_sources_are(grip: Gripcode,
                                                                                  tmp_path: Path) -> None:
    # 300 KB of project file (varied text, so it compresses as text does) beside a source of 11 bytes
    padding = " ".join(f"word{i}" for i in range(40_000)).encode()
    path = project_zip(tmp_path / "p.qdpx", QDE % padding, b"Hello world")
    limits = ZipLimits(max_member_bytes=100_000)
    engine = make_engine(grip.url)
    try:
        with transaction(engine) as session:
            report = import_qdpx(session, path, actor="t", limits=limits)
        assert report.codings_added == 1
        big_source = project_zip(tmp_path / "s.qdpx", QDE % b"", b"Hello world " * 20_000)
        with pytest.raises(ExchangeError, match="the member .sources/s.txt. unpacks to 0.2 MB; refused above 0.1 MB"):
            with transaction(engine) as session:
                import_qdpx(session, big_source, actor="t", limits=limits)
        # the total still counts the project file
        with pytest.raises(ExchangeError, match="unpacks to more than 0.2 MB; refused"):
            with transaction(engine) as session:
                import_qdpx(session, path, actor="t", limits=ZipLimits(max_total_bytes=200_000))
    finally:
        engine.dispose()


def test_a_project_file_that_inflates_like_a_zip_bomb_is_refused(grip: Gripcode, tmp_path: Path) -> None:
    path = project_zip(tmp_path / "bomb.qdpx", QDE % (b" " * (30 << 20)), b"Hello world")
    engine = make_engine(grip.url)
    try:
        with pytest.raises(ExchangeError, match="likely zip bomb"):
            with transaction(engine) as session:
                import_qdpx(session, path, actor="t")
    finally:
        engine.dispose()


def test_the_cycle_collector_runs_again_after_an_import_that_failed(grip: Gripcode, tmp_path: Path) -> None:
    import gc

    path = project_zip(tmp_path / "bad.qdpx", b"<Project xmlns='urn:QDA-XML:project:1.0'><Users>", b"x")
    engine = make_engine(grip.url)
    try:
        with pytest.raises(ExchangeError, match="not well-formed"):
            with transaction(engine) as session:
                import_qdpx(session, path, actor="t")
    finally:
        engine.dispose()
    assert gc.isenabled()
