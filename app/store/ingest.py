"""Storing pages from sync: one transaction per page, upsert on (account, platform id), cursor in step."""

from __future__ import annotations

import functools
import json
import logging
import operator
from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.dialects import sqlite

from app.domain.html import sanitize_html
from app.domain.models import (
    ConversationStatus,
    Direction,
    FetchedMessage,
    Gap,
    MessageKind,
    Page,
    Visibility,
)
from app.domain.sentiment import is_likely_complaint
from app.domain.sentiment import score as sentiment_score
from app.domain.triage import Priority
from app.store.dialect import in_values, json_listed, positional_sql, upsert
from app.store.ingest_clocks import PageClocks, Slot
from app.store.rules import apply_rules, load_rules
from app.store.schema import contacts, conversations, from_millis, messages, sync_cursors, sync_gaps, to_millis

log = logging.getLogger("app.store.ingest")

SNIPPET_LENGTH = 160
# No platform sends messages near these sizes (Mastodon 500 characters by default, Matrix events 64 KB);
# a body beyond them is hostile or broken, and storing it whole would bloat the cache and freeze the
# thread view.
MAX_BODY_CHARS = 200_000
MAX_RAW_CHARS = 500_000
_CHRONOLOGICAL = operator.attrgetter("created_at", "platform_message_id")


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    conversation_ids: set[int] = field(default_factory=set)


def store_page(engine: Engine, account_id: int, page: Page, *, now: datetime) -> IngestResult:
    """Store one page and its cursor atomically: either both are stored or neither."""
    with engine.begin() as connection:
        result = store_messages(connection, account_id, page.messages)
        for gap in page.gaps:
            record_gap(connection, account_id, gap, now=now)
        if page.cursor is not None:
            write_cursor(connection, account_id, page.stream, page.cursor, now=now)
    for rejected in page.rejected:
        log.warning("account %s: skipped unreadable item %s: %s", account_id, rejected.item_id, rejected.reason)
    return result


def write_cursor(connection: Connection, account_id: int, stream: str, cursor: str, *, now: datetime) -> None:
    statement = upsert(connection, sync_cursors).values(
        account_id=account_id, stream=stream, cursor=cursor, updated_at=now
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[sync_cursors.c.account_id, sync_cursors.c.stream],
            set_={"cursor": statement.excluded.cursor, "updated_at": statement.excluded.updated_at},
        )
    )


def record_gap(connection: Connection, account_id: int, gap: Gap, *, now: datetime) -> None:
    connection.execute(
        insert(sync_gaps).values(
            account_id=account_id,
            stream=gap.stream,
            start_at=gap.start,
            end_at=gap.end,
            detail=gap.detail,
            detected_at=now,
        )
    )


def store_messages(
    connection: Connection,
    account_id: int,
    fetched: Iterable[FetchedMessage],
    *,
    score_tone: bool = True,
    deferred: DeferredSummaries | None = None,
) -> IngestResult:
    """Store new messages with their conversations' summaries, then run the rules over the customer messages.

    `score_tone=False` (bulk imports) skips the sentiment estimate (~25 µs per customer message) that the
    history would not use. With `deferred` (bulk imports, one transaction) the updated
    summaries of existing conversations are kept there until its `write()`.
    """
    result = IngestResult()
    unique: dict[str, FetchedMessage] = {}
    for message in fetched:
        unique.setdefault(message.platform_message_id, message)
    if not unique:
        return result
    known = _existing_message_ids(connection, account_id, list(unique))
    fresh = sorted(
        (message for pid, message in unique.items() if pid not in known),
        key=_CHRONOLOGICAL,
    )
    result.duplicates = len(unique) - len(fresh)
    if not fresh:
        return result
    fresh = [
        m if len(m.text) <= MAX_BODY_CHARS and len(m.html) <= MAX_BODY_CHARS else _bounded(m) for m in fresh
    ]

    # The tone of each customer message, computed once: stored with it, folded into its conversation's
    # summary (priority), and seen by the rules. Outbound messages are ours and are not scored.
    scores = {
        m.platform_message_id: sentiment_score(m.text) if score_tone else None
        for m in fresh
        if m.direction is Direction.INBOUND
    }
    contact_ids = _ensure_contacts(connection, account_id, fresh)
    clocks = PageClocks(connection, account_id)
    conversation_of, new_ids = _resolve_conversations(
        connection, account_id, fresh, contact_ids, scores, clocks, deferred
    )
    _insert_messages(connection, account_id, fresh, conversation_of, scores)
    if deferred is not None and (clocks.pause_ends or load_rules(connection, enabled_only=True)):
        # Resumed clocks and rules change conversations in the database themselves: held summaries go first.
        deferred.write(connection, forget=True)
    clocks.write(connection, new_ids)
    outcomes = apply_rules(connection, account_id, fresh, conversation_of, scores)
    clocks.after_rules(connection, outcomes, new_ids, fresh[-1].created_at)
    result.stored = len(fresh)
    result.conversation_ids = set(conversation_of.values())
    return result


_MESSAGE_COLUMNS = (
    "account_id",
    "conversation_id",
    "platform_message_id",
    "parent_platform_id",
    "author_platform_id",
    "author_handle",
    "author_name",
    "direction",
    "kind",
    "visibility",
    "created_at",
    "body_text",
    "body_html",
    "attachments",
    "raw",
    "sentiment",
    "language",
)


# The plain str of each enum member: the driver binds an exact str directly but runs a str subclass (a
# StrEnum member) through its adapter lookup first, ~1 µs per value, three values per message.
_STORED_VALUE: dict[Any, str] = {
    member: member.value for kind in (Direction, MessageKind, Visibility) for member in kind
}


@functools.cache
def _sqlite_message_insert() -> str:
    statement = sqlite.insert(messages).on_conflict_do_nothing(
        index_elements=[messages.c.account_id, messages.c.platform_message_id]
    )
    return positional_sql(statement, _MESSAGE_COLUMNS)


def _insert_messages(
    connection: Connection,
    account_id: int,
    fresh: list[FetchedMessage],
    conversation_of: dict[str, int],
    scores: dict[str, int | None],
) -> None:
    if connection.dialect.name == "sqlite":
        # The hottest write: plain tuples straight to the driver, values already in their stored form.
        dumps, stored = json.dumps, _STORED_VALUE
        connection.exec_driver_sql(
            _sqlite_message_insert(),
            [
                (
                    account_id,
                    conversation_of[m.platform_message_id],
                    m.platform_message_id,
                    m.parent_platform_id,
                    m.author.platform_user_id,
                    m.author.handle,
                    m.author.display_name,
                    stored[m.direction],
                    stored[m.kind],
                    stored[m.visibility],
                    to_millis(m.created_at),
                    m.text,
                    m.html,
                    dumps(list(m.attachments)) if m.attachments else "[]",
                    _raw_json(m.raw),
                    scores.get(m.platform_message_id),
                    m.language,
                )
                for m in fresh
            ],
        )
        return
    rows = [
        dict(
            zip(
                _MESSAGE_COLUMNS,
                (
                    account_id,
                    conversation_of[m.platform_message_id],
                    m.platform_message_id,
                    m.parent_platform_id,
                    m.author.platform_user_id,
                    m.author.handle,
                    m.author.display_name,
                    m.direction.value,
                    m.kind.value,
                    m.visibility.value,
                    m.created_at,
                    m.text,
                    m.html,
                    list(m.attachments),
                    json.loads(_raw_json(m.raw)),
                    scores.get(m.platform_message_id),
                    m.language,
                ),
                strict=True,
            )
        )
        for m in fresh
    ]
    statement = upsert(connection, messages).on_conflict_do_nothing(
        index_elements=[messages.c.account_id, messages.c.platform_message_id]
    )
    connection.execute(statement, rows)


def _bounded(message: FetchedMessage) -> FetchedMessage:
    """The message with a body too large to be real cut to MAX_BODY_CHARS, saying so in the text."""
    if len(message.text) <= MAX_BODY_CHARS and len(message.html) <= MAX_BODY_CHARS:
        return message
    log.warning(
        "message %s: body of %d characters cut to %d", message.platform_message_id, len(message.text), MAX_BODY_CHARS
    )
    text, body_html = message.text, message.html
    if len(text) > MAX_BODY_CHARS:
        text = f"{text[:MAX_BODY_CHARS]}\n[Cut here: Parley keeps at most {MAX_BODY_CHARS:,} characters of a message.]"
    if len(body_html) > MAX_BODY_CHARS:
        body_html = sanitize_html(body_html[:MAX_BODY_CHARS])  # closes what the cut left open
    return replace(message, text=text, html=body_html)


def _raw_json(raw: dict[str, Any]) -> str:
    """The platform's payload as stored: replaced by a note when it is too large or too deep to keep."""
    try:
        dumped = json.dumps(raw)
    except (ValueError, TypeError, RecursionError) as exc:
        return json.dumps({"parley_dropped": f"payload not storable ({type(exc).__name__})"})
    if len(dumped) > MAX_RAW_CHARS:
        return json.dumps({"parley_dropped": f"payload of {len(dumped):,} characters"})
    return dumped


def _existing_message_ids(connection: Connection, account_id: int, platform_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for listed in in_values(connection, messages.c.platform_message_id, platform_ids):
        found.update(
            connection.execute(
                select(messages.c.platform_message_id).where(messages.c.account_id == account_id, listed)
            ).scalars()
        )
    return found


def _ensure_contacts(connection: Connection, account_id: int, fresh: list[FetchedMessage]) -> dict[str, int]:
    authors = {m.author.platform_user_id: m.author for m in fresh if m.direction is Direction.INBOUND}
    if not authors:
        return {}
    if connection.dialect.name == "sqlite":  # plain tuples to the driver, as for the messages
        connection.exec_driver_sql(
            _sqlite_contact_upsert(),
            [(account_id, a.platform_user_id, a.handle, a.display_name) for a in authors.values()],
        )
    else:
        connection.execute(
            _contact_upsert(upsert(connection, contacts)),
            [
                {
                    "account_id": account_id,
                    "platform_user_id": a.platform_user_id,
                    "handle": a.handle,
                    "display_name": a.display_name,
                }
                for a in authors.values()
            ],
        )
    ids: dict[str, int] = {}
    for listed in in_values(connection, contacts.c.platform_user_id, list(authors)):
        for row in connection.execute(
            select(contacts.c.id, contacts.c.platform_user_id).where(contacts.c.account_id == account_id, listed)
        ):
            ids[row.platform_user_id] = row.id
    return ids


def _contact_upsert(statement: Any) -> Any:
    return statement.on_conflict_do_update(
        index_elements=[contacts.c.account_id, contacts.c.platform_user_id],
        set_={"handle": statement.excluded.handle, "display_name": statement.excluded.display_name},
    )


@functools.cache
def _sqlite_contact_upsert() -> str:
    return positional_sql(
        _contact_upsert(sqlite.insert(contacts)), ("account_id", "platform_user_id", "handle", "display_name")
    )


def _resolve_conversations(
    connection: Connection,
    account_id: int,
    fresh: list[FetchedMessage],
    contact_ids: dict[str, int],
    scores: dict[str, int | None],
    clocks: PageClocks,
    deferred: DeferredSummaries | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Thread each message: into its parent's conversation when the parent is known, else by its key.

    Following the reply chain keeps a thread whole even when a server changes its conversation ids.
    New conversations are created in one statement with their summaries, existing ones updated in one.
    """
    in_batch = {m.platform_message_id for m in fresh}
    parent_ids = list({m.parent_platform_id for m in fresh if m.parent_platform_id} - in_batch)
    stored_parent: dict[str, int] = {}
    for listed in in_values(connection, messages.c.platform_message_id, parent_ids):
        for row in connection.execute(
            select(messages.c.platform_message_id, messages.c.conversation_id).where(
                messages.c.account_id == account_id, listed
            )
        ):
            stored_parent[row.platform_message_id] = row.conversation_id
    by_key = _conversation_ids_by_key(connection, account_id, list({m.conversation_key for m in fresh}))

    # A conversation is an existing id (int) or, until it is inserted, the key that opens it (str).
    slot_of: dict[str, int | str] = {}
    grouped: dict[int | str, list[FetchedMessage]] = {}
    for message in fresh:  # oldest first, so a parent in the same batch is placed before its replies
        parent = message.parent_platform_id or ""
        slot: int | str | None = stored_parent.get(parent) or slot_of.get(parent)
        if slot is None:
            slot = by_key.get(message.conversation_key, message.conversation_key)
        slot_of[message.platform_message_id] = slot
        members = grouped.get(slot)
        if members is None:
            grouped[slot] = [message]
        else:
            members.append(message)


    existing = {k: v for k, v in grouped.items() if isinstance(k, int)}
    clocks.existing = list(existing)
    new_ids = _insert_conversations(
        connection,
        account_id,
        {k: v for k, v in grouped.items() if isinstance(k, str)},
        contact_ids,
        scores,
        clocks,
        deferred,
    )
    _update_conversations(connection, account_id, existing, scores, clocks, deferred)
    return {pid: slot if isinstance(slot, int) else new_ids[slot] for pid, slot in slot_of.items()}, new_ids


def _insert_conversations(
    connection: Connection,
    account_id: int,
    opened: dict[str, list[FetchedMessage]],
    contact_ids: dict[str, int],
    scores: dict[str, int | None],
    clocks: PageClocks,
    deferred: DeferredSummaries | None = None,
) -> dict[str, int]:
    if not opened:
        return {}
    rows = []
    for key, batch in opened.items():
        first = batch[0]
        blank = _Blank(kind=first.kind.value, opened_at=first.created_at)
        contact = None
        for message in batch:  # the first customer in the thread (a plain loop: this runs per conversation)
            if message.direction is Direction.INBOUND:
                contact = contact_ids.get(message.author.platform_user_id)
                break
        rows.append(
            {
                "account_id": account_id,
                "conversation_key": key,
                "contact_id": contact,
                "kind": first.kind.value,
                "visibility": first.visibility.value,
                "opened_at": first.created_at,
                **_summary_after(blank, batch, scores, clocks, key, account_id),
            }
        )
    if connection.dialect.name == "sqlite":
        # The driver cannot return ids from executemany; a plain insert and one keyed read are faster
        # than SQLAlchemy's RETURNING batches, and the unique (account, key) index makes the read cheap.
        _insert_conversation_rows_sqlite(connection, rows)
        new_ids = _conversation_ids_by_key(connection, account_id, list(opened))
    else:
        created = connection.execute(
            insert(conversations).returning(
                conversations.c.id, conversations.c.conversation_key, sort_by_parameter_order=True
            ),
            rows,
        )
        new_ids = {row.conversation_key: row.id for row in created}
    if deferred is not None:
        for row in rows:
            deferred.known(new_ids[row["conversation_key"]], row)
    return new_ids



def _insert_conversation_rows_sqlite(connection: Connection, rows: list[dict[str, Any]]) -> None:
    columns = tuple(column.name for column in conversations.columns if column.name in rows[0])
    moments = [index for index, name in enumerate(columns) if name in _MOMENT_COLUMNS]
    values = []
    for row in rows:
        row_values = [row[name] for name in columns]
        for index in moments:
            if row_values[index] is not None:
                row_values[index] = to_millis(row_values[index])
        values.append(tuple(row_values))
    connection.exec_driver_sql(_sqlite_conversation_insert(columns), values)


_MOMENT_COLUMNS = frozenset(
    {
        "opened_at", "last_message_at", "last_inbound_at", "waiting_since", "next_due_at", "next_warn_at",
        "snoozed_until", "paused_at",
    }
)


@functools.cache
def _sqlite_conversation_insert(columns: tuple[str, ...]) -> str:
    return positional_sql(sqlite.insert(conversations), columns)


def _conversation_ids_by_key(connection: Connection, account_id: int, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for listed in in_values(connection, conversations.c.conversation_key, keys):
        for row in connection.execute(
            select(conversations.c.id, conversations.c.conversation_key).where(
                conversations.c.account_id == account_id, listed
            )
        ):
            found[row.conversation_key] = row.id
    return found


@dataclass
class _Blank:
    """The summary of a conversation that has no messages yet."""

    kind: str
    opened_at: datetime
    last_message_at: datetime | None = None
    message_count: int = 0
    unread_count: int = 0
    waiting_since: datetime | None = None
    next_due_at: datetime | None = None
    next_warn_at: datetime | None = None
    paused_at: datetime | None = None
    last_inbound_at: datetime | None = None
    snippet: str = ""
    status: str = ConversationStatus.OPEN.value
    snoozed_until: datetime | None = None
    sentiment: int | None = None
    priority: int = int(Priority.NORMAL)
    priority_locked: int = 0


def _update_conversations(
    connection: Connection,
    account_id: int,
    grouped: dict[int, list[FetchedMessage]],
    scores: dict[str, int | None],
    clocks: PageClocks,
    deferred: DeferredSummaries | None = None,
) -> None:
    if not grouped:
        return
    held = deferred.rows if deferred is not None else {}
    current = _stored_summaries(connection, [cid for cid in grouped if cid not in held])
    rows = []
    for conversation_id, new_messages in grouped.items():
        row = held.get(conversation_id) or current[conversation_id]
        values = _summary_after(row, new_messages, scores, clocks, conversation_id, account_id)
        values.setdefault("status", row.status)
        if deferred is not None:
            deferred.changed(conversation_id, row._replace(**values))
        else:
            rows.append({"target_id": conversation_id, **values})
    _write_summaries(connection, rows)


def _write_summaries(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Update conversations' summaries: each row holds `target_id` (the conversation) and the new values."""
    if not rows:
        return
    columns = tuple(name for name in rows[0] if name != "target_id")
    if connection.dialect.name == "sqlite":
        # On a large import most batches add to conversations opened by earlier ones: tens of thousands of
        # updates, each a dozen values, so they go to the driver as plain tuples like the inserts.
        sql, order = _sqlite_summary_write(columns)
        moments = [index for index, name in enumerate(order) if name in _MOMENT_COLUMNS]
        values_list = []
        for row in rows:
            row_values = [row[name] for name in order]
            for index in moments:
                if row_values[index] is not None:
                    row_values[index] = to_millis(row_values[index])
            values_list.append(tuple(row_values))
        connection.exec_driver_sql(sql, values_list)
        return
    connection.execute(
        update(conversations)
        .where(conversations.c.id == bindparam("target_id"))
        .values({name: bindparam(name) for name in columns}),
        rows,
    )


# What _summary_after reads of a stored conversation.
_Stored = namedtuple(
    "_Stored",
    (
        "id", "kind", "last_message_at", "message_count", "unread_count", "waiting_since", "last_inbound_at",
        "next_due_at", "next_warn_at", "paused_at", "snippet", "status", "snoozed_until", "sentiment", "priority",
        "priority_locked",
    ),
)  # fmt: skip


_SUMMARY_VALUES = (
    "last_message_at", "snippet", "last_inbound_at", "message_count", "unread_count", "waiting_since", "next_due_at",
    "next_warn_at", "status", "snoozed_until", "sentiment", "priority",
)  # fmt: skip


class DeferredSummaries:
    """The summaries of a large import's conversations, held between its batches and written once at the end.

    Messages of one conversation are spread over the whole history, so nearly every batch of a long import
    adds to conversations that earlier batches opened; writing their summaries once, instead of once per
    batch, saves most of the import's conversation updates (each moves entries in four indexes). Only for
    writes inside one transaction, where nothing else reads the summaries before `write()`.
    """

    def __init__(self) -> None:
        self.rows: dict[int, Any] = {}
        self.pending: set[int] = set()

    def known(self, conversation_id: int, inserted: dict[str, Any]) -> None:
        """A conversation just inserted with these values (already in the database)."""
        self.rows[conversation_id] = _Stored(
            id=conversation_id, priority_locked=0, **{name: inserted.get(name) for name in _Stored._fields[1:-1]}
        )

    def changed(self, conversation_id: int, row: Any) -> None:
        self.rows[conversation_id] = row
        self.pending.add(conversation_id)

    def write(self, connection: Connection, *, forget: bool = False) -> None:
        """Write the held changes; held rows stay known (they now match the database) unless `forget`."""
        rows = [
            {"target_id": cid, **{name: getattr(self.rows[cid], name) for name in _SUMMARY_VALUES}}
            for cid in self.pending
        ]
        _write_summaries(connection, rows)
        self.pending.clear()
        if forget:
            self.rows.clear()


def _stored_summaries(connection: Connection, ids: list[int]) -> dict[int, Any]:
    current: dict[int, Any] = {}
    if connection.dialect.name != "sqlite":
        columns = [conversations.c[name] for name in _Stored._fields]
        for listed in in_values(connection, conversations.c.id, ids):
            for row in connection.execute(select(*columns).where(listed)):
                current[row.id] = _Stored._make(row)
        return current
    moments = [index for index, name in enumerate(_Stored._fields) if name in _MOMENT_COLUMNS]
    for stored in connection.exec_driver_sql(_sqlite_summary_read(), (json.dumps(ids),)):
        values = list(stored)
        for index in moments:
            if values[index] is not None:
                values[index] = from_millis(values[index])
        current[values[0]] = _Stored._make(values)
    return current


@functools.cache
def _sqlite_summary_read() -> str:
    statement = select(*(conversations.c[name] for name in _Stored._fields)).where(
        json_listed(conversations.c.id, bindparam("ids"))
    )
    return str(statement.compile(dialect=sqlite.dialect()))


@functools.cache
def _sqlite_summary_write(columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    statement = (
        update(conversations)
        .where(conversations.c.id == bindparam("target_id"))
        .values({name: bindparam(name) for name in columns})
    )
    compiled = statement.compile(dialect=sqlite.dialect())
    return str(compiled), tuple(compiled.positiontup or ())


def _summary_after(
    row: Any,
    new_messages: list[FetchedMessage],
    scores: dict[str, int | None],
    clocks: PageClocks,
    slot: Slot,
    account_id: int,
) -> dict[str, Any]:
    """The conversation's inbox summary once `new_messages` (oldest first) are added to it, and its clocks.

    The response clock runs from the first unanswered inbound message to our next reply; a closed
    conversation's clock was stopped when it was closed, so a customer writing again starts a new one.
    """
    last_at = row.last_message_at if row.message_count else None
    snippet_source = None
    latest_direction = None
    last_inbound = row.last_inbound_at
    last_outbound = None
    inbound_times = []
    new_tone: int | None = None
    waiting_since = None if row.status == _CLOSED else row.waiting_since
    running_before = waiting_since is not None
    started: list[list[Any]] = []  # [start, answered or None] of each clock this page starts
    answered_before: datetime | None = None  # our reply to the clock that was already running
    for message in new_messages:  # one pass: this runs for every conversation of every page
        created = message.created_at
        if last_at is None or created >= last_at:
            last_at, snippet_source, latest_direction = created, message.text, message.direction
        if message.direction is Direction.INBOUND:
            if waiting_since is None:
                waiting_since = created
                started.append([created, None])
            inbound_times.append(created)
            tone = scores.get(message.platform_message_id)
            if tone is not None and (new_tone is None or tone < new_tone):
                new_tone = tone
            if last_inbound is None or created > last_inbound:
                last_inbound = created
        else:
            if last_outbound is None or created > last_outbound:
                last_outbound = created
            if waiting_since is not None and created >= waiting_since:  # answered: the clock stops
                if started:
                    started[-1][1] = created
                else:
                    answered_before = created
                waiting_since = None
    status, snoozed_until = row.status, row.snoozed_until
    if inbound_times and latest_direction is Direction.INBOUND and status in _WOKEN_BY_CUSTOMER:
        # The customer wrote again: a closed, pending (waiting on them) or snoozed conversation needs us.
        status, snoozed_until = ConversationStatus.OPEN.value, None
    sentiment = row.sentiment
    if new_tone is not None and (sentiment is None or new_tone < sentiment):
        sentiment = new_tone
    priority = row.priority
    if is_likely_complaint(new_tone) and not row.priority_locked and priority < Priority.HIGH:
        priority = int(Priority.HIGH)  # a likely complaint is worked first unless a person decided otherwise
    next_due_at, next_warn_at = (row.next_due_at, row.next_warn_at) if waiting_since is not None else (None, None)
    if started:
        policy = clocks.policy(slot, MessageKind(row.kind), priority)
        first = not clocks.had_clock(slot, row.waiting_since)  # only a conversation's first clock is "first"
        for start, answered in started:
            clocks.start(slot, account_id, start, answered, first, policy)
            first = False
        start, answered = started[-1]
        first = len(started) == 1 and not clocks.had_clock(slot, row.waiting_since)
        if answered is None:
            next_due_at = policy.due_at(start, first_response=first)
            next_warn_at = policy.warning_at(start, first_response=first)
    if running_before and isinstance(slot, int):
        if answered_before is not None:
            clocks.answered[slot] = answered_before
        if row.paused_at is not None and (answered_before is not None or status != row.status):
            clocks.pause_ends[slot] = answered_before or min(inbound_times)
    return {
        "last_message_at": last_at,
        "snippet": row.snippet
        if snippet_source is None
        else " ".join(snippet_source[: SNIPPET_LENGTH * 2].split())[:SNIPPET_LENGTH],
        "last_inbound_at": last_inbound,
        "message_count": row.message_count + len(new_messages),
        "unread_count": row.unread_count + len(inbound_times),
        "waiting_since": waiting_since,
        "next_due_at": next_due_at,
        "next_warn_at": next_warn_at,
        "status": status,
        "snoozed_until": snoozed_until,
        "sentiment": sentiment,
        "priority": priority,
    }


_CLOSED = ConversationStatus.CLOSED.value
_WOKEN_BY_CUSTOMER = frozenset(
    {ConversationStatus.CLOSED.value, ConversationStatus.PENDING.value, ConversationStatus.SNOOZED.value}
)
