"""Queued replies: their states, the moves a reviewer may make, and what a reply needs before it can go."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class OutboxState(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"


S = OutboxState
ALLOWED_MOVES: dict[OutboxState, frozenset[OutboxState]] = {
    S.DRAFT: frozenset({S.AWAITING_REVIEW, S.APPROVED}),
    S.AWAITING_REVIEW: frozenset({S.APPROVED, S.DRAFT}),
    S.APPROVED: frozenset({S.SENDING, S.DRAFT, S.HELD, S.AWAITING_REVIEW}),
    S.SENDING: frozenset({S.SENT, S.FAILED, S.APPROVED, S.HELD}),
    S.FAILED: frozenset({S.APPROVED, S.DRAFT}),
    S.HELD: frozenset({S.APPROVED, S.DRAFT}),
    S.SENT: frozenset(),
}
EDITABLE = frozenset({S.DRAFT, S.AWAITING_REVIEW, S.FAILED, S.HELD})
DISCARDABLE = frozenset({S.DRAFT, S.AWAITING_REVIEW, S.APPROVED, S.FAILED, S.HELD})


class OutboxRuleError(ValueError):
    """A review action the outbox's rules do not allow; the message says why."""


def check_move(current: OutboxState, target: OutboxState) -> None:
    if target not in ALLOWED_MOVES[current]:
        raise OutboxRuleError(
            f"A reply that is {current.value.replace('_', ' ')} cannot become {target.value.replace('_', ' ')}."
        )


def check_approval(*, public: bool, reviewer: str, author: str, public_needs_reviewer: bool) -> None:
    """The optional four-eyes rule: a public reply is approved by a named reviewer other than its author."""
    if not (public and public_needs_reviewer):
        return
    if not reviewer.strip():
        raise OutboxRuleError("Public replies need the name of the reviewer who approves them.")
    if author and reviewer.strip().casefold() == author.strip().casefold():
        raise OutboxRuleError("A public reply must be approved by someone other than its author.")


@dataclass(frozen=True)
class OutboxItem:
    id: int
    account_id: int
    conversation_id: int
    body: str
    state: OutboxState
    idempotency_key: str
    position: int
    in_reply_to_platform_id: str | None
    author: str
    reviewer: str
    comment: str
    error: str
    platform_message_id: str | None
    queued_after_message_at: datetime | None
    created_at: datetime
    updated_at: datetime
    retry_at: datetime | None
    sent_at: datetime | None
