"""declared inbox handler names: the rows recorded under a handler's module and function name take
the name its handler table now declares (a redelivered message still finds its row)

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from tillkey.messaging.inbox_names import rename_inbox_handlers

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Frozen here: the names the previous release recorded, and the ones this one declares.
RENAMES = {
    # The dead-letter eraser every worker adds after its own order.deleted handlers.
    'tillkey.messaging.dead_letters_erasure.DeadLetterEraser.webhooks': 'erase_dead_letters',
    'tillkey.webhooks.service_layer.erasure.erase_order': 'erase_order',
    'tillkey.webhooks.service_layer.ingest.take_event': 'take_event',
}


def upgrade() -> None:
    rename_inbox_handlers(op.get_bind(), RENAMES)


def downgrade() -> None:
    rename_inbox_handlers(op.get_bind(), {new: old for old, new in RENAMES.items()})
