"""The inbox's ordered id lists and counts for a view, filters and a search, all ANDed together.

Most urgent first is read straight off two indexes, with no sort: (status, next_due_at, rowid) gives the open
conversations' timers in due order (breached first, then least time left), then the covering (last_message_at,
id, status, next_due_at) index gives everything else newest first. Snoozed conversations wait in the second
part: a snooze hides a conversation until it wakes (it is open again then), so its timer must not pull it up.
Measured at 200,000 conversations (all open, 131k with a timer; CPU time): ~120 ms for the whole ordered list
(run off the GUI thread), 2-10 ms for a tag, assignee or "closed today" view, 0.3-35 ms for one count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Engine, func, or_, select

from app.domain.models import ConversationStatus
from app.domain.search_syntax import SearchQuery
from app.domain.views import Order
from app.store.schema import conversations
from app.store.search import conversation_conditions, search_conversation_ids

TEXT_RESULT_LIMIT = 1000
STATISTICS_MIN_ROWS = 2000
OPEN = ConversationStatus.OPEN.value


@dataclass(frozen=True)
class InboxQuery:
    """What the list shows: every query's conditions must hold; words and from: come from the search box."""

    queries: tuple[SearchQuery, ...] = ()
    order: Order = Order.URGENT
    me: str = ""
    zone: tzinfo | None = None
    extra: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def has_text(self) -> bool:
        return any(q.terms or q.authors for q in self.queries)


def _conditions(query: InboxQuery, now: datetime) -> list[Any]:
    found: list[Any] = list(query.extra)
    for part in query.queries:
        found += conversation_conditions(part, now=now, me=query.me, zone=query.zone)
    return found


def ordered_ids(engine: Engine, query: InboxQuery, *, now: datetime, limit: int | None = None) -> list[int]:
    """Matching conversation ids in the query's order: all of them, or the first `limit` (a window's first
    screen); a text search gives its best TEXT_RESULT_LIMIT."""
    if query.has_text:
        return _text_ids(engine, query, now)[:limit]
    conditions = _conditions(query, now)
    c = conversations.c
    with engine.connect() as connection:
        if query.order is not Order.URGENT:
            order = [c.last_message_at.desc(), c.id.desc()]
            if query.order is Order.PRIORITY:
                order.insert(0, c.priority.desc())
            return list(connection.execute(select(c.id).where(*conditions).order_by(*order).limit(limit)).scalars())
        waiting = list(
            connection.execute(
                select(c.id)
                .where(c.status == OPEN, c.next_due_at.is_not(None), *conditions)
                .order_by(c.next_due_at, c.id)
                .limit(limit)
            ).scalars()
        )
        if limit is not None and len(waiting) >= limit:
            return waiting
        allowed = _only_statuses(query)
        if allowed is not None:
            # Without statistics SQLite prefers any index on `status = ?` and then sorts what it finds (measured
            # 90-165 ms at 200k); written as `status || '' IN (...)` the term cannot use an index, so the
            # covering inbox index, already in order, is read instead. Portable: plain string concatenation.
            conditions = [c.status.concat("").in_(sorted(allowed))]
        rest = connection.execute(
            select(c.id)
            .where(or_(c.status != OPEN, c.next_due_at.is_(None)), *conditions)
            .order_by(c.last_message_at.desc(), c.id.desc())
            .limit(None if limit is None else limit - len(waiting))
        ).scalars()
        return waiting + list(rest)


_STATUSES = frozenset(s.value for s in ConversationStatus)


def _only_statuses(query: InboxQuery) -> set[str] | None:
    """The statuses allowed when status is all the query asks about (None when it asks about more)."""
    if query.extra:
        return None
    allowed = set(_STATUSES)
    for part in query.queries:
        if part.flags - _STATUSES or replace(part, statuses=(), flags=frozenset()) != SearchQuery():
            return None
        if part.statuses:
            allowed &= {s.value for s in part.statuses}
        for flag in part.flags:
            allowed &= {flag}
    return allowed


def _text_ids(engine: Engine, query: InboxQuery, now: datetime) -> list[int]:
    text = next(q for q in query.queries if q.terms or q.authors)
    others = [q for q in query.queries if q is not text]
    extra = list(query.extra)
    for part in others:
        extra += conversation_conditions(part, now=now, me=query.me, zone=query.zone)
    return search_conversation_ids(
        engine, text, now=now, me=query.me, zone=query.zone, extra=extra, limit=TEXT_RESULT_LIMIT
    )


def count(engine: Engine, query: InboxQuery, *, now: datetime) -> int:
    if query.has_text:
        return len(_text_ids(engine, query, now))
    with engine.connect() as connection:
        statement = select(func.count()).select_from(conversations).where(*_conditions(query, now))
        return int(connection.execute(statement).scalar_one())


def counts(engine: Engine, queries: dict[str, InboxQuery], *, now: datetime) -> dict[str, int]:
    """One count per named query (the sidebar's), all read on one connection."""
    found: dict[str, int] = {}
    with engine.connect() as connection:
        for key, query in queries.items():
            if query.has_text:
                found[key] = len(_text_ids(engine, query, now))
                continue
            statement = select(func.count()).select_from(conversations).where(*_conditions(query, now))
            found[key] = int(connection.execute(statement).scalar_one())
    return found


def combine(*queries: SearchQuery | None, order: Order = Order.URGENT, **options: Any) -> InboxQuery:
    return InboxQuery(queries=tuple(q for q in queries if q is not None and not q.is_empty), order=order, **options)


def ids_in_order(engine: Engine, queries: Sequence[SearchQuery], *, now: datetime, **options: Any) -> list[int]:
    """A shorthand for tests and the CLI: the ordered ids of these queries ANDed."""
    return ordered_ids(engine, combine(*queries, **options), now=now)


def refresh_statistics(engine: Engine) -> bool:
    """Let SQLite's planner know the inbox's real shape once it has grown (or shrunk) a lot; True when it ran.

    Without statistics the planner guesses, and at 200k conversations some guesses cost a sort of every row.
    ANALYZE of the two inbox tables takes well under a second at that size and runs off the GUI thread.
    """
    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as connection:
        rows = int(connection.execute(select(func.count()).select_from(conversations)).scalar_one())
        has_stats = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
        ).first()
        stat = None
        if has_stats is not None:
            stat = connection.exec_driver_sql(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'conversations' AND idx = 'ix_conversations_inbox'"
            ).scalar()
        analysed = int(str(stat).split()[0]) if stat else 0
        if rows < STATISTICS_MIN_ROWS or (analysed and analysed / 2 <= rows <= analysed * 2):
            return False
        connection.exec_driver_sql("ANALYZE conversations")
        connection.exec_driver_sql("ANALYZE conversation_tags")
    return True
