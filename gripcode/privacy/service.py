"""The operations of `gripcode pseudonymise`: propose, review (through the key file), apply and reverse.

The project a proposal is made from is only read. Proposals, decisions and the key live in the encrypted key
file; applying writes a new project (a new SQLite file or an empty database) in one transaction with its audit
event, and records in the key file how to undo it.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, exists, select
from sqlalchemy.exc import IntegrityError

from gripcode.config import normalise_db_url
from gripcode.corpus.documents import find_document
from gripcode.db.audit import record_event
from gripcode.db.engine import _shown, make_engine, sqlite_path, transaction
from gripcode.db.migrate import _has_tables, init_database, require_current
from gripcode.db.models import Case, Document, Event
from gripcode.errors import GripcodeError
from gripcode.privacy import review
from gripcode.privacy.detect import EntityFinder, informants, pattern_findings, read_name_list
from gripcode.privacy.keyfile import read_key, read_text, write_key, write_private
from gripcode.privacy.rewrite import GuidCipher, ProjectRewriter, RewriteResult
from gripcode.privacy.spans import Replacement, SlugMatcher, ValueMatcher, normal

APPLY_ACTION = "pseudonymise"
REVERSE_ACTION = "pseudonymise reverse"
NAME_KINDS = ("person",)
OPTIONAL_KINDS = ("organisation", "place", "email", "phone", "url")


class PseudonymError(GripcodeError):
    """A pseudonymisation step that cannot be carried out as asked."""


def load_state(key: Path, passphrase: str, *, create: bool = False) -> dict[str, Any]:
    if create and not Path(key).exists():
        return review.new_state()
    return review.check_state(read_key(key, passphrase))


@dataclass
class ProposeReport:
    documents: int = 0
    added: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    waiting: int = 0
    warnings: list[str] = field(default_factory=list)


def _document_ids(session: Any, docs: Sequence[str], cases: Sequence[str], kinds: Sequence[str],
                  languages: Sequence[str]) -> list[int]:
    query = select(Document.id).order_by(Document.id)
    if docs:
        query = query.where(Document.id.in_([find_document(session, ref).id for ref in docs]))
    if cases:
        known = set(session.scalars(select(Case.name).where(Case.name.in_(cases))))
        missing = [c for c in cases if c not in known]
        if missing:
            raise PseudonymError(f"no case called {', '.join(missing)}")
        query = query.where(Document.case_id.in_(select(Case.id).where(Case.name.in_(cases))))
    if kinds:
        query = query.where(Document.kind.in_(kinds))
    if languages:
        query = query.where(Document.language.in_([lang.lower() for lang in languages]))
    return list(session.scalars(query))


def propose(engine: Engine, key: Path, passphrase: str, *, docs: Sequence[str] = (), cases: Sequence[str] = (),
            kinds: Sequence[str] = (), languages: Sequence[str] = (), find: Sequence[str] = NAME_KINDS,
            names_file: Path | None = None, use_informants: bool = True, patterns: dict[str, str] | None = None,
            pipelines: dict[str, str] | None = None) -> ProposeReport:
    """Find values to replace in the chosen documents and add them to the key file's proposals (made if new).
    Decisions already taken stay. The project is only read."""
    state = load_state(key, passphrase, create=True)
    if patterns:
        review.set_patterns(state, patterns)
    wanted = {review.check_kind(kind) for kind in find}
    listed = read_name_list(names_file) if names_file else []
    finder = EntityFinder(pipelines or {}, wanted)
    report = ProposeReport()
    found: dict[tuple[str, str], dict[str, Any]] = {}
    position = 0

    def note(kind: str, value: str, source: str) -> None:
        nonlocal position
        entry = found.setdefault((kind, normal(value)), {"sources": set(), "first": position})
        entry["sources"].add(source)
        position += 1

    for kind, value in listed:
        note(kind, value, "list")
    with transaction(engine, write=False) as session:
        ids = _document_ids(session, docs, cases, kinds, languages)
        if not ids:
            raise PseudonymError("no documents match; nothing was proposed")
        for start in range(0, len(ids), 200):
            chunk = ids[start:start + 200]
            rows = session.execute(select(Document.id, Document.language, Document.text, Document.meta)
                                   .where(Document.id.in_(chunk)).order_by(Document.id)).all()
            for row in rows:
                if use_informants:
                    for value in informants(row.meta):
                        note("person", value, "informant")
                for kind, value, source in pattern_findings(row.text, wanted):
                    note(kind, value, source)
                for kind, value, source in finder.findings(row.text, row.language):
                    note(kind, value, source)
        # Every proposal is counted where it occurs in the chosen documents, not only where a detector saw it.
        counts = {k: {"occurrences": 0, "documents": set()} for k in found}
        keys = list(found)
        matcher = ValueMatcher([(value, "", i) for i, (_, value) in enumerate(keys)])
        by_value: dict[str, list[int]] = {}
        for i, (_, value) in enumerate(keys):
            by_value.setdefault(value, []).append(i)
        for start in range(0, len(ids), 200):
            for doc_id, body in session.execute(select(Document.id, Document.text)
                                                .where(Document.id.in_(ids[start:start + 200]))).all():
                for rep in matcher.find(body):
                    for i in by_value[keys[rep.entity][1]]:
                        counts[keys[i]]["occurrences"] += 1
                        counts[keys[i]]["documents"].add(doc_id)
    findings = {k: {"sources": sorted(v["sources"]), "first": v["first"],
                    "occurrences": counts[k]["occurrences"], "documents": len(counts[k]["documents"])}
                for k, v in found.items()}
    report.added = review.add_findings(state, findings)
    report.documents = len(ids)
    report.total = len(state["entities"])
    report.waiting = sum(e["status"] == "proposed" for e in state["entities"])
    report.warnings = finder.warnings
    write_key(key, state, passphrase)
    return report


def _new_target(target: str) -> Engine:
    """An engine on the new project: a SQLite file that does not exist yet, or a database with no tables."""
    url = normalise_db_url(target)
    engine = make_engine(url)
    path = sqlite_path(engine)
    if path is not None and Path(path).exists():
        engine.dispose()
        raise PseudonymError(f"{path} already exists; name a new file for the new project (the original project "
                             "is never changed)")
    if path is None and _has_tables(engine):
        engine.dispose()
        raise PseudonymError(f"{_shown(engine.url)} is not empty; give an empty database for the new project")
    return engine


def _drop_tables(engine: Engine) -> None:
    """Drop every table of a database that was empty before this command made them (a failed copy)."""
    from sqlalchemy import MetaData

    made = MetaData()
    with engine.begin() as conn:
        made.reflect(conn)
        made.drop_all(conn)


def _same_database(a: Engine, b: Engine) -> bool:
    pa, pb = sqlite_path(a), sqlite_path(b)
    if pa is not None or pb is not None:
        return pa is not None and pb is not None and Path(pa).resolve() == Path(pb).resolve()
    return a.url.render_as_string(hide_password=False) == b.url.render_as_string(hide_password=False)


@dataclass
class ApplyReport:
    target: str
    result: RewriteResult
    entities: int


def _write_project(source: Engine, target: str, rewriter: ProjectRewriter, actor: str, action: str,
                   details: dict[str, Any], before_commit: Any) -> tuple[str, RewriteResult]:
    require_current(source)
    engine = _new_target(target)
    try:
        if _same_database(source, engine):
            raise PseudonymError("the new project must be another database than the original")
        created_file = sqlite_path(engine)
        try:
            # PostgreSQL: the schema is made (and committed) before the copy; if the copy fails, every table
            # made here is dropped again below, so the empty database can be given again.
            init_database(engine)
            with transaction(source, write=False) as reading, transaction(engine) as writing:
                result = rewriter.copy(reading.connection(), writing.connection())
                record_event(writing, actor, action, "project", None, documents=result.documents,
                             documents_changed=result.documents_changed, replacements=result.replacements,
                             codings=result.codings, left_out=result.left_out, **details)
                writing.flush()
                before_commit(result)
        except BaseException as exc:
            engine.dispose()
            if created_file:
                Path(created_file).unlink(missing_ok=True)
            else:
                _drop_tables(engine)
            if isinstance(exc, IntegrityError) or isinstance(exc.__cause__, IntegrityError):
                raise PseudonymError("the new project could not be written: two rows would become the same once "
                                     f"the values are replaced ({getattr(exc.__cause__, 'orig', exc)}); nothing was "
                                     "written") from None
            raise
        return _shown(engine.url), result
    finally:
        engine.dispose()


def apply(source: Engine, target: str, key: Path, passphrase: str, actor: str) -> ApplyReport:
    """Write a new project at ``target`` with every accepted value replaced by its pseudonym, in every document
    of the project; the key file records how to undo it."""
    state = load_state(key, passphrase)
    chosen = review.accepted(state)
    if not chosen:
        raise PseudonymError("no proposal is accepted yet; review them with `gripcode pseudonymise list` and "
                             "`accept`")
    values = [(e["value"], e["pseudonym"], e["id"]) for e in chosen]
    matcher = ValueMatcher(values)
    record_id = uuid.uuid4().hex
    guid_key = os.urandom(32)
    rewriter = ProjectRewriter(lambda _id, body: list(matcher.find(body)), scrub=matcher.replace,
                               scrub_slug=SlugMatcher(values).replace, guids=GuidCipher(guid_key))

    def keep(result: RewriteResult) -> None:
        state["applied"].append({
            "id": record_id, "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "spans": result.spans, "units": result.snapped_units, "codings": result.snapped_codings,
            "disagreements": result.snapped_disagreements,
            "cells": result.cells, "guid_key": guid_key.hex()})
        write_key(key, state, passphrase)

    shown, result = _write_project(source, target, rewriter, actor, APPLY_ACTION,
                                   {"key_record": record_id, "accepted": len(chosen)}, keep)
    return ApplyReport(shown, result, len(chosen))


def reverse(source: Engine, target: str, key: Path, passphrase: str, actor: str) -> ApplyReport:
    """Write a new project at ``target`` with the original values put back into the pseudonymised project
    ``source``: texts, codings, units and every other cell as they were."""
    state = load_state(key, passphrase)
    require_current(source)
    with transaction(source, write=False) as session:
        details = session.scalars(select(Event.details).where(Event.action == APPLY_ACTION)
                                  .order_by(Event.id.desc()).limit(1)).first()
        record_id = (details or {}).get("key_record")
        if record_id is None:
            raise PseudonymError("this project was not made by `gripcode pseudonymise apply`; give --db the "
                                 "pseudonymised project")
        record = next((r for r in state["applied"] if r["id"] == record_id), None)
        if record is None:
            raise PseudonymError("this key file was not used to make this project; give the key file that "
                                 "`gripcode pseudonymise apply` wrote")
        spans = record["spans"]
        for doc_id, items in spans.items():
            body = session.scalar(select(Document.text).where(Document.id == int(doc_id)))
            if body is None or any(body[start:end] != new for start, end, new, _old, _e in items):
                raise PseudonymError(f"document {doc_id} has changed since it was pseudonymised; its original "
                                     "text cannot be restored")
        has_docs = session.scalar(select(exists().where(Document.id > 0)))
    if not has_docs:
        raise PseudonymError("the pseudonymised project has no documents")

    def replacements(doc_id: int, _body: str) -> list[Replacement]:
        return [Replacement(start, end, old, entity) for start, end, _new, old, entity in spans.get(str(doc_id), [])]

    cells = {(t, k, c): v for t, k, c, v in record["cells"]}
    guids = GuidCipher(bytes.fromhex(record["guid_key"]), decrypt=True) if record.get("guid_key") else None
    rewriter = ProjectRewriter(replacements, restore_cells=cells,
                               restore_spans={"units": record["units"], "codings": record["codings"],
                                              "disagreements": record.get("disagreements", {})}, guids=guids)
    shown, result = _write_project(source, target, rewriter, actor, REVERSE_ACTION,
                                   {"key_record": record_id}, lambda _result: None)
    return ApplyReport(shown, result, 0)


def change_key(key: Path, passphrase: str, change: Any) -> Any:
    """Read the key file, let ``change(state)`` decide, and write it back whole (nothing is written if
    ``change`` raises)."""
    state = load_state(key, passphrase)
    outcome = change(state)
    write_key(key, state, passphrase)
    return outcome


def export_csv(key: Path, passphrase: str, destination: Path) -> int:
    state = load_state(key, passphrase)
    try:
        write_private(Path(destination), review.to_csv(state).encode("utf-8"))
    except OSError as exc:
        raise PseudonymError(f"cannot write {destination}: {exc.strerror}") from None
    return len(state["entities"])


def import_csv(key: Path, passphrase: str, source: Path) -> dict[str, int]:
    body = read_text(source, "file", PseudonymError)
    return change_key(key, passphrase, lambda state: review.from_csv(state, body, where=str(source)))
