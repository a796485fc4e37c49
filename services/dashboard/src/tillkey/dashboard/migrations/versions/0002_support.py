"""support: support_sessions (sign-ins with the admin credential), support_actions (who did what, why)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'support_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_table(
        'support_actions',
        sa.Column('action_id', sa.String(length=64), nullable=False),
        sa.Column('order_id', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('who', sa.String(length=100), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('action_id'),
    )
    op.create_index('ix_support_actions_order', 'support_actions', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_support_actions_order', table_name='support_actions')
    op.drop_table('support_actions')
    op.drop_table('support_sessions')
