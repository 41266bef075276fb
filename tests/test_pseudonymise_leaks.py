"""Pseudonymisation: the ways a replaced value could survive in the new project, and the ways a copy could fail
badly. Values in other letter cases, Unicode forms, file names and slugs; overlapping values; names in JSON keys
and in a codebook's YAML; GUIDs; the language-model cache; two documents that become one; a failed copy into a
database; the review CSV's mode; the key file's cost."""

from __future__ import annotations

import json
import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, MetaData, inspect, select, text

from conftest import Gripcode, reset_postgres
from test_pseudonymise import every_text_cell
from gripcode.codebook.loader import parse_codebook
from gripcode.codebook.sync import sync_codebook
from gripcode.corpus.normalize import text_sha256
from gripcode.db.engine import make_engine, transaction
from gripcode.db.migrate import init_database
from gripcode.db.models import (Base, Case, CodebookVersion, Code, Coder, Coding, Document, LlmAnswer,
                                ValidationSample, Validation)
from gripcode.errors import GripcodeError
from gripcode.privacy import keyfile, review, service
from gripcode.privacy.spans import ValueMatcher

PASSPHRASE = "correct horse battery staple"
WRITTEN_N = keyfile.SCRYPT_N  # the cost key files are written with (the tests below lower it)


@pytest.fixture(autouse=True, scope="module")
def _cheap_key_files() -> Any:
    """Key files written with a lower scrypt cost so the tests run quickly (the cost test sets its own)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keyfile, "SCRYPT_N", 2**12)
        yield


def replaced(values: list[tuple[str, str]], body: str) -> str:
    return ValueMatcher([(v, p, i) for i, (v, p) in enumerate(values)]).replace(body)


# ----------------------------------------------------------------------------------------------- matching


def test_values_match_in_every_letter_case_latin_and_cyrillic() -> None:
    body = "MARGARET ELLISON: hello. margaret ellison. Margaret\nEllison. ПЕТРОВ и Петров. LUÍSA CARVALHO"
    out = replaced([("Margaret Ellison", "[P1]"), ("Петров", "[P2]"), ("Luísa Carvalho", "[P3]")], body)
    assert out == "[P1]: hello. [P1]. [P1]. [P2] и [P2]. [P3]"


def test_values_match_inside_file_names_paths_and_addresses() -> None:
    values = [("Margaret Ellison", "[P1]"), ("Ellison", "[P1]"), ("Ana Lima", "[P2]"), ("Tomás Ferreira", "[P3]")]
    body = ("Ellison_2012.wav interview_Ellison.docx interview-ellison.txt margaret-ellison margaret.ellison "
            "margaret_ellison MargaretEllison AnaLima.txt tomas_ferreira.docx ellison2")
    assert replaced(values, body) == ("[P1]_2012.wav interview_[P1].docx interview-[P1].txt [P1] [P1] [P1] [P1] "
                                      "[P2].txt [P3].docx [P1]2")
    # Still whole words: a name inside a longer word, and a sentence break between two words, stay.
    kept = "Ellisons Ellisonian; I met Ana. Lima is far"
    assert replaced(values, kept) == kept
    # A number inside a longer number is another number.
    assert replaced([("+44 20 7946 0321", "[phone 1]")], "+44 20 7946 03219") == "+44 20 7946 03219"


def test_values_given_decomposed_match_composed_texts() -> None:
    nfd = unicodedata.normalize("NFD", "Luísa Carvalho")
    assert nfd != "Luísa Carvalho"
    assert replaced([(nfd, "[P1]")], "Disse Luísa Carvalho.") == "Disse [P1]."
    # A cell stored decomposed is matched too.
    assert replaced([("Luísa Carvalho", "[P1]")], f"Disse {nfd}.") == "Disse [P1]."
    from gripcode.privacy.detect import parse_name_list

    assert parse_name_list(nfd + "\n", "list") == [("person", "Luísa Carvalho")]
    state = review.new_state()
    assert review.add_value(state, nfd)["value"] == "Luísa Carvalho"
    with pytest.raises(GripcodeError, match="already proposal"):  # the same value in another form and case
        review.add_value(state, "LUÍSA CARVALHO")


def test_overlapping_values_are_replaced_as_one_stretch() -> None:
    values = [("Ana Lima", "[P0]"), ("Lima Santos", "[P1]")]
    assert replaced(values, "Ana Lima Santos came; Ana Lima too; Lima Santos also") == \
        "[P1] came; [P0] too; [P1] also"
    found = list(ValueMatcher([("Ana Lima", "[P0]", 0), ("Lima Santos", "[P1]", 1)]).find("Ana Lima Santos"))
    assert [(r.start, r.end, r.value, r.entity) for r in found] == [(0, 15, "[P1]", 1)]


def test_curly_apostrophes_hyphens_cyrillic_plurals_and_spaced_chinese() -> None:
    assert replaced([("O'Brien", "[P1]")], "O’Brien and O'Brien and O‘Brien") == "[P1] and [P1] and [P1]"
    assert replaced([("Jean-Pierre Roy", "[P2]")], "Jean‐Pierre Roy, Jean Pierre Roy") == "[P2], [P2]"
    assert replaced([("Петров", "[P3]")], "у Петровых, с Петровыми") == "у [P3], с [P3]"
    assert replaced([("王建国", "[P4]")], "王 建国 说") == "[P4] 说"


def test_a_pseudonym_may_not_hold_a_value_in_another_case() -> None:
    state = review.new_state()
    review.add_value(state, "Ellison", pseudonym="[ELLISON 1]")
    with pytest.raises(GripcodeError, match="contains the value"):
        review.accepted(state)


# ------------------------------------------------------------------------------------------ the project


CODEBOOK = """codebook: leaks
codes:
  - id: hartwell-metals
    name: Hartwell Metals
    definition: What Margaret Ellison says about Hartwell Metals.
    examples:
      positive: ["Hartwell Metals owns the mine."]
  - id: state-strategy
    name: State strategy
    definition: Plans of the state.
"""
GUID = "0b0e8a4c-6b5e-4a8e-9a59-3c8f0f6f1d21"
TEXT = "MARGARET ELLISON: I worked for Hartwell Metals.\n\nInterviewer: And margaret-ellison@example.org?\n"
VALUES = ["Margaret Ellison", "Hartwell Metals"]


def build(engine: Engine) -> None:
    init_database(engine)
    with transaction(engine) as session:
        sync_codebook(session, parse_codebook(CODEBOOK, name="leaks.yaml"), CODEBOOK, actor="tester")
    with transaction(engine) as session:
        case = Case(name="Margaret Ellison", description="HARTWELL METALS manager")
        coder = Coder(name="ana")
        session.add_all([case, coder])
        session.flush()
        doc = Document(title="interview_Ellison", kind="interview", case_id=case.id, language="en",
                       source="Recorded by MARGARET ELLISON's assistant", original_name="MARGARET-ELLISON_2012.txt",
                       meta={"byline": "margaret ellison", "Margaret Ellison": "informant"}, text=TEXT,
                       sha256=text_sha256(TEXT), word_count=12, refi_guid=GUID)
        other = Document(title="notes", kind="other", language="en", text="Nothing here.",
                         sha256=text_sha256("Nothing here."), word_count=2, refi_guid="{NOT-A-CANONICAL-GUID}")
        session.add_all([doc, other])
        session.flush()
        code = session.scalars(select(Code).where(Code.slug == "hartwell-metals")).one()
        start = TEXT.index("Hartwell")
        session.add(Coding(document_id=doc.id, code_id=code.id, coder_id=coder.id, start=start,
                           end=start + len("Hartwell Metals"), quote="Hartwell Metals", origin="rule",
                           rule_ref="hartwell-metals: terms"))
        session.add(ValidationSample(coder_id=coder.id, unit="paragraph", size=2, seed=1, created_by="ana",
                                     strata={"Margaret Ellison / interview / accepted": [3, 1]}))
        session.add(Validation(coder_id=coder.id, against=["ana"], unit="paragraph", reference="ana",
                               results={"hartwell-metals": {"f1": 1.0}}, created_by="ana"))
        session.add(LlmAnswer(model="m", prompt_hash="p" * 64, text_hash=text_sha256("MARGARET ELLISON: x"),
                              codes=[["hartwell-metals", "names the firm"]]))


def accept(state: dict[str, Any]) -> None:
    review.add_value(state, "Margaret Ellison", pseudonym="[Informant 1]")
    review.add_value(state, "Ellison", pseudonym="[Informant 1]")
    review.add_value(state, "Hartwell Metals", "organisation")


def every_cell(engine: Engine) -> str:
    return every_text_cell(engine)


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {t.name: [dict(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings()]
                for t in Base.metadata.sorted_tables}


@pytest.fixture
def source(tmp_path: Path) -> Engine:
    url = os.environ.get("GRIPCODE_TEST_DB", "")
    if url.startswith("postgresql"):
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'project.db'}"
    engine = make_engine(url)
    build(engine)
    yield engine
    engine.dispose()


def test_no_value_survives_in_any_case_form_and_everything_comes_back(source: Engine, tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    keyfile.write_key(key, review.new_state(), PASSPHRASE)
    service.change_key(key, PASSPHRASE, accept)
    report = service.apply(source, str(tmp_path / "pseudo.db"), key, PASSPHRASE, "tester")
    assert report.result.left_out == {"llm_answers": 1}
    pseudo = make_engine(f"sqlite:///{tmp_path / 'pseudo.db'}")
    try:
        cells = every_cell(pseudo).casefold()
        for value in VALUES + ["hartwell-metals", "ellison"]:
            assert value.casefold() not in cells, value
        with transaction(pseudo, write=False) as session:
            doc = session.scalars(select(Document).where(Document.kind == "interview")).one()
            assert doc.text.startswith("[Informant 1]: I worked for [Organisation A].")
            assert doc.original_name == "[Informant 1]_2012.txt" and doc.title == "interview_[Informant 1]"
            assert doc.meta == {"byline": "[Informant 1]", "[Informant 1]": "informant"}
            # The slug of a code named after the firm, the same everywhere it appears.
            assert session.scalar(select(Code.name).where(Code.slug == "organisation-a")) == "[Organisation A]"
            assert session.scalar(select(Coding.rule_ref)) == "organisation-a: terms"
            assert session.scalar(select(Validation.results)) == {"organisation-a": {"f1": 1.0}}
            assert session.scalar(select(ValidationSample.strata)) == {"[Informant 1] / interview / accepted": [3, 1]}
            # New GUIDs, so an export cannot be joined with one of the original.
            guids = set(session.scalars(select(Document.refi_guid)))
            assert GUID not in guids and "{NOT-A-CANONICAL-GUID}" not in guids and len(guids) == 2
            # The codebook snapshot is still a codebook, with the pseudonym as a name and the new slug.
            snapshot = session.scalars(select(CodebookVersion.yaml_snapshot)).all()[-1]
        parsed = parse_codebook(snapshot, name="snapshot")
        assert {c.id: c.name for c in parsed.codes}["organisation-a"] == "[Organisation A]"
        assert yaml.safe_load(snapshot)["codes"][0]["definition"] == "What [Informant 1] says about [Organisation A]."
        exported = Gripcode(f"sqlite:///{tmp_path / 'pseudo.db'}").ok("codebook", "export", "--format", "markdown")
        assert "[Organisation A]" in exported.output and "Hartwell" not in exported.output
    finally:
        pseudo.dispose()

    service.reverse(make_engine(f"sqlite:///{tmp_path / 'pseudo.db'}"), str(tmp_path / "back.db"), key, PASSPHRASE,
                    "tester")
    back = make_engine(f"sqlite:///{tmp_path / 'back.db'}")
    try:
        before, after = dump(source), dump(back)
        for name in before:
            if name in ("events", "llm_answers", "project_info"):  # a new project has an identity of its own
                continue
            assert before[name] == after[name], name
    finally:
        back.dispose()


def test_two_documents_that_become_one_are_named(source: Engine, tmp_path: Path) -> None:
    with transaction(source) as session:
        for body in ("I, Ana Lima, agree.", "I, Ana, agree."):
            session.add(Document(title=body, text=body, sha256=text_sha256(body), word_count=3))
    key = tmp_path / "k.key"
    keyfile.write_key(key, review.new_state(), PASSPHRASE)

    def decide(state: dict[str, Any]) -> None:
        review.add_value(state, "Ana Lima", pseudonym="[Person 1]")
        review.add_value(state, "Ana", pseudonym="[Person 1]")

    service.change_key(key, PASSPHRASE, decide)
    url = os.environ.get("GRIPCODE_TEST_DB", "")
    if url.startswith("postgresql"):  # an empty schema of the test database stands in for a new database
        target = url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dpseudo_leaks"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS pseudo_leaks CASCADE"))
            conn.execute(text("CREATE SCHEMA pseudo_leaks"))
        admin.dispose()
    else:
        target = str(tmp_path / "pseudo.db")
    try:
        with pytest.raises(GripcodeError, match=r"documents 3 and 4 would hold the same text") as caught:
            service.apply(source, target, key, PASSPHRASE, "tester")
        assert "at the same moment" not in str(caught.value)
        if url.startswith("postgresql"):
            # Nothing of the failed copy is left in the database: it can be given again.
            probe = make_engine(target)
            try:
                assert inspect(probe).get_table_names() == []
            finally:
                probe.dispose()
        else:
            assert not Path(target).exists()
    finally:
        if url.startswith("postgresql"):
            admin = make_engine(url)
            with admin.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS pseudo_leaks CASCADE"))
            admin.dispose()


def test_a_failed_copy_into_a_database_drops_what_it_made(source: Engine, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Also on SQLite, with an existing empty database given by URL: the tables made for the copy go again."""
    from gripcode.privacy import rewrite

    empty = tmp_path / "empty.db"
    engine = make_engine(f"sqlite:///{empty}")
    with engine.begin() as conn:  # an existing database file with no tables
        conn.execute(text("CREATE TABLE probe (x INTEGER)"))
        conn.execute(text("DROP TABLE probe"))
    engine.dispose()
    key = tmp_path / "k.key"
    keyfile.write_key(key, review.new_state(), PASSPHRASE)
    service.change_key(key, PASSPHRASE, accept)

    def broken(self: Any, *args: Any) -> None:
        raise GripcodeError("the disk is full")

    monkeypatch.setattr(rewrite.ProjectRewriter, "_reset_sequences", broken)
    monkeypatch.setattr(rewrite.ProjectRewriter, "_plan_slugs", broken)
    monkeypatch.setattr(service, "sqlite_path", lambda engine: None)  # treated as a database given by URL
    with pytest.raises(GripcodeError, match="the disk is full"):
        service.apply(source, f"sqlite:///{empty}", key, PASSPHRASE, "tester")
    engine = make_engine(f"sqlite:///{empty}")
    try:
        reflected = MetaData()
        reflected.reflect(engine)
        assert list(reflected.tables) == []
    finally:
        engine.dispose()


# -------------------------------------------------------------------------------------- files and keys


def test_the_review_csv_is_readable_only_by_its_owner(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    keyfile.write_key(key, review.new_state(), PASSPHRASE)
    service.change_key(key, PASSPHRASE, accept)
    out = tmp_path / "review.csv"
    out.write_text("old", encoding="utf-8")
    os.chmod(out, 0o644)
    service.export_csv(key, PASSPHRASE, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "Margaret Ellison" in out.read_text(encoding="utf-8")


def test_key_files_are_written_at_scrypt_cost_2_17_and_older_ones_still_open(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyfile, "SCRYPT_N", 2**15)  # a file written before the cost was raised
    old = tmp_path / "old.key"
    keyfile.write_key(old, {"version": 1, "entities": [], "applied": []}, PASSPHRASE)
    monkeypatch.setattr(keyfile, "SCRYPT_N", WRITTEN_N)
    assert WRITTEN_N == 2**17
    assert json.loads(old.read_text())["n"] == 2**15
    state = keyfile.read_key(old, PASSPHRASE)
    keyfile.write_key(old, state, PASSPHRASE)
    assert json.loads(old.read_text())["n"] == 2**17
    assert keyfile.read_key(old, PASSPHRASE) == state
