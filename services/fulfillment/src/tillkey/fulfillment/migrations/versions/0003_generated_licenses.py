"""generated license keys: source settings, per-product signing keys, keys, activations, rate limits

Issue 17. New tables and nullable columns only: nothing to backfill, existing sources keep working.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('license_sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prefix', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('activation_limit', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('valid_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revoke_on_refund', sa.Boolean(), nullable=True))
    op.create_table('signing_keys',
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('sealed_private_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('product_id')
    )
    op.create_table('generated_keys',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('merchant_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('line_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=True),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('activation_limit', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revoked_reason', sa.String(length=16), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('generated_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generated_keys_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_generated_keys_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_generated_keys_line_id'), ['line_id'], unique=False)
    op.create_table('activations',
    sa.Column('activation_id', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('instance_name', sa.String(length=200), nullable=True),
    sa.Column('fingerprint', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['generated_keys.key_id'], ),
    sa.PrimaryKeyConstraint('activation_id')
    )
    with op.batch_alter_table('activations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activations_key_id'), ['key_id'], unique=False)
    op.create_table('rate_limits',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('rate_limits')
    with op.batch_alter_table('activations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activations_key_id'))
    op.drop_table('activations')
    with op.batch_alter_table('generated_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_generated_keys_line_id'))
        batch_op.drop_index(batch_op.f('ix_generated_keys_order_id'))
        batch_op.drop_index(batch_op.f('ix_generated_keys_product_id'))
    op.drop_table('generated_keys')
    op.drop_table('signing_keys')
    with op.batch_alter_table('license_sources', schema=None) as batch_op:
        batch_op.drop_column('revoke_on_refund')
        batch_op.drop_column('valid_days')
        batch_op.drop_column('activation_limit')
        batch_op.drop_column('prefix')
