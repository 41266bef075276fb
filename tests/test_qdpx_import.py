"""REFI-QDA project import (.qdpx) from files modelled on what NVivo, ATLAS.ti, MAXQDA and QualCoder write.

The fixtures under tests/data/qdpx/<tool>/ are hand-written project files and sources; ``build`` zips one into
a .qdpx at test time (a ``*.docx-paragraphs.txt`` file becomes a Word file with one paragraph per line).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Case, Code, CodebookVersion, Coder, Coding, Document, Memo, Unit
from gripcode.errors import ExchangeError
from gripcode.exchange import import_qdpx
from gripcode.exchange.qdpx_positions import (
    CONVENTIONS,
    EXACT,
    PREFIX,
    Placement,
    SourceText,
    conventions_for,
    detect_origin,
    name_score,
    place,
)

from conftest import Gripcode

FIXTURES = Path(__file__).resolve().parent / "data" / "qdpx"
NVIVO_SUPPLY_RISK = "c0de0001-0000-4000-8000-000000000001"


def build(tool: str, out: Path, *, replace: dict[str, str] | None = None, encoding: str | None = None) -> Path:
    """Zip the fixture folder of ``tool``; ``replace`` edits the .qde text, ``encoding`` re-encodes it."""
    folder = FIXTURES / tool
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_dir():
                continue
            name = path.relative_to(folder).as_posix()
            data = path.read_bytes()
            if name.endswith(".docx-paragraphs.txt"):
                document = docx.Document()
                for paragraph in data.decode("utf-8").splitlines():
                    document.add_paragraph(paragraph)
                buffer = io.BytesIO()
                document.save(buffer)
                name, data = name.replace(".docx-paragraphs.txt", ".docx"), buffer.getvalue()
            elif name.endswith(".qde") and (replace or encoding):
                text = data.decode("utf-8-sig")
                for old, new in (replace or {}).items():
                    assert old in text, old
                    text = text.replace(old, new)
                if encoding:
                    text = text.replace('encoding="utf-8"', f'encoding="{encoding}"')
                data = text.encode(encoding or "utf-8")
            archive.writestr(name, data)
    return out


def imported(grip: Gripcode, path: Path, *args: str) -> dict[str, Any]:
    result = grip.ok("import", "qdpx", str(path), "--json", *args)
    return json.loads(result.output)


def codings(session: Session) -> set[tuple[str, str, str, str, str | None]]:
    return set(session.execute(
        select(Document.title, Code.name, Coder.name, Coding.quote, Coding.memo)
        .join(Document, Coding.document_id == Document.id).join(Code, Coding.code_id == Code.id)
        .join(Coder, Coding.coder_id == Coder.id)).tuples().all())


def memos(session: Session) -> set[tuple[str, str | None, str, str, str | None]]:
    on = aliased(Coding)
    rows = session.execute(select(Memo.target, Memo.title, Memo.text, Coder.name, Document.title, Code.name,
                                  on.quote)
                           .join(Coder, Memo.coder_id == Coder.id)
                           .outerjoin(Document, Memo.document_id == Document.id)
                           .outerjoin(Code, Memo.code_id == Code.id).outerjoin(on, Memo.coding_id == on.id)).all()
    return {(r[0], r[1], r[2], r[3], r[4] or r[5] or r[6]) for r in rows}


@pytest.fixture
def session_of(grip: Gripcode) -> Any:
    engines = []

    def open_session() -> Any:
        engine = make_engine(grip.url)
        engines.append(engine)
        return transaction(engine)

    yield open_session
    for engine in engines:
        engine.dispose()


# --------------------------------------------------------------------------------------------------- NVivo


def test_nvivo_utf16_positions_crlf_bom_braces_and_reports(grip: Gripcode, tmp_path: Path, session_of: Any) -> None:
    report = imported(grip, build("nvivo", tmp_path / "nvivo.qdpx"))
    assert report["origin"] == "nvivo" and not report["origin_given"]
    assert report["placed_by"] == {"UTF-16 code units, each line break as two (CRLF)": 4,
                                   "code points, each line break as two (CRLF)": 1}
    assert report["confirmed_by"] == {"name": 5}
    assert report["unplaced"] == 1
    assert "Respondents mentioned tariffs in passing" in report["unplaced_examples"][0]
    assert report["non_text"] == {"PDFSource": 1, "PDFSelection": 1} and report["non_text_codings"] == 1
    with session_of() as session:
        assert codings(session) == {
            ("Interview plant manager", "Supply risk", "Li Wei", "We lost half our supply overnight", None),
            ("Interview plant manager", "Price shocks", "Li Wei", "Prices for dysprosium tripled within a year.", None),
            ("Interview plant manager", "Supply risk", "Maria Santos",
             "Prices for dysprosium tripled within a year.", None),
            ("Interview plant manager", "Industrial policy", "Maria Santos",
             "The ministry then offered cheap loans for separation capacity in Inner Mongolia.", None),
            ("Interview plant manager", "Recycling", "Li Wei", "Now we recycle magnets from old hard drives", None),
            ("News: gallium licences", "Export restrictions", "Maria Santos",
             "new export licences for gallium and germanium", None)}
        assert memos(session) == {
            ("project", "Project memo", "Coding followed the 2023 protocol.", "Li Wei", None),
            ("document", "Interview memo", "Respondent was guarded about prices.", "Li Wei", "Interview plant manager"),
            ("code", "Supply risk memo", "Consider splitting by element.", "Maria Santos", "Supply risk"),
            ("coding", "On recycling", "Recycling share is self-reported.", "Li Wei",
             "Now we recycle magnets from old hard drives")}
        doc = session.scalars(select(Document).where(Document.title == "Interview plant manager")).one()
        assert doc.text.startswith("Interviewer: How did the 2010") and "\r" not in doc.text
        assert "\U0001F61F" in doc.text and not doc.text.startswith("\ufeff")
        assert doc.refi_guid == "8f2c4a10-7d3b-4e5f-9a1c-2b3d4e5f6a70"
        assert session.scalar(select(func.count()).select_from(Unit).where(Unit.document_id == doc.id)) > 0
        supply = session.scalars(select(Code).where(Code.refi_guid == NVIVO_SUPPLY_RISK)).one()
        assert supply.color == "#E03131" and supply.definition == "Concern that rare-earth supplies could be cut off."
        policy = session.scalars(select(Code).where(Code.name == "Industrial policy")).one()
        assert policy.definition == "Tools a state uses to build an industry."
        assert policy.include == "cheap loans, subsidies, procurement."
        price = session.scalars(select(Code).where(Code.name == "Price shocks")).one()
        assert price.parent_id == supply.id
        china = session.scalars(select(Case).where(Case.name == "China")).one()
        assert china.description == "Producer country"
        assert {(a.key, a.value) for a in china.attributes} == {("Region", "East Asia"), ("World share", 0.7)}
        assert {d.title for d in china.documents} == {"Interview plant manager", "News: gallium licences"}
        versions = session.scalar(select(func.count()).select_from(CodebookVersion))
        assert versions == 1
        assert session.scalar(select(func.count()).select_from(Coding).where(Coding.origin != "import")) == 0

    again = imported(grip, build("nvivo", tmp_path / "again.qdpx"))
    assert again["codes_reused"] == 5 and again["codes_added"] == []
    assert again["codings_added"] == 0 and again["codings_present"] == 6
    assert again["memos_added"] == 0 and again["memos_present"] == 4
    assert len(again["documents_reused"]) == 2 and again["cases_reused"] == ["China", "Japan"]
    with session_of() as session:
        assert session.scalar(select(func.count()).select_from(CodebookVersion)) == 1


def test_a_wrong_origin_falls_back_to_the_convention_that_fits(grip: Gripcode, tmp_path: Path) -> None:
    report = imported(grip, build("nvivo", tmp_path / "nvivo.qdpx"), "--origin", "atlasti")
    assert report["origin"] == "atlasti" and report["origin_given"]
    assert sum(report["placed_by"].values()) == 5 and len(report["placed_by"]) > 1
    assert report["unplaced"] == 1


def test_human_readable_report(grip: Gripcode, tmp_path: Path) -> None:
    out = grip.ok("import", "qdpx", str(build("nvivo", tmp_path / "nvivo.qdpx"))).output
    assert "written by NVivo, from the file" in out
    assert "not placed: 1 selection(s)" in out and "Respondents mentioned tariffs" in out
    assert "not text: 1 PDFSelection, 1 PDFSource not imported (1 coding(s) on them)" in out
    assert "4 selection(s) counted in UTF-16 code units" in out


# ------------------------------------------------------------------------------------------------ ATLAS.ti


def test_atlasti_line_breaks_as_one_sets_as_cases_and_repeated_selections(grip: Gripcode, tmp_path: Path,
                                                                         session_of: Any) -> None:
    report = imported(grip, build("atlasti", tmp_path / "atlas.qdpx"))
    assert report["origin"] == "atlasti"
    assert report["placed_by"] == {"code points, each line break as one": 5}
    assert report["unplaced"] == 0
    assert report["cases_from_sets"] and sorted(report["cases_added"]) == ["Brazil", "Kazakhstan"]
    assert report["non_text"] == {"PictureSource": 1, "PictureSelection": 1}
    assert any("set(s) of codes" in w for w in report["warnings"])
    with session_of() as session:
        rows = codings(session)
        tailings = "Workers worry about radioactive tailings stored near the river."
        assert ("Kazakhstan field notes", "Radioactive byproducts", "Aigerim", tailings, None) in rows
        assert ("Kazakhstan field notes", "Environment", "Aigerim", tailings, None) in rows
        assert ("Kazakhstan field notes", "State strategy", "Aigerim",
                "the state holding wants a domestic magnet line by 2030", None) in rows
        assert len(rows) == 5
        assert memos(session) == {("coding", "Comment on quotation 1:1", "The manager repeated the 2030 target twice.",
                                   "Aigerim", "the state holding wants a domestic magnet line by 2030")}
        case_of = dict(session.execute(select(Document.title, Case.name).join(Case)).tuples().all())
        assert case_of == {"Kazakhstan field notes": "Kazakhstan", "Brazil news": "Brazil"}


def test_sets_become_cases_beside_cases_only_when_asked(grip: Gripcode, tmp_path: Path, session_of: Any) -> None:
    cases = ('<Cases><Case guid="ca000001-0000-4000-8000-00000000000c" name="Central Asia">'
             '<SourceRef targetGUID="5d1e8c3a-2b4f-4a6e-9c8d-7e6f5a4b3c21"/></Case></Cases>\n  <Sources>')
    path = build("atlasti", tmp_path / "cases.qdpx", replace={"<Sources>": cases})
    report = imported(grip, path)
    assert report["cases_added"] == ["Central Asia"] and not report["cases_from_sets"]
    assert any("--sets-as-cases" in w for w in report["warnings"])
    with session_of() as session:
        assert dict(session.execute(select(Document.title, Case.name).join(Case)).tuples().all()) == {
            "Kazakhstan field notes": "Central Asia"}

    other = Gripcode(grip.url)
    result = json.loads(other.ok("import", "qdpx", str(path), "--json", "--sets-as-cases").output)
    assert sorted(result["cases_added"]) == ["Brazil", "Kazakhstan"]
    with session_of() as session:
        assert dict(session.execute(select(Document.title, Case.name).join(Case)).tuples().all()) == {
            "Kazakhstan field notes": "Central Asia", "Brazil news": "Brazil"}


# -------------------------------------------------------------------------------------------------- MAXQDA


def test_maxqda_no_namespace_word_source_and_media_reported(grip: Gripcode, tmp_path: Path, session_of: Any) -> None:
    report = imported(grip, build("maxqda", tmp_path / "maxqda.qdpx"))
    assert report["origin"] == "maxqda"
    assert report["placed_by"] == {"code points, line breaks as in the file": 2,
                                   "code points, one break between paragraphs": 1}
    assert report["confirmed_by"] == {"word boundaries": 2, "name": 1}
    assert report["non_text"] == {"AudioSource": 1, "AudioSelection": 1, "VideoSource": 1, "VideoSelection": 1}
    assert report["non_text_codings"] == 2
    with session_of() as session:
        word = session.scalars(select(Document).where(Document.title == "Magnet maker interview")).one()
        assert word.text == ("Interview with a magnet maker, Curitiba\n\nQ: What limits your growth?\n\n"
                             "A: We import all separated oxides from China. Local supply would change everything.")
        turns = session.scalars(select(Unit.speaker).where(Unit.document_id == word.id, Unit.kind == "turn")).all()
        assert turns == ["Q", "A"]
        assert codings(session) == {
            ("Magnet maker interview", "Supply", "Joao", "We import all separated oxides from China.", None),
            ("Press review", "Supply", "Joao", "rising Chinese prices make a Brazilian supply chain viable", None),
            ("Press review", "Skills", "Joao", "Engineers at the plant trained in Japan.", None)}
        themes = session.scalars(select(Code).where(Code.name == "Themes")).one()
        assert {c.name for c in session.scalars(select(Code).where(Code.parent_id == themes.id))} == {"Supply", "Skills"}
        brazil = session.scalars(select(Case).where(Case.name == "Brazil")).one()
        assert {(a.key, a.value_type, str(a.value)) for a in brazil.attributes} == {
            ("Interviews", "number", "2.0"), ("First visit", "date", "2019-04-01")}
        assert len(brazil.documents) == 2
        assert memos(session) == {("project", "Project log", "Second round of interviews planned for May.", "Joao",
                                   None)}


# ----------------------------------------------------------------------------------------------- QualCoder


def test_qualcoder_code_points_chinese_and_whole_source_coding(grip: Gripcode, tmp_path: Path,
                                                               session_of: Any) -> None:
    report = imported(grip, build("qualcoder", tmp_path / "qc.qdpx"), "--lang", "zh")
    assert report["origin"] == "qualcoder"
    assert report["placed_by"] == {"code points, line breaks as in the file": 2}
    # Inside Chinese text only spaces and punctuation are word boundaries: "稀土出口管制" ends between two
    # characters, so it is placed under QualCoder's convention but reported as unconfirmed.
    assert report["confirmed_by"] == {"word boundaries": 1, "unconfirmed": 1}
    assert report["unconfirmed_examples"] == ["中文新闻: selection 0-6 placed at 0-6: '稀土出口管制'"]
    assert report["codings_whole_source"] == 1
    with session_of() as session:
        doc = session.scalars(select(Document)).one()
        assert doc.language == "zh"
        rows = codings(session)
        assert ("中文新闻", "出口管制", "colin", "稀土出口管制", None) in rows
        assert ("中文新闻", "Supply", "colin", "企业开始寻找新的供应来源", None) in rows
        assert ("中文新闻", "Recycling", "colin", doc.text.strip(), None) in rows
        code = session.scalars(select(Code).where(Code.name == "出口管制")).one()
        assert code.slug.startswith("code-") and code.color == "#FF6B6B"
        assert session.scalars(select(Code.color).where(Code.name == "Supply")).one() == "#00AAFF"
        assert memos(session) == {("code", "出口管制 memo", "包括配额和许可证。", "colin", "出口管制"),
                                  ("coding", "Coding memo", "Headline only.", "colin", "稀土出口管制")}
        china = session.scalars(select(Case).where(Case.name == "China")).one()
        assert {(a.key, a.value_type, str(a.value)) for a in china.attributes} == {
            ("Producer", "text", "true"), ("Quotas since", "date", "2010-07-01")}


def test_a_project_file_in_utf16_with_a_byte_order_mark(grip: Gripcode, tmp_path: Path) -> None:
    report = imported(grip, build("qualcoder", tmp_path / "utf16.qdpx", encoding="utf-16"))
    assert report["codings_added"] == 3


def test_a_wrong_origin_on_chinese_text_still_finds_the_span(grip: Gripcode, tmp_path: Path,
                                                             session_of: Any) -> None:
    """After the emoji, UTF-16 positions are one further on; the shifted span starts inside a word."""
    report = imported(grip, build("qualcoder", tmp_path / "qc.qdpx"), "--origin", "nvivo")
    assert report["confirmed_by"]["word boundaries"] == 1
    with session_of() as session:
        assert "企业开始寻找新的供应来源" in session.scalars(select(Coding.quote)).all()


# ----------------------------------------------------------------------------------- into an existing project


def test_merge_into_a_project_reuses_codes_by_guid_and_documents_by_text(grip: Gripcode, tmp_path: Path,
                                                                        session_of: Any) -> None:
    (tmp_path / "book.yaml").write_text(
        "codebook: study\ncodes:\n"
        "  - id: supply\n    name: Supply (ours)\n    refi_guid: '{C0DE0001-0000-4000-8000-000000000001}'\n"
        "  - id: recycling\n    name: Our recycling code\n", encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "book.yaml"))
    news = (FIXTURES / "nvivo" / "Sources" / "9A3D5B21-8E4C-4F60-AB2D-3C4E5F6A7B81.txt").read_bytes()
    (tmp_path / "news.txt").write_bytes(news)
    grip.ok("import", str(tmp_path / "news.txt"), "--title", "Our copy of the news")

    report = imported(grip, build("nvivo", tmp_path / "nvivo.qdpx"))
    assert report["codes_reused"] == 1
    assert report["codes_added"] == ["price-shocks", "industrial-policy", "recycling-2", "export-restrictions"]
    assert report["documents_reused"] == ["Our copy of the news"]
    assert report["documents_added"] == ["Interview plant manager"]
    with session_of() as session:
        supply = session.scalars(select(Code).where(Code.slug == "supply")).one()
        assert supply.name == "Supply (ours)"  # the project's codebook stays authoritative
        price = session.scalars(select(Code).where(Code.slug == "price-shocks")).one()
        assert price.parent_id == supply.id
        assert session.scalar(select(func.count()).select_from(Code)) == 6
        assert session.scalar(select(func.count()).select_from(Document)) == 2
        ours = session.scalars(select(Document).where(Document.title == "Our copy of the news")).one()
        assert session.scalars(select(Coding.quote).where(Coding.document_id == ours.id)).all() == [
            "new export licences for gallium and germanium"]
        assert session.scalar(select(func.count()).select_from(CodebookVersion)) == 2
    grip.ok("check")


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("members, message", [
    ({"notes.txt": b"hello"}, "has no .qde project file"),
    ({"a/one.qde": b"<Project/>", "b/two.qde": b"<Project/>"}, "several project files"),
    ({"project.qde": b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'/>"}, "expected <Project>"),
    ({"project.qde": b"<Project name='x'><Sources><TextSource guid='nope'/></Sources></Project>"}, "not a GUID"),
    ({"project.qde": b"<Project"}, "not well-formed XML"),
])
def test_unusable_archives_are_clear_errors(grip: Gripcode, tmp_path: Path, members: dict[str, bytes],
                                            message: str) -> None:
    path = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    result = grip("import", "qdpx", str(path))
    assert result.exit_code == 1 and result.output.startswith("Error: ") and message in result.output


def test_not_a_zip_and_unknown_origin(grip: Gripcode, tmp_path: Path) -> None:
    (tmp_path / "x.qdpx").write_text("plain text", encoding="utf-8")
    result = grip("import", "qdpx", str(tmp_path / "x.qdpx"))
    assert result.exit_code == 1 and "not a zip archive" in result.output
    result = grip("import", "qdpx", str(tmp_path / "x.qdpx"), "--origin", "word")
    assert result.exit_code == 1 and "Invalid value for '--origin'" in result.output
    engine = make_engine(grip.url)
    with transaction(engine) as session, pytest.raises(ExchangeError, match="unknown origin"):
        import_qdpx(session, tmp_path / "x.qdpx", actor="t", origin="word")
    engine.dispose()


def test_document_import_still_works_beside_qdpx(grip: Gripcode, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Some text about quotas.", encoding="utf-8")
    out = grip.ok("import", str(tmp_path / "a.txt"), "--title", "A").output
    assert "1 document(s)" in out
    assert "qdpx" in grip.ok("import", "--help").output


# ------------------------------------------------------------------------------------------------ positions


def test_positions_through_bom_crlf_astral_characters_and_nfd() -> None:
    raw = "\ufeffOne \U0001F600 two\r\nCafe\u0301 three\r\nfour"
    source = SourceText(raw)
    assert source.text == "One \U0001F600 two\nCaf\u00e9 three\nfour"
    body = raw[1:]

    def utf16_crlf(phrase: str) -> tuple[int, int]:
        start = body.index(phrase)
        return len(body[:start].encode("utf-16-le")) // 2, len(body[:start + len(phrase)].encode("utf-16-le")) // 2

    span = source.span(*utf16_crlf("three"), CONVENTIONS["utf16/two"])
    assert span is not None and source.text[span[0]:span[1]] == "three"
    flat = body.replace("\r\n", "\n")
    start = flat.index("four")
    span = source.span(start, start + 4, CONVENTIONS["codepoint/one"])
    assert span is not None and source.text[span[0]:span[1]] == "four"
    # Inside a line NFC shortened: the composed length of what precedes the position.
    start = body.index("Cafe")
    span = source.span(start, start + 5, CONVENTIONS["codepoint/file"])
    assert span is not None and source.text[span[0]:span[1]] == "Caf\u00e9"
    assert source.span(0, 10_000, CONVENTIONS["codepoint/file"]) is None
    assert source.span(5, 5, CONVENTIONS["codepoint/file"]) is None


def test_paragraph_conventions_for_word_texts() -> None:
    source = SourceText("First para.\n\nSecond para.", from_word=True)
    start = len("First para.\n")
    span = source.span(start, start + len("Second"), CONVENTIONS["codepoint/para-one"])
    assert span is not None and source.text[span[0]:span[1]] == "Second"
    start = len("First para.\r\n")
    span = source.span(start, start + len("Second"), CONVENTIONS["utf16/para-two"])
    assert span is not None and source.text[span[0]:span[1]] == "Second"


def test_placement_confirms_by_name_then_boundaries_and_reports_the_rest() -> None:
    source = SourceText("Alpha beta\r\ngamma delta")
    order = conventions_for("unknown", False)
    placed = place(source, 11, 16, "gamma", order, names_are_text=True)  # "one per line break" fits the name
    assert isinstance(placed, Placement) and placed.convention.key == "codepoint/one"
    assert place(source, 12, 17, "nothing like it", order, names_are_text=True) == (
        "its name does not match the text at its positions under any convention")
    by_words = place(source, 0, 5, None, order, names_are_text=False)
    assert isinstance(by_words, Placement) and by_words.confirmed_by == "word boundaries"
    mid_word = place(source, 1, 4, None, order, names_are_text=False)
    assert isinstance(mid_word, Placement) and mid_word.confirmed_by == "unconfirmed"
    assert name_score("Alpha be…", "Alpha beta") == PREFIX and name_score(" Alpha\n beta ", "Alpha beta") == EXACT
    assert detect_origin("", "C:/Users/x/NVivo Projects", "p.qde") == "nvivo"
    assert detect_origin("ATLAS.ti Mac 23", None) == "atlasti" and detect_origin("Quirkos 2.5") == "unknown"


def test_an_unconfirmed_selection_is_imported_and_listed(grip: Gripcode, tmp_path: Path) -> None:
    path = build("maxqda", tmp_path / "mid-word.qdpx", replace={'startPosition="57" endPosition="115"':
                                                                'startPosition="58" endPosition="114"'})
    out = grip.ok("import", "qdpx", str(path)).output
    assert "1 placed without confirmation" in out and "'ising Chinese prices" in out


def test_cli_origin_choices_are_the_readers_origins() -> None:
    """The command line lists the origins without importing the exchange package; they must stay in step."""
    from gripcode.cli.imports import _ORIGIN_CHOICES
    from gripcode.exchange import ORIGINS

    assert sorted(_ORIGIN_CHOICES) == sorted(["auto", *(o for o in ORIGINS if o != "unknown")])
