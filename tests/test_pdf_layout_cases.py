"""PDF layouts beyond plain running text: footnotes, block quotes, lists, margin stamps, scaled fonts, a short
last page in two columns, a line into the margin, and lines at the foot of a page that only look like page
numbers or running footers."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

from fpdf import FPDF

from gripcode.corpus.pdf_layout import Fragment, Page, lay_out
from gripcode.corpus.readers import read_file

WORDS = ("ministry strategy critical minerals licences processing plants export quotas deposit review concentrate "
         "buyer tailings niobium agency environmental authority state objection heavy elements dysprosium terbium "
         "prices country refining separation partners contracts output council transfer risk government").split()
WIDTH = 451.0  # points of text width on A4 with 72 pt margins
LEFT = 72.0


def prose(seed: int, words: int) -> str:
    rng = random.Random(seed)
    chosen = [rng.choice(WORDS) for _ in range(words)]
    return " ".join(chosen).capitalize() + "."


class Sheet:
    """Lines placed by hand: justified (all but a paragraph's last), at a given indent and width."""

    def __init__(self, size: float = 11.0) -> None:
        self.pdf = FPDF(unit="pt", format="A4")
        self.pdf.set_auto_page_break(False)
        self.size = size
        self.y = 0.0
        self.page()

    def page(self) -> None:
        self.pdf.add_page()
        self.pdf.set_font("Times", size=self.size)
        self.y = 80.0

    def lines(self, text: str, x: float = LEFT, width: float = WIDTH) -> list[str]:
        self.pdf.set_font("Times", size=self.size)
        return self.pdf.multi_cell(width, 14, text, dry_run=True, output="LINES")

    def line(self, text: str, x: float = LEFT, width: float = WIDTH, justify: bool = True) -> None:
        words = text.split()
        if justify and len(words) > 1:
            natural = sum(self.pdf.get_string_width(word) for word in words)
            gap, position = (width - natural) / (len(words) - 1), x
            for word in words:
                self.pdf.text(position, self.y, word)
                position += self.pdf.get_string_width(word) + gap
        else:
            self.pdf.text(x, self.y, text)
        self.y += 14

    def paragraph(self, text: str, x: float = LEFT, width: float = WIDTH, space: float = 8) -> None:
        lines = self.lines(text, x, width)
        for index, line in enumerate(lines):
            self.line(line, x, width, justify=index < len(lines) - 1)
        self.y += space

    def small(self, text: str, y: float, size: float = 8) -> None:
        self.pdf.set_font("Times", size=size)
        self.pdf.text(LEFT, y, text)
        self.pdf.set_font("Times", size=self.size)

    def save(self, path: Path) -> Path:
        self.pdf.output(str(path))
        return path


def paragraphs(path: Path) -> list[str]:
    return read_file(path)[0].text.split("\n\n")


def test_a_footnote_does_not_split_a_paragraph_that_runs_on_to_the_next_page(tmp_path: Path) -> None:
    sheet = Sheet()
    text = prose(1, 560)
    lines = sheet.lines(text)
    assert len(lines) > 44
    for line in lines[:40]:
        sheet.line(line)
    sheet.pdf.line(LEFT, 700, 200, 700)
    sheet.small("1 Ministry of Industry, strategy for critical minerals (Astana, 2023).", 714)
    sheet.small("2 Interview with a ministry official, May 2023.", 724)
    sheet.page()
    for index, line in enumerate(lines[40:]):
        sheet.line(line, justify=index < len(lines) - 41)
    [document] = read_file(sheet.save(tmp_path / "notes.pdf"))
    assert document.text.split("\n\n") == [text, "1 Ministry of Industry, strategy for critical minerals "
                                           "(Astana, 2023).", "2 Interview with a ministry official, May 2023."]
    start = len(text) + 2
    notes = document.metadata["notes"]
    assert [document.text[s:e] for s, e, _ in notes] == document.text.split("\n\n")[1:]
    assert [page for _, _, page in notes] == [1, 1]
    assert document.metadata["pages"][1][1] <= start - 2


def test_numbered_footnotes_at_the_same_height_are_notes_not_running_footers(tmp_path: Path) -> None:
    sheet = Sheet()
    for page in range(4):
        if page:
            sheet.page()
        sheet.paragraph(prose(10 + page, 120))
        sheet.small(f"{2 * page + 1} Ibid., p. {10 * page + 3}.", 760)
        sheet.small(str(page + 1), 800)
    [document] = read_file(sheet.save(tmp_path / "ibid.pdf"))
    assert "running_footers" not in document.metadata
    assert document.text.split("\n\n")[-4:] == [f"{2 * page + 1} Ibid., p. {10 * page + 3}." for page in range(4)]
    assert document.metadata["page_labels"] == ["1", "2", "3", "4"]


def test_a_line_that_is_a_year_or_a_short_word_is_text(tmp_path: Path) -> None:
    sheet = Sheet()
    sheet.paragraph("Annual report of the agency for strategic minerals")
    sheet.y = 400
    sheet.paragraph("2019")
    sheet.page()
    body = prose(3, 60) + " The quota was cut in"
    lines = sheet.lines(body)
    sheet.y = 760 - 14 * len(lines)
    for line in lines:
        sheet.line(line)
    sheet.line("2019.", justify=False)
    [document] = read_file(sheet.save(tmp_path / "cover.pdf"))
    assert document.text.split("\n\n") == ["Annual report of the agency for strategic minerals", "2019",
                                           body + " 2019."]
    assert "page_labels" not in document.metadata


def test_block_quotes_and_list_items_with_a_hanging_indent_stay_whole(tmp_path: Path) -> None:
    sheet = Sheet()
    before, quote, after = prose(20, 70), prose(21, 70), prose(22, 60)
    items = [prose(23, 40), prose(24, 35)]
    sheet.paragraph(before)
    sheet.paragraph(quote, x=LEFT + 36, width=WIDTH - 72)
    sheet.paragraph(after)
    for item in items:
        y = sheet.y
        sheet.pdf.text(LEFT, y, "-")
        sheet.paragraph(item, x=LEFT + 18, width=WIDTH - 18, space=4)
    sheet.paragraph(after)
    got = paragraphs(sheet.save(tmp_path / "quote.pdf"))
    assert got == [before, quote, after, f"- {items[0]}", f"- {items[1]}", after]


def test_a_line_running_into_the_margin_leaves_the_other_lines_alone(tmp_path: Path) -> None:
    sheet = Sheet()
    texts = [prose(30 + n, 80) for n in range(3)]
    sheet.paragraph(texts[0])
    sheet.line("See https://minerals.example.gov/strategy/2023/critical-minerals-licensing-review-annex-b.pdf",
               justify=False)
    sheet.y += 8
    sheet.paragraph(texts[1])
    sheet.paragraph(texts[2])
    got = paragraphs(sheet.save(tmp_path / "url.pdf"))
    assert got == [texts[0], "See https://minerals.example.gov/strategy/2023/critical-minerals-licensing-review-"
                   "annex-b.pdf", texts[1], texts[2]]


def test_text_set_at_an_angle_in_the_margin_is_kept_apart(tmp_path: Path) -> None:
    sheet = Sheet()
    texts = [prose(40 + n, 90) for n in range(3)]
    sheet.pdf.set_font("Times", size=18)
    with sheet.pdf.rotation(90, 30, 500):
        sheet.pdf.text(30, 500, "Working paper 2023-07 [minerals] 12 Jan 2023")
    sheet.pdf.set_font("Times", size=11)
    for text in texts:
        sheet.paragraph(text)
    [document] = read_file(sheet.save(tmp_path / "stamp.pdf"))
    assert document.text.split("\n\n") == texts
    assert document.metadata["turned_text"] == [[1, "Working paper 2023-07 [minerals] 12 Jan 2023"]]


def test_a_short_last_page_in_two_columns_is_read_column_by_column(tmp_path: Path) -> None:
    sheet = Sheet(size=10)
    width, gutter = 216.0, 19.0
    texts = []
    for page, count in ((1, 55), (2, 4)):
        if page == 2:
            sheet.page()
        for column in range(2):
            text = prose(50 + 2 * page + column, 400)
            lines = [*sheet.lines(text, width=width)[:count - 1], "Here the column ends."]
            sheet.y = 80
            for index, line in enumerate(lines):
                sheet.line(line, x=LEFT + column * (width + gutter), width=width, justify=index < count - 1)
            texts.append(" ".join(lines))
    [document] = read_file(sheet.save(tmp_path / "short.pdf"))
    assert document.metadata["columns"] == [2, 2]
    second = document.metadata["pages"][1]
    assert document.text[second[0]:second[1]].split("\n\n") == texts[2:]


def scaled_pdf(path: Path, lines: list[list[str]], tf_one: bool) -> Path:
    """A PDF written by hand: `1 Tf` scaled by the text matrix (as Distiller and Quartz write), or `11 Tf`."""
    operations, y = ["BT"], 760
    for paragraph in lines:
        for line in paragraph:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            matrix = "/F1 1 Tf 11 0 0 11" if tf_one else "/F1 11 Tf 1 0 0 1"
            operations.append(f"{matrix} 72 {y} Tm ({escaped}) Tj")
            y -= 14
        y -= 10
    operations.append("ET")
    stream = "\n".join(operations).encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
               b"/Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_a_font_scaled_by_the_text_matrix_reads_like_one_set_at_its_size(tmp_path: Path) -> None:
    measure = FPDF(unit="pt")
    measure.add_page()
    measure.set_font("Helvetica", size=11)
    texts = [prose(60 + n, 60) for n in range(3)]
    lines = [measure.multi_cell(451, 14, text, dry_run=True, output="LINES") for text in texts]
    scaled = paragraphs(scaled_pdf(tmp_path / "tf1.pdf", lines, tf_one=True))
    plain = paragraphs(scaled_pdf(tmp_path / "tf11.pdf", lines, tf_one=False))
    assert scaled == plain == texts


def test_page_spans_do_not_overlap_where_a_word_runs_on_to_the_next_page() -> None:
    def page(text: str) -> Page:
        return Page(600, 800, [Fragment(text, 50, 550 if text.endswith("-") else 300, 100, 10, False, 20)])

    laid = lay_out([page("The state bank financed the rapid indus-"), page("trialisation of the mining district.")])
    assert laid.text == "The state bank financed the rapid industrialisation of the mining district."
    assert laid.page_spans == [[0, 39], [39, 75]]
    assert all(before[1] <= after[0] for before, after in itertools.pairwise(laid.page_spans))
