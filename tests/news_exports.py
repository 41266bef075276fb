"""Invented news-database exports for the tests: the same articles laid out as Nexis (.txt, .docx, .rtf), Nexis
Uni (.docx) and Factiva (.html in both layouts, .rtf) exports. Every sentence is written for these tests."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import docx


@dataclass(frozen=True)
class Article:
    outlet: str
    date: str  # as the export prints it
    headline: str
    paragraphs: tuple[str, ...]
    byline: str | None = None
    section: str | None = None
    edition: str | None = None
    load_date: str = "March 2, 2015"
    copyright: str = "Copyright 2015 Mining Weekly Review"
    code: str = "MWKREV"  # Factiva source code
    document_id: str = "MWKREV0020150301eb3100001"

    @property
    def words(self) -> int:
        return sum(len(paragraph.split()) for paragraph in self.paragraphs)


BAOTOU = Article(
    outlet="Mining Weekly Review",
    date="March 1, 2015 Sunday",
    headline="Baotou separation plants cut output as export quotas tighten",
    byline="Li Wen",
    section="MARKETS; Pg. 12",
    paragraphs=(
        ("Separation plants around Baotou have cut their output of neodymium oxide by a fifth since January, "
        "according to three plant managers, after the provincial government lowered the mining quota for the "
        "year and inspectors closed several unlicensed workshops."),
        ("\"The quota is the ceiling, and this year the ceiling came down,\" one manager said. Buyers in Japan "
        "and Germany have been told that contract volumes for the second quarter will be smaller."),
    ),
)
GOIAS = Article(
    outlet="Cerrado Dispatch",
    date="1 March 2015",
    edition="Final Edition",
    headline="Residents of a Goiás town ask who will guard the tailings of a proposed rare-earth mine for the "
             "next fifty years",
    section="REGION",
    copyright="Copyright © 2015 Cerrado Dispatch",
    code="CERDIS",
    document_id="CERDIS0020150301eb3100002",
    paragraphs=(
        ("More than two hundred people crowded into the municipal theatre on Saturday to question the company "
        "that wants to open a rare-earth mine on the edge of town."),
        ("Most questions were about water. The tailings dam would sit above the stream that feeds the town's "
        "reservoir, and the ore contains thorium."),
        ("A company engineer said the dam would be lined and monitored, and that a processing unit in the state "
        "would create two hundred jobs."),
    ),
)
STEPNOGORSK = Article(
    outlet="Steppe Business Review",
    date="2015-03-02",
    headline="SARECO promises separated oxides by the end of the year",
    byline="Aruzhan Bekova",
    section="INDUSTRY",
    copyright="Copyright 2015 Steppe Business Review",
    code="STEPBR",
    document_id="STEPBR0020150302eb3200001",
    paragraphs=(
        ("The Kazakh-Japanese joint venture in Stepnogorsk says it will deliver its first separated rare-earth "
        "oxides to Japanese buyers before December."),
        ("Managers said the plant now recovers light rare earths from old uranium residues and that a second "
        "line for heavy elements is being designed."),
    ),
)
ARTICLES = (BAOTOU, GOIAS, STEPNOGORSK)

NEXIS_COVER = (
    "", "", "Download Request: Selected Items: 1-3", "Time Of Request: Monday, March 9, 2015  10:14:52", "",
    "Send To:", "GRIP-ARM PROJECT", "", "Terms: (\"rare earth*\" and (quota* or tailings))", "",
    "Source: Mining Weekly Review;Cerrado Dispatch;Steppe Business Review", "Project ID: None", "", "", "",
)


def _centre(line: str, text_file: bool) -> str:
    return line.center(80).rstrip() if text_file else line


def nexis_lines(articles: tuple[Article, ...] = ARTICLES, *, text_file: bool = True, cover: bool = True,
                total: int | None = None, first: int = 1) -> list[str]:
    """A classic Nexis export: lines wrapped at 78 characters and centred headers in a text file, one line
    per paragraph otherwise."""

    def wrap(text: str) -> list[str]:
        return textwrap.wrap(text, 78) if text_file else [text]

    lines = list(NEXIS_COVER) if cover else []
    total = total or len(articles)
    for number, article in enumerate(articles, start=first):
        lines += [_centre(f"{number} of {total} DOCUMENTS", text_file), "", "", _centre(article.outlet, text_file),
                  "", _centre(article.date, text_file)]
        if article.edition:
            lines.append(_centre(article.edition, text_file))
        lines += ["", *wrap(article.headline), ""]
        if article.byline:
            lines += [f"BYLINE: {article.byline}", ""]
        if article.section:
            lines += [f"SECTION: {article.section}", ""]
        lines += [f"LENGTH: {article.words} words", ""]
        for paragraph in article.paragraphs:
            lines += [*wrap(paragraph), ""]
        lines += [f"LOAD-DATE: {article.load_date}", "", "LANGUAGE: ENGLISH", "", "PUBLICATION-TYPE: Newspaper",
                  "", "", _centre(article.copyright, text_file), _centre("All Rights Reserved", text_file), ""]
    return lines


def write_nexis_txt(path: Path, articles: tuple[Article, ...] = ARTICLES, **options: object) -> Path:
    """As Nexis writes it: UTF-8 with a byte-order mark and Windows line ends."""
    text = "\r\n".join(nexis_lines(articles, **options))  # type: ignore[arg-type]
    path.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    return path


def write_docx(path: Path, lines: list[str]) -> Path:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(path))
    return path


def write_nexis_docx(path: Path, articles: tuple[Article, ...] = ARTICLES) -> Path:
    return write_docx(path, nexis_lines(articles, text_file=False))


def rtf_escape(text: str) -> str:
    out = []
    for char in text:
        if char in "\\{}":
            out.append("\\" + char)
        elif ord(char) > 127:
            code = ord(char)
            out.append(f"\\u{code if code < 32768 else code - 65536}?")
        else:
            out.append(char)
    return "".join(out)


def rtf(lines: list[str], bold: set[int] | None = None) -> str:
    """An RTF document with one paragraph per line (bold where ``bold`` says)."""
    body = []
    for index, line in enumerate(lines):
        text = rtf_escape(line)
        body.append(f"{{\\b {text}}}\\par\n" if bold and index in bold else f"{text}\\par\n")
    return ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman\\fcharset0 Times New Roman;}}\n"
            "{\\info{\\title Export}}\\pard\\plain\\f0\\fs24 " + "".join(body) + "}")


def nexis_uni_lines(articles: tuple[Article, ...] = ARTICLES) -> list[str]:
    lines = ["", "Date and Time: Monday, 9. March 2015 10:14:00 CET", "Job Number: 4711",
             f"Documents ({len(articles)})"]
    for number, article in enumerate(articles, start=1):
        lines += [f"{number}. {article.headline}", "Client/Matter: -None-", "Search Terms: rare earth quota",
                  "Search Type: Natural Language", "Narrowed by: ", "", "Content Type", "News", ""]
    lines += ["", "", ""]
    for number, article in enumerate(articles, start=1):
        lines += [article.headline, article.outlet, f"{article.date} 9:20 AM GMT", "", article.copyright, ""]
        if article.section:
            lines.append(f"Section:\u00a0{article.section}; Version:2")
        lines.append(f"Length:\u00a0{article.words} words")
        if article.byline:
            lines.append(f"Byline:\u00a0{article.byline}")
        lines += ["Body", ""]
        for paragraph in article.paragraphs:
            lines += [paragraph] if number % 2 else [paragraph, ""]
        lines += ["Classification", "", "", "Language:\u00a0ENGLISH", "Publication-Type:\u00a0Newspaper",
                  "Subject:\u00a0RARE EARTHS (91%); MINING (88%)", f"Load-Date:\u00a0{article.load_date}", "",
                  "End of Document", "", "", ""]
    return lines


def _factiva_date(article: Article) -> str:
    return {"March 1, 2015 Sunday": "1 March 2015", "2015-03-02": "2 March 2015"}.get(article.date, article.date)


def factiva_lines(articles: tuple[Article, ...] = ARTICLES) -> tuple[list[str], set[int]]:
    """Factiva's Article Format, with the search summary after the articles; the headline lines are bold."""
    lines: list[str] = []
    bold: set[int] = set()
    for article in articles:
        if article.section:
            lines.append(article.section.split(";")[0].title())
        bold.add(len(lines))
        lines.append(article.headline)
        if article.byline:
            lines.append(f"By {article.byline}")
        lines += [f"{article.words} words", _factiva_date(article), "09:30", article.outlet, article.code,
                  "English", article.copyright.replace("Copyright", "(c)").replace("(c) ©", "(c)"), ""]
        for paragraph in article.paragraphs:
            lines += [paragraph, ""]
        lines += [f"Document {article.document_id}", "", ""]
    lines += ["Search Summary", "Text | rare earth* and (quota* or tailings)", "Date | 01/03/2015 to 31/03/2015",
              "Source | All Sources", f"Results Found | {len(articles)}", "Timestamp | 9 March 2015 10:15"]
    return lines, bold


def factiva_rtf(articles: tuple[Article, ...] = ARTICLES) -> str:
    lines, bold = factiva_lines(articles)
    return rtf(lines, bold)


_PAGE_HEAD = ("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
              "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html>\n<head>\n"
              "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"/>\n<title>Factiva</title>\n"
              "<style type=\"text/css\">.article{page-break-after:always;} td.index{font-weight:bold;}</style>\n"
              "</head>\n<body><div id=\"navcontainer\"><h1>Factiva</h1><span>Dow Jones</span></div>\n"
              "<form name=\"PageBaseForm\" method=\"post\"><div id=\"contentWrapper\"><div id=\"contentLeft\">\n")
_PAGE_FOOT = ("<div id=\"searchSummary\"><table><tr><td>Text</td><td>rare earth* and quota*</td></tr>"
              "<tr><td>Results Found</td><td>3</td></tr></table></div>\n"
              "<div id=\"pageFooter\"><span class=\"copyright\">&copy; 2015 Factiva, Inc. All rights reserved."
              "</span></div></div></div></form></body></html>\n")


def _row(code: str, value: str) -> str:
    return (f"<tr><td align=\"right\" valign=\"top\" class=\"index\"><b>{code}</b>&nbsp;</td>"
            f"<td>{value}</td></tr>\n")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def factiva_html_indexed(articles: tuple[Article, ...] = ARTICLES) -> str:
    """Saved with "Full Article/Report plus Indexing": a table of field codes per article."""
    parts = [_PAGE_HEAD]
    for article in articles:
        rows = []
        if article.section:
            rows.append(_row("SE", _html(article.section.split(";")[0].title())))
        rows.append(_row("HD", f"<b class='enHeadline'>{_html(article.headline)}</b>\n"))
        if article.byline:
            rows.append(_row("BY", f"By {_html(article.byline)}"))
        rows += [_row("WC", f"{article.words} words"), _row("PD", _factiva_date(article)), _row("ET", "09:30"),
                 _row("SN", _html(article.outlet)), _row("SC", article.code), _row("LA", "English"),
                 _row("CY", _html(article.copyright.replace("Copyright", "(c)")) + "   ")]
        lead, *rest = article.paragraphs
        rows.append(_row("LP", f"<p class=\"articleParagraph enarticleParagraph\">{_html(lead)}</p>\n"))
        if rest:
            rows.append(_row("TD", "".join(f"<p class=\"articleParagraph enarticleParagraph\">{_html(p)}</p>\n"
                                            for p in rest)))
        rows += [_row("NS", "<br/>gcat : Political/General News | mnonfr : Non-ferrous Metals"),
                 _row("RE", "<br/>china : China | asiaz : Asia"),
                 _row("AN", f"<br/>Document {article.document_id}")]
        parts.append("<span></span><div class=\"article enArticle\"><table cellpadding=\"1\" cellspacing=\"1\" "
                     "border=\"0\">" + "".join(rows) + "</table><br/></div><br/>\n")
    parts.append(_PAGE_FOOT)
    return "".join(parts)


def factiva_html_plain(articles: tuple[Article, ...] = ARTICLES) -> str:
    """Saved as plain articles: the header values one per div, the headline marked by its class."""
    parts = [_PAGE_HEAD]
    for article in articles:
        div = [f"<div id=\"hd\"><span class=\"enHeadline\">{_html(article.headline)}</span></div>"]
        if article.byline:
            div.append(f"<div class=\"author\">By {_html(article.byline)}</div>")
        div += [f"<div>{value}</div>" for value in (
            f"{article.words} words", _factiva_date(article), "09:30", _html(article.outlet), article.code,
            "English", _html(article.copyright.replace("Copyright", "(c)")))]
        div += [f"<p class=\"articleParagraph enarticleParagraph\">{_html(p)}</p>" for p in article.paragraphs]
        div.append(f"<div>Document {article.document_id}</div>")
        parts.append("<div class=\"article enArticle\">\n" + "\n".join(div) + "\n</div>\n")
    parts.append(_PAGE_FOOT)
    return "".join(parts)
