"""bots: meeting bots, their lifecycle and the participants they saw

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bots',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('meeting_id', sa.String(length=200), nullable=False),
        sa.Column('meeting_url', sa.Text(), nullable=False),
        sa.Column('bot_name', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('sub_code', sa.String(length=48), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('status_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('leave_requested', sa.Boolean(), nullable=False),
        sa.Column('join_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('metadata', sa.JSON(), nullable=False),
        sa.Column('deduplication_key', sa.String(length=200), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('screenshots', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bots_session_id', 'bots', ['session_id'])
    op.create_index('ix_bots_meeting', 'bots', ['platform', 'meeting_id'])
    op.create_index('ix_bots_deduplication_key', 'bots', ['deduplication_key'])
    op.create_index('ix_bots_created_at', 'bots', ['created_at'])
    op.create_table(
        'bot_status_changes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('bot_id', sa.String(length=32), nullable=False),
        sa.Column('old', sa.String(length=32), nullable=True),
        sa.Column('new', sa.String(length=32), nullable=False),
        sa.Column('sub_code', sa.String(length=48), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bot_status_changes_bot_id', 'bot_status_changes', ['bot_id'])
    op.create_table(
        'bot_participant_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('bot_id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('participant_id', sa.String(length=200), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('time', sa.Float(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bot_participant_events_bot_id', 'bot_participant_events', ['bot_id'])


def downgrade() -> None:
    op.drop_index('ix_bot_participant_events_bot_id', table_name='bot_participant_events')
    op.drop_table('bot_participant_events')
    op.drop_index('ix_bot_status_changes_bot_id', table_name='bot_status_changes')
    op.drop_table('bot_status_changes')
    for name in ('ix_bots_created_at', 'ix_bots_deduplication_key', 'ix_bots_meeting', 'ix_bots_session_id'):
        op.drop_index(name, table_name='bots')
    op.drop_table('bots')
