"""Paragraph, sentence and speaker-turn segmentation, and spaCy language mapping."""

from __future__ import annotations

import inspect

import pytest

from gripcode.corpus.segment import (
    leading_speaker,
    paragraph_spans,
    sentence_spans,
    sentence_spans_many,
    speaker_turns,
)
from gripcode.nlp.languages import SUPPORTED, sentence_pipeline, spacy_lang


def texts_of(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[start:end] for start, end in spans]


def assert_trimmed(text: str, spans: list[tuple[int, int]]) -> None:
    for start, end in spans:
        assert start < end
        assert not text[start].isspace() and not text[end - 1].isspace()


def test_paragraphs_split_on_blank_lines() -> None:
    text = "  First paragraph\nwraps here.  \n\n \t\nSecond one.\n\n\n\nThird.\n"
    spans = paragraph_spans(text)
    assert texts_of(text, spans) == ["First paragraph\nwraps here.", "Second one.", "Third."]
    assert spans[0] == (2, 29)
    assert_trimmed(text, spans)


def test_paragraphs_one_per_line_without_blank_lines() -> None:
    text = "Line one.\nLine two.\nLine three.\n"
    assert texts_of(text, paragraph_spans(text)) == ["Line one.", "Line two.", "Line three."]


def test_paragraphs_of_empty_text() -> None:
    assert paragraph_spans("") == []
    assert paragraph_spans(" \n\n \n") == []
    assert paragraph_spans("One") == [(0, 3)]


def test_english_sentences() -> None:
    text = "Exports fell in 2023. Why did they fall?  Quotas!\n"
    spans = sentence_spans(text, "en")
    assert texts_of(text, spans) == ["Exports fell in 2023.", "Why did they fall?", "Quotas!"]
    assert_trimmed(text, spans)


def test_portuguese_sentences() -> None:
    text = "O Brasil tem grandes reservas. A produção ainda é pequena! Por quê?"
    assert texts_of(text, sentence_spans(text, "pt-BR")) == [
        "O Brasil tem grandes reservas.",
        "A produção ainda é pequena!",
        "Por quê?",
    ]


def test_chinese_sentences_split_on_full_stops() -> None:
    text = "中国稀土出口配额减少。巴西呢？是的！哈萨克斯坦也在扩大生产。"
    assert texts_of(text, sentence_spans(text, "zh")) == [
        "中国稀土出口配额减少。",
        "巴西呢？",
        "是的！",
        "哈萨克斯坦也在扩大生产。",
    ]


def test_chinese_pipeline_uses_character_segmenter() -> None:
    nlp = sentence_pipeline("zh-CN")
    assert nlp.lang == "zh"
    assert nlp.config["nlp"]["tokenizer"]["segmenter"] == "char"
    punct = nlp.get_pipe("sentencizer").punct_chars
    assert {"。", "！", "？"} <= set(punct)


def test_russian_sentences() -> None:
    text = "Россия увеличивает добычу. Это важно? Да!"
    assert texts_of(text, sentence_spans(text, "ru")) == ["Россия увеличивает добычу.", "Это важно?", "Да!"]


def test_kazakh_sentences_use_multilanguage_pipeline() -> None:
    text = "Қазақстан сирек жер металдарын өндіруді арттырады. Бұл маңызды ма? Иә, өте маңызды."
    assert sentence_pipeline("kk").lang == "xx"
    assert texts_of(text, sentence_spans(text, "kk")) == [
        "Қазақстан сирек жер металдарын өндіруді арттырады.",
        "Бұл маңызды ма?",
        "Иә, өте маңызды.",
    ]


def test_sentences_never_cross_paragraphs() -> None:
    text = "A heading without a stop\n\nThe body starts. It goes on  \n\n  Last words"
    spans = sentence_spans(text, "en")
    assert texts_of(text, spans) == ["A heading without a stop", "The body starts.", "It goes on", "Last words"]
    assert_trimmed(text, spans)


def test_sentences_keep_single_line_breaks_inside_paragraphs() -> None:
    text = "A sentence that\nwraps. Another.\n\nNext paragraph."
    assert texts_of(text, sentence_spans(text, "en")) == ["A sentence that\nwraps.", "Another.", "Next paragraph."]


def test_sentences_of_empty_and_blank_text() -> None:
    assert sentence_spans("", "en") == []
    assert sentence_spans(" \n\n\t", "en") == []


def test_sentence_spans_many_is_lazy_and_ordered() -> None:
    consumed: list[int] = []

    def texts():
        for number in range(5):
            consumed.append(number)
            yield f"Text {number} first. Text {number} second."

    stream = sentence_spans_many(texts(), "en", batch_size=2)
    assert inspect.isgenerator(stream)
    assert consumed == []
    first = next(stream)
    assert first == [(0, 13), (14, 28)]
    assert len(consumed) < 5
    assert len(list(stream)) == 4


def test_pipeline_is_cached_per_language() -> None:
    assert sentence_pipeline("en") is sentence_pipeline("eng")
    assert sentence_pipeline("kk") is sentence_pipeline(None)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "en"), ("ENG", "en"), ("English", "en"), ("en-GB", "en"),
        ("pt", "pt"), ("por", "pt"), ("pt-BR", "pt"), ("pt_BR", "pt"), ("Portuguese", "pt"),
        ("zh", "zh"), ("zho", "zh"), ("chi", "zh"), ("zh-CN", "zh"), ("Chinese", "zh"),
        ("ru", "ru"), ("rus", "ru"), ("Russian", "ru"),
        ("kk", "xx"), ("kaz", "xx"), ("de", "xx"), ("", "xx"), (None, "xx"),
    ],
)
def test_spacy_lang(code: str | None, expected: str) -> None:
    assert spacy_lang(code) == expected
    assert expected in SUPPORTED


@pytest.mark.parametrize(
    ("line", "speaker"),
    [
        ("Interviewer: How did it start?", "Interviewer"),
        ("R1: It started in 2010.", "R1"),
        ("Entrevistador: Como começou?", "Entrevistador"),
        ("Интервьюер: Как это началось?", "Интервьюер"),
        ("采访者：怎么开始的？", "采访者"),
        ("Dr. Li (CNMC): Exports fell.", "Dr. Li (CNMC)"),
        ("**Q:** Why?", "Q"),
        ("The meeting was at 10:30 in Beijing.", None),
        ("See https://example.org for details", None),
        ("This sentence is far too long to be a speaker label at all: really", None),
    ],
)
def test_leading_speaker(line: str, speaker: str | None) -> None:
    assert leading_speaker(line) == speaker


def test_speaker_turns_with_continuation_lines() -> None:
    text = (
        "Interview 4, Baotou\n\n"
        "Interviewer: How did quotas change?\n"
        "R1: They were cut.\n"
        "Twice, in fact.\n\n"
        "Interviewer: Why?\n"
    )
    turns = speaker_turns(text)
    assert [(turn.speaker, text[turn.start:turn.end]) for turn in turns] == [
        ("Interviewer", "Interviewer: How did quotas change?"),
        ("R1", "R1: They were cut.\nTwice, in fact."),
        ("Interviewer", "Interviewer: Why?"),
    ]
    assert turns[0].start == text.index("Interviewer:")


def test_text_with_few_labels_is_not_a_transcript() -> None:
    text = "Note: this policy is new.\nIt applies from 2024.\nExports must be licensed.\nQuotas stay."
    assert speaker_turns(text) == []
    assert speaker_turns("Interviewer: just one line") == []
