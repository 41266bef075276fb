"""Copying a whole project into a new database while replacing values in its texts.

Rows keep their ids, so every reference (codings to codes and coders, memos to documents, codes and codings,
validation samples to units) holds as it was. A document's text changes by its list of replacements; its units
and codings move by the document's :class:`~gripcode.privacy.spans.OffsetMap` and each coding's quote is taken
from the new text. Every other text cell (titles, metadata, memos, the audit log, codebook snapshots, language-
model answers) goes through ``scrub``; what a cell held before it changed is returned, so the change can be
undone exactly. Trained classifiers are not copied: a spaCy pipeline stores the words it saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Connection, String, Table, Text, func, select, text, update

from gripcode.corpus.normalize import text_sha256
from gripcode.db.models import Base
from gripcode.errors import GripcodeError
from gripcode.privacy.spans import OffsetMap, Replacement, apply_replacements

BATCH = 1000
# Tables whose rows are not copied, and why: a trained pipeline keeps the vocabulary of its training texts.
LEFT_OUT = {"trained_models"}
# Text columns that name things of the project itself (hashes, vocabularies, coders, codes' slugs), not what
# the documents say; they are copied as they are.
KEEP_COLUMNS = {"refi_guid", "sha256", "slug", "content_hash", "prompt_hash", "text_hash", "data_hash", "kind",
                "status", "origin", "language", "value_type", "target", "action", "entity", "outcome", "unit",
                "color", "quote", "model", "model_ref", "endpoint"}
KEEP_TABLE_COLUMNS = {("coders", "name"), ("documents", "text")}


class RewriteError(GripcodeError):
    """The new project cannot be written as asked."""


@dataclass
class RewriteResult:
    documents: int = 0
    documents_changed: int = 0
    replacements: int = 0
    units: int = 0
    codings: int = 0
    snapped_units: dict[str, list[int]] = field(default_factory=dict)  # id -> the old [start, end]
    snapped_codings: dict[str, list[int]] = field(default_factory=dict)
    cells: list[list[Any]] = field(default_factory=list)  # [table, key, column, value before]
    spans: dict[str, list[list[Any]]] = field(default_factory=dict)  # document id -> [[start, end, new, old]]
    left_out: dict[str, int] = field(default_factory=dict)


def _scrub_json(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_json(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_json(v, scrub) for k, v in value.items()}
    return value


def _text_columns(table: Table) -> list[str]:
    names = []
    for column in table.columns:
        if column.primary_key or column.name in KEEP_COLUMNS or (table.name, column.name) in KEEP_TABLE_COLUMNS:
            continue
        if isinstance(column.type, (String, Text, JSON)) or isinstance(getattr(column.type, "impl", None),
                                                                         (String, Text, JSON)):
            names.append(column.name)
    return names


def _row_key(table: Table, row: dict[str, Any]) -> str:
    return json.dumps([row[c.name] for c in table.primary_key.columns], default=str, ensure_ascii=False)


def _stream(connection: Connection, table: Table, order: list[Any]) -> Iterator[list[dict[str, Any]]]:
    result = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
    for partition in result.mappings().partitions(BATCH):
        yield [dict(row) for row in partition]


class ProjectRewriter:
    """One copy: ``replacements_for(document id, text)`` says what changes in each document's text;
    ``scrub`` changes other text cells (None: none); ``restore_cells`` and ``restore_spans`` put back exact
    values recorded by an earlier copy (for undoing one)."""

    def __init__(self, replacements_for: Callable[[int, str], list[Replacement]],
                 scrub: Callable[[str], str] | None = None,
                 restore_cells: dict[tuple[str, str, str], Any] | None = None,
                 restore_spans: dict[str, dict[str, list[int]]] | None = None) -> None:
        self.replacements_for = replacements_for
        self.scrub = scrub
        self.restore_cells = restore_cells or {}
        self.restore_spans = restore_spans or {}
        self.maps: dict[int, OffsetMap] = {}
        self.result = RewriteResult()
        # The spans of the current document's codings, to name two that would become one (codings come in
        # document order).
        self._seen: dict[tuple[int, int, int, int, int], int] = {}
        self._seen_document: int | None = None

    def copy(self, source: Connection, target: Connection) -> RewriteResult:
        for table in Base.metadata.sorted_tables:
            if table.name in LEFT_OUT:
                left = source.execute(select(func.count()).select_from(table)).scalar_one()
                if left:
                    self.result.left_out[table.name] = left
                continue
            self._copy_table(source, target, table)
        if target.dialect.name == "postgresql":
            self._reset_sequences(target)
        return self.result

    def _copy_table(self, source: Connection, target: Connection, table: Table) -> None:
        columns = _text_columns(table)
        self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
        deferred: list[dict[str, Any]] = []
        order = ([table.c.document_id, table.c.id] if table.name == "codings"
                 else list(table.primary_key.columns))
        for rows in _stream(source, table, order):
            for row in rows:
                self._cells(table, row, columns)
            if table.name == "documents":
                rows = [self._document(row) for row in rows]
            elif table.name == "units":
                rows = [self._spanned(row, "units") for row in rows]
            elif table.name == "codings":
                rows = self._codings(target, rows)
            for row in rows:
                if any(row.get(name) is not None for name in self_refs):
                    deferred.append({"id": row["id"], **{name: row[name] for name in self_refs}})
                    for name in self_refs:
                        row[name] = None
            target.execute(table.insert(), rows)
        for values in deferred:
            target.execute(update(table).where(table.c.id == values.pop("id")).values(**values))

    def _cells(self, table: Table, row: dict[str, Any], columns: list[str]) -> None:
        key = _row_key(table, row) if (self.scrub or self.restore_cells) else ""
        for name in columns:
            value = row[name]
            if value is None:
                continue
            restored = self.restore_cells.get((table.name, key, name), _MISSING)
            if restored is not _MISSING:
                row[name] = restored
                continue
            if self.scrub is None:
                continue
            new = _scrub_json(value, self.scrub) if not isinstance(value, str) else self.scrub(value)
            if new != value:
                self.result.cells.append([table.name, key, name, value])
                row[name] = new

    def _document(self, row: dict[str, Any]) -> dict[str, Any]:
        old = row["text"]
        replacements = sorted(self.replacements_for(row["id"], old), key=lambda r: r.start)
        self.result.documents += 1
        if replacements:
            new = apply_replacements(old, replacements)
            offsets = OffsetMap(replacements)
            self.maps[row["id"]] = offsets
            self.result.spans[str(row["id"])] = [
                [offsets.new_starts[i], offsets.new_ends[i], rep.value, old[rep.start:rep.end], rep.entity]
                for i, rep in enumerate(replacements)]
            row["text"], row["sha256"] = new, text_sha256(new)
            self.result.documents_changed += 1
            self.result.replacements += len(replacements)
        return row

    def _spanned(self, row: dict[str, Any], kind: str) -> dict[str, Any]:
        restored = self.restore_spans.get(kind, {}).get(str(row["id"]))
        offsets = self.maps.get(row["document_id"])
        if restored is not None:
            row["start"], row["end"] = restored
        elif offsets:
            start, end, snapped = offsets.span(row["start"], row["end"])
            if snapped:
                (self.result.snapped_units if kind == "units" else self.result.snapped_codings)[str(row["id"])] = [
                    row["start"], row["end"]]
            row["start"], row["end"] = start, end
        if kind == "units":
            self.result.units += 1
        return row

    def _codings(self, target: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        texts: dict[int, str] = {}
        changed = {row["document_id"] for row in rows if row["document_id"] in self.maps}
        if changed:
            documents = Base.metadata.tables["documents"]
            texts = dict(target.execute(select(documents.c.id, documents.c.text)
                                        .where(documents.c.id.in_(changed))).all())
        seen = self._seen
        for row in rows:
            if row["document_id"] != self._seen_document:
                seen.clear()
                self._seen_document = row["document_id"]
            self._spanned(row, "codings")
            if row["document_id"] in texts:
                row["quote"] = texts[row["document_id"]][row["start"]:row["end"]]
                key = (row["document_id"], row["code_id"], row["coder_id"], row["start"], row["end"])
                if key in seen:
                    raise RewriteError(f"codings {seen[key]} and {row['id']} would cover the same passage of "
                                       f"document {row['document_id']} once the values are replaced (one of them "
                                       "began or ended inside a replaced value); remove one of them first")
                seen[key] = row["id"]
            self.result.codings += 1
        return rows

    def _reset_sequences(self, target: Connection) -> None:
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.name not in LEFT_OUT:
                target.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                    f"(SELECT MAX(id) FROM {table.name}) IS NOT NULL)"))


_MISSING = object()
