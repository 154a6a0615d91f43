"""Small builders of domain objects for tests that need messages without a platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.models import Direction, FetchedMessage, Identity, MessageKind, Page, Visibility

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def message(
    pid: str,
    *,
    key: str = "thread-1",
    minutes: int = 0,
    text: str = "hello",
    author: str = "ann",
    direction: Direction = Direction.INBOUND,
    kind: MessageKind = MessageKind.MENTION,
    parent: str | None = None,
) -> FetchedMessage:
    return FetchedMessage(
        platform_message_id=pid,
        conversation_key=key,
        author=Identity(platform_user_id=f"u-{author}", handle=f"@{author}", display_name=author.title()),
        kind=kind,
        direction=direction,
        created_at=T0 + timedelta(minutes=minutes),
        text=text,
        html=f"<p>{text}</p>",
        parent_platform_id=parent,
        visibility=Visibility.DIRECT if kind is MessageKind.DM else Visibility.PUBLIC,
        raw={"id": pid},
    )


def page(*messages: FetchedMessage, stream: str = "mentions", cursor: str | None = None) -> Page:
    return Page(stream=stream, messages=tuple(messages), cursor=cursor, has_more=False)
