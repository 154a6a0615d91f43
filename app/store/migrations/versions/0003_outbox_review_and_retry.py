"""outbox: who wrote a reply, when to retry it, when it was sent

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("retry_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_outbox_items_state", ["state", "account_id", "position"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_items", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_items_state")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("retry_at")
        batch_op.drop_column("author")
