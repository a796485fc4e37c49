"""inbox: an index on processed_at, so the worker's inbox retention finds old rows without a scan

Rows older than INBOX_RETENTION are deleted oldest first by tillkey.messaging.inbox_retention
(docs/operations.md). An index on an existing column: nothing to backfill.

Revision ID: 0005
Revises: 0004
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_inbox_processed_at', 'inbox', ['processed_at'])


def downgrade() -> None:
    op.drop_index('ix_inbox_processed_at', table_name='inbox')
