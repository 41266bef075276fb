"""indexes for analyses hold only the codings that count

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 15:20:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

COUNTED = sa.text("status = 'accepted'")


def upgrade() -> None:
    op.drop_index('ix_codings_status_document_code_span', table_name='codings')
    op.drop_index('ix_codings_status_code_document', table_name='codings')
    op.create_index('ix_codings_counted_code_document', 'codings', ['status', 'code_id', 'document_id'],
                    unique=False, sqlite_where=COUNTED, postgresql_where=COUNTED)
    op.create_index('ix_codings_counted_document_code_span', 'codings',
                    ['status', 'document_id', 'code_id', 'start', 'end'], unique=False,
                    sqlite_where=COUNTED, postgresql_where=COUNTED)


def downgrade() -> None:
    op.drop_index('ix_codings_counted_document_code_span', table_name='codings')
    op.drop_index('ix_codings_counted_code_document', table_name='codings')
    op.create_index('ix_codings_status_code_document', 'codings', ['status', 'code_id', 'document_id'], unique=False)
    op.create_index('ix_codings_status_document_code_span', 'codings',
                    ['status', 'document_id', 'code_id', 'start', 'end'], unique=False)
