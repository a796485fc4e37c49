"""declared inbox handler names: the rows recorded under a handler's module and function name take
the name its handler table now declares (a redelivered message still finds its row)

Revision ID: 0006
Revises: 0005
"""
from alembic import op

from tillkey.messaging.inbox_names import rename_inbox_handlers

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Frozen here: the names the previous release recorded, and the ones this one declares.
RENAMES = {
    'tillkey.orders.service_layer.events.license_requested': 'license_requested',
    'tillkey.orders.service_layer.events.payment_failed': 'payment_failed',
    'tillkey.orders.service_layer.events.payment_refunded': 'payment_refunded',
    'tillkey.orders.service_layer.events.payment_succeeded': 'payment_succeeded',
    'tillkey.orders.service_layer.events.product_delivered': 'product_delivered',
    'tillkey.orders.service_layer.events.refund_failed': 'refund_failed',
}


def upgrade() -> None:
    rename_inbox_handlers(op.get_bind(), RENAMES)


def downgrade() -> None:
    rename_inbox_handlers(op.get_bind(), {new: old for old, new in RENAMES.items()})
