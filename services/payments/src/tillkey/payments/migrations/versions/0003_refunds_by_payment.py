"""refunds by payment: the API lists each payment with its refunds

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain index: no table rebuild needed on SQLite, so no batch mode.
    op.create_index('ix_refunds_payment', 'refunds', ['payment_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_refunds_payment', table_name='refunds')
