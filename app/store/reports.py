"""The queries behind reports: message volumes counted in SQL, response records and resolutions streamed by range.

Message volumes are the big part (a year of a busy account is millions of messages): they are counted by
`GROUP BY` per account, direction and quarter hour on the covering `ix_messages_created` index, and only
those counts reach Python, which reads each quarter hour in the user's time zone. Response records (one per
clock) and closed conversations are read by their `started_at` / `closed_at` indexes, a page at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, func, select, type_coerce

from app.domain.models import ConversationStatus, Direction
from app.domain.reports import (
    BUCKET_S,
    NO_GROUP,
    AccountFacts,
    GroupBy,
    Report,
    ReportBuilder,
    ReportPeriod,
)
from app.domain.timers import ResponseKind, ResponseRecord
from app.errors import KnownError
from app.store.schema import accounts, conversation_tags, conversations, messages, response_records, tags

STREAM_ROWS = 5000


class ReportCancelled(KnownError):
    """The report was no longer wanted (a newer one was asked for)."""


def account_facts(connection: Connection) -> dict[int, AccountFacts]:
    rows = connection.execute(select(accounts.c.id, accounts.c.name, accounts.c.platform, accounts.c.options))
    return {
        row.id: AccountFacts(row.id, row.name, row.platform, str((row.options or {}).get("department") or ""))
        for row in rows
    }


def build_report(
    engine: Engine,
    period: ReportPeriod,
    group_by: GroupBy,
    *,
    now: datetime,
    cancelled: Callable[[], bool] = lambda: False,
) -> Report:
    """Read one period in one read transaction (a consistent snapshot) and fold it into a Report."""
    builder = ReportBuilder(period, group_by, now)
    with engine.connect() as connection:
        facts = account_facts(connection)
        steps = (_add_volumes, _add_records, _add_resolutions)
        for step in steps:
            if cancelled():
                raise ReportCancelled("The report was cancelled.")
            step(connection, builder, facts)
    return builder.build()


def _account_group(builder: ReportBuilder, facts: dict[int, AccountFacts], account_id: int) -> str:
    account = facts.get(account_id)
    return account.group(builder.group_by) if account is not None else NO_GROUP


def _add_volumes(connection: Connection, builder: ReportBuilder, facts: dict[int, AccountFacts]) -> None:
    m = messages.c
    period = builder.period
    in_period = (m.created_at >= period.start, m.created_at < period.end)
    bucket = (type_coerce(m.created_at, BigInteger) // (BUCKET_S * 1000)).label("bucket")
    rows = connection.execute(
        select(m.account_id, m.direction, bucket, func.count().label("n"))
        .where(*in_period)
        .group_by(m.account_id, m.direction, bucket)
    )
    by_tag = builder.group_by is GroupBy.TAG
    for row in rows:
        direction = Direction(row.direction)
        builder.add_traffic(int(row.bucket), direction, int(row.n))
        if not by_tag:
            builder.add_group_volume(_account_group(builder, facts, row.account_id), direction, int(row.n))
    if by_tag:
        ct = conversation_tags.c
        names = _tag_names(connection)
        tagged = connection.execute(
            select(ct.tag_id, m.direction, func.count().label("n"))
            .select_from(messages.outerjoin(conversation_tags, ct.conversation_id == m.conversation_id))
            .where(*in_period)
            .group_by(ct.tag_id, m.direction)
        )
        for row in tagged:
            name = names.get(row.tag_id, NO_GROUP) if row.tag_id is not None else NO_GROUP
            builder.add_group_volume(name, Direction(row.direction), int(row.n))


def _tag_names(connection: Connection) -> dict[int, str]:
    return {row.id: row.name for row in connection.execute(select(tags.c.id, tags.c.name))}


def _tags_of(connection: Connection, conversation_ids: Any) -> dict[int, list[str]]:
    """Tag names of the conversations `conversation_ids` (a subquery) selects."""
    ct = conversation_tags.c
    found: dict[int, list[str]] = {}
    for cid, name in connection.execute(
        select(ct.conversation_id, tags.c.name)
        .join(tags, tags.c.id == ct.tag_id)
        .where(ct.conversation_id.in_(conversation_ids))
    ):
        found.setdefault(cid, []).append(name)
    return found


def _groups(
    builder: ReportBuilder,
    facts: dict[int, AccountFacts],
    tag_map: dict[int, list[str]],
    account_id: int,
    conversation_id: int,
) -> Iterable[str]:
    if builder.group_by is GroupBy.TAG:
        return tag_map.get(conversation_id) or (NO_GROUP,)
    return (_account_group(builder, facts, account_id),)


def _add_records(connection: Connection, builder: ReportBuilder, facts: dict[int, AccountFacts]) -> None:
    r = response_records.c
    period = builder.period
    in_period = (r.started_at >= period.start, r.started_at < period.end)
    tag_map = (
        _tags_of(connection, select(r.conversation_id).where(*in_period)) if builder.group_by is GroupBy.TAG else {}
    )
    rows = connection.execution_options(yield_per=STREAM_ROWS).execute(
        select(
            r.conversation_id, r.account_id, r.kind, r.started_at, r.due_at, r.answered_at, r.ended_at,
            r.paused_s, r.policy_name, r.target_s,
        ).where(*in_period)
    )  # fmt: skip
    for row in rows:
        record = ResponseRecord(
            conversation_id=row.conversation_id,
            account_id=row.account_id,
            kind=ResponseKind(row.kind),
            started_at=row.started_at,
            due_at=row.due_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            paused=timedelta(seconds=row.paused_s or 0),
            policy_name=row.policy_name,
            target=None if row.target_s is None else timedelta(seconds=row.target_s),
        )
        builder.add_record(record, _groups(builder, facts, tag_map, row.account_id, row.conversation_id))


def _add_resolutions(connection: Connection, builder: ReportBuilder, facts: dict[int, AccountFacts]) -> None:
    c = conversations.c
    period = builder.period
    # By the closed_at index alone; a conversation reopened since (closed_at kept, status not closed) is
    # skipped here rather than in SQL, where `status = 'closed'` would draw SQLite to the status index and
    # every closed conversation ever.
    closed = (c.closed_at >= period.start, c.closed_at < period.end)
    tag_map = _tags_of(connection, select(c.id).where(*closed)) if builder.group_by is GroupBy.TAG else {}
    rows = connection.execution_options(yield_per=STREAM_ROWS).execute(
        select(c.id, c.account_id, c.status, c.opened_at, c.closed_at).where(*closed)
    )
    for row in rows:
        if row.status == ConversationStatus.CLOSED.value:
            groups = _groups(builder, facts, tag_map, row.account_id, row.id)
            builder.add_resolution(row.opened_at, row.closed_at, groups)
