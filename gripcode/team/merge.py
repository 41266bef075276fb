"""``merge``: another copy's work brought into this project in one transaction, by identity.

Every coding has a GUID and a version (a new one at each change, the old ones kept in ``team_history``); a removed
coding or memo leaves a tombstone. For each coding the two copies hold, the merge asks which one knows the other's
version: the one that does is the newer, and an edit (span, code, status, memo) of the other copy is taken only
when this project has not moved on from the version the copy changed. A coding the copy removed is removed here
if this project did not change it since; a coding the copy never had is left alone. The same coding changed
differently in both, or removed in one and changed in the other, is a conflict: reported, and left as it is here.
Merging the same copy twice changes nothing the second time.

Rows are read in bulk (keyed by GUID, a few thousand per query) and written in bulk (``db/bulk``); the plan is
made before anything is written, so a dry run prints exactly what the merge would do.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.orm import Session

from gripcode.db.audit import record_event
from gripcode.db.bulk import chunks, fetch_rows, insert_numbered, insert_rows, refresh_statistics
from gripcode.db.engine import make_engine, transaction
from gripcode.db.migrate import SCHEMA_HEAD, SCHEMA_REVISIONS, current_revision, init_database
from gripcode.db.models import (
    Case,
    CaseAttribute,
    Code,
    CodebookVersion,
    Coder,
    Coding,
    Document,
    Memo,
    TeamAlias,
    TeamHistory,
    TeamTombstone,
    Unit,
)
from gripcode.db.tombstones import clear_tombstones
from gripcode.errors import DatabaseError, GripcodeError
from gripcode.team.identity import project_id, read_info
from gripcode.team.tables import write_rows

__all__ = ["MergeReport", "merge_project", "open_other"]

# What a coding says; a difference in any of these is an edit.
CONTENT = ("document_id", "code_id", "coder_id", "start", "end", "quote", "origin", "status", "confidence", "memo",
           "reviewed_by_id")
# What a REFI-QDA file says of a coding: a .qdpx is compared on these only (it has no origin, status or version).
QDPX_CONTENT = ("document_id", "code_id", "coder_id", "start", "end", "memo")
_CODING_COLUMNS = ("id", "refi_guid", "version", *CONTENT, "rule_ref", "model_ref", "codebook_version_id",
                   "reviewed_at", "created_at", "updated_at")
_MEMO_COLUMNS = ("id", "refi_guid", "target", "document_id", "code_id", "coding_id", "coder_id", "title", "text",
                 "created_at")
_SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass
class MergeReport:
    source: str
    source_project: str | None = None
    copied_from: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lines: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(self.counts.values())


# -------------------------------------------------------------------------------------------- the other copy


@contextmanager
def open_other(path: Path, *, actor: str) -> Iterator[tuple[Engine, str]]:
    """An engine on the project at ``path`` (a gripcode SQLite file, or a .qdpx read into a scratch project)."""
    path = Path(path)
    if not path.exists():
        raise GripcodeError(f"there is no file {path}")
    if not path.is_file():
        raise GripcodeError(f"{path} is not a file")
    if path.suffix.lower() == ".qdpx":
        with tempfile.TemporaryDirectory(prefix="gripcode-merge-") as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'qdpx.db'}")
            try:
                init_database(engine)
                from gripcode.exchange.qdpx_import import import_qdpx

                with transaction(engine) as session:
                    import_qdpx(session, path, actor=actor)
                yield engine, "qdpx"
            finally:
                engine.dispose()
        return
    with open(path, "rb") as handle:
        if handle.read(16) != _SQLITE_HEADER:
            raise GripcodeError(f"{path} is not a gripcode project (not a SQLite file, nor a .qdpx)")
    engine = make_engine(f"sqlite:///{path}")
    try:
        revision = current_revision(engine)
        if revision is None:
            raise DatabaseError(f"{path} is not a gripcode project (a SQLite file without gripcode's tables)")
        if revision not in SCHEMA_REVISIONS:
            raise DatabaseError(f"{path} is at schema {revision}, which a newer gripcode made (this one knows "
                                f"schemas up to {SCHEMA_HEAD}); upgrade gripcode to merge it")
        if revision != SCHEMA_HEAD:
            raise DatabaseError(f"{path} is at schema {revision}, an older one; upgrade it first: "
                                f"`gripcode --db {path} db upgrade`")
        yield engine, "project"
    finally:
        engine.dispose()


@dataclass
class _Side:
    """What the merge needs of one project, as plain values."""

    versions: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, hash, name, synced_by
    codes: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # id -> guid, slug, name
    coders: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # id -> guid, name, kind
    cases: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> guid, name
    documents: dict[int, tuple[str, str, str, int | None]] = field(default_factory=dict)  # guid, sha, title, case
    codings: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # guid -> row in _CODING_COLUMNS order
    memos: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # guid -> row in _MEMO_COLUMNS order
    history: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # coding guid -> versions
    tombstones: dict[tuple[str, str], str | None] = field(default_factory=dict)  # (entity, guid) -> version
    # another copy's coding GUID -> (GUID here, its version then, the version here then): see TeamAlias
    aliases: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)


def _read_common(conn: Connection, side: _Side) -> None:
    side.versions = [tuple(r) for r in conn.execute(select(  # type: ignore[misc]
        CodebookVersion.id, CodebookVersion.content_hash, CodebookVersion.name, CodebookVersion.synced_by)
        .order_by(CodebookVersion.id))]
    side.codes = {r[0]: (r[1], r[2], r[3]) for r in conn.execute(select(Code.id, Code.refi_guid, Code.slug,
                                                                          Code.name))}
    side.coders = {r[0]: (r[1], r[2], r[3]) for r in conn.execute(select(Coder.id, Coder.refi_guid, Coder.name,
                                                                           Coder.kind))}
    side.cases = {r[0]: (r[1], r[2]) for r in conn.execute(select(Case.id, Case.refi_guid, Case.name))}
    side.documents = {r[0]: (r[1], r[2], r[3], r[4]) for r in conn.execute(
        select(Document.id, Document.refi_guid, Document.sha256, Document.title, Document.case_id))}


def _read_source(conn: Connection) -> _Side:
    side = _Side()
    _read_common(conn, side)
    table = Coding.__table__
    side.codings = {r[1]: tuple(r) for r in conn.execute(select(*(table.c[c] for c in _CODING_COLUMNS)))}
    memos = Memo.__table__
    side.memos = {r[1]: tuple(r) for r in conn.execute(select(*(memos.c[c] for c in _MEMO_COLUMNS)))}
    for guid, version in fetch_rows(conn, select(TeamHistory.guid, TeamHistory.version)
                                    .where(TeamHistory.entity == "coding")):
        side.history[guid].add(version)
    side.tombstones = {(e, g): v for e, g, v in fetch_rows(conn, select(
        TeamTombstone.entity, TeamTombstone.guid, TeamTombstone.version))}
    return side


def _read_codings(conn: Connection, side: _Side, guids: list[str]) -> None:
    table = Coding.__table__
    for part in chunks(guids):
        for row in conn.execute(select(*(table.c[c] for c in _CODING_COLUMNS)).where(table.c.refi_guid.in_(part))):
            side.codings[row[1]] = tuple(row)
        for guid, version in fetch_rows(conn, select(TeamHistory.guid, TeamHistory.version).where(
                TeamHistory.entity == "coding", TeamHistory.guid.in_(part))):
            side.history[guid].add(version)
        for guid, version in fetch_rows(conn, select(TeamTombstone.guid, TeamTombstone.version).where(
                TeamTombstone.entity == "coding", TeamTombstone.guid.in_(part))):
            side.tombstones[("coding", guid)] = version


def _read_target(conn: Connection, source: _Side) -> _Side:
    """This project's rows that the source names (by GUID, or by an alias a merge recorded), read a few thousand
    GUIDs at a time."""
    side = _Side()
    _read_common(conn, side)
    coding_guids = sorted({*source.codings, *(g for e, g in source.tombstones if e == "coding")})
    memo_guids = sorted({*source.memos, *(g for e, g in source.tombstones if e == "memo")})
    _read_codings(conn, side, coding_guids)
    for part in chunks(coding_guids):
        for guid, target, version, target_version in fetch_rows(conn, select(
                TeamAlias.guid, TeamAlias.target, TeamAlias.version, TeamAlias.target_version).where(
                TeamAlias.entity == "coding", TeamAlias.guid.in_(part))):
            side.aliases[guid] = (target, version, target_version)
    _read_codings(conn, side, sorted({a[0] for a in side.aliases.values()} - set(side.codings)))
    memos = Memo.__table__
    for part in chunks(memo_guids):
        for row in conn.execute(select(*(memos.c[c] for c in _MEMO_COLUMNS)).where(memos.c.refi_guid.in_(part))):
            side.memos[row[1]] = tuple(row)
        for guid, version in fetch_rows(conn, select(TeamTombstone.guid, TeamTombstone.version).where(
                TeamTombstone.entity == "memo", TeamTombstone.guid.in_(part))):
            side.tombstones[("memo", guid)] = version
    return side


# -------------------------------------------------------------------------------------------------- checks


def _check_codebooks(source: _Side, target: _Side, kind: str, other: Path) -> None:
    """Refuse to merge when the copy was coded against a codebook this project does not have."""
    target_codes = {guid: (slug, name) for guid, slug, name in target.codes.values()}
    renamed = [f"code {slug!r} is named {target_codes[guid][1]!r} here and {name!r} in {other.name}"
               for guid, slug, name in source.codes.values()
               if guid in target_codes and target_codes[guid][1] != name]
    if kind == "project" and source.versions:
        hashes = {v[1] for v in target.versions}
        newest = source.versions[-1]
        if newest[1] not in hashes:
            ours = target.versions[-1] if target.versions else None
            both = ours is not None and ours[1] not in {v[1] for v in source.versions}
            problems = [*renamed]
            if both:
                problems.insert(0, "both projects have synced a codebook the other does not have")
            raise GripcodeError(
                f"{other.name} was coded against codebook {newest[2]!r} (version {newest[1][:12]}, synced by "
                f"{newest[3]}), which this project does not have; nothing was merged. Make the codebooks agree "
                f"first: sync the same codebook YAML here (`gripcode codebook sync FILE`)"
                + (f", and in the copy (`gripcode --db {other} codebook sync FILE`)" if both else "")
                + ", then merge again." + "".join(f"\n  {p}" for p in problems))
    used = {source.codes[row[4]][0] for row in source.codings.values()} | {
        source.codes[row[4]][0] for row in source.memos.values() if row[4] is not None}
    missing = sorted(source.codes[i][1] for i, (guid, _, _) in source.codes.items()
                     if guid in used and guid not in target_codes)
    if missing:
        raise GripcodeError(f"{other.name} uses code(s) this project does not have: {', '.join(missing)}; "
                            "nothing was merged. Sync the codebook that has them here (`gripcode codebook sync "
                            "FILE`), then merge again.")


# ---------------------------------------------------------------------------------------------------- merge


class _Merge:
    def __init__(self, session: Session, source_engine: Engine, kind: str, other: Path, report: MergeReport,
                 actor: str) -> None:
        self.session, self.t = session, session.connection()
        self.source_engine, self.kind, self.other, self.report, self.actor = source_engine, kind, other, report, actor

    def line(self, text: str) -> None:
        self.report.lines.append(text)

    def run(self, dry_run: bool) -> None:
        with self.source_engine.connect() as sconn:
            self.s = _read_source(sconn)
            info = read_info(sconn)
            self.report.source_project = info.get("project_id")
            self.report.copied_from = info.get("copied_from")
            if self.same_database():
                raise GripcodeError(f"{self.other.name} is this project's own database; nothing to merge")
            if self.report.source_project is not None and self.report.source_project == project_id(self.t):
                self.line(f"note: {self.other.name} is a file copy of this project (the same project id); its "
                          "work is merged by identity like a coder's copy")
            if self.kind == "qdpx":
                self.line(f"note: a .qdpx does not carry removals; codings and memos removed in "
                          f"{self.other.name} are not removed here")
            self.tg = _read_target(self.t, self.s)
            _check_codebooks(self.s, self.tg, self.kind, self.other)
            self.map_codes()
            self.map_coders(dry_run)
            self.map_documents(sconn, dry_run)
        self.plan_codings()
        self.plan_memos()
        if not dry_run:
            self.apply()

    def same_database(self) -> bool:
        """Whether the other file is the very database this project is stored in (not a copy of it)."""
        if self.kind != "project":
            return False
        url = self.t.engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return False
        try:
            return os.path.samefile(self.other, url.database)
        except OSError:
            return False

    # identities of the rows codings refer to --------------------------------------------------------------

    def map_codes(self) -> None:
        """Codes by GUID; a code a codebook sync merged into another here is followed to the code that took its
        codings (as the sync moved them), and codings on a code retired here are reported."""
        by_guid = {guid: i for i, (guid, _, _) in self.tg.codes.items()}
        state = {i: (status, into) for i, status, into in self.t.execute(
            select(Code.id, Code.status, Code.merged_into_id)).tuples()}
        self.retired: set[int] = set()

        def follow(i: int | None) -> int | None:
            seen = set()
            while i is not None and state.get(i, ("active", None))[0] == "merged" and i not in seen:
                seen.add(i)
                into = state[i][1]
                if into is None:
                    break
                i = into
            return i

        self.code_id = {}
        for i, (guid, _, _) in self.s.codes.items():
            here = by_guid.get(guid)
            followed = follow(here)
            self.code_id[i] = followed
            if followed is not None and state.get(followed, ("active", None))[0] == "retired":
                self.retired.add(followed)
        self.followed = {i for i, (guid, _, _) in self.s.codes.items()
                         if self.code_id[i] is not None and self.code_id[i] != by_guid.get(guid)}
        self.version_id = {}
        ours = {h: i for i, h, _, _ in self.tg.versions}
        for i, h, _, _ in self.s.versions:
            self.version_id[i] = ours.get(h)

    def map_coders(self, dry_run: bool) -> None:
        by_guid = {guid: i for i, (guid, _, _) in self.tg.coders.items()}
        by_name = {name: i for i, (_, name, _) in self.tg.coders.items()}
        self.coder_id: dict[int, int | None] = {}
        new = []
        for i, (guid, name, kind) in self.s.coders.items():
            found = by_guid.get(guid, by_name.get(name))
            if found is None:
                new.append((i, guid, name, kind))
            self.coder_id[i] = found
        for i, guid, name, kind in new:
            self.line(f"+ coder {name} ({kind})")
        self.report.counts["coders added"] = len(new)
        if new and dry_run:
            for number, (i, guid, name, kind) in enumerate(new):  # ids to plan with; nothing is stored
                self.coder_id[i] = -(number + 1)
                self.tg.coders[-(number + 1)] = (guid, name, kind)
        if new and not dry_run:
            ids = insert_numbered(self.t, Coder.__table__, [
                {"name": name, "kind": kind, "refi_guid": guid, "created_at": dt.datetime.now(dt.timezone.utc)}
                for _, guid, name, kind in new])
            for (i, *_), new_id in zip(new, ids):
                self.coder_id[i] = new_id
                self.tg.coders[new_id] = (self.s.coders[i][0], self.s.coders[i][1], self.s.coders[i][2])

    def map_documents(self, sconn: Connection, dry_run: bool) -> None:
        by_guid = {v[0]: i for i, v in self.tg.documents.items()}
        by_sha = {v[1]: i for i, v in self.tg.documents.items()}
        self.doc_id: dict[int, int | None] = {}
        new = []
        for i, (guid, sha, title, _) in self.s.documents.items():
            found = by_guid.get(guid, by_sha.get(sha))
            self.doc_id[i] = found
            if found is None:
                new.append(i)
        self.report.counts["documents added"] = len(new)
        for i in new:
            self.line(f"+ document {self.s.documents[i][2]!r}")
        if not new:
            return
        # the cases of new documents: by GUID, else by name, else new
        case_by_guid = {v[0]: i for i, v in self.tg.cases.items()}
        case_by_name = {v[1]: i for i, v in self.tg.cases.items()}
        self.case_id: dict[int, int | None] = {}
        new_cases = []
        for case in sorted({self.s.documents[i][3] for i in new if self.s.documents[i][3] is not None}):
            guid, name = self.s.cases[case]
            found = case_by_guid.get(guid, case_by_name.get(name))
            self.case_id[case] = found
            if found is None:
                new_cases.append(case)
                self.line(f"+ case {name}")
        self.report.counts["cases added"] = len(new_cases)
        if dry_run:
            for number, i in enumerate(new):  # ids to plan with; nothing is stored
                self.doc_id[i] = -(number + 1)
                self.tg.documents[-(number + 1)] = self.s.documents[i]
            return
        if new_cases:
            cases = Case.__table__
            rows = [dict(r._mapping) for r in sconn.execute(select(cases).where(cases.c.id.in_(new_cases))
                                                             .order_by(cases.c.id))]
            ids = insert_numbered(self.t, cases, [{k: v for k, v in r.items() if k != "id"} for r in rows])
            mapping = {r["id"]: new_id for r, new_id in zip(rows, ids)}
            self.case_id.update(mapping)
            attrs = CaseAttribute.__table__
            columns = [c.name for c in attrs.columns if c.name != "id"]
            write_rows(self.t, attrs, columns, [
                tuple(mapping[r.case_id] if c == "case_id" else getattr(r, c) for c in columns)
                for r in sconn.execute(select(attrs).where(attrs.c.case_id.in_(new_cases)))])
        documents = Document.__table__
        units = Unit.__table__
        unit_columns = [c.name for c in units.columns if c.name != "id"]
        for part in chunks(new, 200):
            rows = [dict(r._mapping) for r in sconn.execute(select(documents).where(documents.c.id.in_(part))
                                                             .order_by(documents.c.id))]
            for r in rows:
                r["case_id"] = self.case_id.get(r["case_id"]) if r["case_id"] is not None else None
            ids = insert_numbered(self.t, documents, [{k: v for k, v in r.items() if k != "id"} for r in rows])
            mapping = {r["id"]: new_id for r, new_id in zip(rows, ids)}
            self.doc_id.update(mapping)
            write_rows(self.t, units, unit_columns, [
                tuple(mapping[r.document_id] if c == "document_id" else getattr(r, c) for c in unit_columns)
                for r in sconn.execute(select(units).where(units.c.document_id.in_(part)).order_by(units.c.id))])

    # codings ------------------------------------------------------------------------------------------

    def mapped(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """A source coding's content with this project's ids."""
        values = dict(zip(_CODING_COLUMNS, row))
        values["document_id"] = self.doc_id[values["document_id"]]
        values["code_id"] = self.code_id[values["code_id"]]
        values["coder_id"] = self.coder_id[values["coder_id"]]
        reviewer = values["reviewed_by_id"]
        values["reviewed_by_id"] = self.coder_id[reviewer] if reviewer is not None else None
        return tuple(values[c] for c in CONTENT)

    def describe(self, content: tuple[Any, ...]) -> str:
        values = dict(zip(CONTENT, content))
        doc = self.tg.documents.get(values["document_id"])
        title = doc[2] if doc else next((d[2] for i, d in self.s.documents.items()
                                         if self.doc_id.get(i) == values["document_id"]), "?")
        code = self.tg.codes.get(values["code_id"], ("", "?", ""))[1]
        coder = self.tg.coders.get(values["coder_id"], ("", "?", ""))[1]
        return f"{coder} {code} in {title!r} [{values['start']}:{values['end']}] {values['status']}"

    @staticmethod
    def changes(old: tuple[Any, ...], new: tuple[Any, ...]) -> str:
        a, b = dict(zip(CONTENT, old)), dict(zip(CONTENT, new))
        said = []
        if (a["start"], a["end"]) != (b["start"], b["end"]):
            said.append(f"span {a['start']}:{a['end']} -> {b['start']}:{b['end']}")
        for key in ("code_id", "coder_id", "document_id"):
            if a[key] != b[key]:
                said.append(key.removesuffix("_id"))
        if a["status"] != b["status"]:
            said.append(f"status {a['status']} -> {b['status']}")
        if a["memo"] != b["memo"]:
            said.append("memo")
        rest = [k for k in ("quote", "origin", "confidence", "reviewed_by_id") if a[k] != b[k]]
        if rest and not said:
            said.append(", ".join(rest))
        return "; ".join(said)

    def plan_codings(self) -> None:
        s, t = self.s, self.tg
        qdpx = self.kind == "qdpx"
        self.inserts: list[tuple[Any, ...]] = []
        self.updates: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]] = []  # GUID here, source row, content
        self.removals: list[int] = []
        self.removed: set[str] = set()  # GUIDs here of the codings removed
        self.kept: set[str] = set()  # GUIDs here of codings the copy removed and a conflict keeps
        self.history_rows: set[tuple[str, str]] = set()
        self.tombstone_rows: list[tuple[str, str, str | None]] = []
        self.alias_rows: dict[str, tuple[str, str, str]] = {}  # source GUID -> GUID here, versions then
        self.here_guid: dict[str, str] = {}  # source coding GUID -> the GUID it has here after the merge
        # spans each coder holds here, for the documents the merge touches: a coding may not repeat one
        touched = sorted(i for i in {self.doc_id[r[3]] for r in s.codings.values()} if i > 0)
        spans: dict[tuple[Any, ...], str] = {}
        version_here: dict[str, str] = {}
        for part in chunks(touched):
            for guid, version, *key in fetch_rows(self.t, select(
                    Coding.refi_guid, Coding.version, Coding.document_id, Coding.code_id, Coding.coder_id,
                    Coding.start, Coding.end).where(Coding.document_id.in_(part))):
                spans[tuple(key)] = guid
                version_here[guid] = version
        # a .qdpx edited elsewhere is taken for codings not changed here since the file was written
        written = (dt.datetime.fromtimestamp(self.other.stat().st_mtime, dt.timezone.utc) if qdpx else None)

        def key_of(content: tuple[Any, ...]) -> tuple[Any, ...]:
            return content[:5]

        def here_of(guid: str) -> str:
            """The GUID this project holds the source's coding under (its own, or an alias's target)."""
            if guid in t.codings or ("coding", guid) in t.tombstones or guid not in t.aliases:
                return guid
            return t.aliases[guid][0]

        def follows(guid: str, ours: str, line: set[str]) -> bool:
            """Whether the copy's line of versions ``line`` went through our version ``ours``."""
            if ours in line:
                return True
            alias = t.aliases.get(guid)
            return alias is not None and alias[2] == ours and alias[1] in line

        def compared(content: tuple[Any, ...]) -> tuple[Any, ...]:
            if not qdpx:
                return content
            values = dict(zip(CONTENT, content))
            return tuple(values[c] for c in QDPX_CONTENT)

        counts = self.report.counts
        # removals first: the copy removed a coding this project has (not one it has stored again since)
        for (entity, guid), version in s.tombstones.items():
            if entity != "coding" or guid in s.codings:
                continue
            hg = here_of(guid)
            here = t.codings.get(hg)
            if here is None:
                if hg == guid and ("coding", guid) not in t.tombstones:
                    self.tombstone_rows.append(("coding", guid, version))
                continue
            if hg in self.removed or hg in self.kept:
                continue
            known = s.history.get(guid, set()) | {version}
            content = here[3:3 + len(CONTENT)]
            if follows(guid, here[2], known):
                self.removals.append(here[0])
                self.removed.add(hg)
                spans.pop(key_of(content), None)
                counts["codings removed"] += 1
                self.line(f"- coding {hg[:8]} {self.describe(content)}")
            else:
                self.kept.add(hg)
                self.conflict(f"coding {hg[:8]} ({self.describe(content)}) was removed in {self.other.name} "
                              "and changed here; kept here")
        candidates: list[tuple[str, tuple[Any, ...], tuple[Any, ...], tuple[Any, ...], set[str]]] = []
        new: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]] = []
        for guid, row in s.codings.items():
            content = self.mapped(row)
            hg = here_of(guid)
            here = t.codings.get(hg)
            theirs, their_history = row[2], s.history.get(guid, set())
            if here is not None:
                if hg in self.removed:
                    continue
                self.here_guid[guid] = hg
                ours = here[3:3 + len(CONTENT)]
                known_here = t.history.get(hg, set()) | {here[2]}
                if compared(ours) == compared(content):
                    if not qdpx:
                        for version in ({theirs} | their_history) - known_here:
                            self.history_rows.add((hg, version))
                        # the same content under two unrelated versions (the same edit made in both): kept
                        # as equal (an alias of the coding to itself), so that the copy's later edits of it
                        # follow from this project's version
                        if theirs not in known_here and here[2] not in their_history:
                            self.alias_rows[guid] = (hg, theirs, here[2])
                    continue
                if qdpx:
                    values = dict(zip(CONTENT, ours))
                    values.update(zip(QDPX_CONTENT, compared(content)))
                    text = dict(zip(_CODING_COLUMNS, row))["quote"]
                    values["quote"] = text
                    updated = dict(zip(_CODING_COLUMNS, here))["updated_at"]
                    if updated is not None and updated.tzinfo is None:
                        updated = updated.replace(tzinfo=dt.timezone.utc)
                    if written is not None and updated is not None and updated <= written:
                        candidates.append((hg, row, tuple(values[c] for c in CONTENT), ours, set()))
                    else:
                        self.conflict(f"coding {hg[:8]} ({self.describe(ours)}) was changed here after "
                                      f"{self.other.name} was written, and differs in it "
                                      f"({self.changes(ours, tuple(values[c] for c in CONTENT))}); kept as it is "
                                      "here")
                    continue
                if theirs in known_here:
                    continue  # this project has moved on from the copy's version
                if follows(guid, here[2], their_history):
                    candidates.append((hg, row, content, ours, their_history - known_here))
                    continue
                self.conflict(f"coding {hg[:8]} ({self.describe(ours)}) was changed both here and in "
                              f"{self.other.name}, differently ({self.changes(ours, content)}); kept as it is here")
                continue
            if ("coding", hg) in t.tombstones:
                if theirs in (t.history.get(hg, set()) | {t.tombstones[("coding", hg)]}):
                    continue  # removed here after the copy's version
                self.conflict(f"coding {hg[:8]} ({self.describe(content)}) was removed here and changed in "
                              f"{self.other.name}; left removed")
                continue
            new.append((guid, row, content))
        # edits: the spans they leave are free for the others; one that lands on a span still held is a conflict
        accepted = list(candidates)
        while True:
            held = dict(spans)
            for hg, _, content, ours, _ in accepted:
                if held.get(key_of(ours)) == hg:
                    del held[key_of(ours)]
            clash = None
            for number, (hg, _, content, ours, _) in enumerate(accepted):
                key = key_of(content)
                if key in held:
                    clash = number
                    break
                held[key] = hg
            if clash is None:
                spans = held
                break
            hg, _, content, _, _ = accepted.pop(clash)
            self.conflict(f"coding {hg[:8]} was changed in {self.other.name} to a span that coding "
                          f"{held[key_of(content)][:8]} holds here; kept as it is here")
        # written one at a time, each onto a span no edit still to come holds; edits that move in a ring
        # (two codings swapping spans) cannot be and are conflicts
        pending = {hg: (key_of(ours), key_of(content)) for hg, _, content, ours, _ in accepted}
        order: list[str] = []
        while pending:
            held_by = {old: hg for hg, (old, _) in pending.items()}
            ready = [hg for hg, (_, new_key) in pending.items() if held_by.get(new_key, hg) == hg]
            if not ready:
                for hg in pending:
                    self.conflict(f"coding {hg[:8]} was moved in {self.other.name} onto the span of another "
                                  "coding that moved onto its own (a swap); kept as it is here")
                break
            order += ready
            for hg in ready:
                del pending[hg]
        rank = {hg: number for number, hg in enumerate(order)}
        accepted = sorted((a for a in accepted if a[0] in rank), key=lambda a: rank[a[0]])
        for hg, row, content, ours, versions in accepted:
            self.updates.append((hg, row, content))
            if not qdpx:
                version_here[hg] = row[2]
            self.history_rows.update((hg, v) for v in versions)
            counts["codings edited"] += 1
            self.line(f"~ coding {hg[:8]} {self.describe(content)}: {self.changes(ours, content)}")
        for guid, row, content in new:
            key = key_of(content)
            values = dict(zip(_CODING_COLUMNS, row))
            if key in spans:  # the same coder's coding of this span is here: linked, not added
                hg = spans[key]
                self.here_guid[guid] = hg
                if not qdpx:
                    self.alias_rows[guid] = (hg, row[2], version_here.get(hg, ""))
                    if row[2] != version_here.get(hg):
                        self.history_rows.add((hg, row[2]))
                if values["code_id"] in self.followed:
                    counts["codings combined"] += 1
                    self.line(f"= coding {guid[:8]} {self.describe(content)}: its code was merged here into one "
                              f"that has it already; combined with coding {hg[:8]}")
                else:
                    counts["codings already here"] += 1
                    self.line(f"= coding {guid[:8]} {self.describe(content)}: already here as {hg[:8]}")
                continue
            spans[key] = guid
            version_here[guid] = row[2]
            self.here_guid[guid] = guid
            self.inserts.append(row)
            if not qdpx:
                for version in s.history.get(guid, set()):
                    self.history_rows.add((guid, version))
            counts["codings added"] += 1
            self.line(f"+ coding {guid[:8]} {self.describe(content)}")
            if content[1] in self.retired:
                counts["codings on retired codes"] += 1
                self.line(f"! coding {guid[:8]} {self.describe(content)} is on a code retired here")

    def conflict(self, text: str) -> None:
        self.report.conflicts.append(text)
        self.line(f"! {text}")

    # memos --------------------------------------------------------------------------------------------

    def plan_memos(self) -> None:
        """Memos by GUID; a memo on a coding goes to the coding's GUID here (its own or the one it was linked
        to), and one whose coding is not here after the merge is reported, not written."""
        s, t = self.s, self.tg
        self.memo_inserts: list[tuple[tuple[Any, ...], str | None]] = []  # source row, coding GUID here
        self.memo_removals: list[int] = []
        counts = self.report.counts
        coding_here = {row[0]: guid for guid, row in t.codings.items()}
        for (entity, guid), _ in s.tombstones.items():
            if entity != "memo" or guid in s.memos:
                continue
            here = t.memos.get(guid)
            if here is not None:
                on = coding_here.get(here[5]) if here[2] == "coding" else None
                if on is not None and on in self.kept:
                    self.line(f"! memo {guid[:8]} on coding {on[:8]} was removed with it in {self.other.name}; "
                              "kept here with the coding (see the conflict)")
                    continue
                self.memo_removals.append(here[0])
                counts["memos removed"] += 1
                self.line(f"- memo {guid[:8]} ({here[2]}): {self.short(here[8])}")
            elif ("memo", guid) not in t.tombstones:
                self.tombstone_rows.append(("memo", guid, None))
        coding_guid = {row[0]: guid for guid, row in s.codings.items()}
        for guid, row in s.memos.items():
            if guid in t.memos or ("memo", guid) in t.tombstones:
                continue
            target = None
            if row[2] == "coding":
                target = self.here_guid.get(coding_guid.get(row[5], ""))
                if target is None:
                    counts["memos not brought"] += 1
                    self.line(f"! memo {guid[:8]} on a coding this project does not keep (removed here): "
                              f"{self.short(row[8])}; not brought")
                    continue
            self.memo_inserts.append((row, target))
            counts["memos added"] += 1
            self.line(f"+ memo {guid[:8]} ({row[2]}): {self.short(row[8])}")

    @staticmethod
    def short(text: str) -> str:
        text = text.replace("\n", " ")
        return text if len(text) <= 60 else text[:59] + "…"

    # writing ------------------------------------------------------------------------------------------

    def apply(self) -> None:
        conn = self.t
        codings = Coding.__table__
        for part in chunks(self.removals):
            conn.execute(codings.delete().where(codings.c.id.in_(part)))
        if self.updates:
            now = dt.datetime.now(dt.timezone.utc)
            values = []
            for guid, row, content in self.updates:
                source = dict(zip(_CODING_COLUMNS, row))
                here = dict(zip(_CODING_COLUMNS, self.tg.codings[guid]))
                if self.kind == "qdpx":  # the version is this project's: the trigger gives a new one
                    source.update(version=here["version"], reviewed_at=here["reviewed_at"], updated_at=now)
                values.append({"row_id": here["id"], **dict(zip(CONTENT, content)),
                               "version": source["version"], "reviewed_at": source["reviewed_at"],
                               "updated_at": source["updated_at"] or now})
            conn.execute(codings.update().where(codings.c.id == bindparam("row_id"))
                         .values({c: bindparam(c) for c in (*CONTENT, "version", "reviewed_at", "updated_at")}),
                         values)
        columns = [c for c in _CODING_COLUMNS if c != "id"]
        rows = []
        for row in self.inserts:
            source = dict(zip(_CODING_COLUMNS, row))
            source.update(zip(CONTENT, self.mapped(row)))
            source["codebook_version_id"] = self.version_id.get(source["codebook_version_id"])
            rows.append(tuple(source[c] for c in columns))
        write_rows(conn, codings, columns, rows)
        refresh_statistics(conn, len(rows), codings)
        # A coding brought back under the GUID of one removed here is no longer removed.
        clear_tombstones(conn, "coding", [(row[columns.index("refi_guid")], row[columns.index("version")])
                                          for row in rows])
        if self.history_rows:
            insert_rows(conn, "team_history", ["entity", "guid", "version"],
                        [("coding", guid, version) for guid, version in sorted(self.history_rows)])
        if self.tombstone_rows:
            now = dt.datetime.now(dt.timezone.utc)
            write_rows(conn, TeamTombstone.__table__, ["entity", "guid", "version", "removed_at"],
                       [(*row, now) for row in self.tombstone_rows])
        if self.alias_rows:
            aliases = TeamAlias.__table__
            for part in chunks(sorted(self.alias_rows)):
                conn.execute(aliases.delete().where(aliases.c.entity == "coding", aliases.c.guid.in_(part)))
            write_rows(conn, TeamAlias.__table__, ["entity", "guid", "target", "version", "target_version"],
                       [("coding", guid, *link) for guid, link in sorted(self.alias_rows.items())])
        memos = Memo.__table__
        for part in chunks(self.memo_removals):
            conn.execute(memos.delete().where(memos.c.id.in_(part)))
        if self.memo_inserts:
            wanted = sorted({target for _, target in self.memo_inserts if target is not None})
            coding_id: dict[str, int] = {}
            for part in chunks(wanted):
                coding_id.update((g, i) for g, i in conn.execute(
                    select(Coding.refi_guid, Coding.id).where(Coding.refi_guid.in_(part))).tuples())
            memo_columns = [c for c in _MEMO_COLUMNS if c != "id"]
            rows = []
            for row, target in self.memo_inserts:
                values = dict(zip(_MEMO_COLUMNS, row))
                values["document_id"] = self.doc_id.get(values["document_id"]) if values["document_id"] else None
                values["code_id"] = self.code_id.get(values["code_id"]) if values["code_id"] else None
                values["coding_id"] = coding_id[target] if target is not None else None
                values["coder_id"] = self.coder_id.get(values["coder_id"])
                rows.append(tuple(values[c] for c in memo_columns))
            write_rows(conn, memos, memo_columns, rows)
            clear_tombstones(conn, "memo", [(row[memo_columns.index("refi_guid")], None) for row in rows])


def merge_project(session: Session, other: Path, *, actor: str, dry_run: bool = False) -> MergeReport:
    """Bring the work in ``other`` (a gripcode SQLite project or a .qdpx) into the project of ``session``, in the
    caller's transaction; with ``dry_run`` plan only and write nothing."""
    other = Path(other)
    report = MergeReport(source=str(other), dry_run=dry_run)
    with open_other(other, actor=actor) as (engine, kind):
        _Merge(session, engine, kind, other, report, actor).run(dry_run)
    if not dry_run:
        counts = {k: v for k, v in report.counts.items() if v}
        record_event(session, actor, "team.merged", "project", None, source=str(other.resolve()),
                     source_project=report.source_project, copied_from=report.copied_from, counts=counts,
                     conflicts=len(report.conflicts))
    return report
