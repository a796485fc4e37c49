"""erasure: events.order_id (to find an order's stored bodies), order_records.erased_at (deleted orders and tombstones)

Revision ID: 0002
Revises: 0001
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_events_order', ['order_id'], unique=False)

    with op.batch_alter_table('order_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))

    # Events stored before this revision: their order id is in the body they were sent with,
    # so a later order.deleted erases them too.
    bind = op.get_bind()
    events = sa.table('events', sa.column('event_id', sa.String), sa.column('body', sa.Text),
                      sa.column('order_id', sa.String))
    rows = bind.execute(sa.select(events.c.event_id, events.c.body).where(events.c.order_id.is_(None))).all()
    for event_id, body in rows:
        order_id = (json.loads(body).get('data') or {}).get('order_id')
        if order_id:
            bind.execute(events.update().where(events.c.event_id == event_id).values(order_id=order_id))


def downgrade() -> None:
    with op.batch_alter_table('order_records', schema=None) as batch_op:
        batch_op.drop_column('erased_at')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_order')
        batch_op.drop_column('order_id')
