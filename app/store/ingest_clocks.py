"""The response clocks of one stored page: which clocks its messages start and stop, written in bulk.

Ingest walks each touched conversation's new messages once (it does anyway for the summary) and tells this log
what happened; the log chooses each new clock's policy once per conversation, not per message, and writes the
page's records with a handful of statements.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import sqlite

from app.domain.models import MessageKind, Platform
from app.domain.rules import Outcome
from app.domain.timers import ResponsePolicy, add_business_time, choose_policy
from app.store import clocks
from app.store.dialect import chunks, positional_sql
from app.store.policies import load_policies
from app.store.schema import accounts, conversation_tags, conversations, response_records, tags, to_millis

Slot = int | str  # an existing conversation's id, or the key of one this page opens


@dataclass
class PageClocks:
    """What one page did to its conversations' clocks. The facts policies need (the account, existing
    conversations' tags and records) are read only when a clock starts, so a page that starts none (replies,
    follow-ups to a running clock) costs no extra reads."""

    connection: Connection
    account_id: int
    existing: list[int] = field(default_factory=list)
    _account: tuple[Platform, str] | None = None
    _policies: tuple[ResponsePolicy, ...] | None = None
    _known: tuple[dict[int, tuple[str, ...]], set[int]] | None = None
    records: list[tuple[Any, ...]] = field(default_factory=list)  # new records, slot not yet resolved
    answered: dict[int, datetime] = field(default_factory=dict)  # running records answered by this page
    pause_ends: dict[int, datetime] = field(default_factory=dict)  # pending clocks this page resumes or answers
    started: set[Slot] = field(default_factory=set)

    def _existing_facts(self) -> tuple[dict[int, tuple[str, ...]], set[int]]:
        """Tags (policy rules read them) and whether a clock ever ran, for the page's existing conversations."""
        if self._known is not None:
            return self._known
        connection, ids = self.connection, self.existing
        names: dict[int, list[str]] = {}
        for part in chunks(ids):
            for cid, name in connection.execute(
                select(conversation_tags.c.conversation_id, tags.c.name)
                .join(tags, tags.c.id == conversation_tags.c.tag_id)
                .where(conversation_tags.c.conversation_id.in_(part))
            ):
                names.setdefault(cid, []).append(name)
        self._known = (
            {cid: tuple(found) for cid, found in names.items()},
            clocks.conversations_with_records(connection, ids),
        )
        return self._known

    def had_clock(self, slot: Slot, waiting_since: datetime | None) -> bool:
        if not isinstance(slot, int):
            return False
        return waiting_since is not None or slot in self._existing_facts()[1]

    def policy(self, slot: Slot, kind: MessageKind, priority: int) -> ResponsePolicy:
        if self._account is None or self._policies is None:
            row = self.connection.execute(
                select(accounts.c.name, accounts.c.platform).where(accounts.c.id == self.account_id)
            ).one()
            self._account = (Platform(row.platform), row.name)
            self._policies = load_policies(self.connection)
        platform, account = self._account
        tag_list = self._existing_facts()[0].get(slot, ()) if isinstance(slot, int) else ()
        return choose_policy(
            self._policies, platform=platform, account=account, kind=kind, priority=priority, tags=tag_list
        )

    def start(
        self,
        slot: Slot,
        account_id: int,
        started: datetime,
        answered: datetime | None,
        first: bool,
        policy: ResponsePolicy,
    ) -> None:
        # A tuple in the order of _RECORD_COLUMNS, the slot in place of the conversation id until it is known:
        # a bulk import starts a clock in most conversations, so this stays as lean as the message rows.
        target = policy.first_response if first else policy.next_response
        calendar = policy.calendar
        self.records.append(
            (
                slot, account_id, "first" if first else "next", started,
                add_business_time(calendar, started, target),
                add_business_time(calendar, started, target * policy.warning_ratio),
                answered, 0, policy.id, policy.name, int(target.total_seconds()),
            )
        )  # fmt: skip
        self.started.add(slot)

    def write(self, connection: Connection, new_ids: dict[str, int]) -> None:
        """Close the pauses and running records this page ended, then add its new records (before the rules run,
        so a rule that closes a conversation ends the clock its message started)."""
        if self.pause_ends:
            facts = clocks.read_facts(connection, self.pause_ends)
            clocks.end_pause(connection, facts, self.pause_ends)
        if self.answered:
            r = response_records.c
            connection.execute(
                update(response_records)
                .where(r.conversation_id == bindparam("target_id"), r.answered_at.is_(None), r.ended_at.is_(None))
                .values(answered_at=bindparam("at")),
                [{"target_id": cid, "at": at} for cid, at in self.answered.items()],
            )
        if self.records:
            _insert_records(connection, self.records, new_ids)
        resumed = [cid for cid in self.pause_ends if cid not in self.answered]
        if resumed:
            clocks.refresh_due(connection, resumed)

    def after_rules(
        self, connection: Connection, outcomes: dict[int, Outcome], new_ids: dict[str, int], at: datetime
    ) -> None:
        """Rules may tag, prioritise or close what this page brought: the clocks follow."""
        if not outcomes:
            return
        started_ids = {s if isinstance(s, int) else new_ids[s] for s in self.started}
        fresh = [cid for cid in outcomes if cid in started_ids]
        older = [cid for cid in outcomes if cid not in started_ids]
        if fresh:
            clocks.refresh_due(connection, fresh, restamp=True)
        if older:
            clocks.refresh_due(connection, older)
        for cid, outcome in outcomes.items():
            if outcome.status is not None:
                # A rule closes at the time of the message it matched (the conversation's closed_at), as a person
                # reading it then would have; pending starts there too.
                when = connection.execute(select(conversations.c.closed_at).where(conversations.c.id == cid)).scalar()
                clocks.status_changed(connection, [cid], outcome.status, now=when or at)


_RECORD_COLUMNS = (
    "conversation_id", "account_id", "kind", "started_at", "due_at", "warn_at", "answered_at", "paused_s",
    "policy_id", "policy_name", "target_s",
)  # fmt: skip


@functools.cache
def _sqlite_record_insert() -> str:
    return positional_sql(sqlite.insert(response_records), _RECORD_COLUMNS)


def _insert_records(connection: Connection, rows: list[tuple[Any, ...]], new_ids: dict[str, int]) -> None:
    resolved = [(slot if isinstance(slot, int) else new_ids[slot], *rest) for slot, *rest in rows]
    if connection.dialect.name != "sqlite":
        connection.execute(insert(response_records), [dict(zip(_RECORD_COLUMNS, r, strict=True)) for r in resolved])
        return
    # Plain tuples straight to the driver, times already in their stored form, as for messages.
    connection.exec_driver_sql(
        _sqlite_record_insert(),
        [
            (cid, account, kind, to_millis(start), to_millis(due), to_millis(warn),
             to_millis(answered) if answered is not None else None, *rest)
            for cid, account, kind, start, due, warn, answered, *rest in resolved
        ],
    )  # fmt: skip
