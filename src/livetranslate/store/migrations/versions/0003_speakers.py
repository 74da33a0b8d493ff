"""speakers: per-session speakers, meeting timeline events, voiceprints

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'speakers',
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('id', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('participant_id', sa.String(length=128), nullable=True),
        sa.Column('voiceprint_id', sa.String(length=32), nullable=True),
        sa.Column('merged_into', sa.String(length=16), nullable=True),
        sa.Column('centroid', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', 'id'),
    )
    op.create_table(
        'timeline_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('participant_id', sa.String(length=128), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('time', sa.Float(), nullable=False),
        sa.Column('end', sa.Float(), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_timeline_events_session_time', 'timeline_events', ['session_id', 'time'], unique=False)
    op.create_table(
        'voiceprints',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('embedding', sa.JSON(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('voiceprints')
    op.drop_index('ix_timeline_events_session_time', table_name='timeline_events')
    op.drop_table('timeline_events')
    op.drop_table('speakers')
