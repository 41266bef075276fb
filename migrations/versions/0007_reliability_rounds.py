"""reliability rounds: coders, documents, stored agreement and adjudicated disagreements

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 21:17:42.586448

Only new tables: no existing table changes, so the merge may chain it after any other revision.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=200), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agreement', sa.JSON(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_rounds_status')),
    sa.CheckConstraint("unit IN ('paragraph', 'sentence', 'turn', 'document')", name=op.f('ck_rounds_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rounds')),
    sa.UniqueConstraint('name', name=op.f('uq_rounds_name'))
    )
    op.create_table('round_coders',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('coder_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['coder_id'], ['coders.id'], name=op.f('fk_round_coders_coder_id_coders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_coders_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'coder_id', name=op.f('pk_round_coders'))
    )
    with op.batch_alter_table('round_coders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_coders_coder_id'), ['coder_id'], unique=False)

    op.create_table('round_documents',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_round_documents_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_documents_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'document_id', name=op.f('pk_round_documents'))
    )
    with op.batch_alter_table('round_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_documents_document_id'), ['document_id'], unique=False)

    op.create_table('round_disagreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('unit_seq', sa.Integer(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=False),
    sa.Column('applied_by', sa.JSON(), nullable=False),
    sa.Column('not_applied_by', sa.JSON(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('coding_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("decision IN ('apply', 'reject')", name=op.f('ck_round_disagreements_decision')),
    sa.CheckConstraint('start >= 0 AND "end" > start', name=op.f('ck_round_disagreements_span')),
    sa.ForeignKeyConstraint(['code_id'], ['codes.id'], name=op.f('fk_round_disagreements_code_id_codes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['coding_id'], ['codings.id'], name=op.f('fk_round_disagreements_coding_id_codings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_round_disagreements_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_disagreements_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_disagreements')),
    sa.UniqueConstraint('round_id', 'seq', name='uq_round_disagreements_round_seq')
    )


def downgrade() -> None:
    op.drop_table('round_disagreements')
    with op.batch_alter_table('round_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_documents_document_id'))

    op.drop_table('round_documents')
    with op.batch_alter_table('round_coders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_coders_coder_id'))

    op.drop_table('round_coders')
    op.drop_table('rounds')
