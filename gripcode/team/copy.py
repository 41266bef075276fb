"""``copy-for``: a SQLite project for one coder, made from this one: the chosen documents (with their units and
cases), the codebook (versions and codes), the coders and, unless blind, the codings and memos so far, each row
with the same GUID (and the same id) as here, and the history and removals merges need. The copy records where
it came from (``project_info.copied_from``) and the project records that it was made (an event)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, select

from gripcode.coding.coders import get_or_create_coder
from gripcode.corpus.documents import find_document
from gripcode.db.audit import record_event
from gripcode.db.bulk import chunks
from gripcode.db.engine import make_engine, transaction
from gripcode.db.migrate import init_database
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
from gripcode.errors import GripcodeError, NotFoundError
from gripcode.team.identity import project_id, write_info
from gripcode.team.tables import write_rows

__all__ = ["CopyReport", "copy_for"]

# Documents are copied a batch at a time (with their units, codings and memos), as the merge reads them, and
# every read is streamed and written a fixed number of rows at a time: the memory a copy takes does not grow
# with the corpus.
DOCUMENTS_PER_BATCH = 200
ROWS_PER_BATCH = 2_000


@dataclass
class CopyReport:
    path: Path
    coder: str
    blind: bool
    counts: dict[str, int] = field(default_factory=dict)


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def copy_for(engine: Engine, coder: str, out: Path, *, actor: str, docs: Sequence[str] = (),
             cases: Sequence[str] = (), blind: bool = False) -> CopyReport:
    """Write the copy for ``coder`` at ``out`` (a new SQLite file). Refuses a file that exists."""
    out = Path(out)
    if out.exists():
        raise GripcodeError(f"{out} exists already; the copy must go to a new file")
    if not out.parent.is_dir():
        raise GripcodeError(f"the folder {out.parent} does not exist")
    report = CopyReport(out, coder, blind)
    target = make_engine(f"sqlite:///{out}")
    made = False
    try:
        with transaction(engine) as session:
            doc_ids = _chosen_documents(session, docs, cases)
            person = get_or_create_coder(session, coder, actor=actor)
            source_id = project_id(session.connection())
            init_database(target)
            made = True
            with transaction(target) as copy:
                conn, into = session.connection(), copy.connection()
                into.exec_driver_sql("PRAGMA defer_foreign_keys=ON")

                def move(model: Any, where: Any = None, ids: Sequence[int] | None = None,
                         of: Callable[[Sequence[int]], Any] | None = None) -> int:
                    """Copy the rows of ``model`` (``where``; for ``ids``, a batch of documents at a time, those
                    ``of(batch)`` selects), streamed and written a fixed number of rows at a time."""
                    table = _table(model)
                    names = [c.name for c in table.columns]
                    count = 0
                    parts = [None] if ids is None else list(chunks(list(ids), DOCUMENTS_PER_BATCH))
                    for part in parts:
                        query = select(*table.columns)
                        if where is not None:
                            query = query.where(where)
                        if part is not None and of is not None:
                            query = query.where(of(part))
                        result = conn.execute(query.execution_options(yield_per=ROWS_PER_BATCH))
                        for rows in result.partitions():
                            count += write_rows(into, table, names, [tuple(r) for r in rows])
                    report.counts[table.name] = report.counts.get(table.name, 0) + count
                    return count

                move(Case)
                move(CaseAttribute)
                move(Document, ids=doc_ids, of=Document.id.in_)
                move(Unit, ids=doc_ids, of=Unit.document_id.in_)
                move(CodebookVersion)
                move(Code)
                move(Coder)
                if not blind:
                    move(Coding, ids=doc_ids, of=Coding.document_id.in_)
                    move(Memo, Memo.target.in_(("project", "code")))
                    move(Memo, Memo.target == "document", ids=doc_ids, of=Memo.document_id.in_)
                    move(Memo, Memo.target == "coding", ids=doc_ids, of=lambda part: Memo.coding_id.in_(
                        select(Coding.id).where(Coding.document_id.in_(part)).scalar_subquery()))
                move(TeamHistory)
                move(TeamTombstone)
                move(TeamAlias)
                made_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
                origin = {"project_id": source_id, "database": engine.url.render_as_string(hide_password=True),
                          "coder": person.name, "blind": blind, "made_at": made_at, "made_by": actor,
                          "documents": len(doc_ids)}
                write_info(into, "copied_from", origin)
                write_info(into, "coder", person.name)
                record_event(copy, actor, "team.copy_received", "project", None, **origin)
            record_event(session, actor, "team.copy_made", "coder", person.id, path=str(out.resolve()),
                         copy_project_id=_copy_id(target), blind=blind, documents=len(doc_ids),
                         codings=report.counts.get("codings", 0))
    except BaseException:
        target.dispose()
        if made:
            out.unlink(missing_ok=True)
        raise
    target.dispose()
    return report


def _copy_id(target: Engine) -> str:
    with target.connect() as conn:
        return project_id(conn)


def _chosen_documents(session: Any, docs: Sequence[str], cases: Sequence[str]) -> list[int]:
    if not docs and not cases:
        return list(session.scalars(select(Document.id).order_by(Document.id)))
    chosen: set[int] = set()
    for ref in docs:
        for part in ref.split(","):
            if part.strip():
                chosen.add(find_document(session, part).id)
    for name in cases:
        case_id = session.scalar(select(Case.id).where(Case.name == name))
        if case_id is None:
            raise NotFoundError(f"no case {name!r}; see `gripcode case list`")
        chosen.update(session.scalars(select(Document.id).where(Document.case_id == case_id)))
    return sorted(chosen)
