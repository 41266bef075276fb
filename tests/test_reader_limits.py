"""What the installed program does with files that would damage text or take unbounded memory: other
encodings, broken UTF-8, a YAML alias bomb, zip bombs in .docx, files above the size limit. Each is either
imported as it should be or refused with `Error: ...`, exit 1, no traceback, and nothing written."""

from __future__ import annotations

import json
import random
import resource
import subprocess
import tracemalloc
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from sqlalchemy import select, text

from gripcode.corpus.bounded_zip import ZipLimits, read_member
from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.readers import read_file
from gripcode.db.engine import make_engine
from gripcode.db.migrate import init_database
from gripcode.errors import DocumentImportError

from conftest import PROGRAM, damage_member, declare_size


CHINESE_A = "中国稀土出口配额在二零二三年减少了。政府表示，这是为了保护资源和环境。"
CHINESE_B = "内蒙古包头是世界上最大的稀土生产基地，企业正在整合。工信部发布了新的开采总量控制指标。"
RUSSIAN_A = "Россия увеличивает добычу редкоземельных металлов. Это важно для экономики страны и её партнёров."
RUSSIAN_B = "Министерство опубликовало новую стратегию, а эксперты считают, что цены на металлы будут расти."
PORTUGUESE = "Entrevista em São Paulo: a exportação de nióbio é estratégica, disse o secretário; não há consenso."


def gripcode(db_url: str, *args: str, cwd: Path | None = None,
             memory_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    """The installed program, as a user runs it; ``memory_bytes`` caps its address space, so that a file
    that would take all the machine's memory fails fast instead."""
    def cap() -> None:
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run([str(PROGRAM), "--db", db_url, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, preexec_fn=cap)


@pytest.fixture
def project(db_url: str) -> str:
    engine = make_engine(db_url)
    init_database(engine)
    engine.dispose()
    return db_url


def stored_texts(db_url: str) -> dict[str, str]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT original_name, text FROM documents")).tuples().all()
    engine.dispose()
    return dict(rows)


def refused(db_url: str, result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") or result.stdout.startswith("Error: "), result.stderr
    message = result.stdout + result.stderr
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, message
    assert stored_texts(db_url) == {}


# --- encodings ---------------------------------------------------------------------------------------------


def test_every_encoding_is_imported_intact_and_replaced_bytes_are_reported(project: str, tmp_path: Path) -> None:
    files = {"zh_gbk.txt": (CHINESE_A, "gbk"), "zh_gb18030.txt": (CHINESE_B, "gb18030"),
             "ru_cp1251.txt": (RUSSIAN_A, "cp1251"), "ru_koi8r.txt": (RUSSIAN_B, "koi8_r"),
             "pt_cp1252.txt": (PORTUGUESE, "cp1252")}
    for name, (sentence, encoding) in files.items():
        (tmp_path / name).write_bytes(sentence.encode(encoding))
    broken = PORTUGUESE.encode().replace(b":", b":\x92", 1) + b"\xe9 Fim."
    (tmp_path / "pt_broken.txt").write_bytes(broken)
    first, second = broken.index(b"\x92"), len(broken) - len(b"\xe9 Fim.")
    result = gripcode(project, "import", *(str(tmp_path / name) for name in [*files, "pt_broken.txt"]), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["imported"]) == 6 and report["skipped"] == []
    assert report["replaced"] == [{
        "file": "pt_broken.txt", "invalid_bytes": 2, "offsets": [first, second],
        "message": f"2 invalid bytes replaced by U+FFFD at byte offsets {first}, {second}"}]
    texts = stored_texts(project)
    assert {name: texts[name] for name in files} == {name: sentence for name, (sentence, _) in files.items()}
    assert texts["pt_broken.txt"] == PORTUGUESE.replace(":", ":\ufffd", 1) + "\ufffd Fim."


def test_the_text_report_says_where_bytes_were_replaced(project: str, tmp_path: Path) -> None:
    path = tmp_path / "sp.txt"
    path.write_bytes("Entrevista em São Paulo.".encode() + b"\x92")
    result = gripcode(project, "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "replaced  sp.txt: 1 invalid byte replaced by U+FFFD at byte offset 25" in result.stdout
    assert stored_texts(project) == {"sp.txt": "Entrevista em São Paulo.\ufffd"}


# --- Markdown front matter -----------------------------------------------------------------------------------

BOMB = "---\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)) + "---\nBody.\n"


def test_a_yaml_alias_bomb_in_front_matter_is_refused(project: str, tmp_path: Path) -> None:
    """486 bytes that once took 6 GB: nine levels of nine aliases."""
    path = tmp_path / "bomb.md"
    path.write_text(BOMB, encoding="utf-8")
    assert len(BOMB) < 600
    result = gripcode(project, "import", str(path), memory_bytes=3 << 30)
    refused(project, result, "bomb.md", "aliases (*name) are not allowed in front matter")


def test_front_matter_nested_too_deeply_is_refused(project: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.md"
    path.write_text("---\na: " + "[" * 20_000 + "\n---\nBody.\n", encoding="utf-8")
    result = gripcode(project, "import", str(path))
    refused(project, result, "deep.md: the YAML front matter is not valid: nested too deeply.")


def test_front_matter_that_does_not_close_early_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.md"
    path.write_text("---\n" + "key: value\n" * 20_000 + "---\nBody.\n", encoding="utf-8")
    with pytest.raises(DocumentImportError, match="does not close within its first 100,000 characters"):
        read_file(path, limits=ReadLimits(max_front_matter_bytes=100_000))
    [document] = read_file(path)
    assert document.text == "Body.\n"


# --- .docx ---------------------------------------------------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_with_body(path: Path, body: str) -> Path:
    """A real .docx (python-docx's template) whose document.xml holds ``body``."""
    template = path.with_suffix(".template.docx")
    docx.Document().save(str(template))
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = xml.encode() if info.filename == "word/document.xml" else source.read(info)
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    template.unlink()
    return path


def paragraph(words: str) -> str:
    return f"<w:p><w:r><w:t>{words}</w:t></w:r></w:p>"


def test_the_harmless_docx_is_imported(project: str, tmp_path: Path) -> None:
    path = docx_with_body(tmp_path / "ok.docx", paragraph("Quotas were cut.") + paragraph("Prices rose."))
    result = gripcode(project, "import", str(path))
    assert result.returncode == 0, result.stderr
    assert stored_texts(project) == {"ok.docx": "Quotas were cut.\n\nPrices rose."}


def test_a_docx_whose_xml_inflates_a_thousand_times_is_refused(project: str, tmp_path: Path) -> None:
    path = docx_with_body(tmp_path / "bomb.docx", paragraph("Hello.") + " " * (20 << 20))
    assert path.stat().st_size < 200_000
    result = gripcode(project, "import", str(path), memory_bytes=3 << 30)
    refused(project, result, "bomb.docx", "word/document.xml", "likely zip bomb")


def test_a_docx_part_that_lies_about_its_size_is_not_read_past_it(project: str, tmp_path: Path) -> None:
    rng = random.Random(3)
    words = " ".join(rng.choice(["rare", "earth", "quota", "price", "mine"]) for _ in range(40_000))
    path = docx_with_body(tmp_path / "liar.docx", paragraph(words))
    declare_size(path, "word/document.xml", 500)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("word/document.xml").file_size == 500
    result = gripcode(project, "import", str(path))
    refused(project, result, "liar.docx", "the member 'word/document.xml' cannot be unpacked")


def test_a_docx_above_the_size_limit_is_refused_and_the_limit_can_be_raised(project: str, tmp_path: Path) -> None:
    rng = random.Random(5)
    body = "".join(paragraph(" ".join(rng.choice(["rare", "earth", "quota", "price", "mine", "Baotou"])
                                      for _ in range(30))) for _ in range(8000))
    path = docx_with_body(tmp_path / "report.docx", body)
    assert path.stat().st_size < 1_000_000 < len(body)
    result = gripcode(project, "import", str(path), "--max-size", "1")
    refused(project, result, "report.docx: the member 'word/document.xml' unpacks to 1.7 MB; refused above 1.0 MB",
            "--max-size")
    result = gripcode(project, "import", str(path), "--max-size", "5")
    assert result.returncode == 0, result.stderr
    assert list(stored_texts(project)) == ["report.docx"]


def test_a_docx_whose_compressed_data_is_damaged_is_a_clear_error(project: str, tmp_path: Path) -> None:
    path = docx_with_body(tmp_path / "broken.docx", paragraph("Quotas were cut. " * 200))
    damage_member(path, "word/document.xml")
    result = gripcode(project, "import", str(path))
    refused(project, result, "broken.docx: the member 'word/document.xml' cannot be unpacked",
            "invalid block type")


@pytest.mark.parametrize("compression, keep, reason", [
    (zipfile.ZIP_DEFLATED, 0, "Error -3 while decompressing data: invalid block type"),  # zlib.error
    (zipfile.ZIP_BZIP2, 4, "Invalid data stream"),  # OSError without an errno
    (zipfile.ZIP_LZMA, 9, "Corrupt input data"),  # lzma.LZMAError
])
def test_damaged_compressed_data_is_a_clear_error_in_every_compression(tmp_path: Path, compression: int,
                                                                       keep: int, reason: str) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("a.txt", "Prices rose in many places. " * 2000)
    damage_member(path, "a.txt", keep)
    with zipfile.ZipFile(path) as archive, pytest.raises(DocumentImportError) as caught:
        read_member(archive, archive.getinfo("a.txt"), ZipLimits(), "a.zip", DocumentImportError)
    assert str(caught.value) == ("a.zip: the member 'a.txt' cannot be unpacked (its compressed data is damaged): "
                                 f"{reason}")


def test_a_member_is_returned_without_a_second_copy(tmp_path: Path) -> None:
    """A member of hundreds of MB must not be held twice (the buffer read into, and a copy of it as bytes)."""
    size = 20 << 20
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"x" * size)
    with zipfile.ZipFile(path) as archive:
        tracemalloc.start()
        try:
            data = read_member(archive, archive.getinfo("a.txt"), ZipLimits(), "a.zip", DocumentImportError)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert data == b"x" * size
    assert peak < 1.5 * size, peak / size


# --- size limits on the other readers; one transaction ---------------------------------------------------


def test_a_file_above_the_configured_limit_refuses_the_whole_import(project: str, tmp_path: Path) -> None:
    (tmp_path / "gripcode.toml").write_text("[gripcode]\nmax_document_mb = 0.001\n", encoding="utf-8")
    (tmp_path / "small.txt").write_text("Quotas were cut.", encoding="utf-8")
    (tmp_path / "big.txt").write_text("Prices rose. " * 400, encoding="utf-8")
    result = gripcode(project, "import", "small.txt", "big.txt", cwd=tmp_path)
    refused(project, result, "big.txt is 5,200 bytes; documents above 1,000 bytes are refused",
            "gripcode import --max-size MB", "max_document_mb")
    result = gripcode(project, "import", "small.txt", "big.txt", "--max-size", "0.01", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(stored_texts(project)) == ["big.txt", "small.txt"]


def test_a_bad_configured_limit_is_a_clear_error(project: str, tmp_path: Path) -> None:
    (tmp_path / "gripcode.toml").write_text('[gripcode]\nmax_document_mb = "lots"\n', encoding="utf-8")
    (tmp_path / "small.txt").write_text("Quotas were cut.", encoding="utf-8")
    result = gripcode(project, "import", "small.txt", cwd=tmp_path)
    refused(project, result, "max_document_mb must be a positive number")


@pytest.mark.parametrize("name", ["a.txt", "items.csv"])
@pytest.mark.parametrize("limit", ["inf", "nan", "1e13", "100001"])
def test_a_limit_without_a_size_in_bytes_is_a_clear_error(project: str, tmp_path: Path, name: str,
                                                          limit: str) -> None:
    path = tmp_path / name
    path.write_text("title,text\nQuotas,Quotas were cut.\n", encoding="utf-8")
    result = gripcode(project, "import", str(path), "--max-size", limit)
    refused(project, result, "the largest document size must be a positive number of MB up to 100,000")


@pytest.mark.parametrize("limit", ["inf", "nan", "1e13"])
def test_a_configured_limit_without_a_size_in_bytes_is_a_clear_error(project: str, tmp_path: Path,
                                                                     limit: str) -> None:
    (tmp_path / "gripcode.toml").write_text(f"[gripcode]\nmax_document_mb = {limit}\n", encoding="utf-8")
    (tmp_path / "small.txt").write_text("Quotas were cut.", encoding="utf-8")
    result = gripcode(project, "import", "small.txt", cwd=tmp_path)
    refused(project, result, "max_document_mb must be a positive number of megabytes up to 100,000")


def test_the_csv_field_limit_fits_a_c_long_whatever_the_document_limit(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("title,text\nQuotas,Quotas were cut.\n", encoding="utf-8")
    (document,) = read_file(path, limits=ReadLimits(max_bytes=10 ** 20))
    assert document.text == "Quotas were cut."


@pytest.mark.parametrize("name, content", [
    ("notes.md", "# Notes\n\n" + "Prices rose. " * 100),
    ("items.csv", "title,text\n" + "".join(f"Item {i},Prices rose in {i}.\n" for i in range(100))),
    ("talk.srt", "".join(f"{i}\n00:00:0{i % 10},000 --> 00:00:0{i % 10},500\nHello {i}.\n\n" for i in range(1, 60))),
    ("talk.vtt", "WEBVTT\n\n" + "".join(f"00:00:0{i % 10}.000 --> 00:00:0{i % 10}.500\nHi {i}.\n\n"
                                       for i in range(60))),
])
def test_every_text_reader_keeps_to_the_limit(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert read_file(path)
    with pytest.raises(DocumentImportError, match=f"{name} is .* bytes; documents above 1,000 bytes are refused"):
        read_file(path, limits=ReadLimits(max_bytes=1000))


def make_pdf(path: Path, pages: int, lines: int) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=8)
    for page in range(pages):
        pdf.add_page()
        for line in range(lines):
            pdf.cell(0, 4, f"Page {page} line {line}: rare earth quotas were cut again.", new_x="LMARGIN",
                     new_y="NEXT")
    pdf.output(str(path))
    return path


def test_a_pdf_above_the_page_limit_is_refused(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "book.pdf", pages=3, lines=2)
    assert len(read_file(path)[0].metadata["pages"]) == 3
    with pytest.raises(DocumentImportError, match="book.pdf has 3 pages; PDFs above 2 pages are refused"):
        read_file(path, limits=ReadLimits(max_pdf_pages=2))


def test_a_pdf_whose_text_passes_the_limit_is_refused(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "dense.pdf", pages=4, lines=60)
    [document] = read_file(path)
    size = path.stat().st_size
    assert size < len(document.text)
    with pytest.raises(DocumentImportError, match="dense.pdf holds more than .* characters of text"):
        read_file(path, limits=ReadLimits(max_bytes=(size + len(document.text)) // 2))
    with pytest.raises(DocumentImportError, match="dense.pdf is .*; documents above"):
        read_file(path, limits=ReadLimits(max_bytes=size - 1))
