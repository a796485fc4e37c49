"""declared inbox handler names: the rows recorded under a handler's module and function name take
the name its handler table now declares (a redelivered message still finds its row)

Revision ID: 0007
Revises: 0006
"""
from alembic import op

from tillkey.messaging.inbox_names import rename_inbox_handlers

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Frozen here: the names the previous release recorded, and the ones this one declares.
RENAMES = {
    # The dead-letter eraser every worker adds after its own order.deleted handlers.
    'tillkey.messaging.dead_letters_erasure.DeadLetterEraser.payments': 'erase_dead_letters',
    'tillkey.payments.service_layer.handlers.cancel_order': 'cancel_order',
    'tillkey.payments.service_layer.handlers.delete_order': 'delete_order',
    'tillkey.payments.service_layer.handlers.remember_merchant': 'remember_merchant',
    'tillkey.payments.service_layer.handlers.remember_order': 'remember_order',
    'tillkey.payments.service_layer.refunding.request_refund': 'request_refund',
}


def upgrade() -> None:
    rename_inbox_handlers(op.get_bind(), RENAMES)


def downgrade() -> None:
    rename_inbox_handlers(op.get_bind(), {new: old for old, new in RENAMES.items()})
