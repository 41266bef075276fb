"""One document with its codes, in the terminal and as a standalone HTML page."""

from __future__ import annotations

import re

from gripcode.corpus.segment import paragraph_spans
from gripcode.export.document_view import (
    PALETTE,
    CodedSpan,
    MemoNote,
    code_color,
    render_html,
    render_terminal,
    split_segments,
)

TEXT = (
    "The state kept export quotas high.\n"
    "Firms complained.\n\n"
    "Prices rose when the ministry cut the quotas.\n\n"
    "Nothing coded here."
)
PARAGRAPHS = paragraph_spans(TEXT)
ESC = "\x1b["


def span(quote: str, code_id: str, coder: str = "ana", color: str | None = None, *, name: str | None = None,
         memo: str | None = None, text: str = TEXT) -> CodedSpan:
    start = text.index(quote)
    return CodedSpan(start, start + len(quote), code_id, name or code_id.replace("-", " ").title(), color,
                     coder, memo)


MARKET = span("The state kept export quotas high.", "market-control", color="#1f77b4")
QUOTAS = span("export quotas", "export-quotas", coder="ben", color="#FFCC00")
PRICES = span("Prices rose", "prices", color="#2ca02c")
SPANS = [MARKET, QUOTAS, PRICES]


def test_segments_split_at_every_boundary_with_the_right_code_sets() -> None:
    # a: [0, 10), b: [5, 15) crossing a, c: [7, 9) inside both, d: [15, 20) touching b's end.
    spans = [CodedSpan(0, 10, "a", "A", None, "x"), CodedSpan(5, 15, "b", "B", None, "x"),
             CodedSpan(7, 9, "c", "C", None, "y"), CodedSpan(15, 20, "d", "D", None, "x")]
    segments = split_segments(spans, 0, 25)
    assert [(s.start, s.end, s.code_ids) for s in segments] == [
        (0, 5, {"a"}),
        (5, 7, {"a", "b"}),
        (7, 9, {"a", "b", "c"}),
        (9, 10, {"a", "b"}),
        (10, 15, {"b"}),
        (15, 20, {"d"}),
        (20, 25, frozenset()),
    ]
    assert segments[2].spans[0].code_id == "c"  # innermost (shortest) first
    assert [(s.start, s.end, s.code_ids) for s in split_segments(spans, 8, 12)] == [
        (8, 9, {"a", "b", "c"}), (9, 10, {"a", "b"}), (10, 12, {"b"})]


def test_terminal_colours_use_the_codes_rgb_and_readable_text() -> None:
    out = render_terminal(TEXT, SPANS, PARAGRAPHS, color=True)
    assert "\x1b[48;2;31;119;180m\x1b[38;2;255;255;255m" in out  # dark blue: white text
    assert "\x1b[48;2;255;204;0m\x1b[38;2;0;0;0m" in out  # yellow: black text
    assert "\x1b[48;2;44;160;44m" in out
    # export quotas lies inside market-control: drawn in its own colour and underlined for the overlap.
    assert "\x1b[48;2;255;204;0m\x1b[38;2;0;0;0m\x1b[4mexport quotas\x1b[0m" in out


def test_terminal_without_colour_has_no_escapes_and_marks_coded_text() -> None:
    out = render_terminal(TEXT, SPANS, PARAGRAPHS, color=False)
    assert ESC not in out and "\x1b" not in out
    assert ("[1] ⟦The state kept ⟦export quotas⟧{export-quotas} high.⟧{market-control}\n"
            "Firms complained.") in out
    assert "[2] ⟦Prices rose⟧{prices} when the ministry cut the quotas." in out
    assert "[3] Nothing coded here." in out


def test_terminal_lists_the_codes_of_each_paragraph() -> None:
    twice = span("Prices rose", "prices", coder="ben")
    out = render_terminal(TEXT, [*SPANS, twice], PARAGRAPHS, color=False)
    blocks = out.split("\n\n")
    assert len(blocks) == 3
    assert blocks[0].endswith("\n   codes: market-control (ana), export-quotas (ben)")
    assert blocks[1].endswith("\n   codes: prices (ana, ben)")
    assert "codes:" not in blocks[2]
    assert out.count("⟦Prices rose⟧{prices}") == 1  # one pair of brackets per code and stretch


def test_codes_without_a_colour_get_a_stable_palette_colour() -> None:
    assert code_color("market-control", None) == code_color("market-control", None) in PALETTE
    assert code_color("x", "#ABC") == "#aabbcc"
    assert code_color("x", "not a colour") in PALETTE
    plain = CodedSpan(0, 3, "market-control", "Market control", None, "ana")
    red, green, blue = (int(code_color("market-control", None)[i: i + 2], 16) for i in (1, 3, 5))
    assert f"\x1b[48;2;{red};{green};{blue}m" in render_terminal(TEXT, [plain], PARAGRAPHS, color=True)


def test_a_span_across_a_paragraph_break_shows_in_both_paragraphs() -> None:
    across = span("Firms complained.\n\nPrices rose", "reaction", color="#d62728")
    plain = render_terminal(TEXT, [across], PARAGRAPHS, color=False)
    assert "⟦Firms complained.⟧{reaction}" in plain
    assert "[2] ⟦Prices rose⟧{reaction}" in plain
    assert plain.count("codes: reaction (ana)") == 2
    page = render_html("Doc", "", TEXT, [across], PARAGRAPHS, [], "")
    marks = re.findall(r'<mark[^>]*data-codes="reaction"[^>]*>([^<]*)</mark>', page)
    assert marks == ["Firms complained.", "Prices rose"]
    assert "\n\n" not in "".join(marks)


HOSTILE_TEXT = (
    "Intro <script>alert('x')</script> & more.\n\n"
    "See https://example.org/report for the figures."
)


def hostile_page() -> str:
    code = span("<script>alert('x')</script>", "bold", name="<b>x</b>", memo='he said "<i>no</i>"',
                text=HOSTILE_TEXT)
    other = span("alert", "alerts", coder="<ben>", color="#000000", text=HOSTILE_TEXT)
    memos = [MemoNote("Why <script>?", "Check <img src=x onerror=alert(1)> later.", "ana", "document 7"),
             MemoNote(None, "Untitled thought", "ben", "code market-control")]
    return render_html("<Title> & co", "interview, case <China>, http://source.example", HOSTILE_TEXT,
                       [code, other], paragraph_spans(HOSTILE_TEXT), memos,
                       "gripcode; codebook v3 <abc>; coders: ana, ben")


def test_html_is_standalone_and_loads_nothing() -> None:
    page = hostile_page()
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "https&#58;//example.org/report" in page  # the document's own URL still reads the same


def test_html_escapes_everything_from_the_project() -> None:
    page = hostile_page()
    assert ">&lt;script&gt;</mark>" in page and ">(&#x27;x&#x27;)&lt;/script&gt;</mark> &amp; more." in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;Title&gt; &amp; co" in page and "&lt;ben&gt;" in page
    assert "&quot;&lt;i&gt;no&lt;/i&gt;&quot;" in page  # the coding memo inside a title attribute


def test_html_has_numbered_paragraphs_marks_legend_memos_and_provenance() -> None:
    twice = span("Prices rose", "prices", coder="ben", color="#2ca02c")
    memos = [MemoNote("Quota politics", "Compare with Brazil.", "ana", "document 3")]
    page = render_html("Interview 3", "interview, China", TEXT, [*SPANS, twice], PARAGRAPHS, memos,
                       "codebook v2; coders ana, ben; statuses accepted; 2024-05-01")
    for number in (1, 2, 3):
        assert f'<span class="num">[{number}]</span>' in page
    assert re.search(r'<mark class="overlap" style="background:#ffcc00;[^"]*" data-codes="export-quotas '
                     r'market-control" title="Export Quotas \[export-quotas\], ben; Market Control '
                     r'\[market-control\], ana">export quotas</mark>', page)
    legend = page[page.index('id="legend"'): page.index('id="memos"')]
    assert ('<td><span class="swatch" style="background:#2ca02c"></span></td><td>Prices</td>'
            '<td><code>prices</code></td><td class="count">2</td>') in legend
    assert "<td>Market Control</td><td><code>market-control</code></td><td class=\"count\">1</td>" in legend
    memo_part = page[page.index('id="memos"'):]
    assert "<h3>Quota politics</h3>" in memo_part and "on document 3, by ana" in memo_part
    assert "Compare with Brazil." in memo_part
    assert "<footer>codebook v2; coders ana, ben; statuses accepted; 2024-05-01</footer>" in page


def test_html_without_codings_or_memos() -> None:
    page = render_html("Empty", "", TEXT, [], PARAGRAPHS, [], "p")
    assert "<mark" not in page
    assert "No codings on this document." in page and "No memos." in page
