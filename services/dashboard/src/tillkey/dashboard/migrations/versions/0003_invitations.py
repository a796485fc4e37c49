"""invitations: one-time, expiring links a user hands to a colleague (docs/dashboard.md)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invitations',
        sa.Column('invitation_id', sa.String(length=64), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('merchant_id', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('invited_by', sa.String(length=320), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.merchant_id']),
        sa.PrimaryKeyConstraint('invitation_id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_invitations_merchant', 'invitations', ['merchant_id'])


def downgrade() -> None:
    op.drop_index('ix_invitations_merchant', table_name='invitations')
    op.drop_table('invitations')
