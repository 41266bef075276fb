"""REFI-QDA project export (.qdpx): schema validity, stored and stable GUIDs, and a round trip of the demo
project into a fresh project (on SQLite, or on PostgreSQL with GRIPCODE_TEST_DB)."""

from __future__ import annotations

import io
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from gripcode.coding.memos import add_memo
from gripcode.corpus.cases import add_case
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Case, Code, Coder, Coding, Document, Memo, Unit
from gripcode.demo import run_demo
from gripcode.exchange.qdpx_model import PROJECT_NS
from conftest import Gripcode

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "refi-qda" / "schema" / "rpgauthier_Project-mrt2019.xsd"
NS = {"q": PROJECT_NS}


@pytest.fixture(scope="module")
def schema() -> Any:
    if not SCHEMA.is_file():
        pytest.skip(f"the REFI-QDA Project schema is not at {SCHEMA} (the shared folder next to the repository)")
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema(str(SCHEMA))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project plus memos of every kind and a case description, never exported (copy before use)."""
    folder = tmp_path_factory.mktemp("qdpx-demo")
    db_file = run_demo(folder / "demo", say=lambda s: None)
    engine = make_engine(f"sqlite:///{db_file}")
    with transaction(engine) as session:
        doc = session.scalars(select(Document).order_by(Document.id)).first()
        coding = session.scalars(select(Coding).where(Coding.status == "accepted").order_by(Coding.id)).first()
        assert doc is not None and coding is not None
        add_memo(session, "Sampling: two interviews per province.", coder="ana", project=True, title="Sampling")
        add_memo(session, "Transcript checked against the audio.\nSecond line & <angle> \"quotes\".", coder="ben",
                 document=str(doc.id))
        add_memo(session, "Keep apart from price-control.", coder="ana", code="export-restrictions", title="Scope")
        add_memo(session, "Borderline: only implied.", coder="ben", coding=coding.id)
        china = session.scalars(select(Case).where(Case.name == "China")).one()
        china.description = "The dominant producer."
        add_case(session, "Vietnam", ["role=producer", "reserves_mt:number=22", "visited=2023-04-05"], "demo")
    engine.dispose()
    return db_file


def _copy(demo_db: Path, tmp_path: Path) -> str:
    target = tmp_path / "copy.db"
    shutil.copy(demo_db, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="module")
def demo_qdpx(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("qdpx-export")
    url = _copy(demo_db, folder)
    out = folder / "demo.qdpx"
    Gripcode(url).ok("export", "qdpx", str(out))
    return out


def _attr(element: ET.Element, name: str) -> str:
    value = element.get(name)
    assert value is not None, f"<{element.tag}> has no {name}"
    return value


def _text(element: ET.Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None and found.text is not None, path
    return found.text


def _qde(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("project.qde")


# ------------------------------------------------------------------------------------------------ the file


def test_export_validates_against_the_project_schema(demo_qdpx: Path, schema: Any) -> None:
    schema.validate(io.BytesIO(_qde(demo_qdpx)))


def test_archive_layout_texts_and_selections(demo_qdpx: Path, demo_db: Path) -> None:
    engine = make_engine(f"sqlite:///{demo_db}")
    with transaction(engine) as session:
        texts = {d.title: d.text for d in session.scalars(select(Document))}
        accepted = session.scalar(select(func.count()).select_from(Coding).where(Coding.status == "accepted"))
        coders = set(session.scalars(select(Coder.name)))
    engine.dispose()
    with zipfile.ZipFile(demo_qdpx) as archive:
        names = archive.namelist()
        root = ET.fromstring(archive.read("project.qde"))
        assert names[0] == "project.qde"
        assert all(re.fullmatch(r"sources/[0-9a-f-]{36}\.txt", n) for n in names[1:])
        sources = root.findall("q:Sources/q:TextSource", NS)
        assert len(sources) == len(texts) == len(names) - 1
        n_codings = 0
        for source in sources:
            path = source.get("plainTextPath")
            assert path == f"internal://{source.get('guid')}.txt"
            text = archive.read(f"sources/{source.get('guid')}.txt").decode("utf-8")
            assert text == texts[_attr(source, "name")]  # written exactly as stored
            for selection in source.findall("q:PlainTextSelection", NS):
                start, end = int(_attr(selection, "startPosition")), int(_attr(selection, "endPosition"))
                assert selection.get("name") == text[start:end]  # positions are code points
                n_codings += len(selection.findall("q:Coding", NS))
    assert n_codings == accepted
    assert {u.get("name") for u in root.findall("q:Users/q:User", NS)} == coders
    assert root.get("origin", "").startswith("gripcode")
    assert "creationDateTime" not in root.attrib  # nothing that changes from one export to the next


def test_codebook_cases_and_notes_in_the_file(demo_qdpx: Path) -> None:
    root = ET.fromstring(_qde(demo_qdpx))
    codes = root.findall(".//q:CodeBook//q:Code", NS)
    assert len(codes) == 29
    first = codes[0]
    assert first.get("color") == "#1F4E79"
    description = _text(first, "q:Description")
    assert description.startswith("Definition: How a state steers")
    assert "gripcode-id: state-strategy" in description
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.findall("q:Variables/q:Variable", NS)}
    assert variables["role"] == "Text" and variables["reserves_mt"] == "Float" and variables["visited"] == "Date"
    assert variables["Document kind"] == "Text" and variables["Document date"] == "Date"
    china = next(c for c in root.findall("q:Cases/q:Case", NS) if c.get("name") == "China")
    assert _text(china, "q:Description") == "The dominant producer."
    assert len(china.findall("q:SourceRef", NS)) > 0
    notes = {_attr(n, "guid"): n for n in root.findall("q:Notes/q:Note", NS)}
    project_refs = [_attr(r, "targetGUID") for r in root.findall("q:NoteRef", NS)]
    assert [_text(notes[g], "q:PlainTextContent") for g in project_refs] == [
        "Sampling: two interviews per province."]
    code_refs = root.findall(".//q:Code/q:NoteRef", NS)
    assert [notes[_attr(r, "targetGUID")].get("name") for r in code_refs] == ["Scope"]


def test_include_suggestions_adds_pending_ones_never_rejected(demo_db: Path, tmp_path: Path) -> None:
    url = _copy(demo_db, tmp_path)
    grip = Gripcode(url)
    grip.ok("export", "qdpx", str(tmp_path / "all.qdpx"), "--include-suggestions")
    engine = make_engine(url)
    with transaction(engine) as session:
        by_status = dict(session.execute(select(Coding.status, func.count()).group_by(Coding.status)).tuples().all())
    engine.dispose()
    root = ET.fromstring(_qde(tmp_path / "all.qdpx"))
    assert len(root.findall(".//q:PlainTextSelection/q:Coding", NS)) == by_status["accepted"] + by_status["suggested"]
    assert by_status["rejected"] > 0


def test_guids_are_stored_so_a_second_export_is_identical(demo_db: Path, tmp_path: Path) -> None:
    url = _copy(demo_db, tmp_path)
    engine = make_engine(url)

    def missing() -> int:
        with transaction(engine) as session:
            return sum(session.scalar(select(func.count()).select_from(model).where(model.refi_guid.is_(None))) or 0
                       for model in (Coder, Code, Case, Document, Memo))

    assert missing() == 0  # every row has its GUID from the moment it is made
    grip = Gripcode(url)
    first = grip.ok("export", "qdpx", str(tmp_path / "one.qdpx"))
    assert "Stored" not in first.output
    assert missing() == 0
    second = grip.ok("export", "qdpx", str(tmp_path / "two.qdpx"))
    assert "Stored" not in second.output
    assert (tmp_path / "one.qdpx").read_bytes() == (tmp_path / "two.qdpx").read_bytes()
    engine.dispose()


def test_export_of_an_empty_project_is_valid(grip: Gripcode, tmp_path: Path, schema: Any) -> None:
    grip.ok("export", "qdpx", str(tmp_path / "empty.qdpx"))
    schema.validate(io.BytesIO(_qde(tmp_path / "empty.qdpx")))


def test_export_refuses_text_xml_cannot_carry_and_stores_nothing(grip: Gripcode, tmp_path: Path) -> None:
    grip.ok("memo", "add", "bell \x07 inside", "--project")
    result = grip("export", "qdpx", str(tmp_path / "bad.qdpx"))
    assert result.exit_code == 1
    assert "Error: memo 1" in result.output and "U+0007" in result.output
    assert not (tmp_path / "bad.qdpx").exists()
    engine = make_engine(grip.url)
    with transaction(engine) as session:
        guid = session.scalar(select(Memo.refi_guid))
        assert guid is not None and len(guid) == 36  # given when the memo was written, not by the export
    engine.dispose()


def test_export_to_a_missing_folder_is_a_clear_error(grip: Gripcode, tmp_path: Path) -> None:
    result = grip("export", "qdpx", str(tmp_path / "nowhere" / "x.qdpx"))
    assert result.exit_code == 1 and "does not exist" in result.output


# ---------------------------------------------------------------------------------------------- round trip


def _snapshot(session: Session) -> dict[str, Any]:
    """Everything a round trip must keep, keyed by names rather than ids."""
    parent, case = aliased(Code), aliased(Case)
    docs = {}
    for doc, case_name in session.execute(select(Document, case.name).outerjoin(case, Document.case_id == case.id)):
        docs[doc.title] = (doc.text, doc.kind, doc.language, doc.date, doc.source, case_name,
                           {k: v for k, v in (doc.meta or {}).items()})
    codes = {row.slug: (row.name, parent_slug, row.color, row.definition, row.include, row.exclude, row.examples,
                        row.status)
             for row, parent_slug in session.execute(select(Code, parent.slug).outerjoin(
                 parent, Code.parent_id == parent.id).where(Code.status != "merged"))}
    coding_rows = session.execute(
        select(Document.title, Code.slug, Coder.name, Coding.start, Coding.end, Coding.quote, Coding.memo)
        .join(Document, Coding.document_id == Document.id).join(Code, Coding.code_id == Code.id)
        .join(Coder, Coding.coder_id == Coder.id).where(Coding.status == "accepted")).tuples().all()
    on_coding = aliased(Coding)
    memo_rows = []
    for memo, coder, doc_title, code_slug, c_start, c_end in session.execute(
            select(Memo, Coder.name, Document.title, Code.slug, on_coding.start, on_coding.end)
            .join(Coder, Memo.coder_id == Coder.id).outerjoin(Document, Memo.document_id == Document.id)
            .outerjoin(Code, Memo.code_id == Code.id).outerjoin(on_coding, Memo.coding_id == on_coding.id)):
        memo_rows.append((memo.target, doc_title, code_slug, c_start, c_end, memo.title, memo.text, coder,
                          memo.created_at.replace(microsecond=0)))
    cases = {c.name: (c.description, sorted((a.key, a.value_type, a.value) for a in c.attributes))
             for c in session.scalars(select(Case))}
    turns: dict[str, list[tuple[Any, ...]]] = {}
    for row in session.execute(select(Document.title, Unit.seq, Unit.start, Unit.end, Unit.speaker, Unit.begin_time,
                                      Unit.end_time).join(Document, Unit.document_id == Document.id)
                               .where(Unit.kind == "turn").order_by(Document.title, Unit.seq)):
        turns.setdefault(row[0], []).append(tuple(row[1:]))
    return {"documents": docs, "codes": codes, "codings": Counter(coding_rows), "memos": sorted(memo_rows),
            "coders": set(session.scalars(select(Coder.name))), "cases": cases, "turns": turns}


def test_round_trip_of_the_demo_project(demo_db: Path, demo_qdpx: Path, grip: Gripcode, tmp_path: Path,
                                        schema: Any) -> None:
    engine = make_engine(f"sqlite:///{demo_db}")
    with transaction(engine) as session:
        before = _snapshot(session)
    engine.dispose()

    result = grip.ok("import", "qdpx", str(demo_qdpx))
    assert "not placed" not in result.output
    target = make_engine(grip.url)
    with transaction(target) as session:
        after = _snapshot(session)
        units = session.scalar(select(func.count()).select_from(Unit))
        imported = set(session.scalars(select(Coding.origin)))
    assert units and units > 0
    assert imported == {"import"}
    # Speaker turns too: those a transcript's text shows, and the timed ones of a subtitle file, which travel
    # in a note on the source.
    assert any(begin is not None for turns in before["turns"].values() for *_, begin, _end in turns)
    assert any(all(begin is None for *_, begin, _end in turns) for turns in before["turns"].values())
    for part in ("documents", "codes", "coders", "cases", "memos", "turns"):
        assert after[part] == before[part], part
    assert after["codings"] == before["codings"]
    grip.ok("check")

    # Importing the same file again finds everything in place and changes nothing.
    again = grip.ok("import", "qdpx", str(demo_qdpx), "--json").output
    assert '"codings_added": 0' in again and '"memos_added": 0' in again and '"documents_added": []' in again
    with transaction(target) as session:
        assert _snapshot(session) == after

    # The imported project exports again, valid, with the GUIDs it received.
    grip.ok("export", "qdpx", str(tmp_path / "again.qdpx"))
    schema.validate(io.BytesIO(_qde(tmp_path / "again.qdpx")))
    first, second = ET.fromstring(_qde(demo_qdpx)), ET.fromstring(_qde(tmp_path / "again.qdpx"))
    for path in ("q:Users/q:User", ".//q:Code", "q:Sources/q:TextSource", ".//q:Coding", "q:Cases/q:Case"):
        assert sorted(_attr(e, "guid") for e in first.findall(path, NS)) == \
            sorted(_attr(e, "guid") for e in second.findall(path, NS)), path
    target.dispose()
