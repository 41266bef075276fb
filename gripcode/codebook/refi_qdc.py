"""REFI-QDA codebook exchange (``.qdc``): write a gripcode codebook for other QDA programs and read theirs.

A ``.qdc`` file carries only a tree of codes with a GUID, a name, a colour, an ``isCodable`` flag and one
free-text ``Description``. How gripcode maps its richer codebook onto that:

Description
    Definition, inclusion and exclusion criteria and examples are written as readable, labelled sections::

        Definition: State efforts to control how rare earths are traded and priced.

        Include: Statements about control over the rare-earth market.

        Exclude: Firms' ordinary commercial strategy.

        Examples:
        - Beijing's market power rests on control of separation capacity.
        - [ru] Контроль над рынком остаётся целью Пекина.

        Negative examples:
        - Geologists sent the drill cores to a laboratory.

        gripcode-id: market-control

    Sections without content are left out. An example in a language other than English starts with its
    language tag in brackets; a multi-line example continues on lines indented by two spaces. The reader
    splits a description into these fields again wherever a line starts with one of the labels (it also
    knows the usual alternatives, such as "Inclusion criteria:" or "Counter-examples:"); a description
    without labels becomes the definition.

Ids
    REFI-QDA has no place for gripcode's slug ids, so the last lines of every description carry them as
    ``gripcode-id: <id>`` (and ``gripcode-renamed-from: <old ids>`` when the code lists any). The reader takes
    the id from there when it is a valid slug not used by an earlier code; otherwise it makes a slug from the
    name: lower-case ASCII, with accents removed and Cyrillic (Russian, Kazakh) transliterated; a name with
    no Latin or Cyrillic letters at all (Chinese, for example) becomes ``code-`` plus a short hash of its
    GUID. Clashes get ``-2``, ``-3``, ... in tree order.

GUIDs
    A code's ``refi_guid`` is written when it has one; otherwise the GUID is derived with ``uuid5`` from the
    codebook name and the code id, so exporting twice gives the same file and other programs recognise the
    codes again. The reader keeps every GUID as ``refi_guid`` (lower case, without braces), so a codebook
    that goes out and comes back keeps its GUIDs too.

Retired and merged codes
    A retired code still has codings, and a later project export must be able to point them at a code, so
    it is written with ``isCodable="false"`` (other programs do not offer it for coding) and the line
    ``gripcode-status: retired``, which the reader turns back into ``retired: true``. A merged code is not
    written: its codings belong to the code it was merged into. Codes nested under a merged code take its
    place under its parent.

Not carried
    Assisted-coding rules, ``merged_into`` records and the codebook's own description stay in the YAML.
    No ``<Sets>`` element is written: gripcode has no sets, and the schema does not allow an empty one.
    On reading, sets are ignored, and ``isCodable="false"`` folders (themes) become ordinary codes with
    their children nested under them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gripcode.codebook.loader import codebook_to_yaml, parse_codebook
from gripcode.codebook.model import SLUG_RE, Code, Codebook, Example
from gripcode.codebook.refi_common import (
    XSI_NS,
    derived_guid,
    escape_attr,
    escape_text,
    hex_colour,
    local_name,
    normalise_guid,
    parse_xml,
    unique_slug,
    xml_unsafe_char,
)
from gripcode.errors import CodebookError, ExchangeError
from gripcode.export.files import write_output

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SCHEMA_LOCATION = f"{CODEBOOK_NS} http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd"
DEFAULT_IMPORT_NAME = "imported-codebook"
_WHAT = "the .qdc codebook"

# ----------------------------------------------------------------------------------------- description text

_SECTION_LABELS: dict[str, str] = {
    **dict.fromkeys(("definition", "definitions"), "definition"),
    **dict.fromkeys(
        ("include", "includes", "inclusion", "inclusion criteria", "inclusion criterion", "when to use",
         "use when", "apply when"),
        "include",
    ),
    **dict.fromkeys(
        ("exclude", "excludes", "exclusion", "exclusion criteria", "exclusion criterion", "when not to use",
         "do not use when", "don't use when"),
        "exclude",
    ),
    **dict.fromkeys(
        ("examples", "example", "positive examples", "positive example", "typical examples", "typical example",
         "anchor examples", "anchor example"),
        "positive",
    ),
    **dict.fromkeys(
        ("negative examples", "negative example", "counter-examples", "counter-example", "counterexamples",
         "counterexample", "non-examples", "non-example"),
        "negative",
    ),
}  # fmt: skip
_LABEL_RE = re.compile(r"^([A-Za-z][A-Za-z' -]{0,30}?)[ \t]*:[ \t]*(.*)$")
_META_RE = re.compile(r"^gripcode-([a-z][a-z-]*):[ \t]*(.*)$")
_LANG_TAG_RE = re.compile(r"^\[([a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\] ")
_BULLETS = ("- ", "* ", "\u2022 ")


def describe_code(code: Code) -> str:
    """The ``Description`` text written for ``code`` (see the module docstring for the layout)."""
    sections: list[str] = []
    for label, text in (("Definition", code.definition), ("Include", code.include), ("Exclude", code.exclude)):
        if text:
            sections.append(f"{label}: {text}")
    for label, examples in (("Examples", code.examples.positive), ("Negative examples", code.examples.negative)):
        if examples:
            sections.append("\n".join([f"{label}:", *(_bullet(e) for e in examples)]))
    meta = [f"gripcode-id: {code.id}"]
    if code.renamed_from:
        meta.append("gripcode-renamed-from: " + ", ".join(code.renamed_from))
    if code.retired:
        meta.append("gripcode-status: retired")
    sections.append("\n".join(meta))
    return "\n\n".join(sections)


def _bullet(example: Example) -> str:
    # English is the default and goes untagged, unless the text itself starts like a tag.
    tagged = example.lang != "en" or _LANG_TAG_RE.match(example.text)
    first, *rest = ((f"[{example.lang}] " if tagged else "") + example.text).split("\n")
    return "\n".join([f"- {first}", *(f"  {line}" for line in rest)])


@dataclass
class Description:
    """A description split into gripcode's fields; ``meta`` holds the ``gripcode-*`` lines."""

    definition: str = ""
    include: str = ""
    exclude: str = ""
    positive: list[Example] = field(default_factory=list)
    negative: list[Example] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


def parse_description(text: str) -> Description:
    """Split a description at its labelled sections; unlabelled text belongs to the definition.

    Windows line ends are read as newlines: .NET writers (NVivo) can send them as ``&#xD;&#xA;``, which
    the XML parser keeps.
    """
    text = text.replace("\r\n", "\n")
    buckets: dict[str, list[str]] = {key: [] for key in ("definition", "include", "exclude", "positive", "negative")}
    meta: dict[str, str] = {}
    current = "definition"

    def switch(section: str) -> None:
        nonlocal current
        current = section
        if buckets[section] and buckets[section][-1].strip():
            buckets[section].append("")  # a repeated section reads as a new paragraph

    for line in text.split("\n"):
        meta_match = _META_RE.match(line)
        if meta_match:
            meta.setdefault(meta_match.group(1), meta_match.group(2).strip())
            switch("definition")  # free text after the gripcode lines is not part of an example list
            continue
        label_match = _LABEL_RE.match(line)
        label = " ".join(label_match.group(1).lower().split()) if label_match else ""
        if label_match and label in _SECTION_LABELS:
            switch(_SECTION_LABELS[label])
            if label_match.group(2):
                buckets[current].append(label_match.group(2))
            continue
        buckets[current].append(line)

    return Description(
        definition="\n".join(buckets["definition"]).strip(),
        include="\n".join(buckets["include"]).strip(),
        exclude="\n".join(buckets["exclude"]).strip(),
        positive=_examples(buckets["positive"]),
        negative=_examples(buckets["negative"]),
        meta=meta,
    )


def _examples(lines: list[str]) -> list[Example]:
    items: list[list[str]] = []
    open_item = False
    for line in lines:
        # A bullet starts the line. An indented "-" is a line of the example above (an example may
        # well contain a line that is just "-"); a bare one whose space was trimmed starts an empty item.
        if line.startswith(_BULLETS) or line.rstrip() in ("-", "*", "\u2022"):
            items.append([line[2:]])
            open_item = True
        elif open_item and line.startswith("  "):
            items[-1].append(line[2:])
        elif not line.strip():
            open_item = False
        elif open_item:
            items[-1].append(line)
        else:  # examples written one per paragraph, without bullets
            items.append([line])
            open_item = True
    out = []
    for item in items:
        text, lang = "\n".join(item), "en"
        tag = _LANG_TAG_RE.match(text)
        if tag:
            text, lang = text[tag.end() :], tag.group(1)
        if text.strip():
            out.append(Example(text=text, lang=lang))
    return out


# ------------------------------------------------------------------------------------------------- writing


@dataclass
class _Node:
    code: Code
    children: list[_Node] = field(default_factory=list)


def _export_tree(cb: Codebook) -> list[_Node]:
    """The codes to write, nested; merged codes are left out and their children move up into their place."""
    flat = cb.flat()
    by_id = {fc.id: fc for fc in flat}
    nodes = {fc.id: _Node(fc.code) for fc in flat if fc.code.merged_into is None}
    roots: list[_Node] = []
    for fc in flat:
        if fc.id not in nodes:
            continue
        parent, seen = fc.parent, {fc.id}
        while parent is not None and parent in by_id and parent not in nodes and parent not in seen:
            seen.add(parent)
            parent = by_id[parent].parent
        (nodes[parent].children if parent in nodes and parent not in seen else roots).append(nodes[fc.id])
    if sum(1 for _ in _reachable(roots)) != len(nodes):
        raise ExchangeError(f"codebook {cb.codebook} has a parent cycle; validate it first")
    return roots


def _reachable(nodes: list[_Node]) -> list[_Node]:
    out, stack = [], list(nodes)
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


def _checked(code: Code, what: str, text: str) -> str:
    bad = xml_unsafe_char(text)
    if bad is not None:
        raise ExchangeError(
            f"code {code.id}: the {what} contains the character U+{ord(bad):04X}, which XML cannot carry; remove it"
        )
    return text


def _guid(cb: Codebook, code: Code) -> str:
    if code.refi_guid is None:
        return derived_guid("code", cb.codebook, code.id)
    guid = normalise_guid(code.refi_guid)
    if guid is None:
        raise ExchangeError(f"code {code.id}: refi_guid {code.refi_guid!r} is not a GUID")
    return guid


def _write_code(cb: Codebook, node: _Node, depth: int, out: list[str], guids: dict[str, str]) -> None:
    code, indent = node.code, "  " * depth
    guid = _guid(cb, code)
    if guid in guids:
        raise ExchangeError(f"codes {guids[guid]} and {code.id} have the same GUID {guid}")
    guids[guid] = code.id
    attrs = f'guid="{guid}" name="{escape_attr(_checked(code, "name", code.name))}"'
    attrs += f' isCodable="{"false" if code.retired else "true"}"'
    colour = hex_colour(code.color)
    if colour is not None:
        attrs += f' color="{colour}"'
    description = _checked(code, "definition, criteria or examples", describe_code(code))
    out.append(f"{indent}<Code {attrs}>")
    out.append(f"{indent}  <Description>{escape_text(description)}</Description>")
    for child in node.children:
        _write_code(cb, child, depth + 1, out, guids)
    out.append(f"{indent}</Code>")


def codebook_to_qdc(cb: Codebook, *, origin: str = "gripcode") -> bytes:
    """The codebook as a REFI-QDA codebook document (UTF-8 XML that validates against Codebook.xsd)."""
    roots = _export_tree(cb)
    if not roots:
        raise ExchangeError(f"codebook {cb.codebook} has no codes to export; a REFI-QDA codebook needs at least one")
    bad = xml_unsafe_char(origin)
    if bad is not None:
        raise ExchangeError(f"the origin contains the character U+{ord(bad):04X}, which XML cannot carry")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<CodeBook xmlns="{CODEBOOK_NS}" xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{SCHEMA_LOCATION}"'
        f' origin="{escape_attr(origin)}">',
        "  <Codes>",
    ]
    guids: dict[str, str] = {}
    try:
        for node in roots:
            _write_code(cb, node, 2, out, guids)
    except RecursionError:
        raise ExchangeError(f"codebook {cb.codebook} is nested too deeply to export") from None
    out += ["  </Codes>", "</CodeBook>", ""]
    return "\n".join(out).encode("utf-8")


# ------------------------------------------------------------------------------------------------- reading


@dataclass
class _ReadCode:
    name: str
    guid: str | None
    colour: str | None
    description: Description
    line: int | None
    children: list[_ReadCode] = field(default_factory=list)
    id: str = ""
    renamed_from: list[str] = field(default_factory=list)


def _at(line: int | None) -> str:
    return f" at line {line}" if line is not None else ""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.doc = parse_xml(data, _WHAT)
        self.guid_lines: dict[str, int | None] = {}
        root = self.doc.root
        self.ns, local = local_name(root.tag)
        if local != "CodeBook" or not (self.ns is None or self.ns.lower().startswith("urn:qda-xml:codebook")):
            kind = " (a REFI-QDA project file)" if local == "Project" else ""
            raise ExchangeError(f"{_WHAT} has the root element <{local}>{kind}; expected <CodeBook>")
        self.origin = (root.get("origin") or "").strip()

    def children(self, element: ET.Element, name: str) -> list[ET.Element]:
        out = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            namespace, local = local_name(child.tag)
            if local == name and namespace in (self.ns, None):
                out.append(child)
        return out

    def codes(self) -> list[_ReadCode]:
        codes = self.children(self.doc.root, "Codes")
        if not codes:
            raise ExchangeError(f"{_WHAT} has no <Codes> element")
        return [self.code(element) for element in self.children(codes[0], "Code")]

    def code(self, element: ET.Element) -> _ReadCode:
        line = self.doc.line(element)
        name = (element.get("name") or "").strip()
        if not name:
            raise ExchangeError(f"{_WHAT}: the <Code> element{_at(line)} has no name")
        raw_guid = element.get("guid")
        guid = None
        if raw_guid is not None and raw_guid.strip():
            guid = normalise_guid(raw_guid)
            if guid is None:
                raise ExchangeError(f"{_WHAT}: code {name!r}{_at(line)} has the guid {raw_guid!r}, which is not a GUID")
            if guid in self.guid_lines:
                first = self.guid_lines[guid]
                raise ExchangeError(
                    f"{_WHAT}: code {name!r}{_at(line)} has the same GUID as the code{_at(first)} ({guid})"
                )
            self.guid_lines[guid] = line
        text = "".join("".join(d.itertext()) for d in self.children(element, "Description")[:1])
        return _ReadCode(
            name=name,
            guid=guid,
            colour=hex_colour(element.get("color")),
            description=parse_description(text),
            line=line,
            children=[self.code(child) for child in self.children(element, "Code")],
        )


def _walk(codes: list[_ReadCode]) -> list[_ReadCode]:
    out: list[_ReadCode] = []
    for code in codes:
        out.append(code)
        out.extend(_walk(code.children))
    return out


def assign_ids(items: Sequence[Any], used: set[str], label: Callable[[Any], tuple[str, str | None]]) -> None:
    """Give each item (with ``description``, ``id`` and ``renamed_from``) a code id not in ``used``.

    Ids from ``gripcode-id`` lines come first, so a slug made from another code's name cannot take them; then
    ``gripcode-renamed-from`` ids; the rest get a slug from ``label(item)`` = (name, GUID)."""
    for item in items:
        wanted = item.description.meta.get("id", "")
        if SLUG_RE.match(wanted) and wanted not in used:
            item.id = wanted
            used.add(wanted)
    for item in items:
        for old in (part.strip() for part in item.description.meta.get("renamed-from", "").split(",")):
            if item.id and SLUG_RE.match(old) and old not in used:
                item.renamed_from.append(old)
                used.add(old)
    for item in items:
        if not item.id:
            name, guid = label(item)
            item.id = unique_slug(name, guid or name, used)


def _as_yaml_data(code: _ReadCode) -> dict[str, Any]:
    d = code.description
    return {
        "id": code.id,
        "name": code.name,
        "color": code.colour,
        "definition": d.definition,
        "include": d.include,
        "exclude": d.exclude,
        "examples": {"positive": d.positive, "negative": d.negative},
        "renamed_from": code.renamed_from,
        "retired": d.meta.get("status") == "retired",
        "refi_guid": code.guid,
        "children": [_as_yaml_data(child) for child in code.children],
    }


def codebook_from_qdc(data: bytes, *, name: str | None = None) -> Codebook:
    """Read a REFI-QDA codebook written by NVivo, MAXQDA, ATLAS.ti, QualCoder, gripcode or others.

    ``name`` becomes the codebook's name (default ``imported-codebook``). The result is validated exactly as
    a YAML codebook file would be. Raises :class:`ExchangeError` for unreadable or unsafe files.
    """
    try:
        reader = _Reader(bytes(data))
        codes = reader.codes()
        assign_ids(_walk(codes), set(), lambda code: (code.name, code.guid))
        origin = f" (origin: {reader.origin})" if reader.origin else ""
        raw = {
            "codebook": (name or "").strip() or DEFAULT_IMPORT_NAME,
            "description": f"Imported from a REFI-QDA codebook{origin}.",
            "codes": [_as_yaml_data(code) for code in codes],
        }
        cb = Codebook.model_validate(raw)
        return parse_codebook(codebook_to_yaml(cb), name=_WHAT)
    except RecursionError:
        raise ExchangeError(f"{_WHAT} is nested too deeply to read") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ExchangeError(f"{_WHAT} cannot be turned into a codebook: {where}: {first['msg']}") from None
    except CodebookError as exc:
        raise ExchangeError(f"{_WHAT} cannot be turned into a valid codebook: {exc}") from None


def write_qdc(cb: Codebook, path: Path) -> None:
    """Write ``cb`` as a .qdc file; the XML is built whole first, so a failure leaves no partial file."""
    write_output(path, codebook_to_qdc(cb), error=ExchangeError)


def read_qdc_file(path: Path, *, name: str | None = None) -> Codebook:
    """Read a .qdc file; the codebook is named after the file unless ``name`` is given."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"{path} does not exist") from None
    except OSError as exc:
        raise ExchangeError(f"cannot read {path}: {exc.strerror or exc}") from None
    return codebook_from_qdc(data, name=name or path.stem)
