"""Tables of the local cache. Times are UTC epoch milliseconds: compact, portable and fast to order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.types import TypeDecorator


class UtcMillis(TypeDecorator[datetime]):
    """An aware UTC datetime stored as integer milliseconds since the epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC-aware values")
        return int(value.timestamp() * 1000)

    def process_result_value(self, value: int | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(value / 1000, UTC)


def to_millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored; use UTC-aware values")
    return int(moment.timestamp() * 1000)


def from_millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("handle", String(300), nullable=False, server_default=""),
    Column("platform_user_id", String(300), nullable=False, server_default=""),
    Column("base_url", String(500), nullable=False),
    Column("options", JSON, nullable=False, default=dict),
    Column("state", String(32), nullable=False, server_default="ok"),
    Column("state_detail", Text, nullable=False, server_default=""),
    Column("last_synced_at", UtcMillis),
    Column("rate_limited_until", UtcMillis),
    Column("token_expires_at", UtcMillis),
    # The platform's budget as last reported, and when the scheduler plans the next attempt after trouble.
    Column("rate_limit_limit", Integer),
    Column("rate_limit_remaining", Integer),
    Column("rate_limit_reset_at", UtcMillis),
    Column("retry_at", UtcMillis),
    Column("sync_interval_s", Integer, nullable=False, server_default="60"),
    Column("created_at", UtcMillis, nullable=False),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("platform_user_id", String(300), nullable=False),
    Column("handle", String(300), nullable=False),
    Column("display_name", String(300), nullable=False, server_default=""),
    UniqueConstraint("account_id", "platform_user_id"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("conversation_key", String(500), nullable=False),
    Column("contact_id", ForeignKey("contacts.id", ondelete="SET NULL")),
    Column("kind", String(16), nullable=False),
    Column("visibility", String(16), nullable=False, server_default="public"),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("assignee", String(200), nullable=False, server_default=""),
    Column("snoozed_until", UtcMillis),
    Column("opened_at", UtcMillis, nullable=False),
    Column("last_message_at", UtcMillis, nullable=False),
    Column("last_inbound_at", UtcMillis),
    Column("snippet", String(400), nullable=False, server_default=""),
    Column("unread_count", Integer, nullable=False, server_default="0"),
    Column("message_count", Integer, nullable=False, server_default="0"),
    # The first inbound message not yet answered; the response timer runs from here.
    Column("waiting_since", UtcMillis),
    Column("next_due_at", UtcMillis),
    # When the running clock turns to warning (the policy's threshold), and since when pending has paused it.
    Column("next_warn_at", UtcMillis),
    Column("paused_at", UtcMillis),
    Column("closed_at", UtcMillis),
    # The most negative tone of the customer's messages (hundredths, see app.domain.sentiment).
    Column("sentiment", Integer),
    # Set when a person chose the priority: sentiment and rules no longer change it.
    Column("priority_locked", Integer, nullable=False, server_default="0"),
    UniqueConstraint("account_id", "conversation_key"),
    # Ordered like the inbox query (newest activity first) so a page is an index range scan; status and
    # due time ride along so "everything not waiting on a timer, newest first" needs no table lookups.
    Index("ix_conversations_inbox", "last_message_at", "id", "status", "next_due_at"),
    # (status, due, rowid): each status's timers in due order, read straight off the index.
    Index("ix_conversations_due", "status", "next_due_at"),
    Index("ix_conversations_closed", "closed_at"),
    Index("ix_conversations_assignee", "assignee", "status"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("platform_message_id", String(300), nullable=False),
    Column("parent_platform_id", String(300)),
    Column("author_platform_id", String(300), nullable=False, server_default=""),
    Column("author_handle", String(300), nullable=False, server_default=""),
    Column("author_name", String(300), nullable=False, server_default=""),
    Column("direction", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("visibility", String(16), nullable=False, server_default="public"),
    Column("created_at", UtcMillis, nullable=False),
    Column("body_text", Text, nullable=False, server_default=""),
    Column("body_html", Text, nullable=False, server_default=""),
    Column("attachments", JSON, nullable=False, default=list),
    Column("raw", JSON, nullable=False, default=dict),
    Column("sentiment", Integer),  # inbound messages only, hundredths (see app.domain.sentiment)
    Column("language", String(16), nullable=False, server_default=""),
    UniqueConstraint("account_id", "platform_message_id"),
    Index("ix_messages_conversation", "conversation_id", "created_at"),
    # Reports count messages per period from this index alone (see app.store.reports).
    Index("ix_messages_created", "created_at", "account_id", "direction", "conversation_id"),
)

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("color", String(16), nullable=False, server_default=""),
)

conversation_tags = Table(
    "conversation_tags",
    metadata,
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_conversation_tags_tag", "tag_id", "conversation_id"),
)

playbook_entries = Table(
    "playbook_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(64), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("category", String(200), nullable=False, server_default=""),
    Column("tags", JSON, nullable=False, default=list),
    Column("platforms", JSON, nullable=False, default=list),
    Column("language", String(16), nullable=False, server_default=""),
    Column("shortcut", String(64), nullable=False, server_default=""),
    Column("notes", Text, nullable=False, server_default=""),
    Column("author", String(200), nullable=False, server_default=""),
    Column("usage_count", Integer, nullable=False, server_default="0"),
    Column("last_used_at", UtcMillis),
)

response_policies = Table(
    "response_policies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("conditions", JSON, nullable=False, default=dict),
    Column("first_response_s", Integer, nullable=False),
    Column("next_response_s", Integer, nullable=False),
    Column("warning_ratio", Integer, nullable=False, server_default="75"),
    Column("calendar", JSON),
)

# One row per response clock: started by an unanswered inbound message, stopped by a reply (answered_at)
# or by closing the conversation (ended_at). The target and policy are copied in when the clock starts, so
# editing a policy later changes what open conversations are held to, never what reports already measured.
response_records = Table(
    "response_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # ResponseKind: "first" | "next"
    Column("started_at", UtcMillis, nullable=False),
    Column("due_at", UtcMillis),
    Column("warn_at", UtcMillis),
    Column("answered_at", UtcMillis),
    Column("ended_at", UtcMillis),
    Column("paused_s", Integer, nullable=False, server_default="0"),  # time spent pending (waiting on the customer)
    Column("policy_id", Integer),  # no foreign key: a deleted policy keeps its measurements
    Column("policy_name", String(200), nullable=False, server_default=""),
    Column("target_s", Integer),
    Index("ix_response_records_started", "started_at"),
    Index("ix_response_records_conversation", "conversation_id", "started_at"),
)

outbox_items = Table(
    "outbox_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("in_reply_to_platform_id", String(300)),
    Column("body", Text, nullable=False),
    Column("state", String(32), nullable=False, server_default="draft"),
    Column("idempotency_key", String(100), nullable=False, unique=True),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("reviewer", String(200), nullable=False, server_default=""),
    Column("comment", Text, nullable=False, server_default=""),
    Column("error", Text, nullable=False, server_default=""),
    Column("platform_message_id", String(300)),
    Column("queued_after_message_at", UtcMillis),
    Column("created_at", UtcMillis, nullable=False),
    Column("updated_at", UtcMillis, nullable=False),
    Column("author", String(200), nullable=False, server_default=""),
    Column("retry_at", UtcMillis),
    Column("sent_at", UtcMillis),
    Index("ix_outbox_items_state", "state", "account_id", "position"),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("cursor", Text),
    Column("updated_at", UtcMillis, nullable=False),
)

sync_gaps = Table(
    "sync_gaps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("start_at", UtcMillis),
    Column("end_at", UtcMillis),
    Column("detail", Text, nullable=False, server_default=""),
    Column("detected_at", UtcMillis, nullable=False),
    Column("resolved_at", UtcMillis),
    # False: the platform cannot fetch this span again; `fill_note` says why (or why the last try failed).
    Column("fillable", Boolean, nullable=False, server_default=true()),
    Column("fill_note", Text, nullable=False, server_default=""),
)


def row_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("author", String(200), nullable=False, server_default=""),
    Column("body", Text, nullable=False),
    Column("created_at", UtcMillis, nullable=False),
    Index("ix_notes_conversation", "conversation_id", "created_at"),
)


rules = Table(
    "rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("enabled", Integer, nullable=False, server_default="1"),
    Column("mode", String(16), nullable=False, server_default="all"),
    Column("conditions", JSON, nullable=False, default=dict),
    Column("actions", JSON, nullable=False, default=dict),
)


profile_settings = Table(
    "profile_settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
