"""The outbox: queued replies, their review state and their idempotency keys, kept until sent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from app.domain.models import (
    Direction,
    FetchedMessage,
    Identity,
    MessageKind,
    SentMessage,
    StoredMessage,
    Visibility,
)
from app.domain.outbox import (
    DISCARDABLE,
    EDITABLE,
    OutboxItem,
    OutboxRuleError,
    OutboxState,
    check_approval,
    check_move,
)
from app.errors import StoreError
from app.store.inbox import thread
from app.store.ingest import store_messages
from app.store.schema import accounts, conversations, messages, outbox_items

PENDING = (
    OutboxState.DRAFT,
    OutboxState.AWAITING_REVIEW,
    OutboxState.APPROVED,
    OutboxState.SENDING,
    OutboxState.FAILED,
    OutboxState.HELD,
)


def queue_reply(
    engine: Engine,
    conversation_id: int,
    body: str,
    *,
    now: datetime,
    author: str = "",
    state: OutboxState = OutboxState.AWAITING_REVIEW,
    in_reply_to_platform_id: str | None = None,
) -> OutboxItem:
    """Queue a reply; its idempotency key is chosen now and stored before any request is made."""
    if not body.strip():
        raise OutboxRuleError("The reply is empty.")
    with engine.begin() as connection:
        conversation = connection.execute(
            select(conversations.c.account_id, conversations.c.last_message_at).where(
                conversations.c.id == conversation_id
            )
        ).first()
        if conversation is None:
            raise StoreError(f"No conversation with id {conversation_id}.")
        if in_reply_to_platform_id is None:
            in_reply_to_platform_id = _latest_inbound_id(connection, conversation_id)
        position = connection.execute(select(func.coalesce(func.max(outbox_items.c.position), 0))).scalar_one() + 1
        inserted = connection.execute(
            insert(outbox_items).values(
                account_id=conversation.account_id,
                conversation_id=conversation_id,
                in_reply_to_platform_id=in_reply_to_platform_id,
                body=body,
                state=state.value,
                idempotency_key=f"parley-{uuid.uuid4()}",
                position=position,
                author=author,
                queued_after_message_at=conversation.last_message_at,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key
    assert inserted is not None
    return get_item(engine, int(inserted[0]))


def _latest_inbound_id(connection: Connection, conversation_id: int) -> str | None:
    return connection.execute(
        select(messages.c.platform_message_id)
        .where(messages.c.conversation_id == conversation_id, messages.c.direction == Direction.INBOUND.value)
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        account_id=row.account_id,
        conversation_id=row.conversation_id,
        body=row.body,
        state=OutboxState(row.state),
        idempotency_key=row.idempotency_key,
        position=row.position,
        in_reply_to_platform_id=row.in_reply_to_platform_id,
        author=row.author,
        reviewer=row.reviewer,
        comment=row.comment,
        error=row.error,
        platform_message_id=row.platform_message_id,
        queued_after_message_at=row.queued_after_message_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        retry_at=row.retry_at,
        sent_at=row.sent_at,
    )


def get_item(engine: Engine, item_id: int) -> OutboxItem:
    with engine.connect() as connection:
        row = connection.execute(select(outbox_items).where(outbox_items.c.id == item_id)).first()
    if row is None:
        raise StoreError(f"No outbox item with id {item_id}.")
    return _item(row)


def list_items(engine: Engine, states: Sequence[OutboxState] = PENDING) -> list[OutboxItem]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox_items)
            .where(outbox_items.c.state.in_([s.value for s in states]))
            .order_by(outbox_items.c.position, outbox_items.c.id)
        ).all()
    return [_item(row) for row in rows]


def count_pending(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(
                    outbox_items.c.state.in_([s.value for s in PENDING if s is not OutboxState.SENT])
                )
            ).scalar_one()
        )


def move_state(
    engine: Engine,
    item_ids: Sequence[int],
    target: OutboxState,
    *,
    now: datetime,
    reviewer: str = "",
    comment: str = "",
    error: str = "",
    retry_at: datetime | None = None,
) -> None:
    """Move items to `target` if every one of them may make that move; otherwise change nothing."""
    with engine.begin() as connection:
        rows = connection.execute(
            select(outbox_items.c.id, outbox_items.c.state).where(outbox_items.c.id.in_(list(item_ids)))
        ).all()
        if len(rows) != len(set(item_ids)):
            raise StoreError("Some of those outbox items no longer exist.")
        for row in rows:
            check_move(OutboxState(row.state), target)
        values: dict[str, Any] = {"state": target.value, "updated_at": now, "retry_at": retry_at}
        if reviewer:
            values["reviewer"] = reviewer
        if comment or target is OutboxState.DRAFT:
            values["comment"] = comment
        if target in (OutboxState.FAILED, OutboxState.HELD) or error:
            values["error"] = error
        if target is OutboxState.APPROVED:
            # Approving (again) looks at the conversation as it is now: later news holds the reply.
            values["queued_after_message_at"] = (
                select(conversations.c.last_message_at)
                .where(conversations.c.id == outbox_items.c.conversation_id)
                .scalar_subquery()
            )
            values["error"] = ""
        connection.execute(update(outbox_items).where(outbox_items.c.id.in_(list(item_ids))).values(**values))


def approve(
    engine: Engine,
    item_ids: Sequence[int],
    *,
    now: datetime,
    reviewer: str = "",
    public_needs_reviewer: bool = False,
) -> None:
    """Approve items (a held or failed one again too). With the four-eyes rule on, every public reply needs a
    named reviewer other than its author: enforced here, whatever the caller, and the name is recorded."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox_items.c.id, outbox_items.c.author, conversations.c.visibility)
            .join(conversations, conversations.c.id == outbox_items.c.conversation_id)
            .where(outbox_items.c.id.in_(list(item_ids)))
        ).all()
    for row in rows:
        check_approval(
            public=row.visibility != Visibility.DIRECT.value,
            reviewer=reviewer,
            author=row.author,
            public_needs_reviewer=public_needs_reviewer,
        )
    move_state(engine, item_ids, OutboxState.APPROVED, now=now, reviewer=reviewer.strip())


def is_public(engine: Engine, conversation_id: int) -> bool:
    """Whether a reply in this conversation is seen by more than its participants (what the four-eyes rule covers)."""
    with engine.connect() as connection:
        visibility = connection.execute(
            select(conversations.c.visibility).where(conversations.c.id == conversation_id)
        ).scalar_one_or_none()
    if visibility is None:
        raise StoreError(f"No conversation with id {conversation_id}.")
    return bool(visibility != Visibility.DIRECT.value)


def edit_body(engine: Engine, item_id: int, body: str, *, now: datetime) -> None:
    item = get_item(engine, item_id)
    if item.state not in EDITABLE:
        raise OutboxRuleError(
            f"A reply that is {item.state.value.replace('_', ' ')} cannot be edited; return it to draft first."
        )
    if not body.strip():
        raise OutboxRuleError("The reply is empty.")
    with engine.begin() as connection:
        connection.execute(update(outbox_items).where(outbox_items.c.id == item_id).values(body=body, updated_at=now))


def discard(engine: Engine, item_ids: Sequence[int]) -> list[OutboxItem]:
    """Remove unsent items; returns them so the UI can offer undo (re-queue with the same text)."""
    items = [get_item(engine, item_id) for item_id in item_ids]
    for item in items:
        if item.state not in DISCARDABLE:
            raise OutboxRuleError(f"A reply that is {item.state.value} cannot be discarded.")
    with engine.begin() as connection:
        connection.execute(delete(outbox_items).where(outbox_items.c.id.in_(list(item_ids))))
    return items


def restore(engine: Engine, items: Sequence[OutboxItem]) -> None:
    """Undo a discard: put the items back as they were (same id, key, place in the queue and state)."""
    with engine.begin() as connection:
        for item in items:
            connection.execute(
                insert(outbox_items).values(
                    id=item.id,
                    account_id=item.account_id,
                    conversation_id=item.conversation_id,
                    in_reply_to_platform_id=item.in_reply_to_platform_id,
                    body=item.body,
                    state=item.state.value,
                    idempotency_key=item.idempotency_key,
                    position=item.position,
                    author=item.author,
                    reviewer=item.reviewer,
                    comment=item.comment,
                    error=item.error,
                    queued_after_message_at=item.queued_after_message_at,
                    created_at=item.created_at,
                    updated_at=item.updated_at,
                    retry_at=item.retry_at,
                )
            )


def move(engine: Engine, item_id: int, step: int) -> bool:
    """Swap an item with its neighbour in the pending queue (step -1: earlier, +1: later); False at an end."""
    order = [item.id for item in list_items(engine)]
    if item_id not in order:
        raise StoreError(f"No pending outbox item with id {item_id}.")
    index = order.index(item_id)
    other = index + step
    if not 0 <= other < len(order):
        return False
    order[index], order[other] = order[other], order[index]
    reorder(engine, order)
    return True


def reorder(engine: Engine, ordered_ids: Sequence[int]) -> None:
    """Give the listed items consecutive positions in this order, keeping their place among the rest."""
    with engine.begin() as connection:
        positions = sorted(
            connection.execute(
                select(outbox_items.c.position).where(outbox_items.c.id.in_(list(ordered_ids)))
            ).scalars()
        )
        for item_id, position in zip(ordered_ids, positions, strict=True):
            connection.execute(update(outbox_items).where(outbox_items.c.id == item_id).values(position=position))


def ready_to_send(engine: Engine, *, now: datetime, account_id: int | None = None) -> list[OutboxItem]:
    """Approved items (and any left mid-send by a crash), in queue order, whose retry time has come."""
    query = (
        select(outbox_items)
        .where(outbox_items.c.state.in_([OutboxState.APPROVED.value, OutboxState.SENDING.value]))
        .where((outbox_items.c.retry_at.is_(None)) | (outbox_items.c.retry_at <= now))
        .order_by(outbox_items.c.position, outbox_items.c.id)
    )
    if account_id is not None:
        query = query.where(outbox_items.c.account_id == account_id)
    with engine.connect() as connection:
        return [_item(row) for row in connection.execute(query)]


def inbound_since(engine: Engine, conversation_id: int, since: datetime | None) -> list[str]:
    """Texts of inbound messages that arrived after `since` (what a reviewer of a held reply must see)."""
    query = select(messages.c.body_text).where(
        messages.c.conversation_id == conversation_id, messages.c.direction == Direction.INBOUND.value
    )
    if since is not None:
        query = query.where(messages.c.created_at > since)
    with engine.connect() as connection:
        return list(connection.execute(query.order_by(messages.c.created_at)).scalars())


def recent_inbound(engine: Engine, conversation_id: int, limit: int = 3) -> list[StoredMessage]:
    """The conversation's last inbound messages, oldest first: the context a reviewer reads beside a reply."""
    with engine.connect() as connection:
        ids = list(
            connection.execute(
                select(messages.c.id)
                .where(messages.c.conversation_id == conversation_id, messages.c.direction == Direction.INBOUND.value)
                .order_by(messages.c.created_at.desc(), messages.c.id.desc())
                .limit(limit)
            ).scalars()
        )
    wanted = set(ids)
    return [message for message in thread(engine, conversation_id) if message.id in wanted]


def record_sent(engine: Engine, item: OutboxItem, sent: SentMessage, *, now: datetime) -> None:
    """Mark the item sent and store the reply as an outbound message under the platform's own id.

    Stored under that id, the reply is recognised when sync later reads it back: no echo.
    """
    with engine.begin() as connection:
        account = connection.execute(select(accounts).where(accounts.c.id == item.account_id)).one()
        conversation = connection.execute(
            select(conversations.c.conversation_key, conversations.c.kind, conversations.c.visibility).where(
                conversations.c.id == item.conversation_id
            )
        ).one()
        reply = FetchedMessage(
            platform_message_id=sent.platform_message_id,
            conversation_key=conversation.conversation_key,
            author=Identity(account.platform_user_id, account.handle, account.display_name),
            kind=MessageKind(conversation.kind),
            direction=Direction.OUTBOUND,
            created_at=sent.created_at,
            text=item.body,
            parent_platform_id=item.in_reply_to_platform_id,
            visibility=Visibility(conversation.visibility),
            raw=sent.raw,
        )
        store_messages(connection, item.account_id, [reply])
        connection.execute(
            update(outbox_items)
            .where(outbox_items.c.id == item.id)
            .values(
                state=OutboxState.SENT.value,
                platform_message_id=sent.platform_message_id,
                sent_at=now,
                updated_at=now,
                error="",
                retry_at=None,
            )
        )
