"""translations: per-segment translations; session engine, glossary, expected languages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'translations',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('segment_id', sa.String(length=32), nullable=False),
        sa.Column('lang', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('engine', sa.String(length=32), nullable=False),
        sa.Column('latency_ms', sa.Float(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('segment_id', 'lang', name='uq_translations_segment_lang'),
    )
    op.create_index('ix_translations_session_lang', 'translations', ['session_id', 'lang'], unique=False)
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('translation_engine', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('glossary', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('languages', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.drop_column('languages')
        batch.drop_column('glossary')
        batch.drop_column('translation_engine')
    op.drop_index('ix_translations_session_lang', table_name='translations')
    op.drop_table('translations')
