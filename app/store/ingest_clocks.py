"""The response clocks of one stored page: which clocks its messages start and stop, written in bulk.

Ingest walks each touched conversation's new messages once (it does anyway for the summary) and tells this log
what happened; the log chooses each new clock's policy once per conversation, not per message, and writes the
page's records with a handful of statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from app.domain.models import MessageKind, Platform
from app.domain.rules import Outcome
from app.domain.timers import ResponseKind, ResponsePolicy, choose_policy
from app.store import clocks
from app.store.dialect import chunks
from app.store.policies import load_policies
from app.store.schema import accounts, conversation_tags, response_records, tags

Slot = int | str  # an existing conversation's id, or the key of one this page opens


@dataclass
class PageClocks:
    policies: tuple[ResponsePolicy, ...]
    platform: Platform
    account: str
    tags_of: dict[int, tuple[str, ...]] = field(default_factory=dict)
    with_records: set[int] = field(default_factory=set)
    records: list[dict[str, Any]] = field(default_factory=list)  # new records, "slot" not yet resolved
    answered: dict[int, datetime] = field(default_factory=dict)  # running records answered by this page
    pause_ends: dict[int, datetime] = field(default_factory=dict)  # pending clocks this page resumes or answers
    started: set[Slot] = field(default_factory=set)

    @classmethod
    def for_account(cls, connection: Connection, account_id: int) -> PageClocks:
        account = connection.execute(
            select(accounts.c.name, accounts.c.platform).where(accounts.c.id == account_id)
        ).one()
        return cls(load_policies(connection), Platform(account.platform), account.name)

    def know_existing(self, connection: Connection, ids: list[int]) -> None:
        """Tags (policy rules read them) and whether a clock ever ran, for the page's existing conversations."""
        names: dict[int, list[str]] = {}
        for part in chunks(ids):
            for cid, name in connection.execute(
                select(conversation_tags.c.conversation_id, tags.c.name)
                .join(tags, tags.c.id == conversation_tags.c.tag_id)
                .where(conversation_tags.c.conversation_id.in_(part))
            ):
                names.setdefault(cid, []).append(name)
        self.tags_of = {cid: tuple(found) for cid, found in names.items()}
        self.with_records = clocks.conversations_with_records(connection, ids)

    def had_clock(self, slot: Slot, waiting_since: datetime | None) -> bool:
        return isinstance(slot, int) and (waiting_since is not None or slot in self.with_records)

    def policy(self, slot: Slot, kind: MessageKind, priority: int) -> ResponsePolicy:
        tag_list = self.tags_of.get(slot, ()) if isinstance(slot, int) else ()
        return choose_policy(
            self.policies, platform=self.platform, account=self.account, kind=kind, priority=priority, tags=tag_list
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
        kind = ResponseKind.FIRST if first else ResponseKind.NEXT
        row = clocks.record_row(0, account_id, kind, started, policy)
        row["slot"], row["answered_at"] = slot, answered
        self.records.append(row)
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
            for row in self.records:
                slot = row.pop("slot")
                row["conversation_id"] = slot if isinstance(slot, int) else new_ids[slot]
            connection.execute(insert(response_records), self.records)
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
                clocks.status_changed(connection, [cid], outcome.status, now=at)
