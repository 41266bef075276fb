"""indexes for analyses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:18:54.787735
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('codings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_codings_code_status'))
        batch_op.create_index('ix_codings_status_code_document', ['status', 'code_id', 'document_id'], unique=False)
        batch_op.create_index('ix_codings_status_document_code_span', ['status', 'document_id', 'code_id', 'start', 'end'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('codings', schema=None) as batch_op:
        batch_op.drop_index('ix_codings_status_document_code_span')
        batch_op.drop_index('ix_codings_status_code_document')
        batch_op.create_index(batch_op.f('ix_codings_code_status'), ['code_id', 'status'], unique=False)

