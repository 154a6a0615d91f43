"""profile settings, starting with the profile's own id (it names the profile's keyring entries)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "profile_settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_profile_settings")),
    )
    op.bulk_insert(table, [{"key": "profile_id", "value": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("profile_settings")
