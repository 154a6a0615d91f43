"""clock warning and pause: when an open conversation's timer turns to warning, and since when it is paused

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): instant on SQLite even with a million conversations.
    op.add_column("conversations", sa.Column("next_warn_at", sa.BigInteger(), nullable=True))
    op.add_column("conversations", sa.Column("paused_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("paused_at")
        batch_op.drop_column("next_warn_at")
