"""Word (.docx) and OpenDocument (.odt) text in reading order, with notes at the end, and the .odt reader's
refusals; the files are written here, the .odt ones as zips by hand, the .docx ones with python-docx and,
where python-docx cannot write something (footnotes, tracked changes, content controls), with XML of their own."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import subprocess
import tracemalloc
import zipfile
from pathlib import Path

import docx
import pytest

from conftest import PROGRAM, damage_member, declare_size
from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.readers import SUPPORTED_SUFFIXES, read_file
from gripcode.errors import DocumentImportError


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


# --- .docx: python-docx documents -----------------------------------------------------------------


def test_docx_tables_stand_where_they_are_in_the_text(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Export quotas and their effects", level=1)
    document.add_paragraph("Quotas were cut twice before the crisis.")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Year", "Quota (t)", "")):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ("2010", "30 258", "")):
        cell.text = text
    document.add_paragraph("After the table, prices rose.")
    document.add_paragraph("Separation plants in Jiangxi", style="List Number")
    document.add_paragraph("Magnet makers in Ningbo", style="List Number")
    document.add_heading("Responses abroad", level=2)
    document.add_paragraph("Importers began to stockpile.")
    path = tmp_path / "quotas.docx"
    document.save(str(path))

    [parsed] = read_file(path)
    assert paragraphs(parsed.text) == [
        "Export quotas and their effects",
        "Quotas were cut twice before the crisis.",
        "Year | Quota (t)",
        "2010 | 30 258",
        "After the table, prices rose.",
        "Separation plants in Jiangxi",
        "Magnet makers in Ningbo",
        "Responses abroad",
        "Importers began to stockpile.",
    ]
    assert [parsed.text[start:end] for start, end in parsed.metadata["headings"]] == [
        "Export quotas and their effects", "Responses abroad"]


def test_docx_merged_cells_appear_once(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Heavy rare earths"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "Dysprosium"
    table.cell(1, 1).text = "2021"
    table.cell(1, 2).text = "rising"
    table.cell(2, 1).text = "2022"
    table.cell(2, 2).text = "capped"
    path = tmp_path / "merged.docx"
    document.save(str(path))
    [parsed] = read_file(path)
    assert paragraphs(parsed.text) == ["Heavy rare earths", "Dysprosium | 2021 | rising", "2022 | capped"]


def test_docx_table_inside_a_cell_follows_its_row(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Province"
    table.cell(0, 1).text = "Groups"
    table.cell(1, 0).text = "Jiangxi"
    inner_cell = table.cell(1, 1)
    inner_cell.text = "Two groups:"
    inner = inner_cell.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Group A", (0, 1): "62%", (1, 0): "Group B", (1, 1): "38%"}.items():
        inner.cell(row, col).text = text
    document.add_paragraph("Shares are estimates.")
    path = tmp_path / "nested.docx"
    document.save(str(path))
    [parsed] = read_file(path)
    assert paragraphs(parsed.text) == [
        "Province | Groups", "Jiangxi | Two groups:", "Group A | 62%", "Group B | 38%", "Shares are estimates."]


# --- .docx: what python-docx cannot write -----------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NOTES_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.{kind}s+xml"
_NOTES_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}s"


def run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def para(*content: str, style: str | None = None) -> str:
    properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{properties}{''.join(content)}</w:p>"


def note_reference(kind: str, note_id: int) -> str:
    return (f'<w:r><w:rPr><w:rStyle w:val="{kind.capitalize()}Reference"/><w:vertAlign w:val="superscript"/>'
            f'</w:rPr><w:{kind}Reference w:id="{note_id}"/></w:r>')


def note(kind: str, note_id: int, *paragraph_texts: str) -> str:
    mark = f'<w:r><w:rPr><w:rStyle w:val="{kind.capitalize()}Reference"/></w:rPr><w:{kind}Ref/></w:r>'
    body = "".join(para(mark if i == 0 else "", run(f" {text}" if i == 0 else text))
                   for i, text in enumerate(paragraph_texts))
    return f'<w:{kind} w:id="{note_id}">{body}</w:{kind}>'


def write_docx(path: Path, body: str, *, footnotes: str = "", endnotes: str = "") -> Path:
    """A .docx from python-docx's template with ``body`` as the body's XML, and notes parts if given."""
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    notes = {kind: content for kind, content in (("footnote", footnotes), ("endnote", endnotes)) if content}
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W}" '
                        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
                        f"<w:body>{body}<w:sectPr/></w:body></w:document>").encode()
            elif item.filename == "[Content_Types].xml":
                overrides = "".join(
                    f'<Override PartName="/word/{kind}s.xml" ContentType="{_NOTES_CONTENT_TYPE.format(kind=kind)}"/>'
                    for kind in notes)
                data = data.replace(b"</Types>", overrides.encode() + b"</Types>")
            elif item.filename == "word/_rels/document.xml.rels":
                rels = "".join(f'<Relationship Id="rIdNotes{kind}" Type="{_NOTES_RELATIONSHIP.format(kind=kind)}" '
                               f'Target="{kind}s.xml"/>' for kind in notes)
                data = data.replace(b"</Relationships>", rels.encode() + b"</Relationships>")
            target.writestr(item.filename, data)
        for kind, content in notes.items():
            separators = (f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
                          f'<w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
                          f'</w:r></w:p></w:{kind}>')
            target.writestr(f"word/{kind}s.xml", f'<?xml version="1.0" encoding="UTF-8"?>\n'
                                                 f'<w:{kind}s xmlns:w="{W}">{separators}{content}</w:{kind}s>')
    return path


def test_docx_footnotes_and_endnotes_go_to_the_end_numbered_as_referred_to(tmp_path: Path) -> None:
    body = (
        para(run("The group controls most heavy rare-earth output."), note_reference("footnote", 2))
        + para(run("Prices of dysprosium"), note_reference("endnote", 1), run(" and terbium followed."))
        + para(run("Exports fell"), note_reference("footnote", 1), run(" in the same year."))
    )
    path = write_docx(
        tmp_path / "notes.docx", body,
        footnotes=(note("footnote", 1, "Customs statistics, 2011.")
                   + note("footnote", 2, "An estimate of 62 per cent.", "Industry sources.")
                   + note("footnote", 3, "A note the text never refers to.")),
        endnotes=note("endnote", 1, "Prices quoted free on board."),
    )
    [parsed] = read_file(path)
    assert paragraphs(parsed.text) == [
        "The group controls most heavy rare-earth output.[1]",
        "Prices of dysprosium[2] and terbium followed.",
        "Exports fell[3] in the same year.",
        "[Note 1] An estimate of 62 per cent.\nIndustry sources.",
        "[Note 2] Prices quoted free on board.",
        "[Note 3] Customs statistics, 2011.",
    ]


def test_docx_text_in_insertions_links_fields_and_controls_counts_deleted_text_does_not(tmp_path: Path) -> None:
    body = para(
        run("Quotas were"),
        '<w:del w:id="1" w:author="ana"><w:r><w:delText> never</w:delText></w:r></w:del>',
        f'<w:ins w:id="2" w:author="ana">{run(" sharply")}</w:ins>',
        run(" cut, says the "),
        f'<w:hyperlink w:anchor="x">{run("ministry notice")}</w:hyperlink>',
        run(" of "),
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DATE \\@ "yyyy" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>' + run("2010") + '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
        run("."),
        '<w:r><w:tab/><w:t>Tabbed</w:t><w:br/><w:t>next line</w:t><w:noBreakHyphen/><w:t>on</w:t></w:r>',
        '<w:r><w:drawing><w:txbxContent><w:p><w:r><w:t>TEXT BOX</w:t></w:r></w:p></w:txbxContent></w:drawing></w:r>',
        '<mc:AlternateContent><mc:Choice Requires="wps"><w:r><w:t>CHOICE</w:t></w:r></mc:Choice></mc:AlternateContent>',
    ) + f'<w:sdt><w:sdtPr><w:alias w:val="Summary"/></w:sdtPr><w:sdtContent>{para(run("In a content control."))}' \
        "</w:sdtContent></w:sdt>"
    [parsed] = read_file(write_docx(tmp_path / "tracked.docx", body))
    assert paragraphs(parsed.text) == [
        "Quotas were sharply cut, says the ministry notice of 2010.\tTabbed\nnext line-on",
        "In a content control.",
    ]


def test_docx_headings_by_style_name_outline_level_and_base_style(tmp_path: Path) -> None:
    document = docx.Document()
    styles = document.styles
    chapter = styles.add_style("Chapter", 1)  # a paragraph style based on Heading 1
    chapter.base_style = styles["Heading 1"]
    document.add_paragraph("Chapter one", style="Chapter")
    document.add_paragraph("Body text.")
    document.add_paragraph("The title", style="Title")
    path = tmp_path / "styles.docx"
    document.save(str(path))
    [parsed] = read_file(path)
    assert [parsed.text[start:end] for start, end in parsed.metadata["headings"]] == ["Chapter one", "The title"]
    body = para(run("Outlined")).replace("<w:p>", '<w:p><w:pPr><w:outlineLvl w:val="1"/></w:pPr>') + para(run("Plain"))
    [outlined] = read_file(write_docx(tmp_path / "outline.docx", body))
    assert outlined.metadata == {"headings": [[0, 8]]}


def test_docx_properties_are_kept(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Texto.")
    document.core_properties.title = "Relatório"
    document.core_properties.author = "Ana Souza"
    document.core_properties.created = dt.datetime(2021, 3, 19, 8, 0)
    path = tmp_path / "r.docx"
    document.save(str(path))
    [parsed] = read_file(path)
    assert (parsed.title, parsed.date, parsed.metadata) == ("Relatório", "2021-03-19", {"author": "Ana Souza"})


def test_docx_damaged_notes_part_is_an_import_error(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "notes.docx", para(run("Text"), note_reference("footnote", 1)),
                      footnotes=note("footnote", 1, "A note."))
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item.filename, b"<w:footnotes" if item.filename == "word/footnotes.xml" else content)
    with pytest.raises(DocumentImportError, match="notes.docx cannot be read as a Word"):
        read_file(path)


# --- .odt -------------------------------------------------------------------------------------------

ODT_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"'
)
ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"


def odt_meta(title: str | None = None, creator: str | None = None, created: str | None = None) -> str:
    fields = ""
    if title:
        fields += f"<dc:title>{title}</dc:title>"
    if creator:
        fields += f"<meta:initial-creator>{creator}</meta:initial-creator><dc:creator>Someone Else</dc:creator>"
    if created:
        fields += f"<meta:creation-date>{created}</meta:creation-date><dc:date>2030-01-01T00:00:00</dc:date>"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta {ODT_NAMESPACES} office:version="1.3">'
            f"<office:meta>{fields}</office:meta></office:document-meta>")


def write_odt(path: Path, body: str, *, meta: str | None = None, mimetype: str = ODT_MIMETYPE) -> Path:
    """An .odt as LibreOffice lays it out: the mimetype first and stored, then the XML parts."""
    content = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {ODT_NAMESPACES} '
               f'office:version="1.3"><office:automatic-styles/><office:body><office:text>{body}'
               "</office:text></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("meta.xml", meta if meta is not None else odt_meta(), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


ODT_BODY = (
    '<text:sequence-decls><text:sequence-decl text:display-outline-level="0" text:name="Table"/>'
    "</text:sequence-decls>"
    '<text:table-of-content text:name="Contents"><text:index-body><text:p>Contents</text:p>'
    "<text:p>Kazakhstan and SARECO 1</text:p></text:index-body></text:table-of-content>"
    '<text:h text:outline-level="1">Kazakhstan and SARECO</text:h>'
    "<text:p>The joint venture turns\n   uranium tailings into <text:span>rare-earth</text:span> concentrate."
    '<text:note text:id="ftn1" text:note-class="footnote"><text:note-citation>1</text:note-citation>'
    "<text:note-body><text:p>Company statement, 2012.</text:p></text:note-body></text:note>"
    " Buyers in Japan<text:s/> <text:s text:c=\"3\"/>take the first oxides.</text:p>"
    "<text:p>Column A<text:tab/>Column B<text:line-break/>Second line "
    '<text:a xlink:href="https://example.org">with a link</text:a>.</text:p>'
    "<text:p>   </text:p>"
    '<text:list><text:list-item><text:p>Separation of light rare earths</text:p>'
    "<text:list><text:list-item><text:p>from 2015</text:p></text:list-item></text:list></text:list-item>"
    "<text:list-item><text:p>Metals and alloys later</text:p></text:list-item></text:list>"
    '<table:table table:name="Output"><table:table-column table:number-columns-repeated="3"/>'
    "<table:table-header-rows><table:table-row><table:table-cell><text:p>Year</text:p></table:table-cell>"
    "<table:table-cell><text:p>Oxides (t)</text:p></table:table-cell><table:table-cell/></table:table-row>"
    "</table:table-header-rows>"
    '<table:table-row><table:table-cell table:number-columns-spanned="2"><text:p>Trial runs</text:p>'
    "<text:p>only</text:p></table:table-cell><table:covered-table-cell/><table:table-cell/></table:table-row>"
    "<table:table-row><table:table-cell><text:p>2015</text:p></table:table-cell>"
    "<table:table-cell><text:p>1 500</text:p>"
    '<table:table table:name="Inner"><table:table-row><table:table-cell><text:p>light</text:p></table:table-cell>'
    "<table:table-cell><text:p>1 200</text:p></table:table-cell></table:table-row></table:table>"
    '</table:table-cell><table:table-cell table:number-columns-repeated="1020"/></table:table-row>'
    '<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
    'table:number-columns-repeated="1024"/></table:table-row></table:table>'
    '<text:section text:name="Annex"><text:h text:outline-level="2">Annex</text:h>'
    '<text:p>Critics ask where the thorium goes.<text:note text:note-class="endnote">'
    "<text:note-citation>i</text:note-citation><text:note-body><text:p>Interview, Almaty.</text:p>"
    "<text:p>Second paragraph of the note.</text:p></text:note-body></text:note>"
    '<office:annotation><dc:creator>ana</dc:creator><text:p>CHECK THIS</text:p></office:annotation>'
    '<draw:frame draw:name="Image1"><draw:text-box><text:p>FRAME CAPTION</text:p></draw:text-box></draw:frame>'
    "</text:p></text:section>"
    "<text:tracked-changes><text:changed-region text:id=\"c1\"><text:deletion><text:p>DELETED</text:p>"
    "</text:deletion></text:changed-region></text:tracked-changes>"
)

ODT_PARAGRAPHS = [
    "Kazakhstan and SARECO",
    "The joint venture turns uranium tailings into rare-earth concentrate.[1] Buyers in Japan     take the "
    "first oxides.",
    "Column A\tColumn B\nSecond line with a link.",
    "Separation of light rare earths",
    "from 2015",
    "Metals and alloys later",
    "Year | Oxides (t)",
    "Trial runs only",
    "2015 | 1 500",
    "light | 1 200",
    "Annex",
    "Critics ask where the thorium goes.[2]",
    "[Note 1] Company statement, 2012.",
    "[Note 2] Interview, Almaty.\nSecond paragraph of the note.",
]


def test_odt_reading_order_lists_tables_spaces_and_notes(tmp_path: Path) -> None:
    path = write_odt(tmp_path / "sareco.odt", ODT_BODY,
                     meta=odt_meta("SARECO field notes", "Aigerim Sadykova", "2014-10-07T09:12:44.123456789"))
    [parsed] = read_file(path)
    assert paragraphs(parsed.text) == ODT_PARAGRAPHS
    for left_out in ("Contents", "CHECK THIS", "FRAME CAPTION", "DELETED", "Table"):
        assert left_out not in parsed.text
    assert parsed.title == "SARECO field notes"
    assert parsed.date == "2014-10-07"
    assert parsed.metadata == {"author": "Aigerim Sadykova", "headings": [[0, 21], [318, 323]]}
    assert [parsed.text[start:end] for start, end in parsed.metadata["headings"]] == ["Kazakhstan and SARECO", "Annex"]


def test_odt_white_space_rule(tmp_path: Path) -> None:
    """Runs of white space in the XML are one space, none at the start or after another (also across element
    boundaries); <text:s/> spaces are kept and do not count for the rule."""
    body = ("<text:p>  Leading spaces dropped, <text:span>runs   of</text:span>   spaces\n one,"
            '<text:s text:c="2"/>two kept; a <text:s/> b</text:p>')
    [parsed] = read_file(write_odt(tmp_path / "spaces.odt", body))
    assert parsed.text == "Leading spaces dropped, runs of spaces one,  two kept; a  b"


def test_odt_and_docx_mark_notes_alike(tmp_path: Path) -> None:
    odt = write_odt(tmp_path / "n.odt", '<text:p>Quotas fell.<text:note text:note-class="footnote">'
                    "<text:note-citation>1</text:note-citation><text:note-body><text:p>Customs data.</text:p>"
                    "</text:note-body></text:note></text:p>")
    word = write_docx(tmp_path / "n.docx", para(run("Quotas fell."), note_reference("footnote", 1)),
                      footnotes=note("footnote", 1, "Customs data."))
    assert read_file(odt)[0].text == read_file(word)[0].text == "Quotas fell.[1]\n\n[Note 1] Customs data."


def test_odt_without_meta_uses_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "plain.odt"
    write_odt(path, "<text:p>Quotas.</text:p>", meta="<not-parsed-because-removed/>")
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist() if name != "meta.xml"}
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    [parsed] = read_file(path)
    assert (parsed.title, parsed.date, parsed.metadata) == ("plain", None, {})


def test_odt_garbled_creation_date_is_left_out(tmp_path: Path) -> None:
    [parsed] = read_file(write_odt(tmp_path / "d.odt", "<text:p>Quotas.</text:p>",
                                   meta=odt_meta("T", None, "last spring")))
    assert parsed.date == "2030-01-01"  # the date of the last change, the next one meta.xml gives


def test_odt_is_supported() -> None:
    assert ".odt" in SUPPORTED_SUFFIXES


@pytest.mark.parametrize(("setup", "message"), [
    ("not a zip", r"^broken.odt cannot be read as an OpenDocument text \(.odt\); it may be damaged"),
    ("no content", r"^broken.odt is a zip file without content.xml"),
    ("bad xml", r"^broken.odt: its content.xml cannot be read \(.*\); the file may be damaged"),
    ("spreadsheet", r"^broken.odt is a spreadsheet \(.ods\), not an OpenDocument text"),
    ("entities", r"^broken.odt: its content.xml cannot be read"),
    ("no body", r"^broken.odt is an OpenDocument file without a text body"),
    ("empty", r"^broken.odt contains no text\.$"),
])
def test_odt_refusals(tmp_path: Path, setup: str, message: str) -> None:
    path = tmp_path / "broken.odt"
    if setup == "not a zip":
        path.write_bytes(b"PK\x03\x04 this is not really a zip")
    elif setup == "no content":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("mimetype", ODT_MIMETYPE)
    elif setup == "spreadsheet":
        write_odt(path, "<text:p>x</text:p>", mimetype="application/vnd.oasis.opendocument.spreadsheet")
    elif setup == "empty":
        write_odt(path, "<text:p>  </text:p><text:p/>")
    else:
        write_odt(path, "<text:p>x</text:p>")
        content = {
            "bad xml": b"<office:document-content",
            "entities": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><d>&b;</d>',
            "no body": f"<office:document-content {ODT_NAMESPACES}/>".encode(),
        }[setup]
        with zipfile.ZipFile(path) as source:
            parts = {name: source.read(name) for name in source.namelist()}
        parts["content.xml"] = content
        with zipfile.ZipFile(path, "w") as target:
            for name, data in parts.items():
                target.writestr(name, data)
    with pytest.raises(DocumentImportError, match=message):
        read_file(path)


def test_odt_is_read_within_the_limits(tmp_path: Path) -> None:
    path = write_odt(tmp_path / "big.odt", "<text:p>" + "Quotas fell. " * 20_000 + "</text:p>")
    with pytest.raises(DocumentImportError, match=r"big.odt: the member 'content.xml' unpacks to 0.3 MB; refused above 0.1 MB; raise"):
        read_file(path, limits=ReadLimits(max_bytes=100_000))
    lying = write_odt(tmp_path / "lying.odt", "<text:p>" + "Quotas fell. " * 20_000 + "</text:p>")
    declare_size(lying, "content.xml", 1_000)
    with pytest.raises(DocumentImportError, match="lying.odt: the member 'content.xml' cannot be unpacked"):
        read_file(lying)
    damaged = write_odt(tmp_path / "damaged.odt", "<text:p>" + "Quotas fell. " * 2_000 + "</text:p>")
    damage_member(damaged, "content.xml", keep=10)
    with pytest.raises(DocumentImportError, match="damaged.odt: the member 'content.xml' cannot be unpacked"):
        read_file(damaged)


def test_odt_repeated_cells_count_towards_the_limit(tmp_path: Path) -> None:
    """A row stored once for a hundred, of a cell stored once for a hundred: refused before it is written out."""
    cell = '<table:table-cell table:number-columns-repeated="100"><text:p>' + "quota " * 40 + "</text:p></table:table-cell>"
    body = f'<table:table><table:table-row table:number-rows-repeated="100">{cell}</table:table-row></table:table>'
    path = write_odt(tmp_path / "repeated.odt", body)
    with pytest.raises(DocumentImportError, match=r"^repeated.odt holds more than 100,000 characters of text"):
        read_file(path, limits=ReadLimits(max_bytes=100_000))
    [parsed] = read_file(path)
    assert len(paragraphs(parsed.text)) == 100 and parsed.text.count("quota") == 400_000


@pytest.mark.parametrize("layout", ["paragraph", "note", "cells"])
def test_odt_spaces_stored_as_a_count_are_counted_before_they_are_written_out(tmp_path: Path, layout: str) -> None:
    """<text:s text:c="10000"/> is 25 bytes for 10,000 spaces: 4,000 of them would be 40 MB of text."""
    spaces = 'x<text:s text:c="10000"/>y'
    body = {
        "paragraph": "<text:p>" + spaces * 4_000 + "</text:p>",
        "note": ('<text:p>Quotas fell.<text:note text:note-class="footnote"><text:note-body>'
                 + f"<text:p>{spaces}</text:p>" * 4_000 + "</text:note-body></text:note></text:p>"),
        "cells": ("<table:table><table:table-row>"
                  + f"<table:table-cell><text:p>{spaces}</text:p></table:table-cell>" * 4_000
                  + "</table:table-row></table:table>"),
    }[layout]
    path = write_odt(tmp_path / "spaces.odt", body)
    tracemalloc.start()
    try:
        with pytest.raises(DocumentImportError, match=r"^spaces.odt holds more than 1,000,000 characters of text"):
            read_file(path, limits=ReadLimits(max_bytes=1_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12_000_000, peak


def test_odt_cross_reference_keeps_its_text(tmp_path: Path) -> None:
    body = ('<text:p>Quotas fell (see <text:bookmark-ref text:reference-format="text" text:ref-name="r1">section 2'
            "</text:bookmark-ref>).</text:p>")
    [parsed] = read_file(write_odt(tmp_path / "ref.odt", body))
    assert parsed.text == "Quotas fell (see section 2)."


def test_a_reference_to_an_empty_note_gives_its_mark_without_a_trailing_space(tmp_path: Path) -> None:
    word = write_docx(tmp_path / "empty-note.docx", para(run("Quotas fell."), note_reference("footnote", 1)),
                      footnotes='<w:footnote w:id="1"><w:p/></w:footnote>')
    assert read_file(word)[0].text == "Quotas fell.[1]\n\n[Note 1]"
    separator = write_docx(tmp_path / "separator.docx", para(run("Quotas fell."), note_reference("footnote", 0)),
                           footnotes='<w:footnote w:id="1"><w:p/></w:footnote>')
    assert read_file(separator)[0].text == "Quotas fell.[1]\n\n[Note 1]"
    odt = write_odt(tmp_path / "empty-note.odt", '<text:p>Quotas fell.<text:note text:note-class="footnote">'
                    "<text:note-citation>1</text:note-citation><text:note-body><text:p/></text:note-body>"
                    "</text:note></text:p>")
    assert read_file(odt)[0].text == "Quotas fell.[1]\n\n[Note 1]"


# --- nesting ---------------------------------------------------------------------------------------------

ODT_NESTED = {
    "spans": lambda n: "<text:p>Quotas " + "<text:span>" * n + "fell." + "</text:span>" * n + "</text:p>",
    "sections": lambda n: "<text:section>" * n + "<text:p>Quotas fell.</text:p>" + "</text:section>" * n,
    "lists": lambda n: ("<text:list><text:list-item>" * n + "<text:p>Quotas fell.</text:p>"
                        + "</text:list-item></text:list>" * n),
    "cells": lambda n: ("<table:table><table:table-row><table:table-cell>" + "<text:section>" * n
                        + "<text:p>Quotas fell.</text:p>" + "</text:section>" * n
                        + "</table:table-cell></table:table-row></table:table>"),
    "row groups": lambda n: ("<table:table>" + "<table:table-row-group>" * n + "<table:table-row><table:table-cell>"
                             "<text:p>Quotas fell.</text:p></table:table-cell></table:table-row>"
                             + "</table:table-row-group>" * n + "</table:table>"),
    "notes": lambda n: ('<text:p>Quotas<text:note text:note-class="footnote"><text:note-body>'
                        + "<text:section>" * n + "<text:p>fell.</text:p>" + "</text:section>" * n
                        + "</text:note-body></text:note></text:p>"),
}
ODT_NESTED_TEXT = {"spans": "Quotas fell.", "sections": "Quotas fell.", "lists": "Quotas fell.",
                   "cells": "Quotas fell.", "row groups": "Quotas fell.", "notes": "Quotas[1]\n\n[Note 1] fell."}


@pytest.mark.parametrize("layout", list(ODT_NESTED))
def test_odt_nested_a_hundred_deep_is_read(tmp_path: Path, layout: str) -> None:
    [parsed] = read_file(write_odt(tmp_path / "nested.odt", ODT_NESTED[layout](100)))
    assert parsed.text == ODT_NESTED_TEXT[layout]


@pytest.mark.parametrize("layout", list(ODT_NESTED))
def test_odt_nested_thousands_deep_is_refused(tmp_path: Path, layout: str) -> None:
    path = write_odt(tmp_path / "nested.odt", ODT_NESTED[layout](5_000))
    with pytest.raises(DocumentImportError, match=r"^nested.odt: its text is nested more than 300 elements deep "
                                                  r"\(spans, lists, sections or tables inside each other\)"):
        read_file(path)


def test_docx_footnote_nested_thousands_deep_is_refused(tmp_path: Path) -> None:
    deep = "<w:p>" + "<w:hyperlink>" * 5_000 + run("Customs data.") + "</w:hyperlink>" * 5_000 + "</w:p>"
    path = write_docx(tmp_path / "nested.docx", para(run("Quotas fell."), note_reference("footnote", 1)),
                      footnotes=f'<w:footnote w:id="1">{deep}</w:footnote>')
    with pytest.raises(DocumentImportError, match=r"^nested.docx: its text is nested more than 300 elements deep"):
        read_file(path)
    shallow = "<w:p>" + "<w:hyperlink>" * 100 + run("Customs data.") + "</w:hyperlink>" * 100 + "</w:p>"
    path = write_docx(tmp_path / "shallow.docx", para(run("Quotas fell."), note_reference("footnote", 1)),
                      footnotes=f'<w:footnote w:id="1">{shallow}</w:footnote>')
    assert read_file(path)[0].text == "Quotas fell.[1]\n\n[Note 1] Customs data."


def test_program_refuses_an_odt_nested_thousands_deep(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    assert program("--db", db, "init").returncode == 0
    path = write_odt(tmp_path / "nested.odt", ODT_NESTED["spans"](5_000))
    result = program("--db", db, "import", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: nested.odt: its text is nested more than 300 elements deep")
    assert "Traceback" not in result.stderr


# --- through the installed program --------------------------------------------------------------


def program(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROGRAM), *args], check=False, capture_output=True, text=True, timeout=300)


def test_program_imports_odt_and_docx_and_refuses_a_damaged_odt(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    assert program("--db", db, "init").returncode == 0
    odt = write_odt(tmp_path / "sareco.odt", ODT_BODY, meta=odt_meta("SARECO field notes"))
    word = write_docx(tmp_path / "notes.docx", para(run("Quotas fell."), note_reference("footnote", 1)),
                      footnotes=note("footnote", 1, "Customs data."))
    result = program("--db", db, "import", str(odt), str(word))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["imported      1  SARECO field notes  (75 words)",
                                              "imported      2  notes  (6 words)"]
    with sqlite3.connect(tmp_path / "p.db") as conn:
        texts = [row[0] for row in conn.execute("SELECT text FROM documents ORDER BY id")]
        units = conn.execute("SELECT count(*) FROM units WHERE document_id = 1 AND kind = 'paragraph'").fetchone()
    assert paragraphs(texts[0]) == ODT_PARAGRAPHS and units[0] == len(ODT_PARAGRAPHS)
    assert texts[1] == "Quotas fell.[1]\n\n[Note 1] Customs data."

    damaged = write_odt(tmp_path / "damaged.odt", "<text:p>" + "Quotas fell. " * 2_000 + "</text:p>")
    damage_member(damaged, "content.xml", keep=10)
    refused = program("--db", db, "import", str(damaged))
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: damaged.odt: the member 'content.xml' cannot be unpacked")
    assert "Traceback" not in refused.stderr
    assert len(json.loads(program("--db", db, "docs", "list", "--format", "json").stdout)) == 2
