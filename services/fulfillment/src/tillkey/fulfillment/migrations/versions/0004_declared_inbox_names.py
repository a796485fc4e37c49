"""declared inbox handler names: the rows recorded under a handler's module and function name take
the name its handler table now declares (a redelivered message still finds its row)

Revision ID: 0004
Revises: 0003
"""
from alembic import op

from tillkey.messaging.inbox_names import rename_inbox_handlers

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Frozen here: the names the previous release recorded, and the ones this one declares.
RENAMES = {
    # The dead-letter eraser every worker adds after its own order.deleted handlers.
    'tillkey.messaging.dead_letters_erasure.DeadLetterEraser.fulfillment': 'erase_dead_letters',
    'tillkey.fulfillment.service_layer.handlers.erase_customer': 'erase_customer',
    'tillkey.fulfillment.service_layer.handlers.remember_order': 'remember_order',
    'tillkey.fulfillment.service_layer.handlers.remember_product': 'remember_product',
    'tillkey.fulfillment.service_layer.handlers.revoke_keys_of_refunded_order': 'revoke_keys_of_refunded_order',
    'tillkey.fulfillment.service_layer.handlers.start_fulfillment': 'start_fulfillment',
}


def upgrade() -> None:
    rename_inbox_handlers(op.get_bind(), RENAMES)


def downgrade() -> None:
    rename_inbox_handlers(op.get_bind(), {new: old for old, new in RENAMES.items()})
