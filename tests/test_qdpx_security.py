"""Hostile .qdpx files are refused with a clear error, and the project is left exactly as it was."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Code, Document
from gripcode.errors import ExchangeError
from gripcode.exchange import ArchiveLimits, import_qdpx
from gripcode.exchange import qdpx_import

from conftest import PROGRAM, Gripcode, damage_member, declare_size

TABLES = ("cases", "case_attributes", "documents", "units", "codebook_versions", "codes", "coders", "codings",
          "memos", "events")

PROJECT = (b'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="p">'
           b'<Users><User guid="11111111-1111-4111-8111-111111111111" name="eve"/></Users>'
           b'<CodeBook><Codes><Code guid="22222222-2222-4222-8222-222222222222" name="Evil" isCodable="true"/>'
           b'</Codes></CodeBook><Sources><TextSource guid="33333333-3333-4333-8333-333333333333" name="s" '
           b'plainTextPath="internal://s.txt"><PlainTextSelection guid="44444444-4444-4444-8444-444444444444" '
           b'startPosition="0" endPosition="5"><Coding guid="55555555-5555-4555-8555-555555555555">'
           b'<CodeRef targetGUID="22222222-2222-4222-8222-222222222222"/></Coding></PlainTextSelection>'
           b'</TextSource></Sources></Project>')


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
    engine.dispose()
    return out


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    """A project with something in it, so "unchanged" means more than "still empty"."""
    grip.ok("case", "add", "China", "--attr", "region=East Asia")
    (tmp_path / "doc.txt").write_text("Quotas were cut in 2010.\n\nPrices rose.", encoding="utf-8")
    grip.ok("import", str(tmp_path / "doc.txt"), "--case", "China")
    grip.ok("memo", "add", "A memo.", "--project")
    return grip


def zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def refused(grip: Gripcode, path: Path, message: str) -> None:
    before = counts(grip.url)
    result = grip("import", "qdpx", str(path))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and message in result.output, result.output
    assert "Traceback" not in result.output
    assert counts(grip.url) == before


def test_the_harmless_version_of_the_file_is_imported(project: Gripcode, tmp_path: Path) -> None:
    path = zip_with(tmp_path / "ok.qdpx", {"project.qde": PROJECT, "sources/s.txt": b"Hello world"})
    before = counts(project.url)
    project.ok("import", "qdpx", str(path))
    assert counts(project.url)["codings"] == before["codings"] + 1


@pytest.mark.parametrize("member, message", [
    ("../evil.txt", "climbs out of the archive"),
    ("sources/../../evil.txt", "climbs out of the archive"),
    ("/etc/cron.d/evil", "is absolute"),
    ("C:\\Windows\\evil.dll", "is absolute"),
    ("..\\..\\evil.txt", "climbs out of the archive"),
])
def test_member_paths_outside_the_archive(project: Gripcode, tmp_path: Path, member: str, message: str) -> None:
    path = zip_with(tmp_path / "paths.qdpx", {"project.qde": PROJECT, "sources/s.txt": b"Hello world",
                                              member: b"owned"})
    refused(project, path, message)


def test_a_member_that_inflates_far_beyond_its_compressed_size(project: Gripcode, tmp_path: Path) -> None:
    path = zip_with(tmp_path / "bomb.qdpx", {"project.qde": PROJECT, "sources/s.txt": b"\0" * (40 << 20)})
    assert path.stat().st_size < 200_000
    refused(project, path, "likely zip bomb")


def test_a_member_whose_compressed_data_is_damaged(project: Gripcode, tmp_path: Path) -> None:
    path = zip_with(tmp_path / "broken.qdpx", {"project.qde": PROJECT, "sources/s.txt": b"Hello world. " * 500})
    damage_member(path, "sources/s.txt")
    refused(project, path, "broken.qdpx: the member 'sources/s.txt' cannot be unpacked")
    before = counts(project.url)
    result = subprocess.run([str(PROGRAM), "--db", project.url, "import", "qdpx", str(path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Error: broken.qdpx: the member 'sources/s.txt' cannot be unpacked")
    assert counts(project.url) == before


def test_a_member_that_lies_about_its_size_is_not_read_past_it(project: Gripcode, tmp_path: Path) -> None:
    """The archive says 11 bytes; the data inflates to 8 MiB. Reading stops at the declared size."""
    path = zip_with(tmp_path / "liar.qdpx", {"project.qde": PROJECT, "sources/s.txt": b"A" * (8 << 20)})
    declare_size(path, "sources/s.txt", 11)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("sources/s.txt").file_size == 11
    refused(project, path, "cannot be unpacked")


def test_an_archive_above_the_total_limit(project: Gripcode, tmp_path: Path) -> None:
    path = zip_with(tmp_path / "big.qdpx", {"project.qde": PROJECT, "sources/s.txt": b"Hello world " * 5000})
    before = counts(project.url)
    engine = make_engine(project.url)
    with pytest.raises(ExchangeError, match="unpacks to more than"):
        with transaction(engine) as session:
            import_qdpx(session, path, actor="t", limits=ArchiveLimits(max_total_bytes=20_000))
    engine.dispose()
    assert counts(project.url) == before


EXTERNAL_ENTITY = (b'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                   b'<Project xmlns="urn:QDA-XML:project:1.0" name="&xxe;"/>')
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE Project [\n<!ENTITY a "ha">\n'
          + b"".join(b'<!ENTITY %s "%s">\n' % (chr(98 + i).encode(), (b"&" + chr(97 + i).encode() + b";") * 10)
                     for i in range(9))
          + b']>\n<Project xmlns="urn:QDA-XML:project:1.0" name="&j;"/>')
EXTERNAL_DTD = (b'<?xml version="1.0"?>\n<!DOCTYPE Project SYSTEM "http://attacker.example/evil.dtd">\n'
                b'<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>')


@pytest.mark.parametrize("qde", [EXTERNAL_ENTITY, LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "dtd"])
def test_dtds_and_entities_in_the_project_file(project: Gripcode, tmp_path: Path, qde: bytes) -> None:
    path = zip_with(tmp_path / "xml.qdpx", {"project.qde": qde})
    refused(project, path, "declares a DTD")


def test_a_failure_after_writing_began_rolls_everything_back(project: Gripcode, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ExchangeError("simulated failure while storing codings")

    monkeypatch.setattr(qdpx_import._Importer, "codings", broken)
    path = zip_with(tmp_path / "ok.qdpx", {"project.qde": PROJECT, "sources/s.txt": b"Hello world"})
    refused(project, path, "simulated failure")
    engine = make_engine(project.url)
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Code)) == 0
        assert session.scalar(select(func.count()).select_from(Document)) == 1
    engine.dispose()
