"""merchant terms and privacy links

`PATCH /v1/merchants/me {terms_url, privacy_url}`: linked from the checkout page's consents.
Two nullable columns: safe on SQLite and PostgreSQL, nothing to backfill.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms_url', sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column('privacy_url', sa.String(length=2048), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('privacy_url')
        batch_op.drop_column('terms_url')
