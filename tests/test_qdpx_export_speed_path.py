"""The export writes the XML as it goes, from plain rows; these tests hold it to what the export wrote before
it did (tests/data/qdpx-export: each tool's fixture project imported and exported again, written by the
earlier export; the times of the import itself, written as the sources' and memos' times, differ between
runs and are masked)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from test_qdpx_import import build

from gripcode.db.engine import make_engine, transaction
from gripcode.db.migrate import init_database
from gripcode.exchange import export_qdpx
from gripcode.exchange.qdpx_import import import_qdpx

EXPECTED = Path(__file__).parent / "data" / "qdpx-export"
def masked(qde: str, day: str) -> str:
    return re.sub(rf'creationDateTime="{day}T[0-9:]+Z"', 'creationDateTime="NOW"', qde)


@pytest.mark.parametrize("batch", [1, 200])
@pytest.mark.parametrize("tool", ["qualcoder", "nvivo", "maxqda", "atlasti"])
def test_the_exported_project_is_the_one_written_before(tool: str, batch: int, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Codings and texts read a document at a time, or 200 at a time: the same file as before."""
    from gripcode.exchange import qdpx_export

    monkeypatch.setattr(qdpx_export, "_DOCUMENTS_PER_BATCH", batch)
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    init_database(engine)
    try:
        with transaction(engine) as session:
            import_qdpx(session, build(tool, tmp_path / "in.qdpx"), actor="tester")
        with transaction(engine) as session:
            export_qdpx(session, tmp_path / "out.qdpx")
    finally:
        engine.dispose()
    with zipfile.ZipFile(tmp_path / "out.qdpx") as archive:
        qde = archive.read("project.qde").decode("utf-8")
        names = archive.namelist()
    day = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert masked(qde, day) == (EXPECTED / f"{tool}.qde").read_text("utf-8")
    assert names[0] == "project.qde" and names[1:] == sorted(names[1:])
    assert not (tmp_path / "out.qdpx.partial").exists()


def test_a_failed_export_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gripcode.exchange import qdpx_archive

    def broken(_: str) -> zipfile.ZipInfo:
        raise OSError("disk full")

    monkeypatch.setattr(qdpx_archive, "_member", broken)
    with pytest.raises(OSError, match="disk full"):
        qdpx_archive.write_qdpx_streamed(tmp_path / "out.qdpx", iter(["<Project/>"]), iter([]))
    assert list(tmp_path.iterdir()) == []


def test_set_text_by_id_sets_each_row_s_value_and_no_other(grip) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from gripcode.db.bulk import insert_numbered, set_text_by_id
    from gripcode.db.models import Coder

    from gripcode.db.identity import derived_guid

    engine = make_engine(grip.url)
    try:
        with transaction(engine) as session:
            ids = insert_numbered(session.connection(), Coder.__table__,
                                  [{"name": f"coder {n}", "kind": "person", "created_at": dt.datetime.now(dt.timezone.utc)}
                                   for n in range(30)])
            set_text_by_id(session.connection(), Coder.__table__, "refi_guid",
                           [(row_id, f"guid {row_id}") for row_id in ids[:20]])
        with transaction(engine, write=False) as session:
            stored = dict(session.execute(select(Coder.id, Coder.refi_guid).where(Coder.id.in_(ids))).tuples().all())
    finally:
        engine.dispose()
    # the others keep the GUID they were given on insert (derived from the coder's name)
    assert stored == {row_id: (f"guid {row_id}" if index < 20 else derived_guid("coder", f"coder {index}"))
                      for index, row_id in enumerate(ids)}



def test_repeated_and_non_canonical_coding_guids_as_the_export_of_all_codings_at_once_gave_them(
        grip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Only GUIDs that may be shared are followed; the first coding in file order keeps one, a repeat gets a new
    one, as when every coding's GUID was kept in one set."""
    from sqlalchemy import select, update

    from gripcode.codebook.refi_common import normalise_guid
    from gripcode.db.models import Coding
    from gripcode.exchange import qdpx_export

    monkeypatch.setattr(qdpx_export, "_DOCUMENTS_PER_BATCH", 1)
    engine = make_engine(grip.url)
    try:
        with transaction(engine) as session:
            import_qdpx(session, build("nvivo", tmp_path / "in.qdpx"), actor="tester")
        with transaction(engine) as session:
            ids = list(session.scalars(select(Coding.id).order_by(Coding.document_id, Coding.start, Coding.end,
                                                                  Coding.id)))
            assert len(ids) >= 5
            a, b = "aaaaaaaa-1111-4111-8111-111111111111", "bbbbbbbb-2222-4222-8222-222222222222"
            # (a GUID stored twice is refused by the schema now; one in another form still repeats it)
            given = {ids[0]: b, ids[1]: a, ids[2]: "{" + a.upper() + "}", ids[3]: "not a guid"}
            for coding_id, guid in given.items():
                session.execute(update(Coding).where(Coding.id == coding_id).values(refi_guid=guid))
            stored = dict(session.execute(select(Coding.id, Coding.refi_guid)).tuples().all())
        # what keeping every exported coding's GUID in one set, in file order, gives
        seen: set[str] = set()
        kept = {}
        for coding_id in ids:
            guid = normalise_guid(stored[coding_id]) if stored[coding_id] else None
            if guid is not None and guid not in seen:
                seen.add(guid)
                kept[coding_id] = guid
        with transaction(engine) as session:
            report = export_qdpx(session, tmp_path / "out.qdpx")
            after = dict(session.execute(select(Coding.id, Coding.refi_guid)).tuples().all())
    finally:
        engine.dispose()
    assert kept[ids[0]] == b and kept[ids[1]] == a and ids[2] not in kept
    assert {i: after[i] for i in kept} == kept
    new = {i: after[i] for i in ids if i not in kept}
    assert len(set(new.values()) | set(kept.values())) == len(ids) and report.guids_assigned == len(new)
    with zipfile.ZipFile(tmp_path / "out.qdpx") as archive:
        qde = archive.read("project.qde").decode("utf-8")
    assert all(f'<Coding guid="{after[i]}"' in qde for i in ids)
