"""timeline events say whether their time was measured on the audio

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('timeline_events') as batch:
        batch.add_column(sa.Column('exact', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('timeline_events') as batch:
        batch.drop_column('exact')
