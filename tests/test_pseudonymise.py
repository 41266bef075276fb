"""Pseudonymisation in process: proposals, review, a new project with every coding remapped, the key file, and
the way back. The sample project has interviews with names in English, Portuguese, Russian and Chinese."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from conftest import Gripcode, reset_postgres
from gripcode.analysis.compare import compare_cases
from gripcode.analysis.framework import framework_matrix
from gripcode.coding.integrity import check_integrity
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Base, Coding, Document, Event, Memo, Unit
from gripcode.errors import GripcodeError
from gripcode.privacy import review, service
from gripcode.privacy.keyfile import KeyFileError, read_key
from gripcode.privacy.spans import OffsetMap, Replacement, ValueMatcher
from gripcode.reliability.agreement import compute_agreement
from privacy_project import (INFLECTED, NAMED, OTHERS, PASSPHRASE, PEOPLE, SURNAMES, build_sample_project)

ORIGINALS = PEOPLE + SURNAMES + OTHERS + INFLECTED


@pytest.fixture(autouse=True, scope="module")
def _cheap_key_files() -> Any:
    """Key files written with a lower scrypt cost so the tests run quickly (test_pseudonymise_leaks checks the
    real cost)."""
    from gripcode.privacy import keyfile

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keyfile, "SCRYPT_N", 2**12)
        yield


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The sample project, built once for the module: the tests only read it (they write new projects)."""
    url = os.environ.get("GRIPCODE_TEST_DB", "")
    if url.startswith("postgresql"):
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('source') / 'project.db'}"
    engine = make_engine(url)
    build_sample_project(engine)
    with transaction(engine) as session:  # a memo that names a person, on a coding
        coding = session.scalars(select(Coding).where(Coding.quote.contains("Ferreira pushed"))).first()
        session.add(Memo(target="coding", coding_id=coding.id, coder_id=coding.coder_id,
                         text="Ask Tomás Ferreira about the pilot.", title="Ferreira"))
    yield engine
    engine.dispose()


def accept_sample(state: dict[str, Any]) -> None:
    """What the sample's reviewer decides: the people, addresses and numbers; not the informant descriptions
    of the older interviews. Surnames alone are the same people as the full names."""
    by_value = {e["value"]: e for e in state["entities"]}
    for e in state["entities"]:
        e["status"] = "accepted" if e["value"] in PEOPLE + OTHERS else "rejected"
    review.edit(state, by_value["Margaret Ellison"]["id"], pseudonym="[Informant 1]")
    review.edit(state, by_value["Ольга Петренко"]["id"], pseudonym="[Official, Ministry A]")
    for surname, full in zip(SURNAMES, ["Margaret Ellison", "Tomás Ferreira", "Luísa Carvalho", "Rafael Nogueira",
                                        "Ержан Касымов", "Ольга Петренко"]):
        review.add_value(state, surname, "person", by_value[full]["pseudonym"])


def proposed(source: Engine, key: Path, **options: Any) -> service.ProposeReport:
    return service.propose(source, key, PASSPHRASE, kinds=["interview"], names_file=NAMED / "names.txt",
                           find=["person", "organisation", "email", "phone", "url"], **options)


@pytest.fixture(scope="module")
def pseudonymised(source: Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pseudo")
    key = folder / "project.key"
    proposed(source, key)
    service.change_key(key, PASSPHRASE, accept_sample)
    service.apply(source, str(folder / "pseudo.db"), key, PASSPHRASE, "tester")
    return key, folder / "pseudo.db"


def texts(engine: Engine) -> dict[int, str]:
    with transaction(engine, write=False) as session:
        return dict(session.execute(select(Document.id, Document.text)).all())


def codings(engine: Engine) -> list[tuple[Any, ...]]:
    with transaction(engine, write=False) as session:
        return [tuple(r) for r in session.execute(
            select(Coding.id, Coding.document_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end,
                   Coding.quote, Coding.status, Coding.memo).order_by(Coding.id)).all()]


def every_text_cell(engine: Engine) -> str:
    """Every text and JSON cell of every table, as one string to search."""
    parts = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                parts.extend(json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (dict, list)) else str(v)
                             for v in row.values() if isinstance(v, (str, dict, list)))
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------------ spans


def test_offsets_inside_a_replaced_value_snap_to_its_edges() -> None:
    body = "We met Ivan Petrov yesterday."
    reps = list(ValueMatcher([("Ivan Petrov", "[Person 1]", 1)]).find(body))
    assert [(r.start, r.end) for r in reps] == [(7, 18)]
    offsets = OffsetMap(reps)
    new = "We met [Person 1] yesterday."
    assert offsets.span(0, 6) == (0, 6, False)  # before
    assert offsets.span(7, 18) == (7, 17, False)  # the name exactly
    assert offsets.span(3, 29) == (3, 28, False)  # around it: stretched or shrunk
    assert offsets.span(12, 29) == (7, 28, True)  # starts inside: from the pseudonym's start
    assert offsets.span(0, 10) == (0, 17, True)  # ends inside: to the pseudonym's end
    assert offsets.span(8, 10) == (7, 17, True)  # wholly inside
    assert new[offsets.map(19, "start")[0]:] == "yesterday."


def test_values_match_whole_words_cyrillic_endings_and_chinese_anywhere() -> None:
    matcher = ValueMatcher([("Петров", "[P]", 1), ("Мария", "[M]", 2), ("李娜", "[L]", 3), ("Ann", "[A]", 4)])
    assert matcher.replace("с Петровым и Марией; Петровский завод") == "с [P] и [M]; Петровский завод"
    assert matcher.replace("李娜说，李娜的") == "[L]说，[L]的"
    assert matcher.replace("Ann, Anna and Joanne") == "[A], Anna and Joanne"
    assert ValueMatcher([("Ivan  Petrov", "[P]", 1)]).replace("Ivan\nPetrov said") == "[P] said"


# ------------------------------------------------------------------------------------------------ propose


def test_propose_finds_names_informants_and_patterns_and_changes_nothing(source: Engine, tmp_path: Path) -> None:
    before_texts = texts(source)
    with transaction(source, write=False) as session:
        events = session.scalar(select(func.count()).select_from(Event))
    key = tmp_path / "k.key"
    report = proposed(source, key)
    state = read_key(key, PASSPHRASE)
    found = {e["value"]: e for e in state["entities"]}
    for value in PEOPLE + OTHERS:
        assert value in found, value
        assert found[value]["status"] == "proposed"
    assert found["Margaret Ellison"]["sources"] == ["informant"]
    assert found["Ольга Петренко"]["occurrences"] == 2  # "Ольга Петренко" and "Ольгой Петренко"
    assert found["李娜"]["occurrences"] == 2 and found["王建国"]["occurrences"] == 4
    assert found["+44 20 7946 0321"]["kind"] == "phone" and found["+7 701 555 12 34"]["kind"] == "phone"
    assert found["https://www.hartwell-metals.example/reports"]["kind"] == "url"
    assert found["Hartwell Metals"]["kind"] == "organisation"
    assert found["Tomás Ferreira"]["pseudonym"].startswith("[Person ")
    assert not any(e["value"].startswith("2010") for e in state["entities"])  # years are not phone numbers
    assert any("no trained pipeline is configured for en, pt, ru, zh" in w for w in report.warnings)
    assert texts(source) == before_texts
    with transaction(source, write=False) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == events
    # Running it again keeps decisions and pseudonyms, adds nothing new.
    service.change_key(key, PASSPHRASE, lambda s: review.decide(s, "rejected", [found["王建国"]["id"]]))
    again = proposed(source, key)
    assert again.added == []
    state = read_key(key, PASSPHRASE)
    assert {e["value"]: e["status"] for e in state["entities"]}["王建国"] == "rejected"
    assert {e["value"]: e["pseudonym"] for e in state["entities"]} == {v: e["pseudonym"] for v, e in found.items()}
    # Only e-mail addresses asked for: no phones.
    other = tmp_path / "other.key"
    service.propose(source, other, PASSPHRASE, find=["email"], use_informants=False, kinds=["interview"])
    assert {e["kind"] for e in read_key(other, PASSPHRASE)["entities"]} == {"email"}


def _ruler_pipeline(folder: Path, lang: str, patterns: list[dict[str, str]]) -> str:
    import spacy

    nlp = spacy.blank(lang)
    nlp.add_pipe("entity_ruler").add_patterns(patterns)
    nlp.to_disk(folder / lang)
    return str(folder / lang)


def test_a_configured_pipeline_proposes_the_entities_it_finds(source: Engine, tmp_path: Path) -> None:
    """A blank pipeline with an entity ruler stands in for a trained one: it is loaded from its folder as a
    pipeline named in gripcode.toml would be."""
    pipelines = {
        "ru": _ruler_pipeline(tmp_path, "ru", [{"label": "PER", "pattern": "Ержан Касымов"},
                                               {"label": "ORG", "pattern": "SARECO"}]),
        "en": _ruler_pipeline(tmp_path, "en", [{"label": "PERSON", "pattern": "Tomás Ferreira"},
                                               {"label": "GPE", "pattern": "Bavaria"}]),
        "zh": _ruler_pipeline(tmp_path, "zh", [{"label": "PERSON", "pattern": "李娜"}]),
    }
    key = tmp_path / "k.key"
    report = service.propose(source, key, PASSPHRASE, kinds=["interview"], use_informants=False, find=["person"],
                             pipelines=pipelines)
    found = {e["value"]: e for e in read_key(key, PASSPHRASE)["entities"]}
    assert found["Ержан Касымов"]["sources"] == ["ner"] and found["Ержан Касымов"]["occurrences"] == 4
    assert found["Tomás Ferreira"]["sources"] == ["ner"] and found["李娜"]["kind"] == "person"
    assert "SARECO" not in found  # organisations were not asked for
    assert [w.split(":")[0] for w in report.warnings] == ["no trained pipeline is configured for pt"]
    with_orgs = tmp_path / "orgs.key"
    service.propose(source, with_orgs, PASSPHRASE, kinds=["interview"], use_informants=False,
                    find=["person", "organisation"], pipelines=pipelines)
    assert {e["value"]: e["kind"] for e in read_key(with_orgs, PASSPHRASE)["entities"]}["SARECO"] == "organisation"


def test_a_pipeline_that_is_not_installed_is_a_warning(source: Engine, tmp_path: Path) -> None:
    report = service.propose(source, tmp_path / "k.key", PASSPHRASE, kinds=["interview"],
                             pipelines={"en": "no_such_pipeline_sm"})
    assert any("no_such_pipeline_sm" in w for w in report.warnings)
    assert report.total > 0


def test_propose_refuses_what_cannot_be_used(source: Engine, tmp_path: Path) -> None:
    with pytest.raises(GripcodeError, match="no case called Atlantis"):
        service.propose(source, tmp_path / "k.key", PASSPHRASE, cases=["Atlantis"])
    with pytest.raises(GripcodeError, match="no name list"):
        service.propose(source, tmp_path / "k.key", PASSPHRASE, names_file=tmp_path / "missing.txt")
    with pytest.raises(GripcodeError, match="needs {n} or {letter}"):
        service.propose(source, tmp_path / "k.key", PASSPHRASE, patterns={"person": "[Someone]"})
    with pytest.raises(GripcodeError, match="too short"):
        service.propose(source, tmp_path / "k.key", "short")
    assert not (tmp_path / "k.key").exists()


# ------------------------------------------------------------------------------------------------ review


def test_patterns_number_each_kind_and_edits_stay(source: Engine, tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    proposed(source, key, patterns={"person": "[Informant {n}]", "organisation": "[Firm {letter}]"})
    state = read_key(key, PASSPHRASE)
    people = [e for e in sorted(state["entities"], key=lambda e: e["id"]) if e["kind"] == "person"]
    assert [e["pseudonym"] for e in people[:3]] == ["[Informant 1]", "[Informant 2]", "[Informant 3]"]
    assert {e["pseudonym"] for e in state["entities"] if e["kind"] == "organisation"} == {"[Firm A]"}
    review.edit(state, people[0]["id"], pseudonym="[Official, Ministry A]")
    review.edit(state, people[2]["id"], same_as=people[0]["id"])
    review.set_patterns(state, {"person": "[P{n}]"})
    assert [e["pseudonym"] for e in people[:3]] == ["[Official, Ministry A]", "[P2]", "[Official, Ministry A]"]
    with pytest.raises(GripcodeError, match="no proposal 999"):
        review.edit(state, 999, pseudonym="x")
    with pytest.raises(GripcodeError, match="one line"):
        review.edit(state, people[1]["id"], pseudonym="a\nb")


def test_decisions_through_the_key_file_and_a_csv_read_back(source: Engine, tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    proposed(source, key)
    by_value = {e["value"]: e for e in read_key(key, PASSPHRASE)["entities"]}
    assert service.change_key(key, PASSPHRASE, lambda s: review.decide(s, "accepted", kind="phone")) == 2
    out = tmp_path / "review.csv"
    service.export_csv(key, PASSPHRASE, out)
    body = out.read_text(encoding="utf-8")
    assert "'+44 20 7946 0321" in body  # a spreadsheet must not run it as a formula
    lines = body.splitlines()
    edited = []
    for line in lines:
        if ",Luísa Carvalho," in line:
            line = line.replace(",proposed,", ",accepted,").replace("[Person", "[Secretary")
        if ",王建国," in line:
            line = line.replace(",proposed,", ",rejected,")
        edited.append(line)
    edited.append(',person,Nogueira,,accepted,,,')
    out.write_text("\n".join(edited) + "\n", encoding="utf-8")
    assert service.import_csv(key, PASSPHRASE, out) == {"changed": 2, "added": 1}
    state = {e["value"]: e for e in read_key(key, PASSPHRASE)["entities"]}
    assert state["Luísa Carvalho"]["status"] == "accepted"
    assert state["Luísa Carvalho"]["pseudonym"].startswith("[Secretary")
    assert state["王建国"]["status"] == "rejected" and state["Nogueira"]["sources"] == ["researcher"]
    assert state["+44 20 7946 0321"]["status"] == "accepted"
    # A mistake anywhere in the file changes nothing.
    before = key.read_bytes()
    out.write_text(body.replace(",proposed,", ",maybe,", 1), encoding="utf-8")
    with pytest.raises(GripcodeError, match="line 2: unknown status 'maybe'.*; nothing was changed"):
        service.import_csv(key, PASSPHRASE, out)
    value_changed = body.replace("Luísa Carvalho", "Luisa Carvalho", 1)
    out.write_text(value_changed, encoding="utf-8")
    with pytest.raises(GripcodeError, match="value of proposal .* was changed"):
        service.import_csv(key, PASSPHRASE, out)
    assert key.read_bytes() == before
    assert by_value  # the ids the CSV names were the key file's own


# ------------------------------------------------------------------------------------------------ key file


def test_the_key_file_is_encrypted_and_refuses_a_wrong_passphrase_or_damage(
        pseudonymised: tuple[Path, Path], tmp_path: Path) -> None:
    key, _ = pseudonymised
    data = key.read_bytes()
    for value in ORIGINALS:
        assert value.encode("utf-8") not in data
    assert read_key(key, PASSPHRASE)["applied"]
    with pytest.raises(KeyFileError, match="wrong passphrase, or the file is damaged"):
        read_key(key, "not the passphrase")
    envelope = json.loads(data)
    cipher = bytearray(envelope["ciphertext"].encode())
    cipher[40] = ord("A") if cipher[40] != ord("A") else ord("B")
    envelope["ciphertext"] = cipher.decode()
    damaged = tmp_path / "damaged.key"
    damaged.write_text(json.dumps(envelope))
    with pytest.raises(KeyFileError, match="wrong passphrase, or the file is damaged"):
        read_key(damaged, PASSPHRASE)
    damaged.write_text("not a key")
    with pytest.raises(KeyFileError, match="not a gripcode key file"):
        read_key(damaged, PASSPHRASE)
    with pytest.raises(KeyFileError, match="there is no key file"):
        read_key(tmp_path / "none.key", PASSPHRASE)


# ------------------------------------------------------------------------------------------------ apply


def test_apply_writes_a_new_project_with_every_coding_on_its_passage(
        source: Engine, pseudonymised: tuple[Path, Path]) -> None:
    _, pseudo_file = pseudonymised
    new = make_engine(f"sqlite:///{pseudo_file}")
    try:
        old_texts, new_texts = texts(source), texts(new)
        assert old_texts.keys() == new_texts.keys()
        for body in new_texts.values():
            for value in ORIGINALS:
                assert value not in body
        changed = [i for i in old_texts if old_texts[i] != new_texts[i]]
        assert len(changed) == 4  # the four interviews with names; nothing else names them
        joined = "\n".join(new_texts[i] for i in changed)
        assert "[Informant 1]: Overnight. I was at [Organisation A]" in joined
        assert "С [Official, Ministry A] мы спорили" in joined  # the inflected form, the same person
        assert "и [Person" in joined and "стали приглашать" in joined
        assert "[e-mail 1]" in joined and "[phone 2]" in joined and "[URL 1]" in joined
        with transaction(new, write=False) as session:
            assert check_integrity(session).ok
            event = session.scalars(select(Event).where(Event.action == "pseudonymise")).one()
            assert event.details["replacements"] > 0 and "key_record" in event.details
            memo = session.scalars(select(Memo).where(Memo.target == "coding")).one()
            assert memo.text == "Ask [Person 1] about the pilot." and memo.title == "[Person 1]"
            speakers = set(session.scalars(select(Unit.speaker).where(Unit.speaker.is_not(None))))
            assert "[Informant 1]" in speakers and "Margaret Ellison" not in speakers
        # The same codes on the same passages: every coding keeps its id, code, coder, document and status.
        old, pseudo = codings(source), codings(new)
        assert [c[:4] + c[7:] for c in old] == [c[:4] + c[7:] for c in pseudo]
        quotes = {c[0]: c[6] for c in pseudo}
        assert any(q == "[Person 1]" for q in quotes.values())  # the coding on "Tomás Ferreira"
        assert any(q.startswith("[Person 1] pushed his board") for q in quotes.values())
        # Nothing that names them is left anywhere in the database: the key is only in the key file.
        everything = every_text_cell(new)
        for value in ORIGINALS:
            assert value not in everything, value
        # The original project is untouched.
        with transaction(source, write=False) as session:
            assert check_integrity(session).ok
            assert "Margaret Ellison" in session.scalar(select(Document.text).where(Document.id == changed[0]))
    finally:
        new.dispose()


def _rows(result: Any) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in result.rows]


def test_agreement_and_comparisons_are_the_same_on_both_projects(
        source: Engine, pseudonymised: tuple[Path, Path]) -> None:
    new = make_engine(f"sqlite:///{pseudonymised[1]}")
    try:
        figures = []
        for engine in (source, new):
            with transaction(engine, write=False) as session:
                figures.append({
                    unit: _rows(compute_agreement(session, ["ana", "ben"], unit))
                    for unit in ("paragraph", "sentence", "turn", "document")}
                    | {"compare": compare_cases(session, by="case", measures=["documents", "share", "codings",
                                                                                "per10k"]).to_dict()})
        assert figures[0] == figures[1]
        with transaction(new, write=False) as session:
            matrix = framework_matrix(session, by="case", quotes=5)
        assert not any(value in str(matrix.to_dict()) for value in ORIGINALS)
    finally:
        new.dispose()


def test_a_coding_that_begins_inside_a_name_snaps_and_comes_back_exactly(tmp_path: Path) -> None:
    # On a file of its own: the module's project may be the PostgreSQL test database, which `grip` would wipe.
    db_url = f"sqlite:///{tmp_path / 'small.db'}"
    grip = Gripcode(db_url)
    grip.ok("init")
    doc = tmp_path / "note.txt"
    doc.write_text("We met Ivan Petrov in Astana. Petrov spoke about quotas.\n", encoding="utf-8")
    grip.ok("case", "add", "Kazakhstan")
    grip.ok("import", str(doc), "--case", "Kazakhstan", "--kind", "interview")
    cb = tmp_path / "cb.yaml"
    cb.write_text("codebook: t\ncodes:\n  - id: quotas\n    name: Quotas\n    definition: Export quotas.\n",
                  encoding="utf-8")
    grip.ok("codebook", "sync", str(cb))
    source = make_engine(db_url)
    try:
        body = texts(source)[1]
        spans = [(body.index("Petrov in"), body.index(" in Astana")),  # the surname only: inside the name
                 (body.index("van Petrov"), len(body) - 1),  # starts inside
                 (0, body.index("etrov in")),  # ends inside
                 (body.index("Petrov spoke"), len(body) - 1)]  # the surname alone is a value of its own
        for start, end in spans:
            grip.ok("code", "add", "1", "quotas", "--span", f"{start}:{end}")
        key = tmp_path / "k.key"
        state = review.new_state()
        review.add_value(state, "Ivan Petrov", "person", "[Informant 1]")
        review.add_value(state, "Petrov", "person", "[Informant 1]")
        from gripcode.privacy.keyfile import write_key
        write_key(key, state, PASSPHRASE)
        report = service.apply(source, str(tmp_path / "pseudo.db"), key, PASSPHRASE, "tester")
        assert len(report.result.snapped_codings) == 3
        pseudo = make_engine(f"sqlite:///{tmp_path / 'pseudo.db'}")
        assert texts(pseudo)[1] == "We met [Informant 1] in Astana. [Informant 1] spoke about quotas.\n"
        assert [c[6] for c in codings(pseudo)] == [
            "[Informant 1]", "[Informant 1] in Astana. [Informant 1] spoke about quotas.",
            "We met [Informant 1]", "[Informant 1] spoke about quotas."]
        service.reverse(pseudo, str(tmp_path / "restored.db"), key, PASSPHRASE, "tester")
        restored = make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
        assert texts(restored) == texts(source)
        assert codings(restored) == codings(source)
        for engine in (pseudo, restored):
            engine.dispose()
    finally:
        source.dispose()


def test_reverse_restores_the_original_texts_codings_units_and_cells(
        source: Engine, pseudonymised: tuple[Path, Path], tmp_path: Path) -> None:
    key, pseudo_file = pseudonymised
    pseudo = make_engine(f"sqlite:///{pseudo_file}")
    restored_file = tmp_path / "restored.db"
    report = service.reverse(pseudo, str(restored_file), key, PASSPHRASE, "tester")
    restored = make_engine(f"sqlite:///{restored_file}")
    try:
        assert report.result.documents_changed == 4
        assert texts(restored) == texts(source)
        assert codings(restored) == codings(source)
        for model, columns in ((Unit, (Unit.id, Unit.document_id, Unit.start, Unit.end, Unit.speaker)),
                               (Memo, (Memo.id, Memo.text, Memo.title, Memo.coding_id)),
                               (Document, (Document.id, Document.sha256, Document.meta, Document.title))):
            rows = []
            for engine in (source, restored):
                with transaction(engine, write=False) as session:
                    rows.append([tuple(r) for r in session.execute(select(*columns).order_by(columns[0])).all()])
            assert rows[0] == rows[1], model.__name__
        with transaction(restored, write=False) as session:
            assert check_integrity(session).ok
            assert session.scalar(select(func.count()).select_from(Event).where(
                Event.action == "pseudonymise reverse")) == 1
        # Only with its own key, and never into an existing file.
        other = tmp_path / "other.key"  # a key file that holds no record of this project
        from gripcode.privacy.keyfile import write_key
        write_key(other, review.new_state(), PASSPHRASE)
        with pytest.raises(GripcodeError, match="this key file was not used to make this project"):
            service.reverse(pseudo, str(tmp_path / "again.db"), other, PASSPHRASE, "tester")
        with pytest.raises(GripcodeError, match="already exists"):
            service.reverse(pseudo, str(restored_file), key, PASSPHRASE, "tester")
        with pytest.raises(GripcodeError, match="not made by `gripcode pseudonymise apply`"):
            service.reverse(source, str(tmp_path / "again.db"), key, PASSPHRASE, "tester")
        assert not (tmp_path / "again.db").exists()
    finally:
        pseudo.dispose()
        restored.dispose()


def test_apply_refuses_what_it_cannot_do(source: Engine, tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    proposed(source, key)
    with pytest.raises(GripcodeError, match="no proposal is accepted yet"):
        service.apply(source, str(tmp_path / "new.db"), key, PASSPHRASE, "tester")
    state = read_key(key, PASSPHRASE)
    by_value = {e["value"]: e for e in state["entities"]}
    review.decide(state, "accepted", [by_value["Margaret Ellison"]["id"]])
    review.edit(state, by_value["Margaret Ellison"]["id"], pseudonym="[Ms Ellison]")
    from gripcode.privacy.keyfile import write_key
    write_key(key, state, PASSPHRASE)
    review.add_value(state, "Ellison", "person")
    write_key(key, state, PASSPHRASE)
    with pytest.raises(GripcodeError, match="contains the value 'Ellison' it should hide"):
        service.apply(source, str(tmp_path / "new.db"), key, PASSPHRASE, "tester")
    review.edit(state, by_value["Margaret Ellison"]["id"], pseudonym="[Informant 1]")
    write_key(key, state, PASSPHRASE)
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"")
    with pytest.raises(GripcodeError, match="already exists"):
        service.apply(source, str(existing), key, PASSPHRASE, "tester")
    assert not (tmp_path / "new.db").exists()


def test_apply_into_an_empty_postgresql_schema(source: Engine, pseudonymised: tuple[Path, Path]) -> None:
    """A database URL as the new project (on PostgreSQL a schema of the test database stands in for a new
    database); the copy from it back to a file is the original again."""
    url = os.environ.get("GRIPCODE_TEST_DB", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs GRIPCODE_TEST_DB on PostgreSQL")
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS pseudonymised CASCADE"))
        conn.execute(text("CREATE SCHEMA pseudonymised"))
    admin.dispose()
    target = url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dpseudonymised"
    key, pseudo_file = pseudonymised
    report = service.apply(source, target, key, PASSPHRASE, "tester")
    assert report.result.documents_changed == 4
    new = make_engine(target)
    file_copy = make_engine(f"sqlite:///{pseudo_file}")
    try:
        assert texts(new) == texts(file_copy)
        assert codings(new) == codings(file_copy)
        with transaction(new) as session:
            assert check_integrity(session).ok
            session.add(Event(actor="tester", action="probe", details={}))  # sequences continue after the copy
        with pytest.raises(GripcodeError, match="is not empty"):
            service.apply(source, target, key, PASSPHRASE, "tester")
    finally:
        new.dispose()
        file_copy.dispose()
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS pseudonymised CASCADE"))
        admin.dispose()
