"""Writing a project as a REFI-QDA project (``.qdpx``): users, codebook, cases, text sources, codings, memos.

What goes where (the element order is the Project schema's):

* ``Users``: every coder, people and machine coders alike, so each coding names who made it.
* ``CodeBook``: active and retired codes in codebook order (retired ones with ``isCodable="false"``), with
  colours, and definition, criteria and examples in ``Description`` in the layout the .qdc export uses.
  Merged codes are left out: their codings belong to the code they were merged into.
* ``Variables`` and ``Cases``: each case attribute is a typed variable (Text, Float, Date); a key whose values
  have different types across cases is written as Text. Each case lists its documents as ``SourceRef``.
  Document fields (kind, language, date, source and metadata) are source variables named
  ``Document <field>``; metadata that is not a single value is written as JSON text, ``Document <key> (JSON)``
  (:mod:`gripcode.exchange.qdpx_variables`).
* ``Sources``: each document's stored text is ``sources/<GUID>.txt`` (UTF-8, ``\\n`` line breaks, NFC), so
  ``startPosition``/``endPosition`` are exactly gripcode's code-point offsets. Codings on the same span form
  one ``PlainTextSelection`` whose ``name`` is the quote; each coding keeps its coder as ``creatingUser``.
* ``Notes``: memos, referenced with ``NoteRef`` from the project, the document, the code or the coding they
  are about; a coding's own memo field becomes a note on that coding. Speaker turns the text does not show
  (a subtitle file's cues) are a note on their document (:mod:`gripcode.exchange.qdpx_turns`).

Only counted codings are written (status accepted: manual ones and accepted suggestions); suggestions
waiting for review only with ``include_suggestions``; rejected ones never.

GUIDs: an object without a stored ``refi_guid`` gets one now, saved in the caller's transaction, so the next
export, and any program that imported the last one, see the same GUIDs. Codes get the GUID the .qdc export
derives for them (from the codebook's name and the code's id), so a codebook exchanged alone and a project
agree. Selections take a GUID derived from their document and span. Nothing else in the file changes
between exports: no export time is written, only stored timestamps, and everything is in a fixed order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import Session, defer, selectinload

from gripcode import __version__
from gripcode.codebook.model import Code as CodebookCode
from gripcode.codebook.model import Examples
from gripcode.codebook.refi_common import XSI_NS, derived_guid, escape_attr, escape_text, hex_colour, \
    normalise_guid, xml_safe, xml_unsafe_char
from gripcode.codebook.refi_qdc import describe_code
from gripcode.codebook.sync import current_codebook, latest_version
from gripcode.db.bulk import IDS_PER_STATEMENT, fetch_rows, set_text_by_id
from gripcode.db.identity import new_guid
from gripcode.db.models import COUNTED_STATUSES, Case, Code, Coder, Coding, Document, Memo, status_among
from gripcode.errors import CodebookError, ExchangeError
from gripcode.exchange.qdpx_archive import INTERNAL_PREFIX, write_qdpx_streamed
from gripcode.exchange.qdpx_model import PROJECT_NS
from gripcode.exchange.qdpx_turns import TURNS_NOTE_NAME, needs_turns_note, stored_turns, turns_note_guid, \
    turns_note_text
from gripcode.exchange.qdpx_variables import collect_variables

SCHEMA_LOCATION = f"{PROJECT_NS} http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
CODING_MEMO_NAME = "Coding memo"
# Documents whose codings and texts are read at a time.
_DOCUMENTS_PER_BATCH = 200


def coding_memo_guid(coding_guid: str) -> str:
    """The note that carries a coding's memo field; the reader recognises it by this GUID."""
    return derived_guid("coding-memo", coding_guid)


def selection_guid(document_guid: str, start: int, end: int) -> str:
    return derived_guid("selection", document_guid, str(start), str(end))


@dataclass
class ExportReport:
    path: Path
    users: int = 0
    codes: int = 0
    cases: int = 0
    documents: int = 0
    selections: int = 0
    codings: int = 0
    notes: int = 0
    guids_assigned: int = 0
    statuses: tuple[str, ...] = COUNTED_STATUSES
    memos_left_out: int = 0


@dataclass(slots=True)
class _CodingRow:
    """What the export needs of a coding: read as plain columns, not as ORM objects (a large project has
    hundreds of thousands)."""

    id: int
    document_id: int
    start: int
    end: int
    code_id: int
    coder_id: int
    created_at: dt.datetime | None  # read only for codings with a memo, which becomes a note
    memo: str | None
    refi_guid: str | None
    when: str | None = None  # created_at as written in the file


# ----------------------------------------------------------------------------------------------------- GUIDs


def _stored_guid(value: str | None, what: str) -> str:
    guid = normalise_guid(value) if value is not None else None
    if guid is None:
        raise ExchangeError(f"{what} has the refi_guid {value!r}, which is not a GUID")
    return guid


def _assign(rows: list[Any], used: set[str], make: Any = None) -> int:
    """Give every row without a GUID one, avoiding ``used``; returns how many were assigned."""
    assigned = 0
    for row in rows:
        if row.refi_guid is not None:
            continue
        guid = make(row) if make is not None else None
        if guid is None or guid in used:
            guid = new_guid()
        row.refi_guid = guid
        used.add(guid)
        assigned += 1
    return assigned


def _used(session: Session, model: Any) -> set[str]:
    return {normalise_guid(g) or g for g in session.scalars(select(model.refi_guid).where(model.refi_guid.is_not(None)))}


# ------------------------------------------------------------------------------------------------ XML bits


def _attrs(pairs: list[tuple[str, str | None]]) -> str:
    return "".join(f' {key}="{escape_attr(value)}"' for key, value in pairs if value is not None)


def _timestamp(value: Any) -> dt.datetime | None:
    """A timestamp as the driver returns it (SQLite: text in UTC) as a datetime."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _when(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------------- export


class _Exporter:
    def __init__(self, session: Session, include_suggestions: bool, name: str | None) -> None:
        self.session = session
        self.statuses = (*COUNTED_STATUSES, "suggested") if include_suggestions else COUNTED_STATUSES
        version = latest_version(session)
        self.codebook_name = version.name if version is not None else "gripcode"
        self.name = (name or "").strip() or self.codebook_name
        self.renamed_from: dict[str, list[str]] = {}
        if version is not None:
            try:
                _, cb = current_codebook(session)
                self.renamed_from = {fc.id: list(fc.code.renamed_from) for fc in cb.flat()}
            except CodebookError:
                self.renamed_from = {}
        self.code_guid: dict[int, str] = {}
        self.code_count = 0

    def load(self) -> int:
        """Everything but the codings and the texts, which ``sources_xml`` and ``source_files`` read a batch of
        documents at a time; returns how many GUIDs were assigned."""
        s = self.session
        self.coders = list(s.scalars(select(Coder).order_by(Coder.name)))
        self.codes = list(s.scalars(select(Code).order_by(Code.position, Code.id)))
        self.cases = list(s.scalars(select(Case).options(selectinload(Case.attributes)).order_by(Case.name)))
        self.documents = list(s.scalars(select(Document).options(defer(Document.text)).order_by(Document.id)))
        self.memos = list(s.scalars(select(Memo).order_by(Memo.created_at, Memo.id)))
        self.turns = stored_turns(s)
        self.code_by_id = {c.id: c for c in self.codes}
        on_codings = sorted({m.coding_id for m in self.memos if m.target == "coding" and m.coding_id is not None})
        exported: set[int] = set()
        for at in range(0, len(on_codings), IDS_PER_STATEMENT):
            exported.update(s.scalars(select(Coding.id).where(Coding.id.in_(on_codings[at:at + IDS_PER_STATEMENT]),
                                                              status_among(Coding.status, self.statuses))))
        self.memos_left_out = sum(1 for m in self.memos if m.target == "coding" and m.coding_id not in exported)
        self.memos = [m for m in self.memos if m.target != "coding" or m.coding_id in exported]
        assigned = _assign(self.coders, _used(s, Coder))
        assigned += _assign(self.codes, _used(s, Code), lambda c: derived_guid("code", self.codebook_name, c.slug))
        assigned += _assign(self.cases, _used(s, Case))
        assigned += _assign(self.documents, _used(s, Document))
        self.shared_guids = self._shared_coding_guids()
        assigned += _assign(self.memos, _used(s, Memo))
        s.flush()
        self.coder_guid = {c.id: _stored_guid(c.refi_guid, f"coder {c.name}") for c in self.coders}
        self.doc_guid = {d.id: _stored_guid(d.refi_guid, f"document {d.id}") for d in self.documents}
        return assigned

    def _shared_coding_guids(self) -> set[str]:
        """The GUIDs more than one exported coding may have: stored twice as they are, or stored in another form
        (braces, capitals) that is the GUID of another. Every other coding's GUID is its own, so only these are
        followed, in file order, to give each repeat a new GUID (the table does not keep them unique: an
        imported file may repeat one)."""
        column = Coding.refi_guid
        exported = (status_among(Coding.status, self.statuses), column.is_not(None))
        shared = set(self.session.scalars(select(column).where(*exported).group_by(column)
                                          .having(func.count() > 1)))
        # not in the canonical shape: lower case, hyphens at 8, 13, 18 and 23, 36 characters
        shape = and_(func.length(column) == 36, func.lower(column) == column,
                     *(func.substr(column, at, 1) == "-" for at in (9, 14, 19, 24)))
        for raw in self.session.scalars(select(column).where(*exported, not_(shape))):
            guid = normalise_guid(raw)
            if guid is not None:
                shared.add(guid)
        return shared

    def _coding_batches(self, documents: list[Document], report: ExportReport) -> Iterator[list[_CodingRow]]:
        """The exported codings of ``documents`` a batch of documents at a time, in document and span order, each
        with its GUID (a new one for a coding without one, or whose GUID an earlier coding has; stored at once)."""
        written: dict[Any, str | None] = {}
        shared, seen = self.shared_guids, set()
        for at in range(0, len(documents), _DOCUMENTS_PER_BATCH):
            ids = [d.id for d in documents[at:at + _DOCUMENTS_PER_BATCH]]
            codings = []
            stale = []
            if len(written) > 100_000:
                written.clear()
            for *row, created, memo, raw in fetch_rows(self.session.connection(), select(
                    Coding.id, Coding.document_id, Coding.start, Coding.end, Coding.code_id, Coding.coder_id,
                    Coding.created_at, Coding.memo, Coding.refi_guid)
                    .where(Coding.document_id.in_(ids), status_among(Coding.status, self.statuses))
                    .order_by(Coding.document_id, Coding.start, Coding.end, Coding.id)):
                if created not in written:
                    written[created] = _when(_timestamp(created))
                coding = _CodingRow(*row, created_at=_timestamp(created) if memo else None, memo=memo,
                                    refi_guid=None, when=written[created])
                guid = normalise_guid(raw) if raw else None
                if guid is not None and guid in shared:
                    if guid in seen:
                        guid = None
                    else:
                        seen.add(guid)
                if guid is None:
                    stale.append(coding)
                coding.refi_guid = guid
                codings.append(coding)
            report.guids_assigned += _assign(stale, set())
            # the codings given a GUID now keep it, set together rather than by an UPDATE per object
            set_text_by_id(self.session.connection(), Coding.__table__, "refi_guid",
                           [(c.id, c.refi_guid) for c in stale])
            yield codings

    def _texts(self, documents: list[Document]) -> Iterator[tuple[Document, str]]:
        """``documents`` with their texts, read a batch at a time."""
        for at in range(0, len(documents), _DOCUMENTS_PER_BATCH):
            batch = documents[at:at + _DOCUMENTS_PER_BATCH]
            texts = dict(self.session.execute(select(Document.id, Document.text)
                                              .where(Document.id.in_([d.id for d in batch]))).tuples().all())
            for doc in batch:
                yield doc, texts[doc.id]

    # codebook --------------------------------------------------------------------------------------------

    def _code_tree(self) -> list[tuple[Code, int]]:
        """Exported codes in order with their depth; codes under a merged code move up to its place."""
        by_id = {c.id: c for c in self.codes}
        kept = {c.id for c in self.codes if c.status != "merged"}
        children: dict[int | None, list[Code]] = defaultdict(list)
        for code in self.codes:
            if code.id not in kept:
                continue
            parent, seen = code.parent_id, {code.id}
            while parent is not None and parent not in kept and parent in by_id and parent not in seen:
                seen.add(parent)
                parent = by_id[parent].parent_id
            children[parent if parent in kept and parent not in seen else None].append(code)
        out: list[tuple[Code, int]] = []
        stack: list[tuple[Code, int]] = [(c, 0) for c in reversed(children[None])]
        while stack:
            code, depth = stack.pop()
            out.append((code, depth))
            stack.extend((child, depth + 1) for child in reversed(children[code.id]))
        if len(out) != len(kept):
            raise ExchangeError("the project's codes have a parent cycle; run `gripcode check`")
        return out

    def _description(self, code: Code) -> str:
        try:
            model = CodebookCode(id=code.slug, name=code.name, definition=code.definition or "",
                                 include=code.include or "", exclude=code.exclude or "",
                                 examples=Examples.model_validate(code.examples or {}),
                                 renamed_from=self.renamed_from.get(code.slug, []), retired=code.status == "retired")
        except ValidationError as exc:
            raise ExchangeError(f"code {code.slug} cannot be described: {exc.errors()[0]['msg']}") from None
        return describe_code(model)

    def codebook_xml(self, notes_on: dict[tuple[str, int], list[str]]) -> list[str]:
        tree = self._code_tree()
        if not tree:
            return []
        self.code_guid = {c.id: _stored_guid(c.refi_guid, f"code {c.slug}") for c, _ in tree}
        lines = ["  <CodeBook>", "    <Codes>"]
        depth_open: list[int] = []
        for code, depth in tree:
            while depth_open and depth_open[-1] >= depth:
                lines.append("      " + "  " * depth_open.pop() + "</Code>")
            indent = "      " + "  " * depth
            attrs = _attrs([("guid", self.code_guid[code.id]), ("name", xml_safe(code.name, f"code {code.slug}'s name")),
                            ("isCodable", "false" if code.status == "retired" else "true"),
                            ("color", hex_colour(code.color))])
            lines.append(f"{indent}<Code{attrs}>")
            description = xml_safe(self._description(code), f"code {code.slug}'s definition, criteria or examples")
            lines.append(f"{indent}  <Description>{escape_text(description)}</Description>")
            lines += [f'{indent}  <NoteRef targetGUID="{g}"/>' for g in notes_on.get(("code", code.id), [])]
            depth_open.append(depth)
        while depth_open:
            lines.append("      " + "  " * depth_open.pop() + "</Code>")
        lines += ["    </Codes>", "  </CodeBook>"]
        self.code_count = len(tree)
        return lines

    def _resolve_code(self, code_id: int) -> int:
        """The exported code a coding belongs to (a coding left on a merged code follows the merge)."""
        by_id = self.code_by_id
        seen = set()
        while code_id not in self.code_guid and code_id in by_id and code_id not in seen:
            seen.add(code_id)
            target = by_id[code_id].merged_into_id
            if target is None:
                break
            code_id = target
        if code_id not in self.code_guid:
            raise ExchangeError(f"coding on code {by_id[code_id].slug if code_id in by_id else code_id}, "
                                "which is not exported; run `gripcode check`")
        return code_id

    # notes -----------------------------------------------------------------------------------------------

    def _note(self, guid: str, name: str | None, user: str | None, when: dt.datetime | None, text: str,
              what: str) -> list[str]:
        attrs = _attrs([("guid", guid), ("name", xml_safe(name, what + " title") if name else None),
                        ("creatingUser", user), ("creationDateTime", _when(when))])
        return [f"    <Note{attrs}>", f"      <PlainTextContent>{escape_text(xml_safe(text, what))}</PlainTextContent>",
                "    </Note>"]

    def notes(self) -> tuple[list[str], dict[tuple[str, int], list[str]], list[str]]:
        """Note elements of the memos, the notes each object refers to, and the project's own notes. The notes of
        speaker turns and of codings' memo fields follow as the sources are written (``sources_xml``)."""
        lines: list[str] = []
        on: dict[tuple[str, int], list[str]] = defaultdict(list)
        project: list[str] = []
        coder_names = {c.id: c.name for c in self.coders}
        for memo in self.memos:
            guid = _stored_guid(memo.refi_guid, f"memo {memo.id}")
            lines += self._note(guid, memo.title, self.coder_guid.get(memo.coder_id), memo.created_at, memo.text,
                                f"memo {memo.id} (by {coder_names.get(memo.coder_id)})")
            if memo.target == "project":
                project.append(guid)
            else:
                target = {"document": memo.document_id, "code": memo.code_id, "coding": memo.coding_id}[memo.target]
                on[(memo.target, target)].append(guid)  # type: ignore[index]
        return lines, on, project

    # variables, cases, sources ---------------------------------------------------------------------------

    def variables_xml(self) -> list[str]:
        declared = self.variables.declared()
        if not declared:
            return []
        lines = ["  <Variables>"]
        for _scope, name, kind, guid in declared:
            lines.append(f"    <Variable{_attrs([('guid', guid), ('name', xml_safe(name, 'a variable name')), ('typeOfVariable', kind)])}/>")
        return lines + ["  </Variables>"]

    def cases_xml(self) -> list[str]:
        if not self.cases:
            return []
        members: dict[int, list[str]] = defaultdict(list)
        for doc in self.documents:
            if doc.case_id is not None:
                members[doc.case_id].append(self.doc_guid[doc.id])
        lines = ["  <Cases>"]
        for case in self.cases:
            guid = _stored_guid(case.refi_guid, f"case {case.name}")
            lines.append(f"    <Case{_attrs([('guid', guid), ('name', xml_safe(case.name, 'a case name'))])}>")
            if case.description:
                lines.append(f"      <Description>{escape_text(xml_safe(case.description, f'case {case.name}'))}</Description>")
            lines += self.variables.xml("case", case.id, "      ")
            lines += [f'      <SourceRef targetGUID="{g}"/>' for g in members[case.id]]
            lines.append("    </Case>")
        return lines + ["  </Cases>"]

    def sources_xml(self, notes_on: dict[tuple[str, int], list[str]], report: ExportReport) -> Iterator[str]:
        """The ``Sources`` element, one document at a time; the notes of speaker turns and of codings' memo fields
        go to ``turns_notes`` and ``coding_notes`` for the ``Notes`` element that follows."""
        if not self.documents:
            return
        position = {c.id: c.position for c in self.codes}
        coder_names = {c.id: c.name for c in self.coders}
        code_of: dict[int, int] = {}
        yield "  <Sources>\n"
        texts = self._texts(self.documents)
        batches = self._coding_batches(self.documents, report)
        for at, codings in zip(range(0, len(self.documents), _DOCUMENTS_PER_BATCH), batches):
            by_doc: dict[int, list[_CodingRow]] = defaultdict(list)
            for coding in codings:
                by_doc[coding.document_id].append(coding)
                if coding.code_id not in code_of:
                    code_of[coding.code_id] = self._resolve_code(coding.code_id)
            for doc in self.documents[at:at + _DOCUMENTS_PER_BATCH]:
                read, text = next(texts)
                assert read is doc
                yield self._source_xml(doc, text, by_doc.pop(doc.id, []), notes_on, report, position, coder_names,
                                       code_of)
        yield "  </Sources>\n"

    def _source_xml(self, doc: Document, text: str, codings: list[_CodingRow],
                    notes_on: dict[tuple[str, int], list[str]], report: ExportReport, position: dict[int, int],
                    coder_names: dict[int, str], code_of: dict[int, int]) -> str:
        guid = self.doc_guid[doc.id]
        if needs_turns_note(text, self.turns.get(doc.id, [])):
            note = turns_note_guid(guid)
            self.turns_notes += self._note(note, TURNS_NOTE_NAME, None, doc.imported_at,
                                           turns_note_text(self.turns.get(doc.id, [])),
                                           f"the speaker turns of document {doc.id}")
            notes_on[("document", doc.id)].append(note)
        for coding in codings:
            if coding.memo:
                note = coding_memo_guid(_stored_guid(coding.refi_guid, f"coding {coding.id}"))
                self.coding_notes += self._note(note, CODING_MEMO_NAME, self.coder_guid.get(coding.coder_id),
                                                coding.created_at, coding.memo, f"the memo of coding {coding.id}")
                notes_on[("coding", coding.id)].append(note)
        attrs = _attrs([("guid", guid), ("name", xml_safe(doc.title, f"the title of document {doc.id}")),
                        ("plainTextPath", f"{INTERNAL_PREFIX}{guid}.txt"),
                        ("creationDateTime", _when(doc.imported_at))])
        lines = [f"    <TextSource{attrs}>"]
        spans: dict[tuple[int, int], list[_CodingRow]] = defaultdict(list)
        for coding in codings:
            spans[(coding.start, coding.end)].append(coding)
        for (start, end), group in sorted(spans.items()):
            # By the written (whole-second) time, then name: a re-imported project picks the same coder.
            group.sort(key=lambda c: (c.when or "", coder_names.get(c.coder_id, ""), c.id))
            quote = text[start:end]
            name = quote if xml_unsafe_char(quote) is None else None
            first = group[0]
            # GUIDs, offsets and times need no escaping; the quote does.
            when = f' creationDateTime="{first.when}"' if first.when else ""
            named = f' name="{escape_attr(name)}"' if name is not None else ""
            lines.append(f'      <PlainTextSelection guid="{selection_guid(guid, start, end)}"{named} '
                         f'startPosition="{start}" endPosition="{end}" '
                         f'creatingUser="{self.coder_guid[first.coder_id]}"{when}>')
            group.sort(key=lambda c: (position.get(code_of[c.code_id], 0), coder_names.get(c.coder_id, ""), c.id))
            for coding in group:
                when = f' creationDateTime="{coding.when}"' if coding.when else ""
                lines += [f'        <Coding guid="{coding.refi_guid}" creatingUser="{self.coder_guid[coding.coder_id]}"'
                          f'{when}>', f'          <CodeRef targetGUID="{self.code_guid[code_of[coding.code_id]]}"/>']
                lines += [f'          <NoteRef targetGUID="{g}"/>' for g in notes_on.get(("coding", coding.id), [])]
                lines.append("        </Coding>")
            report.codings += len(group)
            lines.append("      </PlainTextSelection>")
            report.selections += 1
        lines += [f'      <NoteRef targetGUID="{g}"/>' for g in notes_on.get(("document", doc.id), [])]
        lines += self.variables.xml("document", doc.id, "      ")
        lines.append("    </TextSource>")
        return "\n".join(lines) + "\n"

    def source_files(self) -> Iterator[tuple[str, bytes]]:
        """Each document's text as ``<GUID>.txt``, in the order of the names."""
        for doc, text in self._texts(sorted(self.documents, key=lambda d: self.doc_guid[d.id])):
            yield f"{self.doc_guid[doc.id]}.txt", text.encode("utf-8")

    def prepare(self, path: Path) -> ExportReport:
        report = ExportReport(path=path, statuses=self.statuses)
        report.guids_assigned = self.load()  # and the codings' as they are written
        report.memos_left_out = self.memos_left_out
        self.variables = collect_variables(self.cases, self.documents)
        self.note_lines, self.notes_on, self.project_notes = self.notes()
        self.turns_notes: list[str] = []
        self.coding_notes: list[str] = []
        self.codebook_lines = self.codebook_xml(self.notes_on)
        report.users, report.codes, report.cases = len(self.coders), self.code_count, len(self.cases)
        report.documents = len(self.documents)
        return report

    def project_xml(self, report: ExportReport) -> Iterator[str]:
        """``project.qde``, in pieces: the sources one document at a time."""
        users = ["  <Users>"] + [f"    <User{_attrs([('guid', self.coder_guid[c.id]), ('name', xml_safe(c.name, 'a coder name'))])}/>"
                                 for c in self.coders] + ["  </Users>"] if self.coders else []
        statuses = " and ".join(self.statuses)
        description = (f"Exported by gripcode {__version__} from codebook {self.codebook_name}; codings with status "
                       f"{statuses}; positions are Unicode code points of the UTF-8 texts in sources/.")
        root = _attrs([("name", xml_safe(self.name, "the project name")), ("origin", f"gripcode {__version__}")])
        head = ['<?xml version="1.0" encoding="UTF-8"?>',
                f'<Project xmlns="{PROJECT_NS}" xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{SCHEMA_LOCATION}"{root}>']
        head += users + self.codebook_lines + self.variables_xml() + self.cases_xml()
        yield "\n".join(head) + "\n"
        yield from self.sources_xml(self.notes_on, report)
        tail: list[str] = []
        notes = self.note_lines + self.turns_notes + self.coding_notes
        report.notes = len(notes) // 3
        if notes:
            tail += ["  <Notes>", *notes, "  </Notes>"]
        tail.append(f"  <Description>{escape_text(description)}</Description>")
        tail += [f'  <NoteRef targetGUID="{g}"/>' for g in self.project_notes]
        tail += ["</Project>", ""]
        yield "\n".join(tail)


def export_qdpx(session: Session, path: Path, *, include_suggestions: bool = False,
                name: str | None = None) -> ExportReport:
    """Write the project to ``path`` as a .qdpx (the caller's transaction keeps the GUIDs assigned). The XML
    goes into the archive as it is made, one document at a time, never whole in memory."""
    exporter = _Exporter(session, include_suggestions, name)
    report = exporter.prepare(Path(path))
    write_qdpx_streamed(Path(path), exporter.project_xml(report), exporter.source_files())
    return report
