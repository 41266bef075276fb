"""The workbench's text model without a terminal: wrapping, offsets and lines, moving, selections, the stretches
codings cut the text into, and finding a code from a few letters."""

from __future__ import annotations

from gripcode.workbench.matching import CodeChoice, rank
from gripcode.workbench.textmodel import Cursor, Highlights, Layout, Units, display_text

TEXT = ("Quotas fell in 2010 and prices rose sharply.\nExporters waited.\n\n"
        "A state group now sets reference prices for dysprosium and terbium.")
PARAGRAPHS = [(0, 62), (64, len(TEXT))]


def lines(layout: Layout) -> list[str]:
    return [TEXT[s:e] if s >= 0 else "" for s, e in zip(layout.starts, layout.ends)]


def test_paragraphs_wrap_at_words_keep_their_line_breaks_and_are_numbered() -> None:
    layout = Layout(TEXT, PARAGRAPHS, 24)
    assert lines(layout) == ["Quotas fell in 2010 and ", "prices rose sharply.", "Exporters waited.", "",
                             "A state group now sets ", "reference prices for ", "dysprosium and terbium."]
    assert layout.numbers == [1, 0, 0, 0, 2, 0, 0]


def test_offsets_map_to_lines_and_columns_and_back() -> None:
    layout = Layout(TEXT, PARAGRAPHS, 24)
    at = TEXT.index("prices rose")
    assert (layout.line_of(at), layout.column_of(at)) == (1, 0)
    assert layout.offset_at(1, 7) == TEXT.index("rose")
    assert layout.offset_at(3, 5) == 64  # a blank line: the next paragraph's start
    assert layout.offset_at(2, 99) == 62  # past a paragraph's end: its end
    assert layout.last_on_line(0) == TEXT.index(" prices")  # a wrapped line's end belongs to the next line


def test_a_word_longer_than_the_line_is_cut_and_wide_characters_take_two_cells() -> None:
    text = "稀土永磁企业生产经理访谈记录"
    layout = Layout(text, [(0, len(text))], 11)  # wraps at 10 cells: five characters a line
    assert [text[s:e] for s, e in zip(layout.starts, layout.ends)] == ["稀土永磁企", "业生产经理", "访谈记录"]
    assert layout.column_of(2) == 4


def test_control_characters_show_as_spaces_offset_for_offset() -> None:
    assert display_text("a\tb\x0cc\nd") == "a b c\nd"


def test_the_cursor_moves_by_character_and_word_and_skips_the_gap_between_paragraphs() -> None:
    cursor = Cursor(TEXT, PARAGRAPHS)
    assert cursor.offset == 0
    cursor.move_to(cursor.word_right())
    assert cursor.offset == 6  # the end of "Quotas"
    cursor.move_to(cursor.word_right())
    assert TEXT[:cursor.offset].endswith("fell")
    cursor.move_to(cursor.word_left())
    assert TEXT[cursor.offset:].startswith("fell")
    cursor.move_to(62)
    cursor.move_to(cursor.right())
    assert cursor.offset == 64
    cursor.move_to(cursor.left())
    assert cursor.offset == 62
    cursor.move_to(63)  # between paragraphs
    assert cursor.offset == 64


def test_a_selection_leaves_out_whitespace_at_its_ends() -> None:
    cursor = Cursor(TEXT, PARAGRAPHS)
    cursor.move_to(TEXT.index("in 2010") - 1)
    cursor.move_to(TEXT.index("and prices"), select=True)
    assert cursor.selection == (TEXT.index("in 2010"), TEXT.index(" and prices"))
    cursor.move_to(cursor.offset)
    assert cursor.selection is None


def test_units_say_where_the_cursor_is_and_where_the_next_starts() -> None:
    sentences = Units([(0, 44), (45, 62), (64, 131)])
    assert sentences.at(50) == (45, 62)
    assert sentences.at(44) == (0, 44)
    assert sentences.next_start(0) == 45 and sentences.next_start(64) is None
    assert sentences.previous_start(45) == 0 and sentences.previous_start(0) is None


def test_overlapping_codings_cut_the_text_into_stretches_innermost_first() -> None:
    highlights = Highlights([(0, 44), (7, 11), (45, 62)])
    assert [(s.start, s.end, s.cover) for s in highlights.stretches] == [
        (0, 7, (0,)), (7, 11, (1, 0)), (11, 44, (0,)), (45, 62, (2,))]
    assert highlights.covering(8) == (1, 0)
    assert highlights.covering(44) == ()
    assert highlights.codings_within(0, 50) == [0, 1, 2]


def test_a_few_letters_find_a_code_by_id_or_name() -> None:
    choices = [CodeChoice("price-control", "Price control", "#80b1d3"),
               CodeChoice("export-restrictions", "Export restrictions", "#fb8072"),
               CodeChoice("local-content", "Local content", "#b3de69"),
               CodeChoice("exports", "Exports (generic)", "#d9d9d9")]
    assert [c.slug for c in rank("exp", choices)] == ["export-restrictions", "exports"]
    assert [c.slug for c in rank("exports", choices)] == ["exports", "export-restrictions"]
    assert [c.slug for c in rank("content", choices)] == ["local-content"]
    assert [c.slug for c in rank("exres", choices)] == ["export-restrictions"]  # letters in order
    assert [c.slug for c in rank("", choices)] == [c.slug for c in choices]
    assert rank("zzz", choices) == []
