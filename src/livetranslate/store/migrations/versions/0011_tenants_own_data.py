"""tenants own data: sessions (and all under them), voiceprints and defaults carry their
tenant; what was stored before belongs to the tenant "default"

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 08:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_VOICEPRINT_COLUMNS = "id, name, embedding, seconds, samples, created_at, updated_at"


def _default_tenant() -> None:
    op.execute(sa.text(
        "INSERT INTO tenants (id, name, created_at) SELECT 'default', 'default', CURRENT_TIMESTAMP "
        "WHERE NOT EXISTS (SELECT 1 FROM tenants WHERE id = 'default' OR name = 'default')"
    ))


def _voiceprints(*, tenant: bool) -> None:
    """Rebuilt by hand (SQLite cannot drop the old unnamed unique constraint on name)."""
    columns = [
        sa.Column('id', sa.String(length=32), nullable=False),
        *([sa.Column('tenant_id', sa.String(length=32), nullable=False, server_default='default')] if tenant else []),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('embedding', sa.JSON(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'name', name='uq_voiceprints_tenant_name') if tenant
        else sa.UniqueConstraint('name'),
    ]
    op.create_table('voiceprints_new', *columns)
    op.execute(sa.text(f"INSERT INTO voiceprints_new ({_VOICEPRINT_COLUMNS}) SELECT {_VOICEPRINT_COLUMNS} FROM voiceprints"))
    op.drop_table('voiceprints')
    op.rename_table('voiceprints_new', 'voiceprints')


def upgrade() -> None:
    _default_tenant()
    op.add_column('sessions', sa.Column('tenant_id', sa.String(length=32), nullable=False, server_default='default'))
    op.create_index('ix_sessions_tenant_created_at', 'sessions', ['tenant_id', 'created_at'])
    _voiceprints(tenant=True)
    op.create_table(
        'defaults_new',
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('tenant_id'),
    )
    op.execute(sa.text(
        'INSERT INTO defaults_new (tenant_id, "values", updated_at) SELECT \'default\', "values", updated_at '
        'FROM defaults WHERE id = 1'
    ))
    op.drop_table('defaults')
    op.rename_table('defaults_new', 'defaults')


def downgrade() -> None:
    """Every tenant's data is kept; voiceprints and defaults of tenants other than default are lost."""
    op.execute(sa.text("DELETE FROM voiceprints WHERE tenant_id <> 'default'"))
    _voiceprints(tenant=False)
    op.create_table(
        'defaults_old',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute(sa.text(
        'INSERT INTO defaults_old (id, "values", updated_at) SELECT 1, "values", updated_at '
        "FROM defaults WHERE tenant_id = 'default'"
    ))
    op.drop_table('defaults')
    op.rename_table('defaults_old', 'defaults')
    op.drop_index('ix_sessions_tenant_created_at', table_name='sessions')
    with op.batch_alter_table('sessions') as batch:
        batch.drop_column('tenant_id')
