"""Speaker turns across a .qdpx round trip: text transcripts find theirs again, timed ones travel in a note."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Document, Memo, Unit
from gripcode.exchange.qdpx_turns import TURNS_NOTE_NAME, parse_turns_note

from conftest import PROGRAM, Gripcode
from test_qdpx_export import SCHEMA

TRANSCRIPT = "Interviewer: How did quotas change?\nAna Lima: They fell in 2010.\nThen rose again.\n"
SUBTITLES = ("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Ana Lima>Quotas fell sharply.\n\n"
             "00:00:05.500 --> 00:00:08.250\n<v Ben>Prices rose.\n\n00:01:09.000 --> 00:01:10.000\nNo voice here.\n")


def turns_of(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with transaction(engine) as session:
        for row in session.execute(select(Document.title, Unit.start, Unit.end, Unit.speaker, Unit.begin_time,
                                          Unit.end_time).join(Unit.document).where(Unit.kind == "turn")
                                   .order_by(Document.title, Unit.seq)):
            out.setdefault(row[0], []).append(tuple(row[1:]))
    engine.dispose()
    return out


@pytest.fixture
def exported(grip: Gripcode, tmp_path: Path) -> Path:
    (tmp_path / "interview.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (tmp_path / "talk.vtt").write_text(SUBTITLES, encoding="utf-8")
    grip.ok("import", str(tmp_path / "interview.txt"), str(tmp_path / "talk.vtt"))
    out = tmp_path / "p.qdpx"
    grip.ok("export", "qdpx", str(out))
    return out


def qde(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("project.qde").decode("utf-8")


def rewrite_qde(path: Path, change: Any) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["project.qde"] = change(members["project.qde"].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_timed_turns_are_a_schema_valid_note_on_their_source_only(exported: Path, grip: Gripcode) -> None:
    xml = qde(exported)
    assert xml.count(f'name="{TURNS_NOTE_NAME}"') == 1  # the text transcript needs none
    if SCHEMA.is_file():
        xmlschema = pytest.importorskip("xmlschema")
        xmlschema.XMLSchema(str(SCHEMA)).validate(io.BytesIO(xml.encode("utf-8")))
    content = xml.split(f'name="{TURNS_NOTE_NAME}"', 1)[1].split("<PlainTextContent>", 1)[1].split("<", 1)[0]
    rows = [json.loads(line) for line in content.splitlines()[1:]]
    assert rows == [[0, 20, "Ana Lima", 1.0, 4.0], [22, 34, "Ben", 5.5, 8.25], [36, 50, None, 69.0, 70.0]]


def test_turns_survive_the_round_trip_and_the_note_is_no_memo(exported: Path, grip: Gripcode,
                                                             tmp_path: Path) -> None:
    before = turns_of(grip.url)
    assert before["talk"][0] == (0, 20, "Ana Lima", 1.0, 4.0)
    assert before["interview"] == [(0, 35, "Interviewer", None, None), (36, 81, "Ana Lima", None, None)]
    target = Gripcode(f"sqlite:///{tmp_path / 'target.db'}")
    target.ok("init")
    out = target.ok("import", "qdpx", str(exported)).output
    assert "memos: 0 added" in out and "note:" not in out
    assert turns_of(target.url) == before
    engine = make_engine(target.url)
    with transaction(engine) as session:
        assert session.scalars(select(Memo)).all() == []
    engine.dispose()


def test_a_note_that_does_not_fit_the_text_is_reported_and_the_text_decides(exported: Path, grip: Gripcode,
                                                                            tmp_path: Path) -> None:
    rewrite_qde(exported, lambda xml: xml.replace("[22, 34, ", "[22, 3400, "))
    target = Gripcode(f"sqlite:///{tmp_path / 'target.db'}")
    target.ok("init")
    out = target.ok("import", "qdpx", str(exported)).output
    assert (f"note: talk: speaker turns looked for in the text, not taken from the note {TURNS_NOTE_NAME!r}: "
            "line 3 of the note is not a turn of this text (positions outside the text)") in out
    after = turns_of(target.url)
    assert "talk" not in after  # the text of cues has no speaker labels to find
    assert after["interview"] == turns_of(grip.url)["interview"]


@pytest.mark.parametrize("note, reason", [
    ("something else", "the note does not start as gripcode writes it"),
    ("HEADER\n[0, 5, 7, null, null]", "line 2 of the note is not a turn of this text (speaker is not a name)"),
    ("HEADER\n[0, 5, \"A\", -1, null]", "line 2 of the note is not a turn of this text (a time is not a number"),
    ("HEADER\n[0, 5, \"A\"]", "line 2 of the note is not a turn of this text (not enough values"),
    ("HEADER\n[3, 3, \"A\", null, null]", "line 2 of the note is not a turn of this text (positions outside"),
    ("HEADER\n{]", "line 2 of the note is not a turn of this text"),
    ("HEADER\n[0, 5, \"A\\ud800na\", null, null]",
     "line 2 of the note is not a turn of this text (speaker holds a character a project cannot store)"),
    ("HEADER\n[0, 5, \"A\\u0000na\", null, null]",
     "line 2 of the note is not a turn of this text (speaker holds a character a project cannot store)"),
])
def test_parse_turns_note_refuses_what_it_cannot_use(note: str, reason: str) -> None:
    from gripcode.exchange.qdpx_turns import _HEADER

    found = parse_turns_note(note.replace("HEADER", _HEADER), "Some text here.")
    assert isinstance(found, str) and found.startswith(reason)


@pytest.mark.parametrize("speaker", ["A\\ud800na", "A\\u0000na"])
def test_a_note_speaker_no_project_can_store_is_reported_by_the_installed_program(
        exported: Path, tmp_path: Path, speaker: str) -> None:
    """A JSON escape in the note spells a lone surrogate or a NUL: the note is not used, and nothing breaks."""
    rewrite_qde(exported, lambda xml: xml.replace('[0, 20, "Ana Lima"', f'[0, 20, "{speaker}"'))
    target = tmp_path / "target.db"
    for args in (["init"], ["import", "qdpx", str(exported)]):
        result = subprocess.run([str(PROGRAM), "--db", f"sqlite:///{target}", *args], capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert ("talk: speaker turns looked for in the text, not taken from the note "
            f"{TURNS_NOTE_NAME!r}: line 2 of the note is not a turn of this text (speaker holds a character a "
            "project cannot store)") in result.stdout
    with sqlite3.connect(target) as conn:
        speakers = [row[0] for row in conn.execute("SELECT speaker FROM units WHERE speaker IS NOT NULL")]
    assert sorted(set(speakers)) == ["Ana Lima", "Interviewer"]  # the transcript's, found in its text


def test_the_importer_refuses_a_turn_speaker_no_project_can_store(grip: Gripcode, tmp_path: Path) -> None:
    from gripcode.corpus.importer import ImportItem, ImportOptions, import_items
    from gripcode.corpus.parsed import Turn
    from gripcode.db.storable import UnstorableTextError

    path = tmp_path / "talk.txt"
    path.write_text("Quotas fell.", encoding="utf-8")
    engine = make_engine(grip.url)
    options = ImportOptions(turns=[Turn(0, 12, speaker="A\x00na")])
    with pytest.raises(UnstorableTextError, match="the speaker of a turn of document .* contains a NUL"):
        with transaction(engine) as session:
            import_items(session, [ImportItem(path, options)], actor="tester", jobs=0)
    with transaction(engine) as session:
        assert session.scalars(select(Unit)).all() == []
    engine.dispose()
