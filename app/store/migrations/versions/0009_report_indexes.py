"""report indexes: messages by creation time, covering what report volume counts read

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Covering: a report counts a year of messages per account, direction and quarter hour from the index
    # alone, without reading the message rows (bodies and raw payloads) at all.
    op.create_index(
        "ix_messages_created",
        "messages",
        ["created_at", "account_id", "direction", "conversation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_created", table_name="messages")
