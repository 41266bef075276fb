"""autocode progress and trained models

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:51:17.308099
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trained_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=12), nullable=False),
    sa.Column('codes', sa.JSON(), nullable=False),
    sa.Column('data_hash', sa.String(length=64), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trained_models')),
    sa.UniqueConstraint('name', name=op.f('uq_trained_models_name'))
    )
    with op.batch_alter_table('trained_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trained_models_data_hash'), ['data_hash'], unique=False)

    op.create_table('autocode_progress',
    sa.Column('coder_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coder_id'], ['coders.id'], name=op.f('fk_autocode_progress_coder_id_coders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_autocode_progress_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('coder_id', 'document_id', 'scope', name=op.f('pk_autocode_progress'))
    )


def downgrade() -> None:
    op.drop_table('autocode_progress')
    with op.batch_alter_table('trained_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trained_models_data_hash'))

    op.drop_table('trained_models')
