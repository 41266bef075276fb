"""Every exporter run on a pseudonymised project: no output holds a value that was replaced."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import Gripcode
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Document
from gripcode.export.formats import TABLE_FORMATS
from gripcode.privacy import service
from privacy_project import INFLECTED, NAMED, OTHERS, PASSPHRASE, PEOPLE, SURNAMES, build_sample_project
from test_pseudonymise import accept_sample

ORIGINALS = PEOPLE + SURNAMES + OTHERS + INFLECTED


def _readable(path: Path) -> str:
    """A file's text as a reader would see it: members of zip archives (qdpx, xlsx, docx) unpacked."""
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return "\n".join(_decode(archive.read(name)) for name in archive.namelist())
    return _decode(data)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def test_no_exporter_writes_a_replaced_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_engine(f"sqlite:///{tmp_path / 'source.db'}")
    build_sample_project(source)
    key = tmp_path / "project.key"
    service.propose(source, key, PASSPHRASE, kinds=["interview"], names_file=NAMED / "names.txt",
                    find=["person", "organisation", "email", "phone", "url"])
    service.change_key(key, PASSPHRASE, accept_sample)
    pseudo = tmp_path / "pseudo.db"
    service.apply(source, str(pseudo), key, PASSPHRASE, "tester")
    source.dispose()
    engine = make_engine(f"sqlite:///{pseudo}")
    with transaction(engine, write=False) as session:
        titles = list(session.scalars(select(Document.title).where(Document.kind == "interview")))
    engine.dispose()
    grip = Gripcode(f"sqlite:///{pseudo}")
    out = tmp_path / "out"
    out.mkdir()
    printed: list[str] = []

    def run(*args: str) -> None:
        printed.append(grip.ok(*args).output)

    for fmt in TABLE_FORMATS:
        suffix = {"table": "txt", "latex": "tex", "markdown": "md"}.get(fmt, fmt)
        run("compare", "--by", "case", "--format", fmt, "-o", str(out / f"compare.{suffix}"))
        run("matrix", "--type", "framework", "--quotes", "5", "--format", fmt, "-o", str(out / f"matrix.{suffix}"))
        run("matrix", "--type", "code-document", "--format", fmt, "-o", str(out / f"code-document.{suffix}"))
        run("cooccur", "--format", fmt, "-o", str(out / f"cooccur.{suffix}"))
        run("retrieve", "--context", "400", "--format", fmt, "-o", str(out / f"retrieve.{suffix}"))
    run("compare", "--by", "case", "--figure", str(out / "compare.svg"))
    for fmt in ("table", "json", "csv"):
        run("codings", "list", "--format", fmt)
        run("memo", "list", "--format", fmt)
        run("docs", "list", "--format", fmt)
    run("agreement", "--coders", "ana,ben", "--unit", "paragraph", "--format", "csv")
    run("agreement", "disagreements", "--coders", "ana,ben", "--unit", "paragraph")
    run("log")
    run("stats")
    for title in titles:
        run("show", title, "--codes", "--no-color")
        run("show", title, "--codes", "--format", "html", "-o", str(out / f"{abs(hash(title))}.html"))
    for fmt in ("markdown", "latex", "csv", "docx", "qdc"):
        run("codebook", "export", "--format", fmt, "-o", str(out / f"codebook.{fmt}"))
    run("export", "qdpx", str(out / "project.qdpx"))
    files = sorted(p for p in out.iterdir() if p.is_file())
    assert len(files) >= 5 * len(TABLE_FORMATS) + 6
    assert any("[Informant 1]" in _readable(p) for p in files if p.suffix == ".qdpx")
    for path in files:
        body = _readable(path)
        for value in ORIGINALS:
            assert value not in body, f"{value!r} in {path.name}"
    for output in printed:
        for value in ORIGINALS:
            assert value not in output, value
