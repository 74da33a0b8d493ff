"""audit log: who (key) did what to which thing, and when

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=True),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('target', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_events_tenant_id_id', 'audit_events', ['tenant_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_audit_events_tenant_id_id', table_name='audit_events')
    op.drop_table('audit_events')
