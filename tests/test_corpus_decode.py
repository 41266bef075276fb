"""Byte decoding and text normalisation of imported files."""

from __future__ import annotations

import codecs
import random
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gripcode.corpus.decode import decode_bytes
from gripcode.corpus.normalize import count_words, normalise_text, text_sha256
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
