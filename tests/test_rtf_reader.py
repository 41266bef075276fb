"""Ordinary RTF documents: paragraphs, code pages and Unicode escapes, tables as rows, document information, and
no control word in the text; a damaged file is refused."""

from __future__ import annotations

import resource
import sqlite3
import subprocess
from pathlib import Path

import pytest

from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.readers import read_file
from gripcode.corpus.readers.rtf import parse_rtf
from gripcode.errors import DocumentImportError

from conftest import PROGRAM

HEADER = r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman\fcharset0 Times New Roman;}{\f1\fswiss Arial;}}" \
         r"{\colortbl;\red0\green0\blue0;}{\stylesheet{\s0\snext0 Normal;}}" + "\n"


def read(tmp_path: Path, body: str, header: str = HEADER, name: str = "doc.rtf") -> str:
    path = tmp_path / name
    path.write_bytes((header + body + "}").encode("latin-1"))
    [document] = read_file(path)
    return document.text


def test_paragraphs_are_separated_by_blank_lines(tmp_path: Path) -> None:
    body = r"\pard\plain\f0\fs24 Quotas fell in 2010.\par" + "\n" + r"\pard Prices rose\line within weeks.\par"
    assert read(tmp_path, body) == "Quotas fell in 2010.\n\nPrices rose\nwithin weeks."


def test_code_page_1252_hex_escapes(tmp_path: Path) -> None:
    assert read(tmp_path, r"Exporta\'e7\'e3o de terras raras em Goi\'e1s\par") == "Exportação de terras raras em Goiás"


def test_code_page_1251_for_russian(tmp_path: Path) -> None:
    header = r"{\rtf1\ansi\ansicpg1251\deff0{\fonttbl{\f0\fswiss\fcharset204 Arial;}}" + "\n"
    body = r"\'d0\'e5\'e4\'ea\'ee\'e7\'e5\'ec\'e5\'eb\'fc\'ed\'fb\'e5 \'ec\'e5\'f2\'e0\'eb\'eb\'fb\par"
    assert read(tmp_path, body, header) == "Редкоземельные металлы"


def test_a_cyrillic_font_in_a_western_document(tmp_path: Path) -> None:
    header = (r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman\fcharset0 Times;}{\f1\fswiss\fcharset204 Arial;}}"
              + "\n")
    body = r"{\f1 \'d0\'e5\'e4\'ea\'e8\'e5 \'e7\'e5\'ec\'eb\'e8} and caf\'e9\par"
    assert read(tmp_path, body, header) == "Редкие земли and café"


def test_a_chinese_code_page(tmp_path: Path) -> None:
    header = r"{\rtf1\ansi\ansicpg936\deff0{\fonttbl{\f0\fnil\fcharset134 SimSun;}}" + "\n"
    assert read(tmp_path, r"\'cf\'a1\'cd\'c1\'b3\'f6\'bf\'da\'c5\'e4\'b6\'ee\par", header) == "稀土出口配额"


def test_unicode_escapes_and_their_fallbacks(tmp_path: Path) -> None:
    body = (r"\u31232?\u22303? quota\par"  # \uc1 (the default): one fallback character each
            r"{\uc2\u1088\'f0\'e5\u1077\'e5\'e5}\par"  # two fallback bytes each
            r"{\uc0\u26085 \u26412 }\par"  # no fallback
            r"\u-3913?\par"  # negative: a private-use character
            r"\u-10179?\u-8704? smile\par")  # a surrogate pair
    assert read(tmp_path, body) == "稀土 quota\n\nре\n\n日本\n\n\uf0b7\n\n\U0001f600 smile"


def test_symbols(tmp_path: Path) -> None:
    body = r"Braces \{ and \} and a backslash \\; 5\~t; state\-owned; 2010\emdash 2015; \ldblquote quota\rdblquote\par"
    assert read(tmp_path, body) == "Braces { and } and a backslash \\; 5\u00a0t; stateowned; 2010—2015; “quota”"


def test_tables_become_one_paragraph_per_row(tmp_path: Path) -> None:
    body = (r"\pard Quotas by province:\par"
            r"\trowd\cellx2000\cellx4000\pard\intbl Province\cell Quota (t)\cell\row"
            r"\trowd\cellx2000\cellx4000\pard\intbl Inner Mongolia\cell 45,000\par tonnes\cell\row"
            r"\pard After the table.\par")
    assert read(tmp_path, body) == ("Quotas by province:\n\nProvince | Quota (t)\n\nInner Mongolia | 45,000 tonnes"
                                    "\n\nAfter the table.")


def test_no_control_words_or_hidden_groups_reach_the_text(tmp_path: Path) -> None:
    body = ("{\\*\\generator Riched20 10.0.19041}{\\header \\pard Page header\\par}{\\footer \\pard Footer\\par}"
            "{\\info{\\title Quota notice}{\\author Ana Souza}{\\operator Ana}{\\creatim\\yr2015\\mo3\\dy1\\hr9}"
            "{\\*\\company GRIP-ARM}}"
            "\\pard\\plain\\s0\\ql\\li0\\ri0\\widctlpar\\f0\\fs24\\lang1033 See "
            "{\\field{\\*\\fldinst HYPERLINK \"https://example.org/notice\"}{\\fldrslt the ministry's notice}}"
            "{\\*\\bkmkstart quota}{\\*\\bkmkend quota}.{\\footnote \\pard A footnote.\\par}\\par"
            "{\\pict\\pngblip\\picw10\\pich10 89504e470d0a1a0a0000000d49484452}"
            "{\\pict\\bin6 a}{\\b}}\\par"
            "\\pard Last line.\\par")
    path = tmp_path / "notice.rtf"
    path.write_bytes((HEADER + body + "}").encode("latin-1"))
    [document] = read_file(path)
    assert document.text == "See the ministry's notice.\n\nLast line."
    assert document.title == "Quota notice"
    assert document.metadata == {"author": "Ana Souza"}
    assert document.date == "2015-03-01"


def test_bold_paragraphs_are_marked() -> None:
    rtf = parse_rtf((HEADER + r"{\b Quota cut}\par\b Also bold\b0\par Mixed {\b bold}\par}").encode(), "x.rtf")
    assert [(p.text, p.bold) for p in rtf.paragraphs] == [
        ("Quota cut", True), ("Also bold", True), ("Mixed bold", False)]


def test_title_falls_back_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "field-notes.rtf"
    path.write_bytes((HEADER + r"Notes.\par}").encode())
    [document] = read_file(path)
    assert document.title == "field-notes"
    assert document.metadata == {}
    assert document.kind is None


def test_a_cut_off_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.rtf"
    path.write_bytes((HEADER + r"\pard Quotas fell.\par{\b Prices").encode())
    with pytest.raises(DocumentImportError, match="cut.rtf cannot be read as an RTF document: it ends before its "
                                                  r"groups close \(the file may be cut off\)"):
        read_file(path)


def test_binary_data_that_runs_past_the_end_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bin.rtf"
    path.write_bytes((HEADER + r"{\pict\bin900 abc}}").encode())
    with pytest.raises(DocumentImportError, match="bin.rtf cannot be read as an RTF document: its binary data"):
        read_file(path)


def test_a_file_that_is_not_rtf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.rtf"
    path.write_text("Just some notes about quotas.")
    with pytest.raises(DocumentImportError, match=r"notes.rtf is not an RTF document: it does not start with '\{"):
        read_file(path)


def test_an_rtf_without_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.rtf"
    path.write_bytes((HEADER + r"\pard\par}").encode())
    with pytest.raises(DocumentImportError, match="empty.rtf contains no text"):
        read_file(path)


def test_an_rtf_above_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.rtf"
    path.write_bytes((HEADER + "Quota. " * 500 + r"\par}").encode())
    with pytest.raises(DocumentImportError, match="big.rtf is 3,.* documents above 1,000 bytes are refused"):
        read_file(path, limits=ReadLimits(max_bytes=1_000))


def test_program_imports_an_rtf_and_refuses_a_damaged_one(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    program = [str(PROGRAM), "--db", f"sqlite:///{db}"]
    assert subprocess.run([*program, "init"], capture_output=True, check=False).returncode == 0
    good = tmp_path / "memo.rtf"
    good.write_bytes((HEADER + r"Exporta\'e7\'e3o.\par Quotas.\par}").encode())
    result = subprocess.run([*program, "import", str(good)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT text FROM documents").fetchall() == [("Exportação.\n\nQuotas.",)]
    bad = tmp_path / "bad.rtf"
    bad.write_bytes(b"{\\rtf1\\ansi Quotas \\'e7")
    result = subprocess.run([*program, "import", str(bad)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: bad.rtf cannot be read as an RTF document: it ends before its groups")
    assert "Traceback" not in result.stderr


# --- values out of range ----------------------------------------------------------------------------------


@pytest.mark.parametrize("escape", [r"\u9999999999", r"\u-99999", r"\u1114112", r"\u99999999999999999999",
                                    r"\u-2147483649"])
def test_a_unicode_escape_out_of_range_is_a_replacement_character(tmp_path: Path, escape: str) -> None:
    assert read(tmp_path, escape + r"? Baotou\par") == "\ufffd Baotou"


def test_a_creation_date_out_of_range_is_left_out(tmp_path: Path) -> None:
    for year in ("9999999999", "99999999999999999999", "0"):
        path = tmp_path / f"date{year[:3]}.rtf"
        path.write_bytes(rb"{\rtf1{\info{\creatim\yr" + year.encode() + rb"\mo1\dy1}}Quota cut\par}")
        [document] = read_file(path)
        assert (document.text, document.date) == ("Quota cut", None)


def test_program_imports_an_rtf_with_escapes_out_of_range(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    program = [str(PROGRAM), "--db", f"sqlite:///{db}"]
    assert subprocess.run([*program, "init"], capture_output=True, check=False).returncode == 0
    odd = tmp_path / "odd.rtf"
    odd.write_bytes(rb"{\rtf1\ansi{\info{\creatim\yr9999999999\mo1\dy1}}Quota \u9999999999? cut \u-99999? and "
                    rb"\u1114112? kept\par}")
    result = subprocess.run([*program, "import", str(odd)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT text, date FROM documents").fetchall() == [
            ("Quota \ufffd cut \ufffd and \ufffd kept", None)]


# --- stray closing braces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "text"), [
    (rb"{\rtf1\ansi Quotas fell}} in 2010.}\par}", "Quotas fell in 2010."),
    (rb"{\rtf1\ansi First paragraph.\par}}{\b Second} paragraph.\par}", "First paragraph.\n\nSecond paragraph."),
    (rb"{\rtf1\ansi {\b Baotou}} plants\par}", "Baotou plants"),
])
def test_a_stray_closing_brace_does_not_cut_the_document(tmp_path: Path, data: bytes, text: str) -> None:
    path = tmp_path / "stray.rtf"
    path.write_bytes(data)
    assert [document.text for document in read_file(path)] == [text]


def test_braces_and_white_space_after_the_document_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "padded.rtf"
    path.write_bytes(rb"{\rtf1\ansi Quotas fell.\par}}" + b"\r\n\x00\x00 }\n")
    assert [document.text for document in read_file(path)] == ["Quotas fell."]


# --- groups nested too deeply -------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """A document whose innermost group is ``depth`` groups deep, the document's own group counted."""
    return rb"{\rtf1\ansi " + b"{" * (depth - 1) + b"Quota" + b"}" * (depth - 1) + rb"\par}"


def test_groups_nested_a_thousand_deep_are_read(tmp_path: Path) -> None:
    path = tmp_path / "deep.rtf"
    path.write_bytes(nested(1_000))
    assert [document.text for document in read_file(path)] == ["Quota"]


def test_groups_nested_deeper_than_a_thousand_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.rtf"
    path.write_bytes(nested(1_001))
    with pytest.raises(DocumentImportError, match=r"^deep.rtf cannot be read as an RTF document: its groups are "
                                                  r"nested more than 1,000 deep\. It may be damaged"):
        read_file(path)


def test_program_refuses_a_file_of_nested_groups_without_using_much_memory(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    program = [str(PROGRAM), "--db", f"sqlite:///{db}"]
    assert subprocess.run([*program, "init"], capture_output=True, check=False).returncode == 0
    path = tmp_path / "braces.rtf"
    path.write_bytes(nested(5_000_000))
    result = subprocess.run([*program, "import", str(path)], capture_output=True, text=True, timeout=300,
                            check=False, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (400 << 20,) * 2))
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("Error: braces.rtf cannot be read as an RTF document: its groups are nested "
                                    "more than 1,000 deep.")
    assert "Traceback" not in result.stderr


def test_a_fallback_count_beyond_any_fallback_skips_at_most_four_characters(tmp_path: Path) -> None:
    body = r"{\uc999999999 Quotas \u233???? fell and more text}\par Next paragraph\par"
    assert read(tmp_path, body) == "Quotas \u00e9 fell and more text\n\nNext paragraph"


def test_a_control_word_longer_than_the_limit_leaves_nothing_in_the_text(tmp_path: Path) -> None:
    assert read(tmp_path, "Quotas \\" + "a" * 40 + " fell\\par") == "Quotas fell"
