"""Importing files into a project: read, normalise, deduplicate, segment into units, bulk-insert.

One call is one transaction (the caller's session): if any file fails, nothing of the import remains.
Documents stream through in batches, so a large corpus never sits in memory whole, and sentences come from
``nlp.pipe`` over each batch, grouped by language.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.corpus.decode import decode_bytes
from gripcode.corpus.normalize import count_words, text_sha256
from gripcode.corpus.parsed import ParsedDocument
from gripcode.corpus.readers import CsvOptions, read_file
from gripcode.corpus.segment import paragraph_spans, sentence_spans_many
from gripcode.db.audit import record_event
from gripcode.db.models import DOCUMENT_KINDS, Case, Document, Unit
from gripcode.errors import DocumentImportError
from gripcode.nlp.languages import spacy_lang

MANIFEST_COLUMNS = ("path", "title", "case", "kind", "language", "date", "source")


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


@dataclass
class ImportItem:
    path: Path
    options: ImportOptions


@dataclass
class ImportReport:
    imported: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
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
        file_path = (manifest.parent / values["path"]).resolve()
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


def _parsed_stream(items: Iterable[ImportItem], encoding: str | None,
                   csv_options: CsvOptions | None) -> Iterator[tuple[ParsedDocument, dict[str, Any]]]:
    for item in items:
        docs = read_file(item.path, encoding=encoding, csv_options=csv_options)
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
class _Prepared:
    """A parsed document with everything computed that needs no database: done in worker processes."""

    parsed: ParsedDocument
    fields: dict[str, Any]
    digest: str
    words: int
    units: list[dict[str, Any]]


# Core executemany compiles one statement from the first row's keys, so every row carries every column.
_NO_TIMES = {"speaker": None, "begin_time": None, "end_time": None}


def _prepare(entries: list[tuple[ParsedDocument, dict[str, Any]]]) -> list[_Prepared]:
    by_lang: dict[str, list[int]] = {}
    for index, (_, fields) in enumerate(entries):
        by_lang.setdefault(spacy_lang(fields["language"]), []).append(index)
    sentences: dict[int, list[tuple[int, int]]] = {}
    for lang, indexes in by_lang.items():
        for index, spans in zip(indexes, sentence_spans_many((entries[i][0].text for i in indexes), lang)):
            sentences[index] = spans
    prepared = []
    for index, (parsed, fields) in enumerate(entries):
        units = [{"kind": "paragraph", "seq": seq, "start": a, "end": b, **_NO_TIMES}
                 for seq, (a, b) in enumerate(paragraph_spans(parsed.text), start=1)]
        units += [{"kind": "sentence", "seq": seq, "start": a, "end": b, **_NO_TIMES}
                  for seq, (a, b) in enumerate(sentences[index], start=1)]
        units += [{"kind": "turn", "seq": seq, "start": t.start, "end": t.end, "speaker": t.speaker,
                   "begin_time": t.begin_time, "end_time": t.end_time}
                  for seq, t in enumerate(parsed.turns, start=1)]
        prepared.append(_Prepared(parsed, fields, text_sha256(parsed.text), count_words(parsed.text), units))
    return prepared


def _prepare_items(task: tuple[list[ImportItem], str | None, CsvOptions | None]) -> list[_Prepared]:
    items, encoding, csv_options = task
    return _prepare(list(_parsed_stream(items, encoding, csv_options)))


def _prepared_batches(items: list[ImportItem], encoding: str | None, csv_options: CsvOptions | None,
                      batch_size: int, jobs: int) -> Iterator[list[_Prepared]]:
    """Prepared documents in input order. With ``jobs`` worker processes (0: none), reading and segmenting
    run beside this process's database writes; a bounded window of batches keeps memory flat."""
    tasks = ((chunk, encoding, csv_options) for chunk in _batches(iter(items), batch_size))
    if jobs <= 0:
        yield from map(_prepare_items, tasks)
        return
    # spawn, not fork: the parent holds an open database connection.
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        window: deque[Future[list[_Prepared]]] = deque()
        for task in tasks:
            window.append(pool.submit(_prepare_items, task))
            if len(window) > 2 * jobs:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


_UNIT_COLUMNS = ("document_id", "kind", "seq", "start", "end", "speaker", "begin_time", "end_time")


def _insert_units(session: Session, kept: list[_Prepared], ids: list[int]) -> int:
    """Units are most of the rows an import writes: tuples straight to the driver's executemany, because
    SQLAlchemy's per-row parameter processing cost more than the database spent storing them."""
    connection = session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO units ({', '.join(chr(34) + c + chr(34) for c in _UNIT_COLUMNS)}) "
           f"VALUES ({', '.join([marker] * len(_UNIT_COLUMNS))})")
    rows = [(doc_id, u["kind"], u["seq"], u["start"], u["end"], u["speaker"], u["begin_time"], u["end_time"])
            for prep, doc_id in zip(kept, ids) for u in prep.units]
    if rows:
        connection.exec_driver_sql(sql, rows)
    return len(rows)


def default_jobs(n_items: int) -> int:
    """One worker beside the writer pays off for large imports on two or more cores (each worker starts
    its own spaCy, about a second); more workers than cores minus the writer only compete for the CPU."""
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if n_items >= 400 and cores >= 2 else 0


def import_items(session: Session, items: Iterable[ImportItem], *, actor: str, encoding: str | None = None,
                 csv_options: CsvOptions | None = None, create_cases: bool = False,
                 batch_size: int = 128, jobs: int | None = None) -> ImportReport:
    items = list(items)
    jobs = default_jobs(len(items)) if jobs is None else max(0, jobs)
    report = ImportReport()
    cases = _CaseLookup(session, create_cases, actor)
    seen: dict[str, str] = {}
    doc_table = Document.__table__
    for batch in _prepared_batches(items, encoding, csv_options, batch_size, jobs):
        existing = dict(session.execute(select(Document.sha256, Document.title).where(
            Document.sha256.in_([p.digest for p in batch]))).tuples().all())
        rows, kept = [], []
        for prep in batch:
            if prep.digest in existing or prep.digest in seen:
                same_as = existing.get(prep.digest) or seen[prep.digest]
                report.skipped.append({"file": prep.parsed.original_name, "reason": f"same text as {same_as!r}"})
                continue
            fields = dict(prep.fields)
            seen[prep.digest] = fields["title"]
            case_id = cases(fields.pop("case"), prep.parsed.original_name)
            meta = fields.pop("meta")
            rows.append({**fields, "metadata": meta, "case_id": case_id, "text": prep.parsed.text,
                         "sha256": prep.digest, "word_count": prep.words})
            kept.append(prep)
            report.words += prep.words
        if not rows:
            continue
        ids = session.connection().execute(
            doc_table.insert().returning(doc_table.c.id, sort_by_parameter_order=True), rows).scalars().all()
        report.units += _insert_units(session, kept, ids)
        report.imported += [{"id": i, "title": r["title"], "file": r["original_name"], "words": r["word_count"]}
                            for i, r in zip(ids, rows)]
    record_event(session, actor, "import", "document", None, documents=len(report.imported),
                 skipped=len(report.skipped), words=report.words, ids=[d["id"] for d in report.imported])
    return report
