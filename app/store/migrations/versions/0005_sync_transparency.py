"""sync transparency: each account's rate-limit budget and planned retry; gaps that cannot be filled

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rate_limit_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rate_limit_remaining", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rate_limit_reset_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("retry_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("sync_gaps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fillable", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("fill_note", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sync_gaps", schema=None) as batch_op:
        batch_op.drop_column("fill_note")
        batch_op.drop_column("fillable")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("retry_at")
        batch_op.drop_column("rate_limit_reset_at")
        batch_op.drop_column("rate_limit_remaining")
        batch_op.drop_column("rate_limit_limit")
