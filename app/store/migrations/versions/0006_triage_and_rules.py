"""triage and rules: closed time, sentiment, priority lock, message language, rules, inbox indexes, starter tags

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The voice-of-customer tags a new profile starts with (an editable list afterwards).
STARTER_TAGS = ("pre-purchase", "post-purchase", "complaint", "praise", "bug", "feature request")


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): instant on SQLite even with a million messages.
    op.add_column("conversations", sa.Column("closed_at", sa.BigInteger(), nullable=True))
    op.add_column("conversations", sa.Column("sentiment", sa.Integer(), nullable=True))
    op.add_column("conversations", sa.Column("priority_locked", sa.Integer(), server_default="0", nullable=False))
    op.add_column("messages", sa.Column("sentiment", sa.Integer(), nullable=True))
    op.add_column("messages", sa.Column("language", sa.String(length=16), server_default="", nullable=False))

    op.drop_index("ix_conversations_inbox", table_name="conversations")
    op.create_index(
        "ix_conversations_inbox", "conversations", ["last_message_at", "id", "status", "next_due_at"], unique=False
    )
    op.create_index("ix_conversations_closed", "conversations", ["closed_at"], unique=False)
    op.create_index("ix_conversations_assignee", "conversations", ["assignee", "status"], unique=False)

    op.create_table(
        "rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("enabled", sa.Integer(), server_default="1", nullable=False),
        sa.Column("mode", sa.String(length=16), server_default="all", nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules")),
    )

    tags = sa.table("tags", sa.column("name", sa.String), sa.column("color", sa.String))
    existing = {row[0] for row in op.get_bind().execute(sa.select(tags.c.name))}
    op.bulk_insert(tags, [{"name": name, "color": ""} for name in STARTER_TAGS if name not in existing])


def downgrade() -> None:
    op.drop_table("rules")
    op.drop_index("ix_conversations_assignee", table_name="conversations")
    op.drop_index("ix_conversations_closed", table_name="conversations")
    op.drop_index("ix_conversations_inbox", table_name="conversations")
    op.create_index("ix_conversations_inbox", "conversations", ["last_message_at", "id"], unique=False)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("language")
        batch.drop_column("sentiment")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("priority_locked")
        batch.drop_column("sentiment")
        batch.drop_column("closed_at")
