"""Importing files into a project: read, normalise, deduplicate, segment into units, bulk-insert.

One call is one transaction (the caller's session): if any file fails, nothing of the import remains.
Documents stream through in batches, so a large corpus never sits in memory whole, and paragraphs and
sentences come from ``gripcode.corpus.segment`` over each batch, grouped by language.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gripcode.corpus.decode import decode_bytes
from gripcode.corpus.normalize import count_words, normalise_text, text_sha256
from gripcode.corpus.parsed import ParsedDocument, Turn
from gripcode.corpus.readers import CsvOptions, ReadLimits, read_file
from gripcode.corpus.readers.text import text_document
from gripcode.corpus.segment import segment_texts, start_worker
from gripcode.db.audit import record_event
from gripcode.db.bulk import foreign_keys_checked_once, insert_rows, refresh_statistics
from gripcode.db.models import DOCUMENT_KINDS, Case, Document, Unit
from gripcode.db.storable import refuse_in_rows
from gripcode.errors import DocumentImportError
from gripcode.worker_pool import WorkerPool

MANIFEST_COLUMNS = ("path", "title", "case", "kind", "language", "date", "source")

# Texts read ahead of the workers: enough to keep this process busy while a worker starts (loading spaCy
# takes about a second), little enough that a large corpus never sits in memory whole.
_MAX_CHARS_IN_FLIGHT = 16_000_000
# Units a document has, roughly (paragraphs and sentences): what a new project's import counts as its units.
_UNITS_PER_DOCUMENT = 50


@dataclass
class ImportOptions:
    """Values given on the command line or in a manifest row; they win over what a file says of itself."""

    case: str | None = None
    kind: str | None = None
    language: str | None = None
    date: str | None = None
    title: str | None = None
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # Speaker turns known from elsewhere (a gripcode .qdpx): used instead of those found in a one-document file.
    turns: list[Turn] | None = None


@dataclass
class ImportItem:
    """A file to import; or, with ``text``, a document whose text is already decoded (read when its turn comes,
    so that a long list of items holds none of their texts), which ``path`` then only names."""

    path: Path
    options: ImportOptions
    text: Callable[[], str] | None = None


@dataclass
class ImportReport:
    imported: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    # Files that were UTF-8 but for a few invalid bytes, replaced by U+FFFD (gripcode.corpus.decode).
    replaced: list[dict[str, Any]] = field(default_factory=list)
    words: int = 0
    units: int = 0


def read_manifest(path: str | Path) -> list[ImportItem]:
    """A CSV of files to import; paths are relative to the manifest. Extra columns become metadata."""
    manifest = Path(path)
    if not manifest.is_file():
        raise DocumentImportError(f"manifest {manifest} does not exist")
    text = decode_bytes(manifest.read_bytes(), name=str(manifest))
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or "path" not in (rows[0].keys()):
        raise DocumentImportError(f"manifest {manifest} needs a header with at least a 'path' column")
    items, problems = [], []
    for n, row in enumerate(rows, start=2):
        if None in row:
            problems.append(f"{manifest}:{n}: more cells than header columns")
            continue
        values = {k.strip().lower(): (v or "").strip() for k, v in row.items()}
        if not values.get("path"):
            problems.append(f"{manifest}:{n}: empty path")
            continue
        file_path = manifest.parent / values["path"]
        if not file_path.is_file():
            problems.append(f"{manifest}:{n}: file {values['path']} does not exist")
        kind = values.get("kind") or None
        if kind and kind not in DOCUMENT_KINDS:
            problems.append(f"{manifest}:{n}: kind {kind!r} is not one of {', '.join(DOCUMENT_KINDS)}")
        date = values.get("date") or None
        if date:
            try:
                dt.date.fromisoformat(date)
            except ValueError:
                problems.append(f"{manifest}:{n}: date {date!r} is not yyyy-mm-dd")
        extra = {k: v for k, v in values.items() if k not in MANIFEST_COLUMNS and k != "lang" and v}
        items.append(ImportItem(file_path, ImportOptions(
            case=values.get("case") or None, kind=kind, language=values.get("language") or values.get("lang") or None,
            date=date, title=values.get("title") or None, source=values.get("source") or None, metadata=extra)))
    if problems:
        raise DocumentImportError(f"manifest {manifest} has {len(problems)} bad row(s):\n  " + "\n  ".join(problems))
    return items


def collect_items(paths: Iterable[str | Path], given: ImportOptions,
                  manifest: str | Path | None = None) -> list[ImportItem]:
    """The files to import: named paths with ``given`` options, then manifest rows, where a value given on
    the command line wins over the row's (titles excepted: one title cannot name every row)."""
    items = [ImportItem(Path(p), given) for p in paths]
    if manifest is None:
        if not items:
            raise DocumentImportError("name files to import, or a --manifest")
        return items
    for item in read_manifest(manifest):
        for attr in ("case", "kind", "language", "date", "source"):
            if getattr(given, attr):
                setattr(item.options, attr, getattr(given, attr))
        items.append(item)
    return items


def _resolve(parsed: ParsedDocument, opts: ImportOptions, multi_row: bool) -> dict[str, Any]:
    title = (opts.title if not multi_row else None) or parsed.title or Path(parsed.original_name).stem
    kind = opts.kind or parsed.kind or "other"
    if kind not in DOCUMENT_KINDS:
        raise DocumentImportError(f"{parsed.original_name}: kind {kind!r} is not one of {', '.join(DOCUMENT_KINDS)}")
    date = opts.date or parsed.date
    try:
        date_value = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise DocumentImportError(f"{parsed.original_name}: date {date!r} is not yyyy-mm-dd") from None
    meta = {**parsed.metadata, **opts.metadata}
    return {
        "title": title[:500], "kind": kind, "case": opts.case or parsed.case,
        "language": (opts.language or parsed.language or "en").lower(), "date": date_value,
        "source": opts.source or parsed.source, "meta": meta, "original_name": parsed.original_name,
    }


def _parsed_stream(items: Iterable[ImportItem], encoding: str | None, csv_options: CsvOptions | None,
                   limits: ReadLimits | None, report: ImportReport,
                   news_format: str = "auto") -> Iterator[tuple[ParsedDocument, dict[str, Any]]]:
    for item in items:
        if item.text is not None:
            docs = [text_document(item.path, normalise_text(item.text()), None)]
        else:
            docs = read_file(item.path, encoding=encoding, csv_options=csv_options, limits=limits,
                             news_format=news_format)
        if item.options.turns is not None and len(docs) == 1:
            docs[0].turns = list(item.options.turns)
        if docs and docs[0].replaced is not None:
            replaced = docs[0].replaced
            report.replaced.append({"file": item.path.name, "invalid_bytes": replaced.count,
                                    "offsets": list(replaced.offsets), "message": replaced.describe()})
        if docs:
            report.skipped += [{"file": part, "reason": reason} for part, reason in docs[0].skipped_parts]
        for parsed in docs:
            yield parsed, _resolve(parsed, item.options, multi_row=len(docs) > 1)


def _batches(stream: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for entry in stream:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _CaseLookup:
    def __init__(self, session: Session, create: bool, actor: str) -> None:
        self.session, self.create, self.actor = session, create, actor
        self.ids: dict[str, int] = dict(session.execute(select(Case.name, Case.id)).tuples().all())

    def __call__(self, name: str | None, where: str) -> int | None:
        if not name:
            return None
        if name not in self.ids:
            if not self.create:
                known = ", ".join(sorted(self.ids)) or "none yet"
                raise DocumentImportError(
                    f"{where}: unknown case {name!r} (known: {known}); add it with `gripcode case add {name}` "
                    "or import with --create-cases")
            case = Case(name=name)
            self.session.add(case)
            self.session.flush()
            record_event(self.session, self.actor, "case.added", "case", case.id, name=name, by="import")
            self.ids[name] = case.id
        return self.ids[name]


@dataclass
class _Written:
    """A batch whose documents are inserted; its units follow once its texts are segmented."""

    ids: list[int]
    turns: list[list[Turn]]
    chars: int
    spans: Future[list[tuple[array[int], array[int]]]]


def _write_documents(session: Session, batch: list[tuple[ParsedDocument, dict[str, Any]]], cases: _CaseLookup,
                     seen: dict[str, str], report: ImportReport,
                     segment: Callable[[list[str], list[str]], Future[Any]]) -> _Written | None:
    """Insert the batch's new documents and hand their texts to ``segment``; text already stored is skipped."""
    digests = [text_sha256(parsed.text) for parsed, _ in batch]
    existing = dict(session.execute(select(Document.sha256, Document.title).where(
        Document.sha256.in_(digests))).tuples().all())
    rows, kept = [], []
    for (parsed, resolved), digest in zip(batch, digests):
        if digest in existing or digest in seen:
            same_as = existing.get(digest) or seen[digest]
            report.skipped.append({"file": parsed.original_name, "reason": f"same text as {same_as!r}"})
            continue
        fields = dict(resolved)
        seen[digest] = fields["title"]
        case_id = cases(fields.pop("case"), parsed.original_name)
        meta = fields.pop("meta")
        rows.append({**fields, "metadata": meta, "case_id": case_id, "text": parsed.text, "sha256": digest,
                     "word_count": count_words(parsed.text)})
        kept.append(parsed)
    if not rows:
        return None
    ids = _insert_documents(session, rows)
    for doc_id, row in zip(ids, rows):
        report.words += row["word_count"]
        report.imported.append({"id": doc_id, "title": row["title"], "file": row["original_name"],
                                "words": row["word_count"]})
    texts = [parsed.text for parsed in kept]
    return _Written(list(ids), [parsed.turns for parsed in kept], sum(map(len, texts)),
                    segment([row["language"] for row in rows], texts))


def _insert_documents(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert documents and return their ids in the order of ``rows``.

    On SQLite the ids are given here, following the largest one, as SQLite itself would: the transaction
    reads and writes one snapshot (a writer that committed in between makes this transaction's first write
    fail, never collide), and one executemany costs far less than the INSERT ... RETURNING per row that
    SQLite needs to report ids in order.
    """
    refuse_in_rows(rows, "document")
    table = Document.__table__
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return list(connection.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all())
    first = (connection.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    ids = list(range(first, first + len(rows)))
    connection.execute(table.insert(), [{**row, "id": doc_id} for row, doc_id in zip(rows, ids)])
    return ids


_UNIT_COLUMNS = ("document_id", "kind", "seq", "start", "end", "speaker", "begin_time", "end_time")


# Unit rows handed to the driver at once: a long text has a million sentences, and as tuples they would take
# hundreds of megabytes beside the text.
_UNITS_PER_INSERT = 100_000


def _unit_rows(written: _Written) -> Iterator[list[tuple[Any, ...]]]:
    """The batch's unit rows in id order, in lists of at most ``_UNITS_PER_INSERT``."""
    size = _UNITS_PER_INSERT
    for doc_id, turns, (paragraphs, sentences) in zip(written.ids, written.turns, written.spans.result()):
        for kind, flat in (("paragraph", paragraphs), ("sentence", sentences)):
            for first in range(0, len(flat), 2 * size):
                ends = iter(flat[first:first + 2 * size])
                yield [(doc_id, kind, seq, start, end, None, None, None)
                       for seq, (start, end) in enumerate(zip(ends, ends), start=first // 2 + 1)]
        # Speakers are the units' only text; those found in a document's text are storable with it, but turns
        # handed in (from a .qdpx note) are checked here, as a bulk insert skips the flush-time check.
        refuse_in_rows(({"speaker": t.speaker, "document": doc_id} for t in turns if t.speaker),
                       "a turn of document", name_key="document")
        for first in range(0, len(turns), size):
            yield [(doc_id, "turn", seq, t.start, t.end, t.speaker, t.begin_time, t.end_time)
                   for seq, t in enumerate(turns[first:first + size], start=first + 1)]


def _insert_units(session: Session, written: _Written) -> int:
    """Units are most of the rows an import writes: they go to the driver as plain tuples (``insert_rows``),
    many documents' worth per call, and a long text's in several calls."""
    connection = session.connection()
    count = 0
    rows: list[tuple[Any, ...]] = []
    for part in _unit_rows(written):
        rows += part
        if len(rows) >= _UNITS_PER_INSERT:
            count += insert_rows(connection, "units", _UNIT_COLUMNS, rows)
            rows = []
    return count + (insert_rows(connection, "units", _UNIT_COLUMNS, rows) if rows else 0)


class Segmenter:
    """Paragraph and sentence spans of a batch of texts: from worker processes when there are any, else
    computed here on the spot. A caller that knows a large import is coming may start one early (the workers
    load spaCy meanwhile) and hand it to :func:`import_items`; it then closes it itself."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pool: WorkerPool | None = None
        if jobs > 0:
            # spawn: this process never loads spaCy, so a fork would spare a worker only Python's start
            # (no clear gain, measured), while copying the open write transaction's connection into it. What
            # workers are sent needs only gripcode.corpus.segment and spaCy; they load spaCy at once, while
            # this process reads.
            self.pool = WorkerPool(jobs, "spawn", start_worker)

    def __call__(self, langs: list[str], texts: list[str]) -> Future[list[tuple[array[int], array[int]]]]:
        if self.pool is not None:
            return self.pool.submit(segment_texts, langs, texts)
        done: Future[list[tuple[array[int], array[int]]]] = Future()
        done.set_result(segment_texts(langs, texts))
        return done

    def close(self, failed: bool) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=failed)


def default_jobs(n_items: int) -> int:
    """One worker beside the writer pays off for large imports on two or more cores (each worker starts
    its own spaCy, about a second); more workers than cores minus the writer only compete for the CPU."""
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if n_items >= 400 and cores >= 2 else 0


def import_items(session: Session, items: Iterable[ImportItem], *, actor: str, encoding: str | None = None,
                 csv_options: CsvOptions | None = None, create_cases: bool = False,
                 batch_size: int = 128, jobs: int | None = None, limits: ReadLimits | None = None,
                 news_format: str = "auto", segmenter: Segmenter | None = None,
                 new_project: bool = False) -> ImportReport:
    """Import ``items`` within the caller's transaction; a file refused by its reader (``limits``: how large
    a document may be) raises, and the caller's rollback leaves nothing of the import. ``news_format``
    ("auto", "nexis", "factiva") says how news-database exports are told apart (``read_file``). ``segmenter``:
    one the caller started (and closes), in place of ``jobs``. ``new_project``: the caller makes a project
    nobody works in yet (``import qdpx`` into a project without documents), whose units may then have their key
    to their documents checked once at the end (``db/bulk.foreign_keys_checked_once``), locking the tables."""
    items = list(items)
    if segmenter is not None:
        segment, jobs, own = segmenter, segmenter.jobs, False
    else:
        jobs = default_jobs(len(items)) if jobs is None else max(0, jobs)
        segment, own = Segmenter(jobs), True
    report = ImportReport()
    failed = True
    try:
        cases = _CaseLookup(session, create_cases, actor)
        seen: dict[str, str] = {}
        # This process reads, hashes and inserts documents while workers segment earlier batches; units
        # are inserted in batch order, so ids come out as if all ran in sequence.
        in_flight: deque[_Written] = deque()
        chars = 0
        # (A project made from a file, which nobody works in yet, may have the units' key checked once.)
        with foreign_keys_checked_once(session.connection(), Unit.__table__,
                                       len(items) * _UNITS_PER_DOCUMENT if new_project else 0):
            for batch in _batches(_parsed_stream(items, encoding, csv_options, limits, report, news_format),
                                  batch_size):
                written = _write_documents(session, batch, cases, seen, report, segment)
                if written is None:
                    continue
                in_flight.append(written)
                chars += written.chars
                while in_flight and (in_flight[0].spans.done()
                                     or (len(in_flight) > 2 * jobs and chars > _MAX_CHARS_IN_FLIGHT)):
                    done = in_flight.popleft()
                    chars -= done.chars
                    report.units += _insert_units(session, done)
            while in_flight:
                report.units += _insert_units(session, in_flight.popleft())
        failed = False
    except BrokenProcessPool as exc:
        why = segment.pool.why_broken() if segment.pool is not None else "a worker process ended unexpectedly"
        raise DocumentImportError(
            f"{why}; nothing was imported. Try again, or with --jobs 0 to split texts into sentences in this "
            "process") from exc
    finally:
        if own:
            segment.close(failed)
    refresh_statistics(session.connection(), report.units + len(report.imported), Document.__table__, Unit.__table__)
    record_event(session, actor, "import", "document", None, documents=len(report.imported),
                 skipped=len(report.skipped), words=report.words, ids=[d["id"] for d in report.imported])
    return report
