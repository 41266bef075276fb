"""Byte decoding and text normalisation of imported files."""

from __future__ import annotations

import codecs
import random
import sqlite3
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import PROGRAM
from gripcode.corpus import decode
from gripcode.corpus.decode import decode_bytes, decode_text
from gripcode.corpus.normalize import count_words, normalise_text, text_sha256
from gripcode.corpus.parsed import Replacements
from gripcode.errors import DocumentImportError

PORTUGUESE = (
    "Exportação de terras raras: o Brasil quer ampliar a produção e reduzir a dependência das "
    "importações… Não é simples, disse o ministro."
)
CHINESE = "中国稀土出口配额在二零二三年减少了。政府表示，这是为了保护资源和环境…"


def test_utf8_is_decoded_as_is() -> None:
    assert decode_bytes("Olá, 世界".encode("utf-8"), name="a.txt") == "Olá, 世界"


def test_utf8_bom_is_removed() -> None:
    assert decode_bytes(codecs.BOM_UTF8 + "Olá".encode("utf-8"), name="a.txt") == "Olá"


def test_utf16_le_with_bom() -> None:
    data = codecs.BOM_UTF16_LE + "Интервьюер: добрый день".encode("utf-16-le")
    assert decode_bytes(data, name="a.txt") == "Интервьюер: добрый день"


def test_utf16_be_and_utf32_with_bom() -> None:
    assert decode_bytes(codecs.BOM_UTF16_BE + "abc".encode("utf-16-be"), name="a.txt") == "abc"
    assert decode_bytes("稀土 abc".encode("utf-32"), name="a.txt") == "稀土 abc"


def test_utf16_without_bom_is_recognised() -> None:
    assert decode_bytes("Interviewer: hello there".encode("utf-16-le"), name="a.txt") == "Interviewer: hello there"


def test_cp1252_portuguese_is_guessed() -> None:
    assert decode_bytes(PORTUGUESE.encode("cp1252"), name="pt.txt") == PORTUGUESE


def test_short_cp1252_sample_is_guessed() -> None:
    sample = "Exportação de terras raras…"
    assert decode_bytes(sample.encode("cp1252"), name="pt.txt") == sample


def test_gbk_chinese_is_guessed() -> None:
    assert decode_bytes(CHINESE.encode("gbk"), name="zh.txt") == CHINESE


def test_short_gbk_sample_is_guessed() -> None:
    sample = "中国稀土出口配额…"
    assert decode_bytes(sample.encode("gbk"), name="zh.txt") == sample


def test_cp1251_russian_is_guessed() -> None:
    text = "Россия увеличивает добычу редкоземельных металлов. Это важно для экономики."
    assert decode_bytes(text.encode("cp1251"), name="ru.txt") == text


def test_forced_encoding_wins_over_detection() -> None:
    # Valid UTF-8 bytes, but the researcher says the file is Latin-1.
    assert decode_bytes("ção".encode("utf-8"), name="a.txt", encoding="latin-1") == "Ã§Ã£o"


def test_forced_encoding_that_does_not_fit_names_file_and_encoding() -> None:
    with pytest.raises(DocumentImportError) as error:
        decode_bytes("line one\n中国".encode("gbk"), name="notes.txt", encoding="utf-8")
    message = str(error.value)
    assert "notes.txt" in message and "utf-8" in message and "line 2" in message


def test_unknown_forced_encoding() -> None:
    with pytest.raises(DocumentImportError, match="Unknown encoding 'klingon-8'.*notes.txt"):
        decode_bytes(b"abc", name="notes.txt", encoding="klingon-8")


def test_non_text_codec_is_refused() -> None:
    with pytest.raises(DocumentImportError, match="not a text encoding"):
        decode_bytes(b"abc", name="notes.txt", encoding="base64")


def test_binary_file_is_refused() -> None:
    data = bytes(range(256)) * 8
    with pytest.raises(DocumentImportError, match="photo.txt looks like a binary file"):
        decode_bytes(data, name="photo.txt")


def test_binary_without_nul_bytes_is_refused() -> None:
    rng = random.Random(7)
    data = bytes(rng.randrange(1, 256) for _ in range(3000))
    with pytest.raises(DocumentImportError, match="binary"):
        decode_bytes(data, name="noise.txt")


def test_zip_bytes_are_refused() -> None:
    data = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(200))
    with pytest.raises(DocumentImportError, match="binary"):
        decode_bytes(data, name="renamed.txt")


def test_broken_utf16_after_bom_is_an_import_error() -> None:
    with pytest.raises(DocumentImportError, match="UTF-16"):
        decode_bytes(codecs.BOM_UTF16_LE + b"a\x00\x00\xd8", name="a.txt")


def test_normalise_line_endings() -> None:
    assert normalise_text("a\r\nb\rc\n") == "a\nb\nc\n"


def test_normalise_composes_nfd() -> None:
    decomposed = unicodedata.normalize("NFD", "Exportação")
    assert len(decomposed) > len("Exportação")
    assert normalise_text(decomposed) == "Exportação"


def test_normalise_strips_leading_bom_and_keeps_trailing_spaces() -> None:
    assert normalise_text("\ufeffText  \n\n  ") == "Text  \n\n  "
    assert normalise_text("a\ufeffb") == "a\ufeffb"


@given(st.text(alphabet=st.sampled_from(["a", "ç", "\u0301", "e", "\r", "\n", "\ufeff", " ", "中", "\u0327"])))
def test_normalise_is_idempotent_on_tricky_text(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert "\r" not in once and not once.startswith("\ufeff")


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


def test_text_sha256() -> None:
    assert text_sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert text_sha256("ção") == text_sha256(unicodedata.normalize("NFC", "ção"))
    assert text_sha256("a") != text_sha256("b")


def test_count_words() -> None:
    assert count_words("Rare earth  exports\nfell.") == 4
    assert count_words("") == 0
    assert count_words("中国稀土。出口") == 6
    assert count_words("China 稀土 exports") == 4


# --- the encoding rule: legacy code pages, and UTF-8 with a few invalid bytes ----------------------------

RUSSIAN = ("Россия увеличивает добычу редкоземельных металлов. Это важно для экономики страны и её партнёров. "
           "Министерство опубликовало новую стратегию, а эксперты считают, что цены будут расти.")
CHINESE_LONG = ("中国稀土出口配额在二零二三年减少了。政府表示，这是为了保护资源和环境。内蒙古包头是世界上最大的稀土"
                "生产基地，企业正在整合。工信部发布了新的开采总量控制指标，要求各地严格执行。")
PORTUGUESE_SP = ("Entrevista realizada em São Paulo, março de 2023. A exportação de nióbio e terras raras é uma "
                 "questão estratégica, disse o secretário; não há consenso sobre a política industrial.")


@pytest.mark.parametrize("text, encoding", [
    (CHINESE_LONG, "gbk"), (CHINESE_LONG, "gb18030"), (RUSSIAN, "cp1251"), (RUSSIAN, "koi8_r"),
    (PORTUGUESE_SP, "cp1252"),
])
def test_legacy_encodings_are_detected_and_nothing_is_replaced(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_text(data, name="legacy.txt") == (text, None)


def test_one_stray_byte_does_not_turn_utf8_into_a_code_page() -> None:
    """Once "SĂŁo Paulo": the whole file was decoded as cp1250 because of one byte."""
    data = "Entrevista em São Paulo.".encode() + b"\x92"
    text, replaced = decode_text(data, name="sp.txt")
    assert text == "Entrevista em São Paulo.\ufffd"
    assert replaced == Replacements(count=1, runs=1, offsets=(len(data) - 1,))
    assert replaced.describe() == f"1 invalid byte replaced by U+FFFD at byte offset {len(data) - 1}"


def test_a_pair_of_stray_quotes_beside_one_accented_letter_stays_utf8() -> None:
    """Windows quotes come in pairs: two invalid bytes beside a single valid "ã" failed the two-thirds share
    (2 of 4 non-ASCII bytes valid), and the file was read as cp1252: "SÃ£o Paulo" without a word."""
    data = b"S\xc3\xa3o Paulo \x93quotas\x94 rose.\n"
    text, replaced = decode_text(data, name="sp.txt")
    assert text == "São Paulo \ufffdquotas\ufffd rose.\n"
    assert replaced == Replacements(count=2, runs=2, offsets=(11, 18))


def _installed_import(folder: Path, name: str, data: bytes) -> tuple[str, str]:
    """What the installed program prints importing a file of ``data``, and the text it stored."""
    path, db = folder / name, str(folder / "p.db")
    path.write_bytes(data)
    subprocess.run([str(PROGRAM), "--db", db, "init"], check=True, capture_output=True)
    result = subprocess.run([str(PROGRAM), "--db", db, "import", str(path)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT text FROM documents").fetchone()
    return result.stdout, stored


def test_installed_import_keeps_one_accented_letter_beside_stray_quotes(tmp_path: Path) -> None:
    printed, stored = _installed_import(tmp_path, "sp.txt", b"S\xc3\xa3o Paulo \x93quotas\x94 rose.\n")
    assert "sp.txt: 2 invalid bytes replaced by U+FFFD at byte offsets 11, 18" in printed
    assert stored.startswith("São Paulo")


def test_broken_utf8_keeps_every_valid_character_and_reports_each_bad_byte() -> None:
    good = PORTUGUESE_SP.encode()
    middle = len(PORTUGUESE_SP[:120].encode())
    data = good[:17] + b"\x92" + good[17:middle] + b"\xe9" + good[middle:] + b"\xff"
    text, replaced = decode_text(data, name="broken.txt")
    assert text == PORTUGUESE_SP[:17] + "\ufffd" + PORTUGUESE_SP[17:120] + "\ufffd" + PORTUGUESE_SP[120:] + "\ufffd"
    assert replaced is not None and replaced.count == 3
    assert replaced.offsets == (17, middle + 1, len(data) - 1)
    assert replaced.describe() == (f"3 invalid bytes replaced by U+FFFD at byte offsets 17, {middle + 1}, "
                                   f"{len(data) - 1}")


def test_a_cut_off_character_is_one_sequence_of_several_bytes() -> None:
    data = "稀土 ".encode() + "中".encode()[:2] + b" end"
    text, replaced = decode_text(data, name="cut.txt")
    assert text == "稀土 \ufffd end"
    assert replaced == Replacements(count=2, runs=1, offsets=(7,))


def test_utf8_byte_order_mark_means_utf8_even_with_bad_bytes() -> None:
    data = codecs.BOM_UTF8 + b"Rare \xff\xfe\xfd earths"
    text, replaced = decode_text(data, name="bom.txt")
    assert text == "Rare \ufffd\ufffd\ufffd earths"
    assert replaced == Replacements(count=3, runs=3, offsets=(8, 9, 10))


def test_many_invalid_sequences_are_counted_but_only_the_first_are_listed() -> None:
    data = ("ção " * 200).encode().replace(b" ", b"\xff", 30)
    _, replaced = decode_text(data, name="many.txt")
    assert replaced is not None and replaced.count == replaced.runs == 30 and len(replaced.offsets) == 20
    assert replaced.describe().endswith(", ...")


def test_valid_utf8_and_ascii_stay_on_the_strict_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the replacing decoder ran on valid UTF-8")

    monkeypatch.setattr(decode, "_utf8_with_replacements", never)
    assert decode_text(b"plain ASCII", name="a.txt") == ("plain ASCII", None)
    assert decode_text(PORTUGUESE_SP.encode(), name="a.txt") == (PORTUGUESE_SP, None)


@pytest.mark.parametrize("text, encoding", [(RUSSIAN, "cp1251"), (RUSSIAN, "koi8_r"), (CHINESE_LONG, "gbk")])
def test_a_large_legacy_file_is_given_up_on_after_a_few_invalid_bytes(monkeypatch: pytest.MonkeyPatch, text: str,
                                                                      encoding: str) -> None:
    """The error handler is called once per invalid sequence: a legacy file stops it after a few dozen."""
    calls = []
    original = decode._Replacing.__call__

    def counting(self: decode._Replacing, exc: UnicodeDecodeError) -> tuple[str, int]:
        calls.append(exc.start)
        return original(self, exc)

    monkeypatch.setattr(decode._Replacing, "__call__", counting)
    data = (text + "\n").encode(encoding) * 5000  # hundreds of thousands of invalid bytes as UTF-8
    assert decode_text(data, name="big.txt") == ((text + "\n") * 5000, None)
    assert len(calls) <= decode._CHECK_EVERY


# 120 stray cp1252 bytes (more than one check's worth of invalid sequences) before a long UTF-8 body.
STRAY_HEADER = "Entrevista – “São” … " * 24
UTF8_BODY = "Meu coração é grande e a canção também.\n" * 3000


def stray_header_file() -> bytes:
    return STRAY_HEADER.encode("cp1252") + UTF8_BODY.encode()


def test_a_stray_header_does_not_decide_for_a_utf8_file() -> None:
    """The two-thirds rule is the whole file's: its first bytes failing it do not send it to a code page."""
    data = stray_header_file()
    header = STRAY_HEADER.encode("cp1252")
    text, replaced = decode_text(data, name="a.txt")
    assert text == STRAY_HEADER.encode("cp1252").decode("utf-8", "replace") + UTF8_BODY
    assert replaced is not None and replaced.count == replaced.runs == 120
    assert replaced.offsets[0] == header.index(b"\x96")


def test_installed_import_keeps_the_utf8_body_after_a_stray_header(tmp_path: Path) -> None:
    printed, stored = _installed_import(tmp_path, "a.txt", stray_header_file())
    assert "a.txt: 120 invalid bytes replaced by U+FFFD" in printed
    assert stored.endswith(UTF8_BODY) and "Ă" not in stored


def test_forced_encoding_still_decides_for_broken_utf8() -> None:
    data = "São Paulo".encode() + b"\x92"
    assert decode_text(data, name="a.txt", encoding="cp1252") == ("SÃ£o Paulo’", None)
    with pytest.raises(DocumentImportError, match="cannot be read as utf-8.*byte 10"):
        decode_text(data, name="a.txt", encoding="utf-8")


@given(st.text(alphabet=st.sampled_from(["a", " ", "ç", "ã", "中", "Ж", "\n", "€"]), min_size=1),
       st.lists(st.integers(min_value=0), max_size=5))
def test_stray_bytes_in_utf8_are_replaced_where_they_stood(text: str, cuts: list[int]) -> None:
    """Stray 0xff bytes put between characters come back as U+FFFD there, the rest unchanged, whenever
    the valid non-ASCII bytes are at least twice as many as the stray ones."""
    places = sorted({cut % (len(text) + 1) for cut in cuts})
    data, expected, last = b"", "", 0
    for place in places:
        data += text[last:place].encode() + b"\xff"
        expected += text[last:place] + "\ufffd"
        last = place
    data += text[last:].encode()
    expected += text[last:]
    non_ascii = len(text.encode()) - sum(char.isascii() for char in text)
    if places and non_ascii >= 2 * len(places):
        decoded, replaced = decode_text(data, name="p.txt")
        assert decoded == expected
        assert replaced is not None and replaced.count == len(places)


@given(st.lists(st.sampled_from(["中国稀土", "exports", "。", "fell", "Россия", "  ", "\n", "稀", "a.b", " "]),
                max_size=300),
       st.integers(min_value=1, max_value=40))
def test_a_long_text_is_counted_in_slices_with_the_same_result(pieces: list[str], slice_chars: int) -> None:
    """A 100 MB text is counted in slices cut at whitespace (no list of millions of words); the count is that
    of the whole, CJK punctuation included (it counts as a word only in text without CJK characters)."""
    from gripcode.corpus import normalize

    text = "".join(pieces)
    whole = count_words(text)
    original = normalize._COUNT_SLICE
    try:
        normalize._COUNT_SLICE = slice_chars
        assert count_words(text) == whole
    finally:
        normalize._COUNT_SLICE = original
