"""Reading the inbox: ordered conversation ids, row summaries in blocks, threads, and triage writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from app.domain.models import (
    ConversationStatus,
    ConversationSummary,
    Direction,
    MessageKind,
    Platform,
    StoredMessage,
    Visibility,
)
from app.store.dialect import chunks
from app.store.schema import accounts, contacts, conversation_tags, conversations, messages, tags

INBOX_ORDER = (conversations.c.last_message_at.desc(), conversations.c.id.desc())


def count_conversations(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(conversations)).scalar_one())


def conversation_ids(engine: Engine) -> list[int]:
    """Every conversation id in inbox order; an index-only scan, cheap even for 200k rows."""
    with engine.connect() as connection:
        return list(connection.execute(select(conversations.c.id).order_by(*INBOX_ORDER)).scalars())


def inbox_page(
    engine: Engine, *, after: tuple[datetime, int] | None = None, limit: int = 50
) -> list[ConversationSummary]:
    """One page in inbox order, starting after the (last_message_at, id) of the previous page's last row."""
    query = _summary_query().order_by(*INBOX_ORDER).limit(limit)
    if after is not None:
        last_at, last_id = after
        query = query.where(
            or_(
                conversations.c.last_message_at < last_at,
                and_(conversations.c.last_message_at == last_at, conversations.c.id < last_id),
            )
        )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        tag_map = _tags_of(connection, [row.id for row in rows])
    return [_summary(row, tag_map.get(row.id, ())) for row in rows]


def summaries(engine: Engine, ids: Sequence[int]) -> dict[int, ConversationSummary]:
    found: dict[int, ConversationSummary] = {}
    with engine.connect() as connection:
        for part in chunks(list(ids)):
            rows = connection.execute(_summary_query().where(conversations.c.id.in_(part))).all()
            tag_map = _tags_of(connection, [row.id for row in rows])
            found.update({row.id: _summary(row, tag_map.get(row.id, ())) for row in rows})
    return found


def _summary_query() -> Any:
    return (
        select(
            conversations,
            accounts.c.name.label("account_name"),
            accounts.c.platform,
            contacts.c.handle.label("contact_handle"),
            contacts.c.display_name.label("contact_name"),
        )
        .join(accounts, accounts.c.id == conversations.c.account_id)
        .outerjoin(contacts, contacts.c.id == conversations.c.contact_id)
    )


def _tags_of(connection: Any, ids: list[int]) -> dict[int, tuple[str, ...]]:
    if not ids:
        return {}
    result: dict[int, list[str]] = {}
    for row in connection.execute(
        select(conversation_tags.c.conversation_id, tags.c.name)
        .join(tags, tags.c.id == conversation_tags.c.tag_id)
        .where(conversation_tags.c.conversation_id.in_(ids))
        .order_by(tags.c.name)
    ):
        result.setdefault(row.conversation_id, []).append(row.name)
    return {key: tuple(value) for key, value in result.items()}


def _summary(row: Any, tag_names: tuple[str, ...]) -> ConversationSummary:
    return ConversationSummary(
        id=row.id,
        account_id=row.account_id,
        account_name=row.account_name,
        platform=Platform(row.platform),
        kind=MessageKind(row.kind),
        contact_handle=row.contact_handle or "",
        contact_name=row.contact_name or "",
        snippet=row.snippet,
        last_message_at=row.last_message_at,
        unread_count=row.unread_count,
        status=ConversationStatus(row.status),
        priority=row.priority,
        assignee=row.assignee,
        tags=tag_names,
        waiting_since=row.waiting_since,
        next_due_at=row.next_due_at,
        message_count=row.message_count,
    )


def thread(engine: Engine, conversation_id: int) -> list[StoredMessage]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(messages)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.created_at, messages.c.id)
        ).all()
    return [
        StoredMessage(
            id=row.id,
            conversation_id=row.conversation_id,
            platform_message_id=row.platform_message_id,
            parent_platform_id=row.parent_platform_id,
            author_handle=row.author_handle,
            author_name=row.author_name,
            direction=Direction(row.direction),
            kind=MessageKind(row.kind),
            created_at=row.created_at,
            text=row.body_text,
            html=row.body_html,
            visibility=Visibility(row.visibility),
            attachments=tuple(row.attachments or ()),
        )
        for row in rows
    ]


def conversation_key(engine: Engine, conversation_id: int) -> tuple[int, str, str]:
    """(account id, conversation key, visibility) of one conversation."""
    with engine.connect() as connection:
        row = connection.execute(
            select(conversations.c.account_id, conversations.c.conversation_key, conversations.c.visibility).where(
                conversations.c.id == conversation_id
            )
        ).one()
    return row.account_id, row.conversation_key, row.visibility


def mark_read(engine: Engine, conversation_ids: Sequence[int]) -> None:
    with engine.begin() as connection:
        for part in chunks(list(conversation_ids)):
            connection.execute(update(conversations).where(conversations.c.id.in_(part)).values(unread_count=0))


def set_status(engine: Engine, conversation_ids: Sequence[int], status: ConversationStatus) -> None:
    with engine.begin() as connection:
        for part in chunks(list(conversation_ids)):
            connection.execute(update(conversations).where(conversations.c.id.in_(part)).values(status=status.value))


def message_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(messages)).scalar_one())
