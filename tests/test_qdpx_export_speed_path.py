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


@pytest.mark.parametrize("tool", ["qualcoder", "nvivo", "maxqda", "atlasti"])
def test_the_exported_project_is_the_one_written_before(tool: str, tmp_path: Path) -> None:
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
