"""language-model coder: runs, per-unit outcomes, answer cache; validation samples and results

Coders of kind 'llm' and codings of origin 'llm' join the vocabularies.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 04:27:31.558411
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KINDS = "kind IN ('person', 'rules', 'model', 'import')"
KINDS_WITH_LLM = "kind IN ('person', 'rules', 'model', 'llm', 'import')"
ORIGINS = "origin IN ('manual', 'rule', 'model', 'import')"
ORIGINS_WITH_LLM = "origin IN ('manual', 'rule', 'model', 'llm', 'import')"


def upgrade() -> None:
    with op.batch_alter_table('coders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_coders_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_coders_kind'), sa.text(KINDS_WITH_LLM))
    with op.batch_alter_table('codings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_codings_origin'), type_='check')
        batch_op.create_check_constraint(op.f('ck_codings_origin'), sa.text(ORIGINS_WITH_LLM))
    op.create_table('llm_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('coder_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('endpoint', sa.String(length=500), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('prompt_hash', sa.String(length=64), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('codebook_version_id', sa.Integer(), nullable=True),
    sa.Column('unit', sa.String(length=12), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('units_total', sa.Integer(), nullable=False),
    sa.Column('units_sent', sa.Integer(), nullable=False),
    sa.Column('units_cached', sa.Integer(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('malformed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('suggestions', sa.Integer(), nullable=False),
    sa.Column('characters_sent', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'interrupted', 'incomplete', 'failed', 'finished')", name=op.f('ck_llm_runs_status')),
    sa.ForeignKeyConstraint(['codebook_version_id'], ['codebook_versions.id'], name=op.f('fk_llm_runs_codebook_version_id_codebook_versions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['coder_id'], ['coders.id'], name=op.f('fk_llm_runs_coder_id_coders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_llm_runs'))
    )
    with op.batch_alter_table('llm_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_llm_runs_coder_id'), ['coder_id'], unique=False)

    op.create_table('validation_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('coder_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=12), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('strata', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coder_id'], ['coders.id'], name=op.f('fk_validation_samples_coder_id_coders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validation_samples'))
    )
    with op.batch_alter_table('validation_samples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_validation_samples_coder_id'), ['coder_id'], unique=False)

    op.create_table('llm_answers',
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('prompt_hash', sa.String(length=64), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('malformed', sa.Boolean(), nullable=False),
    sa.Column('codes', sa.JSON(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['llm_runs.id'], name=op.f('fk_llm_answers_run_id_llm_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('model', 'prompt_hash', 'text_hash', name=op.f('pk_llm_answers'))
    )
    op.create_table('validations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('coder_id', sa.Integer(), nullable=False),
    sa.Column('against', sa.JSON(), nullable=False),
    sa.Column('unit', sa.String(length=12), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coder_id'], ['coders.id'], name=op.f('fk_validations_coder_id_coders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sample_id'], ['validation_samples.id'], name=op.f('fk_validations_sample_id_validation_samples'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validations'))
    )
    with op.batch_alter_table('validations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_validations_coder_id'), ['coder_id'], unique=False)

    op.create_table('llm_run_units',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('codes', sa.Integer(), nullable=False),
    sa.CheckConstraint("outcome IN ('answered', 'cached', 'malformed')", name=op.f('ck_llm_run_units_outcome')),
    sa.ForeignKeyConstraint(['run_id'], ['llm_runs.id'], name=op.f('fk_llm_run_units_run_id_llm_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_llm_run_units_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'unit_id', name=op.f('pk_llm_run_units'))
    )
    op.create_table('validation_sample_units',
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sample_id'], ['validation_samples.id'], name=op.f('fk_validation_sample_units_sample_id_validation_samples'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_validation_sample_units_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sample_id', 'unit_id', name=op.f('pk_validation_sample_units'))
    )


def downgrade() -> None:
    # The language-model coders and their codings go with the schema that knows them.
    op.execute("DELETE FROM codings WHERE origin = 'llm' OR coder_id IN (SELECT id FROM coders WHERE kind = 'llm')")
    op.drop_table('validation_sample_units')
    op.drop_table('llm_run_units')
    with op.batch_alter_table('validations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_validations_coder_id'))

    op.drop_table('validations')
    op.drop_table('llm_answers')
    with op.batch_alter_table('validation_samples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_validation_samples_coder_id'))

    op.drop_table('validation_samples')
    with op.batch_alter_table('llm_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_llm_runs_coder_id'))

    op.drop_table('llm_runs')
    op.execute("DELETE FROM coders WHERE kind = 'llm'")
    with op.batch_alter_table('codings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_codings_origin'), type_='check')
        batch_op.create_check_constraint(op.f('ck_codings_origin'), sa.text(ORIGINS))
    with op.batch_alter_table('coders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_coders_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_coders_kind'), sa.text(KINDS))
