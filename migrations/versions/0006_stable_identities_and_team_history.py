"""stable identities for team work: every case, document, code, coder, coding and memo has a GUID; codings
have a version; the versions rows moved on from and the rows removed are kept for merges, and the codings a
merge found already here under another GUID

Existing rows get their GUIDs here (derived from a name, slug or text fingerprint where there is one, as new
rows are; random for codings and memos; a coding GUID that repeats is replaced). Triggers keep the version and
history of codings and the tombstones of codings and memos, whoever changes them; a row stored again under its
GUID (an undone removal) clears its tombstone in the code that stores it (`db/tombstones`), not by a
trigger, which would cost as much as the insert itself.

Note for later migrations: SQLite batch operations rebuild a table without its triggers; a migration that
alters `codings` or `memos` in batch mode must create the triggers again (``create_triggers``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00.000000
"""
from __future__ import annotations

import uuid

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

NAMESPACE = uuid.UUID("7d1f3c2e-5b8a-4f61-9c3e-2a6b0d4e8f17")  # gripcode.db.identity.GUID_NAMESPACE
DERIVED = {"cases": ("case", "name"), "documents": ("document", "sha256"), "codes": ("code", "slug"),
           "coders": ("coder", "name")}
TABLES = ("cases", "documents", "codes", "coders", "codings", "memos")
# What a coding says: a change to any of these is a new version.
CODING_CONTENT = ("document_id", "code_id", "coder_id", "start", "end", "quote", "origin", "status", "confidence",
                  "memo", "reviewed_by_id")

SQLITE_TRIGGERS = [
    """CREATE TRIGGER team_codings_changed AFTER UPDATE ON codings FOR EACH ROW
       WHEN NEW.version IS NOT OLD.version OR {changed}
       BEGIN
         INSERT OR IGNORE INTO team_history (entity, guid, version) VALUES ('coding', OLD.refi_guid, OLD.version);
         UPDATE codings SET version = lower(hex(randomblob(16))) WHERE id = NEW.id AND version = OLD.version;
       END""".format(changed=" OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in CODING_CONTENT)),
    """CREATE TRIGGER team_codings_removed AFTER DELETE ON codings FOR EACH ROW
       BEGIN
         INSERT OR REPLACE INTO team_tombstones (entity, guid, version, removed_at)
         VALUES ('coding', OLD.refi_guid, OLD.version, strftime('%Y-%m-%d %H:%M:%f', 'now'));
       END""",
    """CREATE TRIGGER team_memos_removed AFTER DELETE ON memos FOR EACH ROW
       BEGIN
         INSERT OR REPLACE INTO team_tombstones (entity, guid, version, removed_at)
         VALUES ('memo', OLD.refi_guid, NULL, strftime('%Y-%m-%d %H:%M:%f', 'now'));
       END""",
]
POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION team_codings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.version IS DISTINCT FROM OLD.version OR ROW({new}) IS DISTINCT FROM ROW({old}) THEN
           INSERT INTO team_history (entity, guid, version) VALUES ('coding', OLD.refi_guid, OLD.version)
             ON CONFLICT DO NOTHING;
           IF NEW.version = OLD.version THEN
             NEW.version := md5(random()::text || clock_timestamp()::text || OLD.refi_guid);
           END IF;
         END IF;
         RETURN NEW;
       END $$""".format(new=", ".join(f'NEW."{c}"' for c in CODING_CONTENT),
                        old=", ".join(f'OLD."{c}"' for c in CODING_CONTENT)),
    """CREATE TRIGGER team_codings_changed BEFORE UPDATE ON codings FOR EACH ROW
       EXECUTE FUNCTION team_codings_changed()""",
    """CREATE FUNCTION team_coding_removed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO team_tombstones (entity, guid, version, removed_at)
         VALUES ('coding', OLD.refi_guid, OLD.version, now())
         ON CONFLICT (entity, guid) DO UPDATE SET version = EXCLUDED.version, removed_at = EXCLUDED.removed_at;
         RETURN OLD;
       END $$""",
    """CREATE FUNCTION team_memo_removed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO team_tombstones (entity, guid, version, removed_at)
         VALUES ('memo', OLD.refi_guid, NULL, now())
         ON CONFLICT (entity, guid) DO UPDATE SET version = EXCLUDED.version, removed_at = EXCLUDED.removed_at;
         RETURN OLD;
       END $$""",
    """CREATE TRIGGER team_codings_removed AFTER DELETE ON codings FOR EACH ROW
       EXECUTE FUNCTION team_coding_removed()""",
    """CREATE TRIGGER team_memos_removed AFTER DELETE ON memos FOR EACH ROW
       EXECUTE FUNCTION team_memo_removed()""",
]
POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS team_codings_changed ON codings",
                   "DROP TRIGGER IF EXISTS team_codings_removed ON codings",
                   "DROP TRIGGER IF EXISTS team_memos_removed ON memos",
                   "DROP FUNCTION IF EXISTS team_codings_changed()", "DROP FUNCTION IF EXISTS team_coding_removed()",
                   "DROP FUNCTION IF EXISTS team_memo_removed()"]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS team_codings_changed", "DROP TRIGGER IF EXISTS team_codings_removed",
               "DROP TRIGGER IF EXISTS team_memos_removed"]


def create_triggers() -> None:
    bind = op.get_bind()
    for statement in (POSTGRESQL_TRIGGERS if bind.dialect.name == "postgresql" else SQLITE_TRIGGERS):
        op.execute(statement)


def drop_triggers() -> None:
    bind = op.get_bind()
    for statement in (POSTGRESQL_DROP if bind.dialect.name == "postgresql" else SQLITE_DROP):
        op.execute(statement)


def _fill_guids() -> None:
    bind = op.get_bind()
    for table in TABLES:
        kind, key = DERIVED.get(table, (None, None))
        rows = bind.execute(sa.text(f"SELECT id, refi_guid{', ' + key if key else ''} FROM {table} "
                                    "ORDER BY id")).all()
        used: set[str] = set()
        updates = []
        for row in rows:
            if row[1] is not None and row[1] not in used:
                used.add(row[1])
        seen: set[str] = set()
        for row in rows:
            if row[1] is not None and row[1] not in seen:
                seen.add(row[1])
                continue
            guid = str(uuid.uuid5(NAMESPACE, f"{kind}:{row[2]}")) if key and row[2] is not None else None
            if guid is None or guid in used:
                guid = str(uuid.uuid4())
            used.add(guid)
            updates.append({"row_id": row[0], "guid": guid})
        if updates:
            bind.execute(sa.text(f"UPDATE {table} SET refi_guid = :guid WHERE id = :row_id"), updates)


def upgrade() -> None:
    op.create_table('project_info',
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_project_info'))
    )
    op.create_table('team_history',
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('guid', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('entity', 'guid', 'version', name=op.f('pk_team_history'))
    )
    op.create_table('team_tombstones',
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('guid', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entity', 'guid', name=op.f('pk_team_tombstones'))
    )
    op.create_table('team_aliases',
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('guid', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=True),
    sa.Column('target_version', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('entity', 'guid', name=op.f('pk_team_aliases'))
    )
    with op.batch_alter_table('codings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.String(length=32), nullable=True))
    _fill_guids()
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM codings")).all()]
    if ids:
        bind.execute(sa.text("UPDATE codings SET version = :version WHERE id = :row_id"),
                     [{"row_id": i, "version": uuid.uuid4().hex} for i in ids])
    bind.execute(sa.text("INSERT INTO project_info (key, value) VALUES ('project_id', :guid)"),
                 {"guid": str(uuid.uuid4())})
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('refi_guid', existing_type=sa.String(length=40), nullable=False)
            if table == "codings":
                batch_op.alter_column('version', existing_type=sa.String(length=32), nullable=False)
                batch_op.create_unique_constraint(batch_op.f('uq_codings_refi_guid'), ['refi_guid'])
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "codings":
                batch_op.drop_constraint(batch_op.f('uq_codings_refi_guid'), type_='unique')
                batch_op.drop_column('version')
            batch_op.alter_column('refi_guid', existing_type=sa.String(length=40), nullable=True)
    op.drop_table('team_aliases')
    op.drop_table('team_tombstones')
    op.drop_table('team_history')
    op.drop_table('project_info')
