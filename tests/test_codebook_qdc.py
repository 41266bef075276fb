"""REFI-QDA codebook (.qdc) export and import: schema validity, stable GUIDs, round trips, other tools' files."""

from __future__ import annotations

import hashlib
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gripcode.codebook.loader import codebook_to_yaml, load_codebook, parse_codebook
from gripcode.codebook.model import SLUG_RE, Code, Codebook, Example, Examples
from gripcode.codebook.refi_common import derived_guid, hex_colour, normalise_guid, slug_from_name
from gripcode.codebook.refi_qdc import (
    CODEBOOK_NS,
    SCHEMA_LOCATION,
    codebook_from_qdc,
    codebook_to_qdc,
    parse_description,
)
from gripcode.errors import ExchangeError

REPO = Path(__file__).resolve().parents[1]
GRIP_ARM = REPO / "codebooks" / "grip-arm.yaml"
FIXTURES = Path(__file__).resolve().parent / "data" / "qdc"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "shared" / "refi-qda" / "schema"
CODEBOOK_XSD = SCHEMA_DIR / "rpgauthier_Codebook-mrt2019.xsd"
NS = {"q": CODEBOOK_NS}

SMALL = textwrap.dedent(
    """\
    codebook: demo
    languages: [en, ru]
    codes:
      - id: market
        name: Market & "control" <state>
        color: "#a00"
        refi_guid: "{6F0E5B4C-2A1D-4C8E-9B7A-3D5E1F2A4B6C}"
        renamed_from: [market-power, old-market]
        definition: |-
          State efforts to control trade.

          A second paragraph, after a blank line.
        include: Statements about control over the market.
        exclude: "Firms' ordinary strategy;\\r kept with its carriage return."
        examples:
          positive:
            - Beijing's market power rests on separation capacity.
            - text: Контроль над рынком остаётся целью Пекина.
              lang: ru
            - "[sic] An English example that starts with brackets."
            - "A quotation over\\ntwo lines."
          negative:
            - Geologists sent the drill cores to a laboratory.
        children:
          - id: quotas
            name: Export quotas
            definition: Limits on exports.
          - id: old-quotas
            name: Old quotas
            merged_into: quotas
            children:
              - id: licences
                name: Export licences
      - id: retired-code
        name: Retired code
        retired: true
        color: "#123456"
      - id: price
        name: Price control
        parent: market
    """
)


@pytest.fixture(scope="module")
def schema():
    if not CODEBOOK_XSD.is_file():
        pytest.skip(f"REFI-QDA codebook schema not found at {CODEBOOK_XSD} (the shared folder next to the repo)")
    xmlschema = pytest.importorskip("xmlschema", reason="xmlschema is needed to validate against Codebook.xsd")
    return xmlschema.XMLSchema(str(CODEBOOK_XSD))


@pytest.fixture(scope="module")
def grip_arm() -> Codebook:
    return load_codebook(GRIP_ARM)


@pytest.fixture
def small() -> Codebook:
    return parse_codebook(SMALL, name="small.yaml")


def codes_of(data: bytes) -> list[ET.Element]:
    return ET.fromstring(data).findall(".//q:Code", NS)


def tree(cb: Codebook) -> list[tuple[str, str | None, int]]:
    return [(fc.id, fc.parent, fc.depth) for fc in cb.flat()]


# ---------------------------------------------------------------------------------------------------- export


def test_study_codebook_export_validates_against_the_schema(schema, grip_arm: Codebook) -> None:
    data = codebook_to_qdc(grip_arm)
    schema.validate(data.decode("utf-8"))
    root = ET.fromstring(data)
    assert root.tag == f"{{{CODEBOOK_NS}}}CodeBook"
    assert root.get("origin") == "gripcode"
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == SCHEMA_LOCATION
    assert [c.get("name") for c in codes_of(data)] == [fc.code.name for fc in grip_arm.flat()]
    # Hierarchy: the first theme's children are nested inside it.
    first = root.find("q:Codes/q:Code", NS)
    assert first is not None and [c.get("name") for c in first.findall("q:Code", NS)] == [
        child.name for child in grip_arm.codes[0].children
    ]


def test_small_codebook_export_validates_and_maps_every_field(schema, small: Codebook) -> None:
    data = codebook_to_qdc(small, origin="gripcode 0.1.0")
    schema.validate(data.decode("utf-8"))
    root = ET.fromstring(data)
    assert root.get("origin") == "gripcode 0.1.0"
    assert root.find("q:Sets", NS) is None  # the schema allows no empty <Sets>
    top = root.findall("q:Codes/q:Code", NS)
    assert [c.get("name") for c in top] == ['Market & "control" <state>', "Retired code"]
    market, retired = top
    assert market.get("guid") == "6f0e5b4c-2a1d-4c8e-9b7a-3d5e1f2a4b6c"  # refi_guid, normalised
    assert market.get("color") == "#AA0000"  # #RGB expanded
    assert market.get("isCodable") == "true"
    # The merged code is left out and its child takes its place; `parent: market` nests price.
    nested = [c.get("name") for c in market.findall("q:Code", NS)]
    assert nested == ["Export quotas", "Export licences", "Price control"]
    assert "Old quotas" not in data.decode("utf-8")
    assert retired.get("isCodable") == "false" and retired.get("color") == "#123456"
    description = market.findtext("q:Description", namespaces=NS)
    assert description is not None
    assert description.startswith("Definition: State efforts to control trade.\n\nA second paragraph")
    assert "\n\nInclude: Statements about control over the market.\n\n" in description
    assert "\n\nExclude: Firms' ordinary strategy;\r kept" in description
    assert "Examples:\n- Beijing's market power" in description
    assert "\n- [ru] Контроль над рынком" in description
    assert "\n- [en] [sic] An English" in description
    assert "\n- A quotation over\n  two lines." in description
    assert "Negative examples:\n- Geologists sent" in description
    assert description.endswith("gripcode-id: market\ngripcode-renamed-from: market-power, old-market")
    assert retired.findtext("q:Description", namespaces=NS).endswith("gripcode-status: retired")


def test_export_is_deterministic_with_derived_guids(grip_arm: Codebook, small: Codebook) -> None:
    first, second = codebook_to_qdc(grip_arm), codebook_to_qdc(load_codebook(GRIP_ARM))
    assert first == second
    guids = {c.get("name"): c.get("guid") for c in codes_of(first)}
    assert len(set(guids.values())) == len(guids)
    # Pinned: a changed namespace or recipe would give every exported code a new identity in other tools.
    assert guids["State strategy"] == "6d914efa-81f0-501a-867b-ad4473e7981c"
    assert guids["State strategy"] == derived_guid("code", "grip-arm", "state-strategy")
    quotas = {c.get("name"): c.get("guid") for c in codes_of(codebook_to_qdc(small))}["Export quotas"]
    assert quotas == derived_guid("code", "demo", "quotas")
    assert quotas != derived_guid("code", "grip-arm", "quotas")


def test_export_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ExchangeError, match="no codes to export"):
        codebook_to_qdc(Codebook(codebook="empty"))
    with pytest.raises(ExchangeError, match=r"code a: the definition.*U\+0001"):
        codebook_to_qdc(Codebook(codebook="x", codes=[Code(id="a", name="A", definition="bad \x01 byte")]))
    with pytest.raises(ExchangeError, match="code a: refi_guid 'nope' is not a GUID"):
        codebook_to_qdc(Codebook(codebook="x", codes=[Code(id="a", name="A", refi_guid="nope")]))
    guid = "6f0e5b4c-2a1d-4c8e-9b7a-3d5e1f2a4b6c"
    same = [Code(id="a", name="A", refi_guid=guid), Code(id="b", name="B", refi_guid=guid.upper())]
    with pytest.raises(ExchangeError, match="codes a and b have the same GUID"):
        codebook_to_qdc(Codebook(codebook="x", codes=same))


# ------------------------------------------------------------------------------------------------ round trip


def test_study_codebook_round_trip_keeps_names_tree_colours_texts_guids_and_ids(grip_arm: Codebook) -> None:
    data = codebook_to_qdc(grip_arm)
    back = codebook_from_qdc(data, name="grip-arm")
    parse_codebook(codebook_to_yaml(back))
    assert tree(back) == tree(grip_arm)
    guids = {c.get("name"): c.get("guid") for c in codes_of(data)}
    originals = grip_arm.by_id()
    for fc in back.flat():
        before, after = originals[fc.id], fc.code
        assert after.name == before.name
        assert after.color == before.color
        assert (after.definition, after.include, after.exclude) == (before.definition, before.include, before.exclude)
        assert after.examples == before.examples
        assert after.refi_guid == guids[before.name] == derived_guid("code", "grip-arm", fc.id)
        assert after.rules is None
    # The imported codebook keeps its GUIDs, so exporting it again gives the very same file.
    assert codebook_to_qdc(back) == data


def test_small_codebook_round_trip_restores_retired_renamed_and_exact_text(small: Codebook) -> None:
    back = codebook_from_qdc(codebook_to_qdc(small), name="demo")
    codes = back.by_id()
    assert set(codes) == {"market", "quotas", "licences", "price", "retired-code"}  # merged code dropped
    assert tree(back) == [
        ("market", None, 0), ("quotas", "market", 1), ("licences", "market", 1), ("price", "market", 1),
        ("retired-code", None, 0),
    ]  # fmt: skip
    market, original = codes["market"], small.by_id()["market"]
    assert market.name == original.name
    assert market.refi_guid == "6f0e5b4c-2a1d-4c8e-9b7a-3d5e1f2a4b6c"
    assert market.color == "#AA0000"
    assert market.renamed_from == ["market-power", "old-market"]
    assert market.definition == original.definition and market.include == original.include
    assert market.exclude == original.exclude
    assert "\r" in market.exclude
    assert market.examples == original.examples
    assert codes["retired-code"].retired and not market.retired
    assert codes["quotas"].refi_guid == derived_guid("code", "demo", "quotas")


_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters=":\ufffe\uffff") | st.sampled_from("\n\r\t -[]*"),
    max_size=40,
)
_NAME = _TEXT.filter(lambda s: s.strip() != "")
_EXAMPLE = st.builds(Example, text=_NAME, lang=st.sampled_from(["en", "ru", "pt", "zh", "xx"]))


def lf(text: str) -> str:
    return text.replace("\r\n", "\n")


@st.composite
def _codebooks(draw: st.DrawFn) -> Codebook:
    def code(index: int, children: list[Code]) -> Code:
        return Code(
            id=f"c{index}",
            name=draw(_NAME),
            definition=draw(_TEXT),
            include=draw(_TEXT),
            exclude=draw(_TEXT),
            examples=Examples(
                positive=draw(st.lists(_EXAMPLE, max_size=3)), negative=draw(st.lists(_EXAMPLE, max_size=2))
            ),
            color=draw(st.none() | st.sampled_from(["#ABC", "#0A0B0C"])),
            retired=draw(st.booleans()),
            children=children,
        )

    size = draw(st.integers(1, 3))
    return Codebook(codebook="prop", codes=[code(i, [code(10 + i, [])]) for i in range(size)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_codebooks())
# Found by this test: an example with a line that is just "*" (or "-") came back as two examples.
@example(
    Codebook(
        codebook="prop",
        codes=[
            Code(id="c0", name="0", examples=Examples(negative=[Example(text="0\n*")]),
                 children=[Code(id="c10", name="0")])
        ],
    )
)
def test_any_codebook_text_survives_the_round_trip(cb: Codebook) -> None:
    back = codebook_from_qdc(codebook_to_qdc(cb), name="prop")
    assert tree(back) == tree(cb)
    originals = cb.by_id()
    for fc in back.flat():
        before, after = originals[fc.id], fc.code
        assert after.name == before.name
        # Texts come back exactly, except that CRLF is read as a line end (as other programs mean it).
        assert (after.definition, after.include, after.exclude) == (
            lf(before.definition), lf(before.include), lf(before.exclude),
        )  # fmt: skip
        assert after.examples.positive == [Example(text=lf(e.text), lang=e.lang) for e in before.examples.positive]
        assert after.examples.negative == [Example(text=lf(e.text), lang=e.lang) for e in before.examples.negative]
        assert after.retired == before.retired
        assert after.color == hex_colour(before.color)


@pytest.mark.parametrize(
    "text", ["Measures:\n-", "a\n-", "a\n*", "a\n\u2022", "a\n  -", "-", "a\n-\nb", "Measures:\n- tariffs"]
)
def test_an_example_with_a_line_that_is_just_a_bullet_comes_back_as_one_example(text: str) -> None:
    code = Code(id="c0", name="n", examples=Examples(positive=[Example(text=text)], negative=[Example(text=text)]))
    back = codebook_from_qdc(codebook_to_qdc(Codebook(codebook="p", codes=[code])), name="p")
    assert back.codes[0].examples.positive == [Example(text=text)]
    assert back.codes[0].examples.negative == [Example(text=text)]


def test_a_bare_bullet_whose_space_was_trimmed_still_starts_an_example() -> None:
    # Other programs trim trailing spaces, so an empty first line written as "- " can arrive as "-".
    parsed = parse_description("Examples:\n-\n  first line was empty\n- second")
    assert [e.text for e in parsed.positive] == ["first line was empty", "second"]


# ------------------------------------------------------------------------------------- other tools' files


def load_fixture(name: str) -> Codebook:
    return codebook_from_qdc((FIXTURES / name).read_bytes(), name=Path(name).stem)


@pytest.mark.parametrize("name", ["nvivo.qdc", "atlasti.qdc", "maxqda.qdc", "qualcoder.qdc", "no-namespace.qdc"])
def test_every_fixture_imports_to_a_valid_codebook_that_exports_valid_xml(schema, name: str) -> None:
    cb = load_fixture(name)
    assert parse_codebook(codebook_to_yaml(cb)) == cb
    assert all(SLUG_RE.match(fc.id) and fc.code.refi_guid for fc in cb.flat())
    data = codebook_to_qdc(cb)
    schema.validate(data.decode("utf-8"))
    # GUIDs from the other program are kept, so it recognises its own codes again.
    assert [c.get("guid") for c in codes_of(data)] == [fc.code.refi_guid for fc in cb.flat()]


def test_nvivo_braced_upper_case_guids_bom_crlf_and_non_latin_names() -> None:
    raw = (FIXTURES / "nvivo.qdc").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    cb = load_fixture("nvivo.qdc")
    assert cb.codebook == "nvivo" and "NVivo 14" in cb.description
    assert tree(cb) == [
        ("market-control", None, 0),
        ("export-restrictions", "market-control", 1),
        ("code-" + hashlib.sha1(b"a1c3e5f7-9b2d-4f6a-8c0e-1d3f5a7b9c2e").hexdigest()[:8], "export-restrictions", 2),
        ("other", "export-restrictions", 2),
        ("kontrol-nad-rynkom", "market-control", 1),
        ("politica-industrial", None, 0),
        ("other-2", "politica-industrial", 1),
    ]
    codes = {fc.code.name: fc.code for fc in cb.flat()}
    market = codes["Market control"]
    assert market.refi_guid == "6f0e5b4c-2a1d-4c8e-9b7a-3d5e1f2a4b6c"
    assert market.definition == (
        "State efforts to control how rare earths are traded and priced.\n"
        "Created from the pilot interviews (Beijing, 2023)."
    )  # free text, CRLF read as \n
    assert market.include == market.exclude == ""
    assert codes["Export restrictions"].definition == (
        "Quotas, licences, bans & duties on rare-earth exports.\nIncludes licensing of separation plants."
    )  # &#xD;&#xA; as a .NET writer sends a line end
    assert codes["出口管制"].definition == "中文资料中的出口管制措施。"
    assert codes["出口管制"].color == "#FF6B6B"
    assert codes["Política industrial"].definition == ""  # <Description />


def test_atlasti_draft_namespace_short_colours_and_code_groups() -> None:
    cb = load_fixture("atlasti.qdc")
    assert [fc.id for fc in cb.flat()] == ["supply-risk", "stockpiling", "recycling"]
    codes = cb.by_id()
    assert codes["supply-risk"].refi_guid == "1ff58b12-6f6f-4b0c-8be5-bbdc91f55294"
    assert [codes[i].color for i in ("supply-risk", "stockpiling", "recycling")] == ["#46AA00", "#FF8800", "#00AAFF"]
    assert codes["stockpiling"].definition == "Public or private reserves of rare earths held against supply shocks."
    assert codes["stockpiling"].examples.positive == [Example(text="Japan's JOGMEC holds stockpiles of dysprosium.")]


def test_maxqda_rgb_colours_and_labelled_memo_sections() -> None:
    cb = load_fixture("maxqda.qdc")
    codes = cb.by_id()
    assert tree(cb) == [
        ("framing", None, 0), ("security-framing", "framing", 1), ("green-transition-framing", "framing", 1),
    ]  # fmt: skip
    assert [codes[i].color for i in ("framing", "security-framing", "green-transition-framing")] == [
        "#7030A0", "#845EF7", "#B197FC",
    ]  # fmt: skip
    security = codes["security-framing"]
    assert security.definition == "Rare earths presented as a matter of national or military security."
    assert security.include == "Talk of defence supply chains, strategic dependence or weapons systems."
    assert security.exclude == "Purely commercial risk (use Supply risk)."
    assert security.examples.positive == [
        Example(text='"Without our own magnets we cannot build a single fighter jet."'),
        Example(text='"Terras raras são uma questão de segurança nacional."', lang="pt"),
    ]
    assert security.examples.negative == [Example(text="Prices fell after the new mine opened.")]


def test_qualcoder_folders_stay_in_the_tree_and_empty_sets_are_accepted() -> None:
    raw = (FIXTURES / "qualcoder.qdc").read_bytes()
    assert b"<Sets/>" in raw and b'isCodable="false"' in raw
    cb = load_fixture("qualcoder.qdc")
    assert tree(cb) == [
        ("value-chain", None, 0),
        ("separation", "value-chain", 1),
        ("downstream", "value-chain", 1),
        ("magnet-making", "downstream", 2),
        ("motors-turbines", "downstream", 2),
        ("uncategorised-memo-code", None, 0),
    ]
    codes = cb.by_id()
    assert not codes["value-chain"].retired  # a folder is a theme, not a retired code
    assert codes["value-chain"].color is None
    assert codes["motors-turbines"].name == "Motors & turbines"


def test_no_namespace_and_no_xml_declaration() -> None:
    cb = load_fixture("no-namespace.qdc")
    assert tree(cb) == [("qazaqstan", None, 0), ("local-content", "qazaqstan", 1)]
    assert cb.by_id()["qazaqstan"].name == "Қазақстан"


def test_gripcode_ids_win_over_slugs_and_duplicated_ids_fall_back() -> None:
    data = b"""<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
      <Code guid="00000000-0000-4000-8000-000000000001" name="Market" isCodable="true"/>
      <Code guid="00000000-0000-4000-8000-000000000002" name="Copy" isCodable="true">
        <Description>gripcode-id: market</Description></Code>
      <Code guid="00000000-0000-4000-8000-000000000003" name="Copy of copy" isCodable="true">
        <Description>gripcode-id: market</Description></Code>
      <Code guid="00000000-0000-4000-8000-000000000004" name="Bad id" isCodable="true">
        <Description>gripcode-id: Not A Slug</Description></Code>
    </Codes></CodeBook>"""
    cb = codebook_from_qdc(data)
    assert cb.codebook == "imported-codebook"
    assert [(fc.id, fc.code.name) for fc in cb.flat()] == [
        ("market-2", "Market"), ("market", "Copy"), ("copy-of-copy", "Copy of copy"), ("bad-id", "Bad id"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------- unsafe and broken


def test_external_entity_is_refused_without_reading_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN", encoding="utf-8")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE CodeBook [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
<Code guid="00000000-0000-4000-8000-000000000001" name="&xxe;" isCodable="true"/>
</Codes></CodeBook>""".encode()
    with pytest.raises(ExchangeError, match=r"declares a DTD .* at line 2: refused") as info:
        codebook_from_qdc(data)
    assert "TOP-SECRET" not in str(info.value)


def test_billion_laughs_is_refused() -> None:
    entities = "\n".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    data = f"""<?xml version="1.0"?>
<!DOCTYPE CodeBook [
<!ENTITY lol0 "lol">
{entities}
]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
<Code guid="00000000-0000-4000-8000-000000000001" name="&lol9;" isCodable="true"/>
</Codes></CodeBook>""".encode()
    with pytest.raises(ExchangeError, match="DTD"):
        codebook_from_qdc(data)


def test_undeclared_entity_is_malformed() -> None:
    data = b'<CodeBook><Codes>\n<Code guid="00000000-0000-4000-8000-000000000001" name="&xxe;" isCodable="true"/>' \
        b"</Codes></CodeBook>"  # fmt: skip
    with pytest.raises(ExchangeError, match="not well-formed XML: undefined entity at line 2"):
        codebook_from_qdc(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'<CodeBook xmlns="urn:QDA-XML:codebook:0:4">\n<Codes>\n<Code>\n</Codes>', "mismatched tag at line 4"),
        (b'<?xml version="1.0"?>\n<CodeBook><Codes>', r"no element found at line 2"),
        (b"", r"not well-formed XML: no element found at line 1"),
        (b"name,definition\nMarket,Control\n", r"not well-formed XML: syntax error at line 1"),
        (b"PK\x03\x04rest-of-a-zip", r"is a zip archive \(a \.qdpx project\?\)"),
    ],
)
def test_malformed_xml_is_reported_with_its_line(data: bytes, message: str) -> None:
    with pytest.raises(ExchangeError, match=message):
        codebook_from_qdc(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'<Project xmlns="urn:QDA-XML:project:1.0"/>', r"root element <Project> \(a REFI-QDA project file\)"),
        (b"<html><body/></html>", r"root element <html>; expected <CodeBook>"),
        (b'<CodeBook xmlns="urn:example:other"/>', r"root element <CodeBook>; expected"),
        (b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Sets/></CodeBook>', r"has no <Codes> element"),
    ],
)
def test_wrong_document_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ExchangeError, match=message):
        codebook_from_qdc(data)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ('<Code guid="00000000-0000-4000-8000-000000000002" isCodable="true"/>', "<Code> element at line 4 has no"),
        ('<Code guid="00000000-0000-4000-8000-000000000003" name="  " isCodable="true"/>', "line 4 has no name"),
        ('<Code guid="12345" name="A" isCodable="true"/>', "code 'A' at line 4 has the guid '12345', which is not a"),
        (
            '<Code guid="{00000000-0000-4000-8000-000000000001}" name="B" isCodable="true"/>',
            r"code 'B' at line 4 has the same GUID as the code at line 3",
        ),
    ],
)
def test_bad_codes_are_reported_with_their_line(code: str, message: str) -> None:
    data = (
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0">\n<Codes>\n'
        '<Code guid="00000000-0000-4000-8000-000000000001" name="First" isCodable="true"/>\n'
        f"{code}\n</Codes>\n</CodeBook>"
    ).encode()
    with pytest.raises(ExchangeError, match=message):
        codebook_from_qdc(data)


# ------------------------------------------------------------------------------------------------- helpers


def test_description_sections_are_split_and_free_text_is_the_definition() -> None:
    free = parse_description("Just a memo.\nWith two lines.")
    assert (free.definition, free.include, free.exclude, free.positive) == ("Just a memo.\nWith two lines.", "", "", [])
    text = (
        "Written by the team.\nDefinition: First.\n\nInclusion criteria: In.\nNote: still inclusion.\n"
        "Exclusion: Out.\nExamples:\nOne without a bullet\n\nTwo without a bullet\n"
        "Counter-examples:\n* [ru] Нет.\nInclude: More in.\ngripcode-id: x\ngripcode-status: retired\nTrailing note."
    )
    d = parse_description(text)
    assert d.definition == "Written by the team.\n\nFirst.\n\nTrailing note."
    assert d.include == "In.\nNote: still inclusion.\n\nMore in."
    assert d.exclude == "Out."
    assert d.positive == [Example(text="One without a bullet"), Example(text="Two without a bullet")]
    assert d.negative == [Example(text="Нет.", lang="ru")]
    assert d.meta == {"id": "x", "status": "retired"}


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Market control", "market-control"),
        ("Política industrial", "politica-industrial"),
        ("Контроль над рынком", "kontrol-nad-rynkom"),
        ("Қазақстан: өндіріс", "qazaqstan-ondiris"),
        ("Straße & Æther", "strasse-aether"),
        ("R&D 2.0", "r-d-2-0"),
        ("稀土", "code-" + hashlib.sha1(b"seed").hexdigest()[:8]),
        ("  -- ", "code-" + hashlib.sha1(b"seed").hexdigest()[:8]),
    ],
)
def test_slugs(name: str, slug: str) -> None:
    assert slug_from_name(name, "seed") == slug


def test_long_names_give_short_valid_slugs() -> None:
    slug = slug_from_name("Statements " * 20, "seed")
    assert SLUG_RE.match(slug) and len(slug) <= 60 and slug.startswith("statements-statements")


@pytest.mark.parametrize(
    ("value", "colour"),
    [
        ("#abc", "#AABBCC"), ("#C00000", "#C00000"), ("#c00000ff", "#C00000"), ("C00000", "#C00000"),
        ("rgb(255, 0, 16)", "#FF0010"), ("RGBA(1,2,3,0.5)", "#010203"), ("rgb(256,0,0)", None),
        ("blue", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_colours(value: str | None, colour: str | None) -> None:
    assert hex_colour(value) == colour


@pytest.mark.parametrize(
    ("value", "guid"),
    [
        ("{6F0E5B4C-2A1D-4C8E-9B7A-3D5E1F2A4B6C}", "6f0e5b4c-2a1d-4c8e-9b7a-3d5e1f2a4b6c"),
        (" 6F0E5B4C-2A1D-4C8E-9B7A-3D5E1F2A4B6C ", "6f0e5b4c-2a1d-4c8e-9b7a-3d5e1f2a4b6c"),
        ("{6F0E5B4C-2A1D-4C8E-9B7A-3D5E1F2A4B6C", None),
        ("a1", None),
    ],
)
def test_guid_normalisation(value: str, guid: str | None) -> None:
    assert normalise_guid(value) == guid
