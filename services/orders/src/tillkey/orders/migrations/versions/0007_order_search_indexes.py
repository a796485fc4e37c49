"""indexes for searching orders: by the customer's email ignoring case, and every merchant's newest first

The merchant's and support's order lists filter by `lower(customer_email)` and support lists every
merchant's orders by `created_at` (docs/integration.md, "Orders"). Indexes only: nothing to backfill.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        # alembic annotates the batch form's columns as List[str]; like op.create_index it takes an expression too.
        batch_op.create_index('ix_orders_customer_email_lower', [sa.text('lower(customer_email)')],  # type: ignore[list-item]
                              unique=False)
        batch_op.create_index('ix_orders_created', ['created_at', 'order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_created')
        batch_op.drop_index('ix_orders_customer_email_lower')
