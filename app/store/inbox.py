"""Reading the inbox: ordered conversation ids, row summaries in blocks, threads, and triage writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, tuple_, update

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
        # all() fetches in one driver call; iterating would go row by row, each row a chance for the
        # GUI thread (which calls this) to lose the GIL to a sync thread.
        return list(connection.execute(select(conversations.c.id).order_by(*INBOX_ORDER)).scalars().all())


def inbox_page(
    engine: Engine, *, after: tuple[datetime, int] | None = None, limit: int = 50
) -> list[ConversationSummary]:
    """One page in inbox order, starting after the (last_message_at, id) of the previous page's last row."""
    if after is None:
        query = _FIRST_PAGE
        params: dict[str, Any] = {"limit": limit}
    else:
        query = _LATER_PAGE
        params = {"limit": limit, "last_at": after[0], "last_id": after[1]}
    with engine.connect() as connection:
        # all(): one driver call for the page, where iterating fetches row by row (a third of the read).
        return [_summary(row) for row in connection.execute(query, params).all()]


def summaries(engine: Engine, ids: Sequence[int]) -> dict[int, ConversationSummary]:
    found: dict[int, ConversationSummary] = {}
    with engine.connect() as connection:
        for part in chunks(list(ids)):
            rows = connection.execute(_SUMMARY.where(conversations.c.id.in_(part))).all()
            found.update((row[0], _summary(row)) for row in rows)
    return found


_TAG_NAMES = (
    select(func.aggregate_strings(tags.c.name, "\x1f"))
    .select_from(conversation_tags.join(tags, tags.c.id == conversation_tags.c.tag_id))
    .where(conversation_tags.c.conversation_id == conversations.c.id)
    .scalar_subquery()
)
# Only the columns a row shows: every extra column costs a conversion per row on the hottest read.
_SUMMARY = (
    select(
        conversations.c.id,
        conversations.c.account_id,
        conversations.c.kind,
        conversations.c.snippet,
        conversations.c.last_message_at,
        conversations.c.unread_count,
        conversations.c.status,
        conversations.c.priority,
        conversations.c.assignee,
        conversations.c.waiting_since,
        conversations.c.next_due_at,
        conversations.c.message_count,
        conversations.c.sentiment,
        conversations.c.priority_locked,
        conversations.c.snoozed_until,
        conversations.c.next_warn_at,
        conversations.c.paused_at,
        accounts.c.name.label("account_name"),
        accounts.c.platform,
        contacts.c.handle.label("contact_handle"),
        contacts.c.display_name.label("contact_name"),
        _TAG_NAMES.label("tag_names"),
    )
    .join(accounts, accounts.c.id == conversations.c.account_id)
    .outerjoin(contacts, contacts.c.id == conversations.c.contact_id)
)
_FIRST_PAGE = _SUMMARY.order_by(*INBOX_ORDER).limit(bindparam("limit"))
# A row-value comparison lets SQLite walk the (last_message_at, id) index from the anchor onwards.
_LATER_PAGE = _FIRST_PAGE.where(
    tuple_(conversations.c.last_message_at, conversations.c.id)
    < tuple_(bindparam("last_at", type_=conversations.c.last_message_at.type), bindparam("last_id"))
)
_PLATFORMS = {member.value: member for member in Platform}
_KINDS = {member.value: member for member in MessageKind}
_STATUSES = {member.value: member for member in ConversationStatus}


def _summary(row: Any) -> ConversationSummary:
    # Positional unpacking: named access on a Row costs a lookup per field on the hottest read.
    (
        conversation_id,
        account_id,
        kind,
        snippet,
        last_message_at,
        unread_count,
        status,
        priority,
        assignee,
        waiting_since,
        next_due_at,
        message_count,
        sentiment,
        priority_locked,
        snoozed_until,
        next_warn_at,
        paused_at,
        account_name,
        platform,
        contact_handle,
        contact_name,
        tag_names,
    ) = row
    return ConversationSummary(
        id=conversation_id,
        account_id=account_id,
        account_name=account_name,
        platform=_PLATFORMS[platform],
        kind=_KINDS[kind],
        contact_handle=contact_handle or "",
        contact_name=contact_name or "",
        snippet=snippet,
        last_message_at=last_message_at,
        unread_count=unread_count,
        status=_STATUSES[status],
        priority=priority,
        assignee=assignee,
        tags=tuple(sorted(tag_names.split("\x1f"))) if tag_names else (),
        waiting_since=waiting_since,
        next_due_at=next_due_at,
        message_count=message_count,
        sentiment=sentiment,
        priority_locked=bool(priority_locked),
        snoozed_until=snoozed_until,
        next_warn_at=next_warn_at,
        paused=paused_at is not None,
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
            sentiment=row.sentiment,
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
