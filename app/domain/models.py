"""Value objects that flow between connectors, the store, the sync engine and the UI."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Platform(enum.StrEnum):
    MASTODON = "mastodon"
    MATRIX = "matrix"
    BLUESKY = "bluesky"
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    REDDIT = "reddit"


class MessageKind(enum.StrEnum):
    DM = "dm"
    MENTION = "mention"
    COMMENT = "comment"
    REPLY = "reply"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class ConversationStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    CLOSED = "closed"


class AccountState(enum.StrEnum):
    OK = "ok"
    NEEDS_SIGN_IN = "needs_sign_in"
    OFFLINE = "offline"
    RATE_LIMITED = "rate_limited"
    ERROR = "error"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"
    DIRECT = "direct"


@dataclass(frozen=True)
class Identity:
    """Who an account (or a message's author) is on its platform."""

    platform_user_id: str
    handle: str
    display_name: str = ""

    @property
    def label(self) -> str:
        return self.display_name or self.handle


@dataclass(frozen=True)
class FetchedMessage:
    """One message as a connector read it from the platform, already sanitised.

    `conversation_key` groups messages into a thread when the reply chain cannot
    (the store prefers the conversation of `parent_platform_id` when it holds that message).
    """

    platform_message_id: str
    conversation_key: str
    author: Identity
    kind: MessageKind
    direction: Direction
    created_at: datetime
    text: str
    html: str = ""
    parent_platform_id: str | None = None
    visibility: Visibility = Visibility.PUBLIC
    participants: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    language: str = ""  # the platform's language tag ("en", "pt-BR"), "" when it gives none


@dataclass(frozen=True)
class RejectedItem:
    """A payload item a connector could not read; logged with its id and skipped."""

    item_id: str
    reason: str


@dataclass(frozen=True)
class Gap:
    """A span of time in which messages may have been missed."""

    stream: str
    start: datetime | None
    end: datetime | None
    detail: str = ""


@dataclass(frozen=True)
class Page:
    """One page of new items. `cursor` is what to store once the page is stored, in the same transaction."""

    stream: str
    messages: tuple[FetchedMessage, ...]
    cursor: str | None
    has_more: bool
    rejected: tuple[RejectedItem, ...] = ()
    gaps: tuple[Gap, ...] = ()


@dataclass(frozen=True)
class RateLimit:
    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass(frozen=True)
class ReplyTarget:
    """Where a reply goes: a conversation, optionally in reply to one message of it."""

    conversation_key: str
    in_reply_to_platform_id: str | None = None
    visibility: Visibility = Visibility.PUBLIC
    participants: tuple[str, ...] = ()
    room_id: str | None = None


@dataclass(frozen=True)
class SentMessage:
    """What the platform recorded for a reply we sent."""

    platform_message_id: str
    created_at: datetime
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class AccountRef:
    """An account as the sync engine and connectors see it (no secret inside)."""

    id: int
    platform: Platform
    name: str
    base_url: str
    handle: str = ""
    platform_user_id: str = ""
    options: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    platform_message_id: str
    parent_platform_id: str | None
    author_handle: str
    author_name: str
    direction: Direction
    kind: MessageKind
    created_at: datetime
    text: str
    html: str
    visibility: Visibility
    attachments: tuple[str, ...] = ()
    sentiment: int | None = None


@dataclass(frozen=True)
class InternalNote:
    """A team member's note on a conversation: stored locally, never sent to the platform."""

    id: int
    conversation_id: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class ConversationSummary:
    """One inbox row."""

    id: int
    account_id: int
    account_name: str
    platform: Platform
    kind: MessageKind
    contact_handle: str
    contact_name: str
    snippet: str
    last_message_at: datetime
    unread_count: int
    status: ConversationStatus
    priority: int
    assignee: str
    tags: tuple[str, ...]
    waiting_since: datetime | None
    next_due_at: datetime | None
    message_count: int
    sentiment: int | None = None
    priority_locked: bool = False
    snoozed_until: datetime | None = None
    next_warn_at: datetime | None = None  # when the running response clock turns to warning
    paused: bool = False  # pending: the response clock waits for the customer
