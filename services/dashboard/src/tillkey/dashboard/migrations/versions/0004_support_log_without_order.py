"""support log entries about no order: a dead letter replayed from the support console (docs/dashboard.md)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite alters a column by copying the table.
    with op.batch_alter_table('support_actions') as batch:
        batch.alter_column('order_id', existing_type=sa.String(length=64), nullable=True)
        batch.add_column(sa.Column('subject', sa.String(length=200), nullable=True))
    op.create_index('ix_support_actions_at', 'support_actions', ['at'])


def downgrade() -> None:
    op.drop_index('ix_support_actions_at', table_name='support_actions')
    op.execute("DELETE FROM support_actions WHERE order_id IS NULL")
    with op.batch_alter_table('support_actions') as batch:
        batch.drop_column('subject')
        batch.alter_column('order_id', existing_type=sa.String(length=64), nullable=False)
