"""revoked API keys: this service's own denylist

Written by the inbox handler deny_revoked_api_key from orders' merchant.api_key_revoked; read by
the Authenticator (tillkey.platform.revoked_keys). A new table: nothing to backfill.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('revoked_api_keys',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('merchant_id', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id')
    )


def downgrade() -> None:
    op.drop_table('revoked_api_keys')
