"""a tenant's own limits over the server's (requests, live sessions, bots, audio, uploads)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenants') as batch:
        batch.add_column(sa.Column('limits', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenants') as batch:
        batch.drop_column('limits')
