"""A REFI-QDA ``project.qde`` read into plain objects, tolerant of what real programs write.

Accepted besides the standard: any namespace that starts with ``urn:QDA-XML:project`` (older drafts wrote
``urn:QDA-XML:project:0:4`` and similar) or none at all; GUIDs with braces and in any case (kept lower case,
without braces); cases that list their sources as ``SourceRef`` (the 2019 schema) or ``MemberSource`` (later
drafts). Sources and selections that are not text are not read, only counted, so the import can report them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field

from gripcode.codebook.refi_common import ParsedXML, local_name, normalise_guid, parse_xml
from gripcode.errors import ExchangeError

PROJECT_NS = "urn:QDA-XML:project:1.0"
NON_TEXT_SOURCES = ("PDFSource", "PictureSource", "AudioSource", "VideoSource")
NON_TEXT_SELECTIONS = ("PDFSelection", "PictureSelection", "AudioSelection", "VideoSelection",
                       "TranscriptSelection")


@dataclass
class XUser:
    guid: str
    name: str


@dataclass
class XCode:
    guid: str
    name: str
    colour: str | None
    description: str
    codable: bool
    note_refs: list[str]
    children: list[XCode]
    line: int | None


@dataclass
class XVariable:
    guid: str
    name: str
    type: str  # Text | Boolean | Integer | Float | Date | DateTime


@dataclass
class XValue:
    variable: str  # GUID
    kind: str  # TextValue, FloatValue, ...
    text: str


@dataclass
class XCase:
    guid: str | None
    name: str
    description: str
    values: list[XValue]
    sources: list[str]


@dataclass
class XCoding:
    guid: str | None
    code: str
    user: str | None
    created: str | None
    note_refs: list[str]


@dataclass
class XSelection:
    guid: str | None
    name: str | None
    start: int
    end: int
    user: str | None
    created: str | None
    description: str
    codings: list[XCoding]
    note_refs: list[str]
    line: int | None


@dataclass
class XTextSource:
    guid: str
    name: str
    content: str | None
    plain_path: str | None
    rich_path: str | None
    user: str | None
    created: str | None
    description: str
    selections: list[XSelection]
    codings: list[XCoding]  # codings of the whole source
    note_refs: list[str]
    values: list[XValue]
    line: int | None
    # For the text representation of a PDF source: the PDF source's name and GUID.
    container: str | None = None


@dataclass
class XNote:
    guid: str
    name: str
    content: str | None
    plain_path: str | None
    user: str | None
    created: str | None


@dataclass
class XSet:
    guid: str | None
    name: str
    description: str
    sources: list[str]
    codes: list[str]
    notes: list[str]


@dataclass
class XProject:
    name: str
    origin: str
    base_path: str
    creating_user: str | None
    users: list[XUser] = field(default_factory=list)
    codes: list[XCode] = field(default_factory=list)
    variables: list[XVariable] = field(default_factory=list)
    cases: list[XCase] | None = None  # None: no <Cases> element at all
    sources: list[XTextSource] = field(default_factory=list)
    notes: list[XNote] = field(default_factory=list)
    sets: list[XSet] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)
    description: str = ""
    non_text: Counter[str] = field(default_factory=Counter)  # element name -> how many
    non_text_codings: int = 0


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.what = what
        self.doc: ParsedXML = parse_xml(data, what)
        self.ns, local = local_name(self.doc.root.tag)
        if local != "Project" or not (self.ns is None or self.ns.lower().startswith("urn:qda-xml:project")):
            kind = " (a REFI-QDA codebook: use `gripcode codebook import-qdc`)" if local == "CodeBook" else ""
            raise ExchangeError(f"{what} has the root element <{local}>{kind}; expected <Project>")

    # helpers ---------------------------------------------------------------------------------------------

    def at(self, element: ET.Element) -> str:
        line = self.doc.line(element)
        return f" at line {line}" if line is not None else ""

    def kids(self, element: ET.Element, *names: str) -> list[ET.Element]:
        out = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            namespace, local = local_name(child.tag)
            if local in names and namespace in (self.ns, None):
                out.append(child)
        return out

    def kid(self, element: ET.Element, name: str) -> ET.Element | None:
        found = self.kids(element, name)
        return found[0] if found else None

    def text_of(self, element: ET.Element, name: str) -> str:
        child = self.kid(element, name)
        return "".join(child.itertext()) if child is not None else ""

    def guid(self, element: ET.Element, attr: str = "guid", *, required: bool = True) -> str | None:
        raw = element.get(attr)
        if raw is None or not raw.strip():
            if required:
                raise ExchangeError(f"{self.what}: <{local_name(element.tag)[1]}>{self.at(element)} has no {attr}")
            return None
        guid = normalise_guid(raw)
        if guid is None:
            raise ExchangeError(f"{self.what}: <{local_name(element.tag)[1]}>{self.at(element)} has the {attr} "
                                f"{raw!r}, which is not a GUID")
        return guid

    def refs(self, element: ET.Element, *names: str) -> list[str]:
        return [guid for ref in self.kids(element, *names) if (guid := self.guid(ref, "targetGUID")) is not None]

    def position(self, element: ET.Element, attr: str) -> int:
        raw = (element.get(attr) or "").strip()
        try:
            return int(raw)
        except ValueError:
            raise ExchangeError(f"{self.what}: the selection{self.at(element)} has the {attr} {raw!r}, "
                                "which is not a whole number") from None

    # sections --------------------------------------------------------------------------------------------

    def project(self) -> XProject:
        root = self.doc.root
        project = XProject(name=(root.get("name") or "").strip(), origin=(root.get("origin") or "").strip(),
                           base_path=(root.get("basePath") or "").strip(),
                           creating_user=self.guid(root, "creatingUserGUID", required=False))
        users = self.kid(root, "Users")
        if users is not None:
            project.users = [XUser(self.guid(u) or "", (u.get("name") or u.get("id") or "").strip())
                             for u in self.kids(users, "User")]
        codebook = self.kid(root, "CodeBook")
        codes = self.kid(codebook, "Codes") if codebook is not None else None
        if codes is not None:
            project.codes = [self.code(c) for c in self.kids(codes, "Code")]
        variables = self.kid(root, "Variables")
        if variables is not None:
            project.variables = [XVariable(self.guid(v) or "", (v.get("name") or "").strip(),
                                           (v.get("typeOfVariable") or "Text").strip())
                                 for v in self.kids(variables, "Variable")]
        cases = self.kid(root, "Cases")
        if cases is not None:
            project.cases = [self.case(c) for c in self.kids(cases, "Case")]
        sources = self.kid(root, "Sources")
        if sources is not None:
            self.sources(sources, project)
        notes = self.kid(root, "Notes")
        if notes is not None:
            for note in self.kids(notes, "Note"):
                project.notes.append(XNote(
                    self.guid(note) or "", (note.get("name") or "").strip(),
                    self.text_of(note, "PlainTextContent") if self.kid(note, "PlainTextContent") is not None
                    else None, note.get("plainTextPath"), self.guid(note, "creatingUser", required=False),
                    note.get("creationDateTime")))
        sets = self.kid(root, "Sets")
        if sets is not None:
            project.sets = [XSet(self.guid(s, required=False), (s.get("name") or "").strip(),
                                 self.text_of(s, "Description"), self.refs(s, "MemberSource"),
                                 self.refs(s, "MemberCode"), self.refs(s, "MemberNote"))
                            for s in self.kids(sets, "Set")]
        project.description = self.text_of(root, "Description")
        project.note_refs = self.refs(root, "NoteRef")
        return project

    def code(self, element: ET.Element) -> XCode:
        name = (element.get("name") or "").strip()
        if not name:
            raise ExchangeError(f"{self.what}: the <Code>{self.at(element)} has no name")
        codable = (element.get("isCodable") or "true").strip().lower() not in ("false", "0")
        return XCode(self.guid(element) or "", name, element.get("color"), self.text_of(element, "Description"),
                     codable, self.refs(element, "NoteRef"), [self.code(c) for c in self.kids(element, "Code")],
                     self.doc.line(element))

    def values(self, element: ET.Element) -> list[XValue]:
        out = []
        for value in self.kids(element, "VariableValue"):
            ref = self.kid(value, "VariableRef")
            target = self.guid(ref, "targetGUID") if ref is not None else None
            if target is None:
                continue
            for child in value:
                if not isinstance(child.tag, str):
                    continue
                kind = local_name(child.tag)[1]
                if kind.endswith("Value"):
                    out.append(XValue(target, kind, "".join(child.itertext()).strip()))
                    break
        return out

    def case(self, element: ET.Element) -> XCase:
        guid = self.guid(element, required=False)
        name = (element.get("name") or "").strip() or f"case {guid[:8] if guid else '?'}"
        return XCase(guid, name, self.text_of(element, "Description"), self.values(element),
                     self.refs(element, "SourceRef", "MemberSource"))

    def coding(self, element: ET.Element) -> XCoding | None:
        ref = self.kid(element, "CodeRef")
        code = self.guid(ref, "targetGUID") if ref is not None else None
        if code is None:
            return None
        return XCoding(self.guid(element, required=False), code, self.guid(element, "creatingUser", required=False),
                       element.get("creationDateTime"), self.refs(element, "NoteRef"))

    def codings(self, element: ET.Element) -> list[XCoding]:
        return [c for c in (self.coding(e) for e in self.kids(element, "Coding")) if c is not None]

    def text_source(self, element: ET.Element, container: ET.Element | None = None) -> XTextSource:
        selections = []
        for sel in self.kids(element, "PlainTextSelection"):
            selections.append(XSelection(
                self.guid(sel, required=False), sel.get("name"), self.position(sel, "startPosition"),
                self.position(sel, "endPosition"), self.guid(sel, "creatingUser", required=False),
                sel.get("creationDateTime"), self.text_of(sel, "Description"), self.codings(sel),
                self.refs(sel, "NoteRef"), self.doc.line(sel)))
        content = self.kid(element, "PlainTextContent")
        owner = container if container is not None else element
        name = (owner.get("name") or element.get("name") or "").strip()
        return XTextSource(
            guid=self.guid(element) or "", name=name,
            content="".join(content.itertext()) if content is not None else None,
            plain_path=element.get("plainTextPath"), rich_path=element.get("richTextPath"),
            user=self.guid(element, "creatingUser", required=False), created=element.get("creationDateTime"),
            description=self.text_of(element, "Description"), selections=selections,
            codings=self.codings(element), note_refs=self.refs(owner, "NoteRef"), values=self.values(owner),
            line=self.doc.line(element), container=name if container is not None else None)

    def sources(self, sources: ET.Element, project: XProject) -> None:
        for element in sources:
            if not isinstance(element.tag, str):
                continue
            kind = local_name(element.tag)[1]
            if kind == "TextSource":
                project.sources.append(self.text_source(element))
                continue
            if kind not in NON_TEXT_SOURCES:
                continue
            representation = self.kid(element, "Representation") if kind == "PDFSource" else None
            if representation is not None:
                # A PDF with the text the program extracted: that text and its text selections can be used.
                project.sources.append(self.text_source(representation, container=element))
            else:
                project.non_text[kind] += 1
            for selection_kind in NON_TEXT_SELECTIONS:
                for selection in self._all(element, selection_kind):
                    project.non_text[selection_kind] += 1
                    project.non_text_codings += len(self.kids(selection, "Coding"))
            project.non_text_codings += len(self.kids(element, "Coding"))

    def _all(self, element: ET.Element, name: str) -> list[ET.Element]:
        return [e for e in element.iter() if isinstance(e.tag, str) and local_name(e.tag)[1] == name]


def read_project(data: bytes, what: str) -> XProject:
    """Parse a ``project.qde``; ``what`` names it in messages. Raises :class:`ExchangeError`."""
    try:
        return _Reader(data, what).project()
    except RecursionError:
        raise ExchangeError(f"{what} is nested too deeply to read") from None
