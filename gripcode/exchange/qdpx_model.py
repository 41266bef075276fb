"""A REFI-QDA ``project.qde`` read into plain objects, tolerant of what real programs write.

The file is parsed as a stream (expat, with DTDs and entities refused as ``refi_common.parse_xml`` refuses
them): each section under ``<Project>`` is built as a small tree, read into objects and dropped when it ends,
and each source under ``<Sources>`` is handed to the caller as soon as it ends, so memory holds one source and
the project's header objects (users, codes, variables, cases, notes, sets), never the whole file.

Accepted besides the standard: any namespace that starts with ``urn:QDA-XML:project`` (older drafts wrote
``urn:QDA-XML:project:0:4`` and similar) or none at all; GUIDs with braces and in any case (kept lower case,
without braces); cases that list their sources as ``SourceRef`` (the 2019 schema) or ``MemberSource`` (later
drafts). Sources and selections that are not text are not read, only counted, so the import can report them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from xml.parsers import expat

from gripcode.codebook.refi_common import local_name, normalise_guid
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


# The line an element starts on is kept among its attributes under a name no XML attribute can have, so it
# goes when the element goes (a table keyed by id() would have to be cleaned as elements are dropped).
_LINE = "\0line"
_TAGS: dict[str, tuple[str | None, str]] = {}


def _split(tag: str) -> tuple[str | None, str]:
    found = _TAGS.get(tag)
    if found is None:
        found = _TAGS[tag] = local_name(tag)
    return found


class _Locals(dict[object, str | None]):
    """Tag -> its local name when it is in the project's namespace (or none), else None: the test ``kids`` makes
    of every child, once per tag."""

    def __init__(self, ns: str | None) -> None:
        super().__init__()
        self.ns = ns

    def __missing__(self, tag: object) -> str | None:
        local = None
        if isinstance(tag, str):  # comments and processing instructions have a function for a tag
            namespace, name = _split(tag)
            if namespace in (self.ns, None):
                local = name
        self[tag] = local
        return local


# GUIDs of users, codes and notes recur on every coding: each is checked once, up to this many different ones.
_GUID_CACHE = 4096


class _Reader:
    """Turns the elements of a ``project.qde`` into objects; ``ns`` is the root element's namespace."""

    def __init__(self, what: str, ns: str | None) -> None:
        self.what, self.ns = what, ns
        self.locals = _Locals(ns)
        self._guids: dict[str, str] = {}  # a creatingUser or targetGUID as written -> as normalised

    # helpers ---------------------------------------------------------------------------------------------

    @staticmethod
    def line(element: ET.Element) -> int | None:
        return element.get(_LINE)  # type: ignore[return-value]  # an int, set by the parser

    def at(self, element: ET.Element) -> str:
        line = self.line(element)
        return f" at line {line}" if line is not None else ""

    def kids(self, element: ET.Element, *names: str) -> list[ET.Element]:
        local = self.locals
        return [child for child in element if local[child.tag] in names]

    def groups(self, element: ET.Element) -> dict[str | None, list[ET.Element]]:
        """The children by local name (None: another namespace), each list in document order: what several
        ``kids`` calls would find, in one pass."""
        local = self.locals
        out: dict[str | None, list[ET.Element]] = {}
        for child in element:
            name = local[child.tag]
            found = out.get(name)
            if found is None:
                out[name] = [child]
            else:
                found.append(child)
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

    def shared_guid(self, element: ET.Element, attr: str) -> str | None:
        """``guid(element, attr, required=False)`` for attributes whose values recur (users, targets)."""
        raw = element.get(attr)
        if raw is not None:
            found = self._guids.get(raw)
            if found is not None:
                return found
        guid = self.guid(element, attr, required=False)
        if guid is not None and raw is not None:
            if len(self._guids) >= _GUID_CACHE:
                self._guids.clear()
            self._guids[raw] = guid
        return guid

    def refs(self, element: ET.Element, *names: str) -> list[str]:
        return self.refs_of(self.kids(element, *names))

    def position(self, element: ET.Element, attr: str) -> int:
        raw = (element.get(attr) or "").strip()
        try:
            return int(raw)
        except ValueError:
            raise ExchangeError(f"{self.what}: the selection{self.at(element)} has the {attr} {raw!r}, "
                                "which is not a whole number") from None

    # sections --------------------------------------------------------------------------------------------

    def header(self, root: ET.Element) -> XProject:
        return XProject(name=(root.get("name") or "").strip(), origin=(root.get("origin") or "").strip(),
                        base_path=(root.get("basePath") or "").strip(),
                        creating_user=self.guid(root, "creatingUserGUID", required=False))

    def section(self, element: ET.Element, local: str, project: XProject, seen: set[str]) -> None:
        """Read a finished child of ``<Project>``; as a reader of the whole tree would take the first child
        of each name, later ones are ignored (``NoteRef``s excepted: all of them count)."""
        if local == "NoteRef":
            project.note_refs.extend(self.refs_of([element]))
            return
        if local in seen:
            return
        seen.add(local)
        if local == "Users":
            project.users = [XUser(self.guid(u) or "", (u.get("name") or u.get("id") or "").strip())
                             for u in self.kids(element, "User")]
        elif local == "CodeBook":
            codes = self.kid(element, "Codes")
            if codes is not None:
                project.codes = [self.code(c) for c in self.kids(codes, "Code")]
        elif local == "Variables":
            project.variables = [XVariable(self.guid(v) or "", (v.get("name") or "").strip(),
                                           (v.get("typeOfVariable") or "Text").strip())
                                 for v in self.kids(element, "Variable")]
        elif local == "Cases":
            project.cases = [self.case(c) for c in self.kids(element, "Case")]
        elif local == "Notes":
            for note in self.kids(element, "Note"):
                project.notes.append(XNote(
                    self.guid(note) or "", (note.get("name") or "").strip(),
                    self.text_of(note, "PlainTextContent") if self.kid(note, "PlainTextContent") is not None
                    else None, note.get("plainTextPath"), self.guid(note, "creatingUser", required=False),
                    note.get("creationDateTime")))
        elif local == "Sets":
            project.sets = [XSet(self.guid(s, required=False), (s.get("name") or "").strip(),
                                 self.text_of(s, "Description"), self.refs(s, "MemberSource"),
                                 self.refs(s, "MemberCode"), self.refs(s, "MemberNote"))
                            for s in self.kids(element, "Set")]
        elif local == "Description":
            project.description = "".join(element.itertext())

    def refs_of(self, elements: list[ET.Element]) -> list[str]:
        return [guid for ref in elements if (guid := self.target(ref)) is not None]

    def target(self, ref: ET.Element) -> str | None:
        """A reference's ``targetGUID``, required (``guid(ref, "targetGUID")``)."""
        raw = ref.get("targetGUID")
        found = self._guids.get(raw) if raw is not None else None
        return found if found is not None else self._new_target(ref)

    def _new_target(self, ref: ET.Element) -> str | None:
        guid = self.guid(ref, "targetGUID")
        raw = ref.get("targetGUID")
        if guid is not None and raw is not None:
            if len(self._guids) >= _GUID_CACHE:
                self._guids.clear()
            self._guids[raw] = guid
        return guid

    def code(self, element: ET.Element) -> XCode:
        name = (element.get("name") or "").strip()
        if not name:
            raise ExchangeError(f"{self.what}: the <Code>{self.at(element)} has no name")
        codable = (element.get("isCodable") or "true").strip().lower() not in ("false", "0")
        return XCode(self.guid(element) or "", name, element.get("color"), self.text_of(element, "Description"),
                     codable, self.refs(element, "NoteRef"), [self.code(c) for c in self.kids(element, "Code")],
                     self.line(element))

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
        ref = None
        notes: list[ET.Element] = []
        local = self.locals
        for child in element:  # one pass for its CodeRef (the first) and its NoteRefs
            name = local[child.tag]
            if name == "CodeRef":
                if ref is None:
                    ref = child
            elif name == "NoteRef":
                notes.append(child)
        code = self.target(ref) if ref is not None else None
        if code is None:
            return None
        return XCoding(self.guid(element, required=False), code, self.shared_guid(element, "creatingUser"),
                       element.get("creationDateTime"), self.refs_of(notes) if notes else [])

    def codings(self, element: ET.Element) -> list[XCoding]:
        return self.codings_of(self.kids(element, "Coding"))

    def codings_of(self, elements: list[ET.Element]) -> list[XCoding]:
        return [c for c in (self.coding(e) for e in elements) if c is not None]

    def text_source(self, element: ET.Element, container: ET.Element | None = None) -> XTextSource:
        selections = []
        for sel in self.kids(element, "PlainTextSelection"):
            kids = self.groups(sel)  # (its Description, Codings and NoteRefs in one pass)
            description = kids.get("Description")
            guid, name = self.guid(sel, required=False), sel.get("name")
            start, end = self.position(sel, "startPosition"), self.position(sel, "endPosition")
            selections.append(XSelection(
                guid, name, start, end, self.shared_guid(sel, "creatingUser"), sel.get("creationDateTime"),
                "".join(description[0].itertext()) if description else "", self.codings_of(kids.get("Coding", [])),
                self.refs_of(kids.get("NoteRef", [])), self.line(sel)))
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
            line=self.line(element), container=name if container is not None else None)

    def source(self, element: ET.Element, project: XProject) -> XTextSource | None:
        """A finished child of ``<Sources>``: a text source (or a PDF with its text) to read, or None; sources
        and selections that are not text are counted in ``project``."""
        kind = _split(element.tag)[1]
        if kind == "TextSource":
            return self.text_source(element)
        if kind not in NON_TEXT_SOURCES:
            return None
        representation = self.kid(element, "Representation") if kind == "PDFSource" else None
        found = None
        if representation is not None:
            # A PDF with the text the program extracted: that text and its text selections can be used.
            found = self.text_source(representation, container=element)
        else:
            project.non_text[kind] += 1
        for selection_kind in NON_TEXT_SELECTIONS:
            for selection in self._all(element, selection_kind):
                project.non_text[selection_kind] += 1
                project.non_text_codings += len(self.kids(selection, "Coding"))
        project.non_text_codings += len(self.kids(element, "Coding"))
        return found

    def _all(self, element: ET.Element, name: str) -> list[ET.Element]:
        return [e for e in element.iter() if isinstance(e.tag, str) and _split(e.tag)[1] == name]


class ProjectStream:
    """A ``project.qde`` parsed as it is fed: ``feed`` pieces of bytes, then ``close`` for the project (its
    ``sources`` left empty: each text source went to ``on_source`` as soon as it ended, in file order).

    Raises :class:`ExchangeError` for anything that is not well-formed XML, for any DTD, entity declaration or
    external reference, and for what the project file itself gets wrong."""

    def __init__(self, what: str, on_source: Callable[[XTextSource], None]) -> None:
        self.what, self.on_source = what, on_source
        self.project: XProject | None = None
        self._reader: _Reader | None = None
        self._builder = ET.TreeBuilder()
        self._stack: list[ET.Element] = []
        self._sources: ET.Element | None = None  # the first <Sources> element, while it is open
        self._seen: set[str] = set()
        self._started = False
        self._names: dict[str, str] = {}
        parser = self._parser = expat.ParserCreate(None, "}")
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler = self._handlers(parser)
        parser.CharacterDataHandler = self._builder.data
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.UnparsedEntityDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._entity

    def _name(self, name: str) -> str:
        fixed = self._names.get(name)
        if fixed is None:
            fixed = self._names[name] = "{" + name if "}" in name else name
        return fixed

    def _doctype(self, *args: object) -> None:
        raise ExchangeError(
            f"{self.what} declares a DTD (<!DOCTYPE ...>) at line {self._parser.CurrentLineNumber}: refused, because a "
            "DTD can read local files through external entities or expand entities without limit; REFI-QDA files "
            "never need one")

    def _entity(self, *args: object) -> None:
        raise ExchangeError(f"{self.what} declares or references an XML entity at line "
                            f"{self._parser.CurrentLineNumber}: refused")

    def _handlers(self, parser: expat.XMLParserType) -> tuple[Callable[[str, dict[str, object]], None],
                                                                  Callable[[str], None]]:
        """The parser's handlers of elements: every element goes into the tree being built, with the line it
        starts on; only those of the root and its children and grandchildren (sections, sources) are looked at
        further (``_top_started``, ``_top_ended``). Closures over what they use: they run for every element."""
        stack, names, fix = self._stack, self._names, self._name
        start_element, end_element = self._builder.start, self._builder.end
        top_started, top_ended = self._top_started, self._top_ended

        def start(name: str, attrs: dict[str, object]) -> None:
            for key in attrs:
                if "}" in key:
                    attrs = {fix(key): value for key, value in attrs.items()}
                    break
            attrs[_LINE] = parser.CurrentLineNumber
            stack.append(start_element(names.get(name) or fix(name), attrs))  # type: ignore[arg-type]
            if len(stack) <= 2:
                top_started(stack[-1])

        def end(name: str) -> None:
            element = end_element(names.get(name) or fix(name))
            stack.pop()
            if len(stack) <= 2:
                top_ended(element)

        return start, end

    def _top_started(self, element: ET.Element) -> None:
        stack = self._stack
        if len(stack) == 1:
            ns, local = _split(element.tag)
            if local != "Project" or not (ns is None or ns.lower().startswith("urn:qda-xml:project")):
                kind = " (a REFI-QDA codebook: use `gripcode codebook import-qdc`)" if local == "CodeBook" else ""
                raise ExchangeError(f"{self.what} has the root element <{local}>{kind}; expected <Project>")
            self._reader = _Reader(self.what, ns)
            self.project = self._reader.header(element)
        elif len(self._stack) == 2 and self._sources is None and "Sources" not in self._seen:
            ns, local = _split(element.tag)
            if local == "Sources" and ns in (self._reader.ns, None):  # type: ignore[union-attr]
                self._sources = element

    def _top_ended(self, element: ET.Element) -> None:
        stack = self._stack
        depth = len(stack)
        reader, project = self._reader, self.project
        assert reader is not None and project is not None
        if depth == 1:
            root = stack[0]
            root.remove(element)
            if element is self._sources:
                self._sources = None
                self._seen.add("Sources")
                return
            ns, local = _split(element.tag)
            if ns in (reader.ns, None):
                reader.section(element, local, project, self._seen)
        elif depth == 2 and stack[1] is self._sources:
            stack[1].remove(element)
            if isinstance(element.tag, str):
                found = reader.source(element, project)
                if found is not None:
                    self.on_source(found)

    def feed(self, data: bytes | bytearray) -> None:
        if not self._started:
            self._started = True
            if bytes(data[:4]) == b"PK\x03\x04":
                raise ExchangeError(f"{self.what} is a zip archive (a .qdpx project?), not an XML file")
        self._parse(data, False)

    def close(self) -> XProject:
        self._parse(b"", True)
        assert self.project is not None
        return self.project

    def _parse(self, data: bytes | bytearray, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            reason = str(exc).split(":", 1)[0] if ":" in str(exc) else str(exc)
            raise ExchangeError(f"{self.what} is not well-formed XML: {reason} at line {exc.lineno}, "
                                f"column {exc.offset + 1}") from None
        except RecursionError:
            raise ExchangeError(f"{self.what} is nested too deeply to read") from None


def stream_project(pieces: Iterable[bytes | bytearray], what: str,
                   on_source: Callable[[XTextSource], None]) -> XProject:
    """Parse a ``project.qde`` given in ``pieces``; each text source goes to ``on_source`` as it ends, and the
    rest of the project is returned (with no sources). ``what`` names the file in messages."""
    stream = ProjectStream(what, on_source)
    for piece in pieces:
        stream.feed(piece)
    return stream.close()


def read_project(data: bytes | bytearray, what: str) -> XProject:
    """Parse a whole ``project.qde`` held in memory; ``what`` names it in messages. Raises :class:`ExchangeError`."""
    sources: list[XTextSource] = []
    project = stream_project([data], what, sources.append)
    project.sources = sources
    return project
