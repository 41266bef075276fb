"""Reading a REFI-QDA project (``.qdpx``) into a gripcode project, new or existing, in one transaction.

Everything is read and checked before anything is written: the archive (paths, sizes), the XML (no DTDs, no
entities), the source texts, and where every selection falls. Then, in the caller's transaction: coders by
name, codes merged into the codebook by GUID and synced as a codebook version, cases (with their attributes)
by GUID or name, documents through the ordinary importer (so they are normalised, deduplicated by text and
segmented into units like any imported file; a text already in the project is reused and receives the
codings), codings as accepted codings of origin ``import``, and memos. A failure anywhere leaves the project
as it was.

Positions are converted as :mod:`gripcode.exchange.qdpx_positions` describes; a selection that cannot be
placed is reported, never silently dropped, and so are selections and sources that are not text.

Memory holds a batch of sources, not the project: the project file is parsed as a stream, and each text
source, as it ends, has its text read and checked and goes with its selections to a spool file in the import's
temporary folder (as tuples, by ``marshal``: twenty times faster to read back than pickled objects), and its
text to a second file there, leaving in memory only what every source needs later (its GUID, fields, note
references, the SHA-256 of its text, where its text is). Whether selections' names are their text is decided
over all sources while they go by. Then the documents are imported (one ``import_items`` over the texts, read
back one at a time), and the spool is read back a batch of sources at a time to place their selections and
insert their codings.
"""

from __future__ import annotations

import datetime as dt
import marshal
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from pathlib import Path
from typing import IO, Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from gripcode.codebook.sync import latest_version
from gripcode.collector import collector_paused
from gripcode.coding.coders import get_or_create_coder
from gripcode.corpus.decode import decode_bytes
from gripcode.corpus.importer import ImportItem, ImportOptions, Segmenter, default_jobs, import_items
from gripcode.corpus.normalize import text_sha256
from gripcode.corpus.parsed import Turn
from gripcode.db.audit import record_event
from gripcode.db.bulk import (
    CopyBehind,
    bulk_cache,
    foreign_keys_checked_once,
    insert_numbered_rows,
    refresh_statistics,
    values_present,
)
from gripcode.db.identity import new_guid, new_versions
from gripcode.db.models import Case, CaseAttribute, Coder, Coding, Document, Event, Memo
from gripcode.db.tombstones import clear_tombstones
from gripcode.errors import DocumentImportError, ExchangeError
from gripcode.exchange.qdpx_archive import ArchiveLimits, QdpxArchive
from gripcode.exchange.qdpx_codebook import merge_codes
from gripcode.exchange.qdpx_export import coding_memo_guid
from gripcode.exchange.qdpx_model import (
    ProjectStream,
    XCode,
    XCoding,
    XNote,
    XProject,
    XSelection,
    XTextSource,
    XValue,
)
from gripcode.exchange.qdpx_positions import ORIGINS, SourceText, detect_origin
from gripcode.exchange.qdpx_read import (
    LoadedSource,
    QdpxImportReport,
    SourceLoader,
    typed_value,
    when,
)
from gripcode.exchange.qdpx_turns import (
    TURNS_NOTE_NAME,
    parse_turns_note,
    turns_note_guid,
)

__all__ = ["QdpxImportReport", "import_qdpx"]

# Values per IN (...) list: far below every backend's limit on bound parameters.
_CHUNK = 500
# A coding's values as codings() hands them to the insert, beside what every coding of an import shares.
_CODING_COLUMNS = ("document_id", "code_id", "coder_id", "start", "end", "quote", "memo", "created_at", "refi_guid",
                   "version")
# Sources read back from the spool at a time: up to this many, or as many as hold this many codings.
_BATCH_SOURCES = 500
_BATCH_CODINGS = 50_000


@dataclass
class _Header:
    """What stays in memory of a text source with text while the import goes on: the source without its
    selections and codings (they wait in the spool), where its text was written, and its text's SHA-256."""

    x: XTextSource
    number: int  # among the sources with text, in file order
    path: Path  # the name the document import knows it by
    text_at: int  # where its text (UTF-8) starts in the texts file, and how many bytes it has
    text_bytes: int
    digest: str
    codings: int
    title: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def _coding_tuple(c: XCoding) -> tuple[Any, ...]:
    return (c.guid, c.code, c.user, c.created, c.note_refs)


class _Workers:
    """The document import's segmenting workers, started as soon as the file has shown as many sources with text
    as make ``import_items`` start them (``default_jobs``), so that they load spaCy while the rest of the file is
    read; stopped once the documents are in, or when the import fails."""

    def __init__(self) -> None:
        self.segmenter: Segmenter | None = None

    def start(self, sources: int) -> None:
        if self.segmenter is None and (jobs := default_jobs(sources)):
            self.segmenter = Segmenter(jobs)

    def stop(self, failed: bool = False) -> None:
        if self.segmenter is not None:
            segmenter, self.segmenter = self.segmenter, None
            segmenter.close(failed)

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.stop(failed=kind is not None)


class _Spool:
    """The first pass over the project file: each text source as it ends. Its text is read (and refused or
    kept), its selections' names counted against the text, its text written for the importer, and the source
    itself written to ``spool``; what memos need of every source is collected on the way."""

    def __init__(self, loader: SourceLoader, tmp: Path, spool: IO[bytes], texts: IO[bytes], origin: str,
                 workers: _Workers) -> None:
        self.loader, self.tmp, self.spool, self.given_origin, self.workers = loader, tmp, spool, origin, workers
        self.texts = texts
        self.stream: ProjectStream | None = None
        self.origin: str | None = None
        self.headers: list[_Header] = []
        self.without_text: list[tuple[str, int]] = []  # (name, selections with codings)
        self.count = 0
        self.named = self.matched = 0
        self.referenced: set[str] = set()  # notes referred to by any source, selection or coding
        self.coding_memos: set[str] = set()  # notes that carry a coding's memo field
        self.turns_notes: set[str] = set()

    def __call__(self, x: XTextSource) -> None:
        if self.origin is None:
            assert self.stream is not None and self.stream.project is not None
            self.origin = self.given_origin if self.given_origin != "auto" else detect_origin(
                self.stream.project.origin, self.stream.project.base_path, self.qde_name)
        number = self.count
        self.count += 1
        self.referenced.update(x.note_refs)
        for sel in x.selections:
            self.referenced.update(sel.note_refs)
        for coding in chain(x.codings, (c for sel in x.selections for c in sel.codings)):
            if coding.note_refs:
                self.referenced.update(coding.note_refs)
                if coding.guid and (memo := coding_memo_guid(coding.guid)) in coding.note_refs:
                    self.coding_memos.add(memo)
        self.turns_notes.add(turns_note_guid(x.guid))
        text = self.loader.text(x, self.tmp, number)
        if text is None:
            self.without_text.append((x.name or x.guid, sum(1 for sel in x.selections if sel.codings)))
            return
        named, matched = self.loader.names_matching(x, text, self.origin)
        self.named, self.matched = self.named + named, self.matched + matched
        loaded = len(self.headers)
        # One file for all texts: a file per source cost half a millisecond each to create, on some disks more.
        encoded = text.text.encode("utf-8")
        at = self.texts.tell()
        self.texts.write(encoded)
        # Each record is its length and its bytes: marshal.load from a file reads it a value at a time.
        record = marshal.dumps(([(sel.guid, sel.name, sel.start, sel.end, sel.user, sel.created, sel.description,
                                  [_coding_tuple(c) for c in sel.codings], sel.note_refs, sel.line)
                                 for sel in x.selections],
                                [_coding_tuple(c) for c in x.codings], text.raw, text.from_word))
        self.spool.write(len(record).to_bytes(8, "little"))
        self.spool.write(record)
        codings = len(x.codings) + sum(len(sel.codings) for sel in x.selections)
        x.selections, x.codings = [], []
        self.headers.append(_Header(x, loaded, self.tmp / f"source-{loaded:06d}.txt", at, len(encoded),
                                    text_sha256(text.text), codings))
        self.workers.start(len(self.headers))

    qde_name = ""

    def text(self, header: _Header) -> str:
        """The text of a source the spool took, read back from the texts file."""
        self.texts.seek(header.text_at)
        return self.texts.read(header.text_bytes).decode("utf-8")

    def batches(self, spool: IO[bytes]) -> Iterator[list[tuple[_Header, LoadedSource]]]:
        """The sources with text back from the spool, a batch at a time, whole again."""
        batch: list[tuple[_Header, LoadedSource]] = []
        codings = 0
        for header in self.headers:
            selections, whole, raw, from_word = marshal.loads(spool.read(int.from_bytes(spool.read(8), "little")))
            x = XTextSource(**{**vars(header.x), "codings": [XCoding(*c) for c in whole], "selections": [
                XSelection(guid, name, start, end, user, created, description, [XCoding(*c) for c in codings],
                           note_refs, line)
                for guid, name, start, end, user, created, description, codings, note_refs, line in selections]})
            text = SourceText(raw, from_word=from_word)
            batch.append((header, LoadedSource(x, text, header.title, header.fields, header.meta)))
            codings += header.codings
            if len(batch) >= _BATCH_SOURCES or codings >= _BATCH_CODINGS:
                yield batch
                batch, codings = [], 0
        if batch:
            yield batch


class _Importer:
    def __init__(self, session: Session, archive: QdpxArchive, project: XProject, report: QdpxImportReport, *,
                 actor: str, sets_as_cases: bool, language: str) -> None:
        self.s, self.archive, self.p, self.report = session, archive, project, report
        self.actor, self.sets_as_cases, self.language = actor, sets_as_cases, language
        self.variables = {v.guid: v for v in project.variables}
        self.users = {u.guid: u.name or f"user-{u.guid[:8]}" for u in project.users}
        self.coders: dict[str, Coder] = {}
        self.coder_ids: dict[str | None, int] = {}  # a user's GUID (None: nobody named) -> coder id
        self.notes_by_guid = {n.guid: n for n in project.notes}
        # Across batches: digests in the project before the import, queued for import, and named in the report.
        self.present: set[str] = set()
        self.named: set[str] = set()
        self.case_ids: dict[str, int] | None = None
        self.dangling = 0
        # Memo targets found while codings are inserted, in the order the memos claim them.
        self.coding_claims: list[tuple[str, int]] = []
        self.source_claims: list[tuple[str, str, int | None]] = []

    def coder(self, guid: str | None) -> Coder:
        if guid is not None and guid in self.users:
            name = self.users[guid]
        else:
            name = f"import@{self.report.origin if self.report.origin != 'unknown' else 'qdpx'}"
        if name not in self.coders:
            existed = self.s.scalar(select(Coder.id).where(Coder.name == name)) is not None
            coder = get_or_create_coder(self.s, name[:200], actor=self.actor)
            if not existed:
                self.report.coders_added.append(coder.name)
                # A new coder keeps the file's identity for the user, unless another coder holds it.
                if guid is not None and guid in self.users and \
                        self.s.scalar(select(Coder.id).where(Coder.refi_guid == guid)) is None:
                    coder.refi_guid = guid
            self.coders[name] = coder
        return self.coders[name]

    def cases(self) -> dict[str, str]:
        """Create or find the cases; returns source GUID -> case name."""
        specs = [(c.guid, c.name, c.description, c.values, c.sources) for c in (self.p.cases or [])]
        source_sets = [s for s in self.p.sets if s.sources]
        if source_sets and (not specs or self.sets_as_cases):
            self.report.cases_from_sets = True
            specs += [(s.guid, s.name or f"set {s.guid[:8] if s.guid else '?'}", s.description, [], s.sources)
                      for s in source_sets]
        elif source_sets:
            self.report.warnings.append(f"{len(source_sets)} set(s) of sources were not made into cases because the "
                                        "file has cases; use --sets-as-cases to have them too")
        code_sets = sum(1 for s in self.p.sets if not s.sources)
        if code_sets:
            self.report.warnings.append(f"{code_sets} set(s) of codes or notes were not imported (gripcode has no sets)")
        case_of: dict[str, str] = {}
        for guid, name, description, values, members in specs:
            case = None
            if guid is not None:
                case = self.s.scalar(select(Case).where(Case.refi_guid == guid))
            if case is None:
                case = self.s.scalar(select(Case).where(Case.name == name[:200]))
            if case is None:
                taken = guid is not None and self.s.scalar(select(Case.id).where(Case.refi_guid == guid)) is not None
                case = Case(name=name[:200], description=description.strip() or None,
                            **({} if taken or guid is None else {"refi_guid": guid}))
                self.s.add(case)
                self.s.flush()
                record_event(self.s, self.actor, "case.added", "case", case.id, name=case.name, by="qdpx import")
                self.report.cases_added.append(case.name)
            elif case.name not in self.report.cases_reused:
                self.report.cases_reused.append(case.name)
            self._attributes(case, values)
            for member in members:
                if member in case_of and case_of[member] != case.name:
                    self.report.warnings.append(f"a source is in cases {case_of[member]} and {case.name}; "
                                                f"gripcode keeps one case per document: {case_of[member]}")
                    continue
                case_of[member] = case.name
        self.s.flush()
        return case_of

    def _attributes(self, case: Case, values: list[XValue]) -> None:
        existing = {a.key: a for a in case.attributes}
        for value in values:
            variable = self.variables.get(value.variable)
            if variable is None or not value.text:
                continue
            key = variable.name[:100] or value.variable
            kind, converted = typed_value(variable.type, value.text)
            if key in existing:
                if existing[key].value != converted:
                    self.report.warnings.append(f"case {case.name}: attribute {key} is {existing[key].value!r} in "
                                                f"the project and {converted!r} in the file; kept the project's")
                continue
            attribute = CaseAttribute(key=key, value_type=kind, value_text=converted if kind == "text" else None,
                                      value_number=converted if kind == "number" else None,
                                      value_date=converted if kind == "date" else None)
            case.attributes.append(attribute)
            existing[key] = attribute

    def _ids_by_digest(self, digests: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        ordered = sorted(digests)
        for at in range(0, len(ordered), _CHUNK):
            found.update(self.s.execute(select(Document.sha256, Document.id).where(
                Document.sha256.in_(ordered[at:at + _CHUNK]))).tuples().all())
        return found

    def import_documents(self, spool: _Spool, case_of: dict[str, str], segmenter: Segmenter | None = None,
                         new_project: bool = False) -> None:
        """Import the texts that are not in the project yet, once each, as one import (segmented by
        ``segmenter`` when one was started and the import is large enough for it)."""
        headers = spool.headers
        self.present = set(self._ids_by_digest({h.digest for h in headers}))
        items, queued = [], set()
        for header in headers:
            if header.digest in self.present or header.digest in queued:
                continue
            queued.add(header.digest)
            fields = header.fields
            items.append(ImportItem(header.path, ImportOptions(
                case=case_of.get(header.x.guid), kind=fields.get("kind"),
                language=fields.get("language") or self.language, date=fields.get("date"), title=header.title,
                source=fields.get("source"), metadata=header.meta, turns=self._turns(header, spool)),
                text=partial(spool.text, header)))
        if items:
            import_items(self.s, items, actor=self.actor,
                         segmenter=segmenter if segmenter is not None and default_jobs(len(items)) else None,
                         new_project=new_project)

    def documents(self, sources: list[LoadedSource], digests: list[str], case_of: dict[str, str]) -> None:
        """Give a batch of sources their documents (imported or already present) and their fields: the
        documents read in one statement per 500 and changed by one executemany per field."""
        ids = self._ids_by_digest(set(digests))
        doc_ids = sorted(set(ids.values()))
        docs: dict[int, list[Any]] = {}  # id -> [title, case_id, refi_guid]
        for at in range(0, len(doc_ids), _CHUNK):
            for doc_id, title, case_id, refi_guid in self.s.execute(
                    select(Document.id, Document.title, Document.case_id, Document.refi_guid)
                    .where(Document.id.in_(doc_ids[at:at + _CHUNK]))):
                docs[doc_id] = [title, case_id, refi_guid]
        guids = sorted({source.x.guid for source in sources})
        taken: set[str] = set()
        for at in range(0, len(guids), _CHUNK):
            taken.update(self.s.scalars(select(Document.refi_guid)
                                        .where(Document.refi_guid.in_(guids[at:at + _CHUNK]))))
        if self.case_ids is None:
            self.case_ids = dict(self.s.execute(select(Case.name, Case.id)).tuples().all())
        changes: dict[str, dict[int, Any]] = {"case_id": {}, "original_name": {}, "refi_guid": {}}
        named = self.named
        for source, digest in zip(sources, digests):
            source.doc_id = ids[digest]
            doc = docs[source.doc_id]
            if digest in self.present:
                if digest not in named:
                    self.report.documents_reused.append(doc[0])
                case_name = case_of.get(source.x.guid)
                case_id = self.case_ids.get(case_name) if case_name else None
                if doc[1] is None:
                    if case_id is not None:
                        doc[1] = changes["case_id"][source.doc_id] = case_id
                elif case_id is not None and case_id != doc[1]:
                    self.report.warnings.append(f"document {doc[0]!r} is already in another case; kept there, "
                                                f"not moved to {case_name}")
            elif digest not in named:
                self.report.documents_added.append(doc[0])
                given = source.x.plain_path or source.x.rich_path or source.title
                changes["original_name"][source.doc_id] = re.sub(r"^internal://", "", given.strip(),
                                                                 flags=re.IGNORECASE)[:500]
            named.add(digest)
            if (digest not in self.present and source.x.guid and doc[2] != source.x.guid
                    and source.x.guid not in taken):
                doc[2] = changes["refi_guid"][source.doc_id] = source.x.guid  # a new document keeps the file's
                taken.add(source.x.guid)  # identity
        table = Document.__table__
        for column, values in changes.items():
            if values:
                self.s.execute(table.update().where(table.c.id == bindparam("doc_id"))
                               .values({column: bindparam("value")}),
                               [{"doc_id": doc_id, "value": value} for doc_id, value in values.items()])

    def _turns(self, header: _Header, spool: _Spool) -> list[Turn] | None:
        """The speaker turns gripcode wrote in a note on the source, when it did and they fit its text."""
        guid = turns_note_guid(header.x.guid)
        if guid not in header.x.note_refs or guid not in self.notes_by_guid:
            return None
        found = parse_turns_note(self._note_text(self.notes_by_guid[guid]), spool.text(header))
        source = header
        if isinstance(found, str):
            self.report.warnings.append(f"{source.title}: speaker turns looked for in the text, not taken from "
                                        f"the note {TURNS_NOTE_NAME!r}: {found}")
            return None
        return found

    def codings(self, sources: list[LoadedSource], code_ids: dict[str, int], version_id: int | None,
                behind: CopyBehind | None = None) -> None:
        """Insert a batch of sources' codings, and note what memos will refer to (codings already in the
        project included).

        A coding is a tuple of its values from here to the driver (``insert_numbered_rows``): a dictionary per
        coding, and SQLAlchemy's defaults called per row, cost more than the insert. A selection's quote is cut
        from the text once for all its codings, and only codings that notes refer to are kept for the memos."""
        doc_ids = sorted({s.doc_id for s in sources if s.doc_id is not None})
        # (document, code, coder, start, end) -> id of a coding in the project, or None for one added here
        known: dict[tuple[int, int, int, int, int], int | None] = {}
        for at in range(0, len(doc_ids), _CHUNK):
            for row in self.s.execute(select(Coding.id, Coding.document_id, Coding.code_id, Coding.coder_id,
                                             Coding.start, Coding.end)
                                      .where(Coding.document_id.in_(doc_ids[at:at + _CHUNK]))):
                known[(row.document_id, row.code_id, row.coder_id, row.start, row.end)] = row.id
        values: list[tuple[Any, ...]] = []  # without the GUID, given below
        guids: list[str | None] = []
        keys: list[tuple[int, int, int, int, int]] = []
        links: list[tuple[XCoding, XSelection | None, tuple[int, int, int, int, int]]] = []  # those with notes
        now = dt.datetime.now(dt.UTC)
        coder_ids = self.coder_ids
        report = self.report
        for source in sources:
            doc_id = source.doc_id
            assert doc_id is not None
            text = source.text.text
            source_user = source.x.user
            left, right = len(text) - len(text.lstrip()), len(text.rstrip())
            report.codings_whole_source += len(source.x.codings)
            spans: list[tuple[XSelection | None, list[XCoding], int, int]] = [
                (sel, sel.codings, p.start, p.end) for sel, p in source.placed if sel.codings]
            if source.x.codings:
                spans.append((None, source.x.codings, left, right))
            for sel, codings, start, end in spans:
                quote = text[start:end]
                if sel is not None:
                    sel_user, sel_created, sel_notes = sel.user, sel.created, sel.note_refs
                    described = sel.description.strip() or None
                else:
                    sel_user = sel_created = described = None
                    sel_notes = []
                for coding in codings:
                    code_id = code_ids.get(coding.code)
                    if code_id is None:
                        self.dangling += 1
                        continue
                    user = coding.user or sel_user or source_user
                    coder_id = coder_ids.get(user)
                    if coder_id is None:
                        coder_id = coder_ids[user] = self.coder(user).id
                    key = (doc_id, code_id, coder_id, start, end)
                    note_refs = coding.note_refs
                    if note_refs or sel_notes:
                        links.append((coding, sel, key))
                    if key in known:
                        report.codings_present += 1
                        continue
                    known[key] = None
                    memo = self._notes_text([g for g in note_refs if coding.guid
                                             and g == coding_memo_guid(coding.guid)]) if note_refs else None
                    if memo is None:
                        memo = described
                    keys.append(key)
                    guids.append(coding.guid)
                    values.append((doc_id, code_id, coder_id, start, end, quote, memo,
                                   when(coding.created or sel_created) or now))
        if values:
            # Codings keep the file's GUIDs, so that a project exported and read back (or merged) is recognised
            # by identity; a GUID the file lacks, repeats or that the project holds already gets a new one.
            connection = self.s.connection()
            taken = values_present(connection, Coding.__table__.c.refi_guid, sorted({guid for guid in guids if guid}))
            for index, guid in enumerate(guids):
                if not guid or guid in taken:
                    guid = guids[index] = new_guid()
                taken.add(guid)
            rows = [(*value, guid, version) for value, guid, version in zip(values, guids, new_versions(len(values)))]
            # A coding read back under the GUID of one removed here is no longer removed (for a merge).
            clear_tombstones(connection, "coding", [(guid, None) for guid in guids])
            # (On PostgreSQL the COPY goes on while the next batch is read and placed: ``behind``.)
            ids = insert_numbered_rows(connection, Coding.__table__, _CODING_COLUMNS, rows, {
                "origin": "import", "status": "accepted", "codebook_version_id": version_id, "updated_at": now},
                behind)
            known.update(zip(keys, ids))
        report.codings_added += len(values)
        first_of_selection: dict[int, int | None] = {}
        for coding, sel, key in links:
            if sel is not None and sel.note_refs:
                first_of_selection.setdefault(id(sel), known[key])
            for guid in coding.note_refs:
                if not (coding.guid and guid == coding_memo_guid(coding.guid)):
                    self.coding_claims.append((guid, known[key]))  # type: ignore[arg-type]
        for source in sources:
            for guid in source.x.note_refs:
                self.source_claims.append((guid, "document", source.doc_id))
            for sel, _placement in source.placed:
                for guid in sel.note_refs:
                    if id(sel) in first_of_selection:
                        self.source_claims.append((guid, "coding", first_of_selection[id(sel)]))
                    else:
                        self.source_claims.append((guid, "document", source.doc_id))

    def dangling_codings(self) -> None:
        if self.dangling:
            self.report.warnings.append(f"{self.dangling} coding(s) name a code that is not in the file's codebook; "
                                        "they were left out")

    def _notes_text(self, guids: list[str]) -> str | None:
        notes = self.notes_by_guid
        texts = [t for t in (self._note_text(notes[g]) for g in guids if g in notes) if t]
        return "\n\n".join(texts) if texts else None

    def _note_text(self, note: XNote) -> str:
        if note.content is not None:
            return str(note.content).strip()
        member = self.archive.resolve(note.plain_path)
        if member is None:
            return ""
        try:
            return decode_bytes(self.archive.read(member), name=member).strip()
        except DocumentImportError:
            return ""

    def memos(self, code_ids: dict[str, int], spool: _Spool) -> None:
        target: dict[str, tuple[str, int | None]] = {}

        def claim(guid: str, kind: str, object_id: int | None) -> None:
            target.setdefault(guid, (kind, object_id))

        for guid in self.p.note_refs:
            claim(guid, "project", None)
        for code in _walk_codes(self.p.codes):
            for guid in code.note_refs:
                if code.guid in code_ids:
                    claim(guid, "code", code_ids[code.guid])
        for guid, coding_id in self.coding_claims:
            claim(guid, "coding", coding_id)
        for guid, kind, object_id in self.source_claims:
            claim(guid, kind, object_id)
        # Notes that carry a coding's memo field: never separate memos, even when the coding was already present.
        coding_memos = spool.coding_memos
        referenced = set(self.p.note_refs) | {g for code in _walk_codes(self.p.codes) for g in code.note_refs}
        referenced |= spool.referenced
        # Notes that carry a source's speaker turns are read with the source, not kept as memos.
        turns_notes = spool.turns_notes
        fallback = 0
        revived: list[tuple[str | None, str | None]] = []
        for note in self.p.notes:
            if note.guid in coding_memos and note.guid not in target:
                continue  # carried in its coding's memo field
            if note.guid in turns_notes and note.name == TURNS_NOTE_NAME:
                continue
            if self.s.scalar(select(Memo.id).where(Memo.refi_guid == note.guid)) is not None:
                self.report.memos_present += 1
                continue
            text = self._note_text(note)
            if not text:
                continue
            kind, object_id = target.get(note.guid, ("project", None))
            if object_id is None and (kind != "project" or note.guid in referenced and note.guid not in target):
                kind, fallback = "project", fallback + 1
            memo = Memo(target=kind, text=text, title=note.name[:300] or None, refi_guid=note.guid or new_guid(),
                        coder_id=self.coder(note.user).id,
                        document_id=object_id if kind == "document" else None,
                        code_id=object_id if kind == "code" else None,
                        coding_id=object_id if kind == "coding" else None)
            created = when(note.created)
            if created is not None:
                memo.created_at = created
            self.s.add(memo)
            revived.append((memo.refi_guid, None))
            self.report.memos_added += 1
        if fallback:
            self.report.warnings.append(f"{fallback} memo(s) about something that was not imported (a selection "
                                        "that could not be placed, a source that is not text) were put on the project")
        self.s.flush()
        clear_tombstones(self.s.connection(), "memo", revived)


def _walk_codes(codes: list[XCode]) -> list[XCode]:
    out: list[XCode] = []
    for code in codes:
        out.append(code)
        out.extend(_walk_codes(code.children))
    return out


def import_qdpx(session: Session, path: Path, *, actor: str, origin: str = "auto", sets_as_cases: bool = False,
                language: str = "en", limits: ArchiveLimits | None = None) -> QdpxImportReport:
    """Import the .qdpx at ``path`` into the project (the caller's transaction). ``origin`` names the program
    that wrote it (``auto``: from the file) and decides how positions are counted first."""
    with collector_paused():  # its objects hold no cycles; the collector took a tenth of the time
        return _import_qdpx(session, path, actor=actor, origin=origin, sets_as_cases=sets_as_cases,
                            language=language, limits=limits)


def _import_qdpx(session: Session, path: Path, *, actor: str, origin: str, sets_as_cases: bool, language: str,
                 limits: ArchiveLimits | None) -> QdpxImportReport:
    path = Path(path)
    if origin != "auto" and origin not in ORIGINS:
        raise ExchangeError(f"unknown origin {origin!r}; use auto or one of {', '.join(ORIGINS)}")
    report = QdpxImportReport(file=path.name)
    # Documents are segmented in worker processes that the spool starts once the file has shown enough sources
    # for them (they load spaCy while the rest is read); they end once the documents are in, or the import fails.
    # SQLite keeps more of the codings' indexes in memory meanwhile (bulk_cache).
    with QdpxArchive(path, limits) as archive, tempfile.TemporaryDirectory(prefix="gripcode-qdpx-") as tmp_name, \
            _Workers() as workers, bulk_cache(session.connection()):
        tmp = Path(tmp_name)
        loader = SourceLoader(archive, [], report)
        with (tmp / "sources.marshal").open("w+b") as spool_file, (tmp / "texts.utf8").open("w+b") as texts:
            spool = _Spool(loader, tmp, spool_file, texts, origin, workers)
            spool.qde_name = archive.qde_name
            stream = spool.stream = ProjectStream(f"{archive.qde_name} in {path.name}", spool)
            for piece in archive.stream_qde():
                stream.feed(piece)
            project = stream.close()
            report.origin_given = origin != "auto"
            report.origin = origin if origin != "auto" else detect_origin(project.origin, project.base_path,
                                                                          archive.qde_name)
            report.non_text = dict(project.non_text)
            report.non_text_codings = project.non_text_codings
            names_are_text = spool.named > 0 and spool.matched * 2 >= spool.named
            loader.variables = {v.guid: v for v in project.variables}
            for header in spool.headers:
                header.fields, header.meta = loader._document_fields(header.x)
                x = header.x
                header.title = (x.name or Path(x.plain_path or x.rich_path or "").name
                                or f"source {x.guid[:8]}")[:500]
            work = _Importer(session, archive, project, report, actor=actor, sets_as_cases=sets_as_cases,
                             language=language)

            # The audit event is written first: SQLite's Python driver opens a transaction only at the first
            # INSERT, and a savepoint (creating a coder takes one) released before that would commit on its own.
            event = Event(actor=actor, action="qdpx.imported", entity="project", details={"file": path.name})
            session.add(event)
            session.flush()
            for guid in sorted(work.users, key=lambda g: work.users[g]):
                work.coder(guid)
            name = project.name or path.stem
            merge = merge_codes(session, project.codes, codebook_name=name,
                                note=f"Imported from the REFI-QDA project {path.name}"
                                     + (f" (origin: {project.origin})" if project.origin else "") + ".", actor=actor)
            report.codes_added, report.codes_reused = merge.added, merge.reused
            report.codebook_version = merge.version.id if merge.version is not None else None
            case_of = work.cases()
            # A project made from this file (no documents before it) is one nobody works in yet: its codings may
            # have their keys checked once at the end (db/bulk.foreign_keys_checked_once), which locks it.
            new_project = session.scalar(select(Document.id).limit(1)) is None
            work.import_documents(spool, case_of, workers.segmenter, new_project)
            workers.stop()
            version = latest_version(session)
            version_id = version.id if version is not None else None
            spool_file.seek(0)
            with foreign_keys_checked_once(session.connection(), Coding.__table__,
                                           sum(header.codings for header in spool.headers) if new_project else 0), \
                    CopyBehind(session.connection()) as behind:
                for batch in spool.batches(spool_file):
                    sources = [source for _header, source in batch]
                    for source in sources:
                        loader.place_selections(source, report.origin, names_are_text)
                    behind.wait()  # the previous batch's codings are in
                    work.documents(sources, [header.digest for header, _source in batch], case_of)
                    work.codings(sources, merge.by_guid, version_id, behind)
            for name_of, missing in spool.without_text:
                loader.unplaced_without_text(name_of, missing)
            work.dangling_codings()
            work.memos(merge.by_guid, spool)
        report.warnings[:0] = loader.field_warnings
    event.details = {"file": path.name, "origin": report.origin, "documents_added": len(report.documents_added),
                     "documents_reused": len(report.documents_reused), "codes_added": len(report.codes_added),
                     "codings_added": report.codings_added, "memos_added": report.memos_added,
                     "unplaced": report.unplaced, "non_text": report.non_text}
    session.flush()
    refresh_statistics(session.connection(), report.codings_added, Coding.__table__)  # documents: import_items
    return report
