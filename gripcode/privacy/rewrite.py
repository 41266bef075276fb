"""Copying a whole project into a new database while replacing values in its texts.

Rows keep their ids, so every reference (codings to codes and coders, memos to documents, codes and codings,
validation samples to units) holds as it was. A document's text changes by its list of replacements; its units
and codings move by the document's :class:`~gripcode.privacy.spans.OffsetMap` and each coding's quote is taken
from the new text. Every other text cell (titles, metadata, memos, the audit log, codebook snapshots, language-
model runs) goes through ``scrub``: JSON keys as well as values, and a codebook snapshot as parsed YAML (its
string values scrubbed and the YAML written again, so a pseudonym such as ``[Organisation A]`` stays a string).
A code's slug that holds a replaced value (``hartwell-metals``) gets the pseudonym's slug (``organisation-a``),
the same wherever the slug appears (codebook snapshots, codings' rule references, validation results, the
log). GUIDs are replaced by their AES encryption under a key kept in the key file, so the new project's
``.qdpx`` cannot be joined GUID for GUID with an earlier export of the original, and ``reverse`` gets them back.
What a cell held before it changed is returned, so the change can be undone exactly.

Not copied: trained classifiers (a spaCy pipeline stores the words it saw) and the cache of language-model
answers (keyed by a plain hash of the original unit text, which would let anyone confirm a guessed name).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Connection, String, Table, Text, func, select, text, update

from gripcode.corpus.normalize import text_sha256
from gripcode.db.models import Base
from gripcode.errors import GripcodeError
from gripcode.privacy.spans import OffsetMap, Replacement, apply_replacements

BATCH = 1000
# Tables whose rows are not copied, and why.
LEFT_OUT = {"trained_models": "a trained model keeps words of its texts; train it again on the new project",
            "llm_answers": "the cache of language-model answers is keyed by a hash of the original unit texts; "
                           "run the model again on the new project",
            **{table: "a pseudonymised project is a project of its own, not a coder's copy: the past versions, "
                      "removals and links to other copies that merges read stay behind"
               for table in ("team_history", "team_tombstones", "team_aliases")}}
# Tables the new project fills itself: its own identity (a new project id), never the original's.
OWN_TABLES = {"project_info"}
# Text columns that name things of the project itself (hashes, vocabularies, coders), not what the documents
# say; they are copied as they are (GUIDs and codes' slugs have their own rules).
KEEP_COLUMNS = {"refi_guid", "sha256", "content_hash", "prompt_hash", "text_hash", "data_hash", "kind",
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
    snapped_disagreements: dict[str, list[int]] = field(default_factory=dict)  # reliability rounds' spans
    cells: list[list[Any]] = field(default_factory=list)  # [table, key, column, value before]
    spans: dict[str, list[list[Any]]] = field(default_factory=dict)  # document id -> [[start, end, new, old]]
    left_out: dict[str, int] = field(default_factory=dict)


def _scrub_json(value: Any, scrub: Callable[[str], str], where: str = "a value") -> Any:
    """``value`` with every string scrubbed: list items, mapping values and mapping keys."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_json(v, scrub, where) for v in value]
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            new_key = scrub(k) if isinstance(k, str) else k
            if new_key in out:
                raise RewriteError(f"{where}: the keys {k!r} and another become {new_key!r} once the values are "
                                   "replaced; give the two values different pseudonyms or remove one entry")
            out[new_key] = _scrub_json(v, scrub, where)
        return out
    return value


def _scrub_yaml(body: str, scrub: Callable[[str], str], where: str) -> str:
    """A YAML document with its strings scrubbed and written again (a pseudonym in brackets written into the
    text as it stands would turn a name into a list). YAML that cannot be read is scrubbed as text."""
    import yaml

    if scrub(body) == body:
        return body
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError:
        return scrub(body)
    return yaml.safe_dump(_scrub_json(data, scrub, where), allow_unicode=True, sort_keys=False, width=110)


class GuidCipher:
    """A GUID to another and back: AES on the GUID's 16 bytes, under a key kept in the key file."""

    def __init__(self, key: bytes, decrypt: bool = False) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self._cipher = Cipher(algorithms.AES(key), modes.ECB())  # one block per GUID: a permutation of GUIDs
        self.decrypt = decrypt

    def __call__(self, guid: str) -> str | None:
        """The other GUID, or None for a GUID not written in the canonical form (it cannot come back as it was
        written)."""
        try:
            parsed = uuid.UUID(guid)
        except ValueError:
            return None
        if str(parsed) != guid:
            return None
        work = self._cipher.decryptor() if self.decrypt else self._cipher.encryptor()
        return str(uuid.UUID(bytes=work.update(parsed.bytes) + work.finalize()))


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
                 restore_spans: dict[str, dict[str, list[int]]] | None = None,
                 scrub_slug: Callable[[str], str] | None = None,
                 guids: GuidCipher | None = None) -> None:
        self.replacements_for = replacements_for
        self._scrub_values = scrub
        self.scrub = self._scrub if scrub is not None else None
        self.scrub_slug = scrub_slug
        self.guids = guids
        self.slugs: dict[str, str] = {}  # old slug -> new, for codes whose slug holds a replaced value
        self._slug_regex: re.Pattern[str] | None = None
        self._unique: dict[tuple[str, tuple[str, ...]], dict[Any, str]] = {}
        self.restore_cells = restore_cells or {}
        self.restore_spans = restore_spans or {}
        self.maps: dict[int, OffsetMap] = {}
        self.result = RewriteResult()
        # The spans of the current document's codings, to name two that would become one (codings come in
        # document order).
        self._seen: dict[tuple[int, int, int, int, int], int] = {}
        self._seen_document: int | None = None

    def _scrub(self, value: str) -> str:
        if self._slug_regex is not None:
            value = self._slug_regex.sub(lambda m: self.slugs[m.group(0)], value)
        assert self._scrub_values is not None
        return self._scrub_values(value)

    def _plan_slugs(self, source: Connection) -> None:
        """New slugs for the codes whose slug holds a replaced value, unique among all the codes' slugs."""
        if self.scrub_slug is None:
            return
        codes = Base.metadata.tables["codes"]
        slugs = list(source.execute(select(codes.c.slug).order_by(codes.c.id)).scalars())
        used = set(slugs)
        for slug in slugs:
            new = self.scrub_slug(slug)
            if new == slug:
                continue
            base, n = new[:90], 1
            while new in used:
                n += 1
                new = f"{base}-{n}"
            used.add(new)
            self.slugs[slug] = new
        if self.slugs:
            alternatives = "|".join(re.escape(s) for s in sorted(self.slugs, key=lambda s: (-len(s), s)))
            self._slug_regex = re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-])(?!\.\w)")

    def copy(self, source: Connection, target: Connection) -> RewriteResult:
        self._plan_slugs(source)
        for table in Base.metadata.sorted_tables:
            if table.name in OWN_TABLES:
                continue
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
        uniques = self._unique_keys(table, columns)
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
            elif table.name == "round_disagreements":
                rows = [self._spanned(row, "disagreements") for row in rows]
            elif table.name == "codings":
                rows = self._codings(target, rows)
            for names in uniques:
                self._check_unique(table, names, rows)
            for row in rows:
                if any(row.get(name) is not None for name in self_refs):
                    deferred.append({"id": row["id"], **{name: row[name] for name in self_refs}})
                    for name in self_refs:
                        row[name] = None
            target.execute(table.insert(), rows)
        for values in deferred:
            target.execute(update(table).where(table.c.id == values.pop("id")).values(**values))

    def _unique_keys(self, table: Table, columns: list[str]) -> list[tuple[str, ...]]:
        """The unique keys a replacement can make two rows share: those with a changed column in them."""
        from sqlalchemy import UniqueConstraint

        changing = set(columns) | ({"sha256"} if table.name == "documents" else set())
        keys = {(c.name,) for c in table.columns if c.unique}
        keys |= {tuple(c.name for c in con.columns) for con in table.constraints if isinstance(con, UniqueConstraint)}
        return sorted(k for k in keys if changing & set(k) and table.name != "codings")

    def _check_unique(self, table: Table, names: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
        seen = self._unique.setdefault((table.name, names), {})
        for row in rows:
            value = tuple(row[n] for n in names)
            if any(v is None for v in value):
                continue
            row_id = _row_key(table, row)
            other = seen.setdefault(value, row_id)
            if other != row_id:
                what = ("would hold the same text" if names == ("sha256",) else
                        f"would have the same {', '.join(names)} {', '.join(map(str, value))!r}")
                raise RewriteError(f"{table.name} {other.strip('[]')} and {row_id.strip('[]')} {what} once the values "
                                   "are replaced, and the new project cannot hold both; remove or change one of "
                                   "them in the original project, or give the values different pseudonyms; nothing "
                                   "was written")

    def _cells(self, table: Table, row: dict[str, Any], columns: list[str]) -> None:
        key = _row_key(table, row) if (self.scrub or self.restore_cells or self.guids) else ""
        if self.guids is not None and row.get("refi_guid") is not None:
            restored = self.restore_cells.get((table.name, key, "refi_guid"), _MISSING)
            if restored is not _MISSING:
                row["refi_guid"] = restored
            else:
                new = self.guids(row["refi_guid"])
                if new is None:  # not in the canonical form: a fresh one, the old one kept in the key file
                    new = str(uuid.uuid4())
                    self.result.cells.append([table.name, key, "refi_guid", row["refi_guid"]])
                row["refi_guid"] = new
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
            where = f"{table.name}.{name} of row {key}"
            if name == "slug":
                new = self.slugs.get(value, value)
            elif name == "yaml_snapshot":
                new = _scrub_yaml(value, self.scrub, where)
            else:
                new = _scrub_json(value, self.scrub, where) if not isinstance(value, str) else self.scrub(value)
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
                kept = {"units": self.result.snapped_units, "codings": self.result.snapped_codings,
                        "disagreements": self.result.snapped_disagreements}[kind]
                kept[str(row["id"])] = [row["start"], row["end"]]
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
