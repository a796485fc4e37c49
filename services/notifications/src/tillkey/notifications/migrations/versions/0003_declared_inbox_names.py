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
    'tillkey.messaging.dead_letters_erasure.DeadLetterEraser.notifications': 'erase_dead_letters',
    'tillkey.notifications.service_layer.emails.license_delivery': 'license_delivery',
    'tillkey.notifications.service_layer.emails.license_pool_low': 'license_pool_low',
    'tillkey.notifications.service_layer.emails.license_request': 'license_request',
    'tillkey.notifications.service_layer.emails.license_resend': 'license_resend',
    'tillkey.notifications.service_layer.emails.payment_confirmation': 'payment_confirmation',
    'tillkey.notifications.service_layer.emails.payment_instructions': 'payment_instructions',
    'tillkey.notifications.service_layer.emails.payment_reminder': 'payment_reminder',
    'tillkey.notifications.service_layer.emails.refund_confirmation': 'refund_confirmation',
    'tillkey.notifications.service_layer.emails.webhook_endpoint_disabled': 'webhook_endpoint_disabled',
    'tillkey.notifications.service_layer.handlers.erase_recipient': 'erase_recipient',
    'tillkey.notifications.service_layer.handlers.remember_merchant': 'remember_merchant',
    'tillkey.notifications.service_layer.handlers.remember_product': 'remember_product',
    'tillkey.notifications.service_layer.handlers.remember_recipient': 'remember_recipient',
}


def upgrade() -> None:
    rename_inbox_handlers(op.get_bind(), RENAMES)


def downgrade() -> None:
    rename_inbox_handlers(op.get_bind(), {new: old for old, new in RENAMES.items()})
