"""Locating a quote, a span or a unit reference in a document's text."""

from __future__ import annotations

import random
import re
import time

import pytest

from gripcode.coding.locate import (
    QuoteMatch,
    closest_passage,
    context_snippet,
    locate_quote,
    parse_span,
    parse_unit_ref,
)
from gripcode.errors import CodingError

TEXT = (
    "Interviewer: How were export quotas set?\n\n"
    "Official: The ministry fixed export quotas every year. Firms lobbied\n"
    "for  higher  export quotas, but the state kept market control.\n\n"
    "Interviewer: And prices?\n\n"
    "Official: Prices followed the quotas."
)


def offsets_of(text: str, quote: str) -> list[int]:
    return [found.start() for found in re.finditer(re.escape(quote), text)]


def test_exact_quote() -> None:
    quote = "the state kept market control"
    match = locate_quote(TEXT, quote)
    assert match == QuoteMatch(TEXT.index(quote), TEXT.index(quote) + len(quote), exact=True, occurrences=1)
    assert TEXT[match.start: match.end] == quote


def test_surrounding_whitespace_and_windows_line_endings_of_the_quote_are_ignored() -> None:
    match = locate_quote(TEXT, "  \r\nThe ministry fixed export quotas\r\n ")
    assert TEXT[match.start: match.end] == "The ministry fixed export quotas"
    assert match.exact


def test_several_occurrences_are_all_listed_with_paragraph_numbers() -> None:
    starts = offsets_of(TEXT, "export quotas")
    assert len(starts) == 3
    with pytest.raises(CodingError) as caught:
        locate_quote(TEXT, "export quotas")
    message = str(caught.value)
    assert "3 times" in message
    assert "--occurrence" in message
    assert f"1. offsets {starts[0]}:{starts[0] + 13}, paragraph 1" in message
    assert f"2. offsets {starts[1]}:{starts[1] + 13}, paragraph 2" in message
    assert f"3. offsets {starts[2]}:{starts[2] + 13}, paragraph 2" in message
    assert "for higher ⟦export quotas⟧, but" in message  # context, whitespace collapsed


def test_occurrence_picks_the_nth_match() -> None:
    starts = offsets_of(TEXT, "export quotas")
    for number, start in enumerate(starts, start=1):
        match = locate_quote(TEXT, "export quotas", occurrence=number)
        assert (match.start, match.end, match.occurrences) == (start, start + 13, 3)


def test_overlapping_occurrences_count() -> None:
    match = locate_quote("na na na", "na na", occurrence=2)
    assert (match.start, match.end, match.occurrences) == (3, 8, 2)


@pytest.mark.parametrize("occurrence", [0, 4, -1])
def test_occurrence_out_of_range(occurrence: int) -> None:
    with pytest.raises(CodingError, match=r"occurs 3 times.*between 1 and 3"):
        locate_quote(TEXT, "export quotas", occurrence=occurrence)


def test_occurrence_two_of_a_single_match() -> None:
    with pytest.raises(CodingError, match="occurs once"):
        locate_quote(TEXT, "market control", occurrence=2)


def test_whitespace_insensitive_across_line_break_and_double_spaces() -> None:
    quote = "Firms lobbied for higher export quotas"
    assert quote not in TEXT
    match = locate_quote(TEXT, quote)
    assert match.exact is False
    assert match.occurrences == 1
    assert TEXT[match.start: match.end] == "Firms lobbied\nfor  higher  export quotas"


def test_whitespace_insensitive_with_no_break_space_in_the_quote() -> None:
    text = "Rare earth prices\nrose sharply."
    match = locate_quote(text, "earth\u00a0prices rose")
    assert (text[match.start: match.end], match.exact) == ("earth prices\nrose", False)


def test_exact_matches_are_preferred_to_whitespace_insensitive_ones() -> None:
    text = "export\nquotas and export quotas"
    match = locate_quote(text, "export quotas")
    assert (match.start, match.exact, match.occurrences) == (text.rindex("export"), True, 1)


def test_combining_accent_in_quote_finds_precomposed_text() -> None:
    text = "Le café des mineurs ferme."  # é is U+00E9, as stored after NFC
    quote = "cafe\u0301 des"
    assert quote not in text
    match = locate_quote(text, quote)
    assert text[match.start: match.end] == "café des"
    assert (match.start, match.end) == (3, 11)
    assert match.exact


def test_chinese_text() -> None:
    text = "国家对稀土开采实行总量控制。\n\n企业必须遵守出口配额，稀土价格由此上涨。"
    match = locate_quote(text, "出口配额")
    assert (match.start, match.end) == (text.index("出口配额"), text.index("出口配额") + 4)
    with pytest.raises(CodingError) as caught:
        locate_quote(text, "稀土")
    assert "paragraph 1" in str(caught.value) and "paragraph 2" in str(caught.value)


def test_cyrillic_text() -> None:
    text = "Министерство установило квоты на экспорт.\nКомпании просили\nповысить квоты."
    match = locate_quote(text, "Компании просили повысить квоты")
    assert match.exact is False
    assert text[match.start: match.end] == "Компании просили\nповысить квоты"


def test_not_found_shows_the_closest_passage() -> None:
    quote = "The ministry fixes export quota each year"
    with pytest.raises(CodingError) as caught:
        locate_quote(TEXT, quote)
    message = str(caught.value)
    start = TEXT.index("The ministry fixed")
    assert "not found" in message
    assert re.search(rf"offsets {start}:\d+, paragraph 2, \d+% similar", message)
    assert "The ministry fixed export quotas every year" in message


def test_not_found_in_chinese_shows_the_closest_passage() -> None:
    text = "国家对稀土开采实行总量控制。\n\n企业必须遵守出口配额，稀土价格由此上涨。"
    found = closest_passage(text, "企业必须遵守进口配额")
    assert found is not None
    start, end, similarity = found
    assert text[start:end].startswith("企业必须遵守出口配额") and 0.7 < similarity < 1


def test_nothing_similar() -> None:
    with pytest.raises(CodingError, match="no passage of the text resembles it"):
        locate_quote(TEXT, "zzzz qqqq")


@pytest.mark.parametrize("quote", ["", "   ", "\n\t\u00a0"])
def test_empty_quote(quote: str) -> None:
    with pytest.raises(CodingError, match="empty"):
        locate_quote(TEXT, quote)


def long_text(seed: int = 7, size: int = 100_000) -> tuple[str, str]:
    """About ``size`` characters of paragraphs drawn from a small vocabulary, with one distinct sentence."""
    rng = random.Random(seed)
    words = ("the state mining export quota rare earth ministry policy market firms price control "
             "license china brazil kazakhstan deposit tax").split()
    paragraphs: list[str] = []
    while sum(len(p) + 2 for p in paragraphs) < size:
        paragraphs.append(" ".join(rng.choice(words) for _ in range(rng.randint(20, 60))) + ".")
    target = "Heavy rare-earth deposits in the southern provinces were consolidated under six state groups."
    paragraphs[len(paragraphs) // 2] += " " + target
    return "\n\n".join(paragraphs), target


def test_speed_on_a_long_document() -> None:
    text, target = long_text()
    assert len(text) >= 100_000
    began = time.perf_counter()
    match = locate_quote(text, target.replace(" in the ", "\nin  the "))
    assert text[match.start: match.end] == target
    with pytest.raises(CodingError) as caught:
        locate_quote(text, "Heavy rare earth deposits in southern provinces were consolidatd under 6 groups")
    with pytest.raises(CodingError) as ambiguous:
        locate_quote(text, "rare earth")
    elapsed = time.perf_counter() - began
    assert f"offsets {text.index(target)}:" in str(caught.value)
    assert "% similar" in str(caught.value)
    assert str(ambiguous.value).count("\n") > 20
    assert elapsed < 1.0, f"took {elapsed:.2f} s"


def test_speed_when_nothing_in_the_quote_is_rare() -> None:
    text, _ = long_text(seed=11)
    began = time.perf_counter()
    with pytest.raises(CodingError, match="Closest passage"):
        locate_quote(text, "the the the state state market control control quota of the firms")
    assert time.perf_counter() - began < 1.0


def test_whitespace_search_is_not_catastrophic() -> None:
    text = ("a " * 50_000) + "b"
    began = time.perf_counter()
    with pytest.raises(CodingError):
        locate_quote(text, "a " * 40 + "c")
    assert time.perf_counter() - began < 1.0


def test_context_snippet() -> None:
    text = "one two three\nfour five six seven eight"
    start = text.index("four")
    assert context_snippet(text, start, start + 4, width=6) == "…three four five…"
    assert context_snippet(text, 0, 3, width=4) == "one two…"
    assert context_snippet(text, start, start + 4, width=6, mark=True) == "…three ⟦four⟧ five…"
    long = context_snippet("x" * 500, 100, 400, width=10)
    assert len(long) < 60 and "\n" not in long and " … " in long


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0:5", (0, 5)), (" 3 : 10 ", (3, 10)), ("9:10", (9, 10))],
)
def test_parse_span(value: str, expected: tuple[int, int]) -> None:
    assert parse_span(value, 10) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12", "START:END"),
        ("a:b", "START:END"),
        ("1.5:3", "START:END"),
        ("", "START:END"),
        ("-1:4", "negative"),
        ("5:5", "START must be smaller"),
        ("6:2", "START must be smaller"),
        ("3:11", "has 10 characters"),
    ],
)
def test_parse_span_errors(value: str, message: str) -> None:
    with pytest.raises(CodingError, match=message):
        parse_span(value, 10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("paragraph:3", ("paragraph", 3)), ("sentence:1", ("sentence", 1)), ("Turn: 12", ("turn", 12))],
)
def test_parse_unit_ref(value: str, expected: tuple[str, int]) -> None:
    assert parse_unit_ref(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("paragraph", "paragraph:N"),
        ("paragraph:x", "paragraph:N"),
        ("3", "paragraph:N"),
        ("chapter:2", "unknown unit kind 'chapter'"),
        ("sentence:0", "start at 1"),
        ("turn:-2", "start at 1"),
    ],
)
def test_parse_unit_ref_errors(value: str, message: str) -> None:
    with pytest.raises(CodingError, match=message):
        parse_unit_ref(value)
