"""Response clocks in the store: the `response_records` rows and each open conversation's due and warning times.

A clock starts at the first unanswered inbound message (kind "first" for the conversation's first clock,
"next" afterwards), stops at our first reply after it (`answered_at`) or when the conversation is closed
(`ended_at`); time in pending is added to `paused_s` and pushes the due time back. The policy is chosen when
the clock starts and copied into its record; a later policy edit moves the conversation's due time
(`reapply_policies`) but never what a record measured. Everything here runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from app.domain.models import ConversationStatus, MessageKind, Platform
from app.domain.timers import (
    ResponseKind,
    ResponsePolicy,
    add_business_time,
    business_time_between,
    choose_policy,
)
from app.store.dialect import chunks
from app.store.policies import load_policies
from app.store.schema import accounts, contacts, conversation_tags, conversations, response_records, tags

CLOSED = ConversationStatus.CLOSED.value
PENDING = ConversationStatus.PENDING.value
_OPEN_RECORD = (response_records.c.answered_at.is_(None), response_records.c.ended_at.is_(None))


@dataclass(frozen=True)
class Facts:
    """What policy rules look at, and the clock columns, of one conversation."""

    id: int
    account_id: int
    platform: Platform
    account: str
    kind: MessageKind
    priority: int
    status: str
    tags: tuple[str, ...]
    waiting_since: datetime | None
    paused_at: datetime | None


def policy_for(policies: Iterable[ResponsePolicy], facts: Facts) -> ResponsePolicy:
    return choose_policy(
        policies,
        platform=facts.platform,
        account=facts.account,
        kind=facts.kind,
        priority=facts.priority,
        tags=facts.tags,
    )


def read_facts(connection: Connection, ids: Iterable[int]) -> dict[int, Facts]:
    c = conversations.c
    found: dict[int, Facts] = {}
    wanted = list(dict.fromkeys(ids))
    tag_names: dict[int, list[str]] = {}
    for part in chunks(wanted):
        for cid, name in connection.execute(
            select(conversation_tags.c.conversation_id, tags.c.name)
            .join(tags, tags.c.id == conversation_tags.c.tag_id)
            .where(conversation_tags.c.conversation_id.in_(part))
        ):
            tag_names.setdefault(cid, []).append(name)
        rows = connection.execute(
            select(c.id, c.account_id, accounts.c.platform, accounts.c.name, c.kind, c.priority, c.status)
            .add_columns(c.waiting_since, c.paused_at)
            .join(accounts, accounts.c.id == c.account_id)
            .where(c.id.in_(part))
        )
        for row in rows:
            found[row.id] = Facts(
                row.id, row.account_id, Platform(row.platform), row.name, MessageKind(row.kind), row.priority,
                row.status, tuple(tag_names.get(row.id, ())), row.waiting_since, row.paused_at,
            )  # fmt: skip
    return found


def open_records(connection: Connection, ids: Iterable[int]) -> dict[int, Any]:
    """The running record of each conversation that has one."""
    found: dict[int, Any] = {}
    for part in chunks(list(ids)):
        for row in connection.execute(
            select(response_records).where(response_records.c.conversation_id.in_(part), *_OPEN_RECORD)
        ):
            found[row.conversation_id] = row
    return found


def conversations_with_records(connection: Connection, ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for part in chunks(list(ids)):
        found.update(
            connection.execute(
                select(response_records.c.conversation_id).where(response_records.c.conversation_id.in_(part))
            ).scalars()
        )
    return found


def record_row(
    conversation_id: int, account_id: int, kind: ResponseKind, started: datetime, policy: ResponsePolicy
) -> dict[str, Any]:
    first = kind is ResponseKind.FIRST
    return {
        "conversation_id": conversation_id,
        "account_id": account_id,
        "kind": kind.value,
        "started_at": started,
        "due_at": policy.due_at(started, first_response=first),
        "warn_at": policy.warning_at(started, first_response=first),
        "paused_s": 0,
        "policy_id": policy.id,
        "policy_name": policy.name,
        "target_s": int(policy.target(first_response=first).total_seconds()),
    }


def refresh_due(connection: Connection, ids: Iterable[int], *, restamp: bool = False) -> None:
    """Recompute the due and warning times of these conversations' running clocks under the current policies.

    `restamp` also writes the chosen policy into the running records: only for clocks that started in the
    same transaction (rules tagged the conversation after its message was stored), never for older ones.
    """
    facts = read_facts(connection, ids)
    running = {cid: f for cid, f in facts.items() if f.waiting_since is not None and f.status != CLOSED}
    if not running:
        return
    policies = load_policies(connection)
    records = open_records(connection, running)
    missing = [cid for cid in running if cid not in records]
    if missing:  # a clock from before records were kept: give it one, so reports and pauses can see it
        earlier = conversations_with_records(connection, missing)
        for cid in missing:
            f = running[cid]
            kind = ResponseKind.NEXT if cid in earlier else ResponseKind.FIRST
            assert f.waiting_since is not None
            connection.execute(
                insert(response_records).values(
                    **record_row(cid, f.account_id, kind, f.waiting_since, policy_for(policies, f))
                )
            )
        records.update(open_records(connection, missing))
    due_rows, stamp_rows = [], []
    for cid, f in running.items():
        record = records[cid]
        policy = policy_for(policies, f)
        first = record.kind == ResponseKind.FIRST.value
        paused = timedelta(seconds=record.paused_s)
        assert f.waiting_since is not None
        due = policy.due_at(f.waiting_since, first_response=first, paused=paused)
        warn = policy.warning_at(f.waiting_since, first_response=first, paused=paused)
        due_rows.append({"target_id": cid, "next_due_at": due, "next_warn_at": warn})
        if restamp:
            stamp = record_row(cid, f.account_id, ResponseKind(record.kind), record.started_at, policy)
            stamp_rows.append(
                {"record_id": record.id, **{k: stamp[k] for k in ("policy_id", "policy_name", "target_s")},
                 "due_at": due, "warn_at": warn}
            )  # fmt: skip
    connection.execute(
        update(conversations)
        .where(conversations.c.id == bindparam("target_id"))
        .values(next_due_at=bindparam("next_due_at"), next_warn_at=bindparam("next_warn_at")),
        due_rows,
    )
    if stamp_rows:
        r = response_records.c
        connection.execute(
            update(response_records)
            .where(r.id == bindparam("record_id"))
            .values({k: bindparam(k) for k in ("policy_id", "policy_name", "target_s", "due_at", "warn_at")}),
            stamp_rows,
        )


def end_pause(connection: Connection, facts: dict[int, Facts], at: dict[int, datetime]) -> None:
    """Add the time each conversation spent pending (up to `at`) to its running record and clear the pause."""
    paused = {cid: f for cid, f in facts.items() if f.paused_at is not None and cid in at}
    if not paused:
        return
    policies = load_policies(connection)
    records = open_records(connection, paused)
    r = response_records.c
    rows = []
    for cid, f in paused.items():
        assert f.paused_at is not None
        record = records.get(cid)
        if record is None:
            continue
        policy = policy_for(policies, f)
        spent = business_time_between(policy.calendar, f.paused_at, at[cid])
        paused_s = record.paused_s + int(spent.total_seconds())
        first = record.kind == ResponseKind.FIRST.value
        total = timedelta(seconds=paused_s)
        rows.append(
            {
                "record_id": record.id,
                "paused_s": paused_s,
                # the record's own target (copied when it started), moved back by the pause
                "due_at": _moved(record.started_at, record.target_s, total, policy, 1.0, first),
                "warn_at": _moved(record.started_at, record.target_s, total, policy, policy.warning_ratio, first),
            }
        )
    if rows:
        connection.execute(
            update(response_records)
            .where(r.id == bindparam("record_id"))
            .values(paused_s=bindparam("paused_s"), due_at=bindparam("due_at"), warn_at=bindparam("warn_at")),
            rows,
        )
    for part in chunks(list(paused)):
        connection.execute(update(conversations).where(conversations.c.id.in_(part)).values(paused_at=None))


def _moved(
    started: datetime, target_s: int | None, paused: timedelta, policy: ResponsePolicy, ratio: float, first: bool
) -> datetime:
    target = timedelta(seconds=target_s) if target_s is not None else policy.target(first_response=first)
    return add_business_time(policy.calendar, started, target * ratio + paused)


def status_changed(connection: Connection, ids: Iterable[int], status: ConversationStatus, *, now: datetime) -> None:
    """Closing stops every clock; pending pauses a running one; open or snoozed after pending resumes it.

    Call after the status is written, with `facts` read before (see `app.store.triage.set_status`).
    """
    facts = read_facts(connection, ids)
    running = [cid for cid, f in facts.items() if f.waiting_since is not None]
    if status is ConversationStatus.CLOSED:
        end_pause(connection, facts, {cid: now for cid in running})
        r = response_records.c
        for part in chunks(running):
            connection.execute(
                update(response_records).where(r.conversation_id.in_(part), *_OPEN_RECORD).values(ended_at=now)
            )
        for part in chunks(running):
            connection.execute(
                update(conversations)
                .where(conversations.c.id.in_(part))
                .values(waiting_since=None, next_due_at=None, next_warn_at=None, paused_at=None)
            )
        return
    if status is ConversationStatus.PENDING:
        start = [cid for cid in running if facts[cid].paused_at is None]
        for part in chunks(start):
            connection.execute(update(conversations).where(conversations.c.id.in_(part)).values(paused_at=now))
        return
    resumed = [cid for cid in running if facts[cid].paused_at is not None]
    if resumed:
        end_pause(connection, facts, {cid: now for cid in resumed})
        refresh_due(connection, resumed)


def after_undo(connection: Connection, ids: Iterable[int]) -> None:
    """An undone close brings its clock back: the record it ended runs again."""
    facts = read_facts(connection, ids)
    back = [cid for cid, f in facts.items() if f.waiting_since is not None and f.status != CLOSED]
    running = open_records(connection, back)
    r = response_records.c
    for cid in back:
        if cid in running:
            continue
        latest = connection.execute(
            select(func.max(r.id)).where(r.conversation_id == cid, r.started_at == facts[cid].waiting_since)
        ).scalar()
        if latest is not None:
            connection.execute(update(response_records).where(r.id == latest).values(ended_at=None))


def reapply_policies(engine: Engine, *, batch: int = 2000) -> int:
    """After a policy edit: every running clock's due time under the new list, in batches; how many moved.

    Run on the writer thread, never the GUI thread: at 200k conversations a few thousand clocks run.
    """
    c = conversations.c
    with engine.connect() as connection:
        ids = list(connection.execute(select(c.id).where(c.waiting_since.is_not(None), c.status != CLOSED)).scalars())
    for start in range(0, len(ids), batch):
        with engine.begin() as connection:
            refresh_due(connection, ids[start : start + batch])
    return len(ids)


@dataclass(frozen=True)
class Alerting:
    """An open or snoozed conversation whose clock is past its warning time (or its due time)."""

    conversation_id: int
    breached: bool
    waiting_since: datetime
    name: str


@dataclass(frozen=True)
class AlertScan:
    """The breached count, and the running clocks in warning or breach that most recently got there."""

    breached: int
    recent: list[Alerting]


def alerting(engine: Engine, now: datetime, *, limit: int = 1000) -> AlertScan:
    """Running clocks in warning or breach, open or snoozed (snoozing hides no breach).

    Only the `limit` latest due are listed: a clock that entered its state a while ago was announced then, and
    an inbox with thousands overdue needs their number, not thousands of rows read every tick.
    """
    c = conversations.c
    active = (
        c.status.in_([ConversationStatus.OPEN.value, ConversationStatus.SNOOZED.value]),
        c.next_due_at.is_not(None),
        c.waiting_since.is_not(None),
    )
    statement = (
        select(c.id, c.waiting_since, c.next_due_at, contacts.c.display_name, contacts.c.handle)
        .outerjoin(contacts, contacts.c.id == c.contact_id)
        .where(*active, c.next_warn_at <= now)
        .order_by(c.next_due_at.desc(), c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        breached = connection.execute(select(func.count()).where(*active, c.next_due_at <= now)).scalar_one()
        recent = [
            Alerting(row.id, row.next_due_at <= now, row.waiting_since, row.display_name or row.handle or "")
            for row in connection.execute(statement)
        ]
    return AlertScan(int(breached), recent)


def applicable_policy(engine: Engine, conversation_id: int) -> tuple[ResponsePolicy, ResponseKind | None]:
    """The policy the conversation is held to now, and the kind of its running clock (None when none runs)."""
    with engine.connect() as connection:
        facts = read_facts(connection, [conversation_id]).get(conversation_id)
        if facts is None:
            raise LookupError(conversation_id)
        record = open_records(connection, [conversation_id]).get(conversation_id)
        policy = policy_for(load_policies(connection), facts)
    if record is None or facts.waiting_since is None or facts.status == CLOSED:
        return policy, None
    return policy, ResponseKind(record.kind)
