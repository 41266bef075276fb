"""Readers for each supported file format, called through read_file."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.readers import SUPPORTED_SUFFIXES, CsvOptions, read_file
from gripcode.errors import DocumentImportError

TRANSCRIPT = (
    "Interview 7, Baotou, May 2023\n\n"
    "Interviewer: How did the export quotas change?\n"
    "R1: They were cut in 2010.\n"
    "Then raised again.\n\n"
    "Interviewer: Why?\n"
    "R1: Prices.\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- read_file dispatch -------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="No such file"):
        read_file(tmp_path / "absent.txt")


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="is a directory"):
        read_file(tmp_path)


def test_unsupported_suffix_lists_supported_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.pages", "hello")
    with pytest.raises(DocumentImportError) as error:
        read_file(path)
    assert "notes.pages" in str(error.value)
    for suffix in SUPPORTED_SUFFIXES:
        assert suffix in str(error.value)


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    [document] = read_file(write(tmp_path / "NOTES.TXT", "Hello."))
    assert document.text == "Hello."


# --- plain text ---------------------------------------------------------------------------------


def test_plain_text_is_normalised_and_titled_by_stem(tmp_path: Path) -> None:
    path = tmp_path / "policy_2021.txt"
    path.write_bytes(codecs.BOM_UTF8 + "Linha um  \r\nExportac\u0327a\u0303o\r\n".encode("utf-8"))
    [document] = read_file(path)
    assert document.text == "Linha um  \nExportação\n"
    assert document.title == "policy_2021"
    assert document.original_name == "policy_2021.txt"
    assert document.turns == []


def test_transcript_turns_have_exact_offsets(tmp_path: Path) -> None:
    [document] = read_file(write(tmp_path / "interview7.txt", TRANSCRIPT.replace("\n", "\r\n")))
    text = document.text
    assert text == TRANSCRIPT
    spans = [(turn.start, turn.end, turn.speaker) for turn in document.turns]
    first = TRANSCRIPT.index("Interviewer: How")
    second = TRANSCRIPT.index("R1: They")
    assert spans[0] == (first, first + len("Interviewer: How did the export quotas change?"), "Interviewer")
    assert spans[1] == (second, second + len("R1: They were cut in 2010.\nThen raised again."), "R1")
    assert [turn.speaker for turn in document.turns] == ["Interviewer", "R1", "Interviewer", "R1"]
    for turn in document.turns:
        assert text[turn.start:turn.end].startswith(f"{turn.speaker}:")
    assert text[document.turns[-1].start:document.turns[-1].end] == "R1: Prices."


def test_chinese_transcript_with_full_width_colon(tmp_path: Path) -> None:
    text = "采访者：稀土出口配额为什么减少？\n受访者：为了保护环境。\n采访者：谢谢。\n"
    [document] = read_file(write(tmp_path / "zh.txt", text, "gbk"))
    assert document.text == text
    assert [turn.speaker for turn in document.turns] == ["采访者", "受访者", "采访者"]
    assert document.text[document.turns[1].start:document.turns[1].end] == "受访者：为了保护环境。"


def test_russian_transcript(tmp_path: Path) -> None:
    text = "Интервьюер: Как изменилась добыча?\nРеспондент: Она выросла.\n"
    [document] = read_file(write(tmp_path / "ru.txt", text, "utf-16"))
    assert [turn.speaker for turn in document.turns] == ["Интервьюер", "Респондент"]


def test_text_with_forced_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "pt.txt", "Exportação de terras raras", "cp1252")
    assert read_file(path, encoding="cp1252")[0].text == "Exportação de terras raras"
    with pytest.raises(DocumentImportError, match="pt.txt.*utf-8"):
        read_file(path, encoding="utf-8")


def test_empty_text_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="empty.txt contains no text"):
        read_file(write(tmp_path / "empty.txt", " \n\n"))


def test_binary_file_with_text_suffix(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(DocumentImportError, match="image.txt looks like a binary file"):
        read_file(path)


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_front_matter(tmp_path: Path) -> None:
    path = write(
        tmp_path / "plan.md",
        "---\n"
        "title: Five-year plan for rare earths\n"
        "date: 2021-03-12\n"
        "source: State Council\n"
        "lang: zh\n"
        "case: China\n"
        "kind: policy\n"
        "tags: [quota, environment]\n"
        "reviewed: 2022-01-05 10:30:00\n"
        "pages: 12\n"
        "---\n\n\n"
        "# Plan\n\nQuotas will be kept.\n",
    )
    [document] = read_file(path)
    assert document.text == "# Plan\n\nQuotas will be kept.\n"
    assert (document.title, document.date, document.source) == ("Five-year plan for rare earths", "2021-03-12", "State Council")
    assert (document.language, document.case, document.kind) == ("zh", "China", "policy")
    assert document.metadata == {"tags": ["quota", "environment"], "reviewed": "2022-01-05T10:30:00", "pages": 12}
    json.dumps(document.metadata)


def test_markdown_without_front_matter(tmp_path: Path) -> None:
    [document] = read_file(write(tmp_path / "note.markdown", "Just text.\n\n---\n\nMore.\n"))
    assert document.text == "Just text.\n\n---\n\nMore.\n"
    assert document.title == "note"
    assert document.metadata == {}


def test_markdown_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.md", "---\ntitle: ok\ntags: [unclosed\n---\nBody.\n")
    with pytest.raises(DocumentImportError, match=r"broken.md.*YAML front matter is not valid \(line \d+\)"):
        read_file(path)


def test_markdown_unclosed_front_matter(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="open.md.*never closes"):
        read_file(write(tmp_path / "open.md", "---\ntitle: x\nBody.\n"))


def test_markdown_front_matter_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="list.md.*key: value"):
        read_file(write(tmp_path / "list.md", "---\n- a\n- b\n---\nBody.\n"))


def test_markdown_bad_date(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="when.md.*'March 2021'.*yyyy-mm-dd"):
        read_file(write(tmp_path / "when.md", "---\ndate: March 2021\n---\nBody.\n"))


def test_markdown_transcript_body(tmp_path: Path) -> None:
    [document] = read_file(write(tmp_path / "int.md", "---\ncase: Brazil\n---\n" + "Entrevistador: Olá.\nR2: Bom dia.\n"))
    assert document.case == "Brazil"
    assert [(turn.start, turn.end, turn.speaker) for turn in document.turns] == [
        (0, 19, "Entrevistador"),
        (20, 32, "R2"),
    ]


# --- Word ---------------------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_properties(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Exportação de terras raras")
    document.add_paragraph("")
    document.add_paragraph("Second paragraph.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Year"
    table.cell(0, 1).text = "Quota"
    table.cell(1, 0).text = "2023"
    table.cell(1, 1).text = "240000"
    document.core_properties.title = "Mining report"
    document.core_properties.author = "Ana Souza"
    document.core_properties.created = dt.datetime(2022, 6, 30, 12, 0)
    path = tmp_path / "report.docx"
    document.save(str(path))

    [parsed] = read_file(path)
    assert parsed.text == "Exportação de terras raras\n\nSecond paragraph.\n\nYear | Quota\n\n2023 | 240000"
    assert parsed.title == "Mining report"
    assert parsed.date == "2022-06-30"
    assert parsed.metadata == {"author": "Ana Souza"}


def test_docx_without_properties_uses_stem(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Interviewer: Hello.")
    document.add_paragraph("R1: Hi.")
    path = tmp_path / "interview.docx"
    document.save(str(path))
    [parsed] = read_file(path)
    assert parsed.title == "interview"
    assert parsed.date is None and parsed.metadata == {}
    assert [(turn.start, turn.end, turn.speaker) for turn in parsed.turns] == [(0, 19, "Interviewer"), (21, 28, "R1")]


def test_corrupt_docx(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.docx", "this is not a zip file")
    with pytest.raises(DocumentImportError, match="broken.docx cannot be read as a Word"):
        read_file(path)


# --- PDF ----------------------------------------------------------------------------------------


def make_pdf(path: Path, pages: list[list[str]], title: str | None = None, password: str | None = None) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    if title:
        pdf.set_title(title)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_pdf_pages_and_title(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "law.pdf",
        [["Article 1. Rare earths are strategic."], [], ["Article 2. Exports need a licence."]],
        title="Mining law",
    )
    [document] = read_file(path)
    text = document.text
    assert "Article 1. Rare earths are strategic." in text
    assert "\x0c" not in text
    assert document.title == "Mining law"
    pages = document.metadata["pages"]
    assert len(pages) == 3
    assert text[pages[0][0]:pages[0][1]] == "Article 1. Rare earths are strategic."
    assert pages[1][0] == pages[1][1]
    assert text[pages[2][0]:pages[2][1]] == "Article 2. Exports need a licence."
    assert text == text[pages[0][0]:pages[0][1]] + "\n\n" + text[pages[2][0]:pages[2][1]]
    assert normalise_text(text) == text


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(DocumentImportError, match="scan.pdf has no text layer.*OCR"):
        read_file(path)


def test_password_protected_pdf(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "secret.pdf", [["Hidden"]], password="letmein")
    with pytest.raises(DocumentImportError, match="secret.pdf"):
        read_file(path)


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.pdf", "%PDF-1.4\nnot really a pdf")
    with pytest.raises(DocumentImportError, match="broken.pdf"):
        read_file(path)


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_rows_become_documents(tmp_path: Path) -> None:
    path = write(
        tmp_path / "media.csv",
        "id,title,date,text,outlet,case,language,kind,url\n"
        '1,Quotas cut,2023-01-02,"China cuts quotas, again.",Caixin,China,zh,media,http://a\n'
        "\n"
        '2,,,"Brasil amplia produção",Folha,Brazil,pt,,\n',
    )
    first, second = read_file(path)
    assert (first.original_name, first.title, first.date, first.text) == (
        "media.csv#row1", "Quotas cut", "2023-01-02", "China cuts quotas, again.")
    assert (first.source, first.case, first.language, first.kind) == ("Caixin", "China", "zh", "media")
    assert first.metadata == {"id": "1", "url": "http://a"}
    assert (second.original_name, second.title, second.date) == ("media.csv#row2", "media row 2", None)
    assert second.kind is None and second.metadata == {"id": "2"}


def test_csv_semicolon_and_custom_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "press.csv",
        "Headline;Body;Published;Source\r\nTerras raras;Exportação cresce;2022-05-03 08:00:00;Valor\r\n",
        "cp1252",
    )
    options = CsvOptions(text_column="body", title_column="headline", date_column="published")
    [document] = read_file(path, csv_options=options)
    assert (document.title, document.text, document.date, document.source) == (
        "Terras raras", "Exportação cresce", "2022-05-03", "Valor")
    assert document.metadata == {}


def test_csv_tab_delimited(tmp_path: Path) -> None:
    [document] = read_file(write(tmp_path / "items.csv", "title\ttext\nA, B\tSome text; more\n"))
    assert (document.title, document.text) == ("A, B", "Some text; more")


def test_csv_missing_text_column_lists_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "media.csv", "headline,body\nA,B\n")
    with pytest.raises(DocumentImportError, match="media.csv has no 'text' column.*'headline', 'body'"):
        read_file(path)


def test_csv_empty_text_names_the_row(tmp_path: Path) -> None:
    path = write(tmp_path / "media.csv", "title,text\nA,fine\nB,  \n")
    with pytest.raises(DocumentImportError, match="media.csv, row 2.*'text' column is empty"):
        read_file(path)


def test_csv_bad_date_names_the_row(tmp_path: Path) -> None:
    path = write(tmp_path / "media.csv", "text,date\nok,2023-01-01\nok,03/02/2023\n")
    with pytest.raises(DocumentImportError, match="media.csv, row 2.*03/02/2023"):
        read_file(path)


def test_csv_without_rows(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="no data rows"):
        read_file(write(tmp_path / "media.csv", "title,text\n"))


def test_csv_row_with_too_many_fields(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="row 1.*3 fields"):
        read_file(write(tmp_path / "media.csv", "title,text\nA,b,c\n"))


# --- subtitles ----------------------------------------------------------------------------------

VTT = """WEBVTT - interview 3

STYLE
::cue { color: yellow }

NOTE speakers were identified by the transcriber

intro
00:00:01.000 --> 00:00:04.250 align:start
<v Roger Bingham>We are in <i>Baotou</i>
today &amp; tomorrow</v>

00:04.500 --> 00:00:06.000
<v.loud Li Wei>Yes.

3
01:00:06.000 --> 01:00:08.500
Interviewer: And <b>the</b> quotas?
"""


def test_vtt_cues_voices_and_times(tmp_path: Path) -> None:
    [document] = read_file(write(tmp_path / "interview3.vtt", VTT))
    assert document.text == "We are in Baotou today & tomorrow\n\nYes.\n\nInterviewer: And the quotas?"
    assert document.metadata == {"timestamps": True}
    assert document.title == "interview3"
    cues = [(turn.speaker, turn.begin_time, turn.end_time, document.text[turn.start:turn.end]) for turn in document.turns]
    assert cues == [
        ("Roger Bingham", 1.0, 4.25, "We are in Baotou today & tomorrow"),
        ("Li Wei", 4.5, 6.0, "Yes."),
        ("Interviewer", 3606.0, 3608.5, "Interviewer: And the quotas?"),
    ]


def test_vtt_malformed_timestamp_names_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.vtt", "WEBVTT\n\n1\n00:00:01.000 --> 00:00:0x.000\nHello\n")
    with pytest.raises(DocumentImportError, match="bad.vtt, line 4: malformed cue timing"):
        read_file(path)


def test_vtt_without_header(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="not a WebVTT file"):
        read_file(write(tmp_path / "plain.vtt", "00:00:01.000 --> 00:00:02.000\nHi\n"))


def test_srt_cues(tmp_path: Path) -> None:
    srt = (
        "1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Rare earths</i> are\r\nstrategic.\r\n\r\n"
        "2\r\n00:00:03,000 --> 00:00:05,000\r\nR1: Exports fell.\r\n\r\n"
    )
    [document] = read_file(write(tmp_path / "clip.srt", srt))
    assert document.text == "Rare earths are strategic.\n\nR1: Exports fell."
    assert [(t.start, t.end, t.speaker, t.begin_time, t.end_time) for t in document.turns] == [
        (0, 26, None, 1.0, 2.5),
        (28, 45, "R1", 3.0, 5.0),
    ]
    assert document.metadata == {"timestamps": True}


def test_srt_malformed_timestamp_names_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.srt", "1\n00:00:01,000 --> 00:00:02,000\nOk\n\n2\n00:00:03 --> 00:00:04,000\nNo\n")
    with pytest.raises(DocumentImportError, match="bad.srt, line 6"):
        read_file(path)


def test_srt_block_without_timing_line(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="bad.srt, line 1: expected a cue timing line"):
        read_file(write(tmp_path / "bad.srt", "1\nHello there\n"))


def test_srt_end_before_start(tmp_path: Path) -> None:
    with pytest.raises(DocumentImportError, match="line 2.*ends"):
        read_file(write(tmp_path / "bad.srt", "1\n00:00:05,000 --> 00:00:04,000\nHi\n"))


def test_pdf_and_docx_libraries_load_only_for_their_files() -> None:
    """pypdfium2 and python-docx take as long to import as reading thousands of text files: an import of text
    files must not load them."""
    import subprocess
    import sys

    code = ("import sys, gripcode.corpus.importer\n"
            "print(sorted(m for m in ('pypdfium2', 'docx') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
