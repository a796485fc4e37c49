"""API key registry and denylist

`api_keys`: the merchant's named keys (id, name, prefix, created, revoked; never the key itself).
`revoked_api_keys`: orders' own denylist, as every service keeps one (tillkey.platform.revoked_keys).
New tables: keys issued before this release are not in the registry and keep working; one is
recorded the first time it lists or creates keys (docs/integration.md "API keys").

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('merchant_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('key_id')
    )
    op.create_index('ix_api_keys_merchant_created', 'api_keys', ['merchant_id', 'created_at'], unique=False)
    op.create_table('revoked_api_keys',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('merchant_id', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id')
    )


def downgrade() -> None:
    op.drop_table('revoked_api_keys')
    op.drop_index('ix_api_keys_merchant_created', table_name='api_keys')
    op.drop_table('api_keys')
