"""Meta's messaging windows: when a Page (or its Instagram account) may answer a person, and how.

Messenger and Instagram let a business answer a private message only within 24 hours of the person's
last message (messaging type RESPONSE). An app granted the Human Agent permission may answer for 7 days
with the HUMAN_AGENT tag. A comment may always get a public reply, and one private reply (a message
sent to the commenter, `recipient: {comment_id}`) within 7 days of the comment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain.models import Direction, MessageKind, Platform

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
META_PLATFORMS = frozenset({Platform.FACEBOOK, Platform.INSTAGRAM})


@dataclass(frozen=True)
class SendRule:
    """Whether a reply may go out now; `reason` and `alternative` are shown to the person when it matters.

    `messaging_type` and `tag` are the Send API fields to use ("" and None for anything but a message).
    """

    allowed: bool
    messaging_type: str = ""
    tag: str | None = None
    reason: str = ""
    alternative: str = ""


ALLOWED = SendRule(allowed=True)


def reply_rule(
    platform: Platform,
    kind: MessageKind,
    last_inbound_at: datetime | None,
    now: datetime,
    *,
    human_agent: bool = False,
) -> SendRule:
    """The rule for answering a conversation whose person last wrote at `last_inbound_at`."""
    if platform not in META_PLATFORMS:
        return ALLOWED
    if kind is not MessageKind.DM:
        return SendRule(allowed=True, reason="Public reply: everyone who can see the post sees it.")
    where = "Messenger" if platform is Platform.FACEBOOK else "Instagram"
    if last_inbound_at is None:
        return SendRule(
            allowed=False,
            reason=f"{where} lets a business message only people who wrote to it first.",
            alternative="Reply publicly to one of their comments, or send them a private reply to a comment.",
        )
    waited = now - last_inbound_at
    if waited <= STANDARD_WINDOW:
        return SendRule(allowed=True, messaging_type="RESPONSE")
    ago = _age(waited)
    if waited <= HUMAN_AGENT_WINDOW and human_agent:
        return SendRule(
            allowed=True,
            messaging_type="MESSAGE_TAG",
            tag="HUMAN_AGENT",
            reason=f"Their last message was {ago} ago: this reply is sent with the Human Agent tag (7-day window).",
        )
    reason = f"{where} allows replies only within 24 hours of the person's last message; theirs was {ago} ago."
    if waited <= HUMAN_AGENT_WINDOW:
        alternative = (
            "Reply publicly or privately to one of their comments instead, or wait until they write again. "
            "With Meta's Human Agent permission (turned on for this account) you could answer for 7 days."
        )
    else:
        alternative = "Reply publicly to one of their comments instead, or wait until they write again."
    return SendRule(allowed=False, reason=reason, alternative=alternative)


def last_inbound_at(messages: Iterable[Any]) -> datetime | None:
    """When the person last wrote: the newest inbound message's time (objects with direction and created_at)."""
    return max((m.created_at for m in messages if m.direction is Direction.INBOUND), default=None)


def private_reply_rule(comment_at: datetime, now: datetime) -> SendRule:
    """A private reply to a comment: one per comment, within 7 days of it."""
    if now - comment_at <= PRIVATE_REPLY_WINDOW:
        return SendRule(allowed=True)
    return SendRule(
        allowed=False,
        reason=f"A private reply is possible only within 7 days of the comment; it is {_age(now - comment_at)} old.",
        alternative="Reply publicly to the comment instead.",
    )


def _age(span: timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"
