"""Which account syncs when: per-account intervals, sync-now, backoff after failures, one job per account."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.clock import Clock
from app.domain.models import AccountState
from app.sync.backoff import BackoffPolicy, next_attempt
from app.sync.events import SyncOutcome

DEFAULT_INTERVAL_S = 60


@dataclass(frozen=True)
class ScheduleEntry:
    """What the scheduler needs to know about an account (read from the store at start)."""

    account_id: int
    interval_s: int = DEFAULT_INTERVAL_S
    state: AccountState = AccountState.OK
    rate_limited_until: datetime | None = None


@dataclass
class _Slot:
    interval_s: int
    next_run: datetime | None  # None: paused until someone asks (the account needs signing in)
    failures: int = 0
    not_before: datetime | None = None  # the platform's retry_at; nothing, not even sync-now, goes earlier
    running: bool = False
    again: bool = False  # sync-now asked while a run was going: run once more right after it


class Scheduler:
    """Decides which accounts are due; knows nothing of threads or Qt.

    A new account is due at once; after a good run it is due again one interval later; after a
    failure it backs off (capped exponential, full jitter) and never runs before the platform's
    retry_at; an account that needs signing in waits for sync-now. An account that is running is
    never due, so one account never has two jobs at once.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        policy: BackoffPolicy | None = None,
        random_source: Callable[[], float] | None = None,
    ) -> None:
        self.clock = clock
        self.policy = policy or BackoffPolicy()
        self._random = random_source or random.Random().random
        self._slots: dict[int, _Slot] = {}

    def set_accounts(self, entries: Iterable[ScheduleEntry]) -> None:
        """Track exactly these accounts: new ones get a first run, gone ones are forgotten."""
        now = self.clock.now()
        wanted = {entry.account_id: entry for entry in entries}
        for account_id in list(self._slots):
            if account_id not in wanted:
                del self._slots[account_id]
        for account_id, entry in wanted.items():
            interval = max(1, entry.interval_s or DEFAULT_INTERVAL_S)
            slot = self._slots.get(account_id)
            if slot is not None:
                slot.interval_s = interval
                continue
            limited = entry.rate_limited_until if entry.rate_limited_until and entry.rate_limited_until > now else None
            if entry.state is AccountState.NEEDS_SIGN_IN:
                first: datetime | None = None
            else:
                first = limited or now
            self._slots[account_id] = _Slot(interval_s=interval, next_run=first, not_before=limited)

    def accounts(self) -> list[int]:
        return sorted(self._slots)

    def due(self) -> list[int]:
        """Accounts to start now, earliest first."""
        now = self.clock.now()
        ready = [
            (slot.next_run, account_id)
            for account_id, slot in self._slots.items()
            if not slot.running and slot.next_run is not None and slot.next_run <= now
        ]
        return [account_id for _, account_id in sorted(ready)]

    def next_run(self, account_id: int) -> datetime | None:
        return self._slots[account_id].next_run

    def next_wakeup(self) -> datetime | None:
        """The soonest planned run of an idle account (for a loop that sleeps until then)."""
        times = [s.next_run for s in self._slots.values() if not s.running and s.next_run is not None]
        return min(times, default=None)

    def is_running(self, account_id: int) -> bool:
        slot = self._slots.get(account_id)
        return bool(slot and slot.running)

    def request_now(self, account_id: int | None = None) -> None:
        """Sync-now for one account or all; a platform's retry_at still holds."""
        now = self.clock.now()
        targets = self._slots if account_id is None else {account_id: self._slots[account_id]}
        for slot in targets.values():
            if slot.running:
                slot.again = True
            else:
                slot.next_run = max(now, slot.not_before) if slot.not_before else now

    def started(self, account_id: int) -> None:
        slot = self._slots[account_id]
        if slot.running:
            raise RuntimeError(f"account {account_id} is already syncing")
        slot.running = True
        slot.again = False

    def finished(self, outcome: SyncOutcome) -> None:
        slot = self._slots.get(outcome.account_id)
        if slot is None:
            return  # removed while it ran
        slot.running = False
        now = self.clock.now()
        slot.not_before = outcome.retry_at if outcome.retry_at and outcome.retry_at > now else None
        if outcome.cancelled or outcome.work_offline or not outcome.failed:
            if not outcome.failed:
                slot.failures = 0
            slot.next_run = now + timedelta(seconds=slot.interval_s)
        elif outcome.state is AccountState.NEEDS_SIGN_IN:
            slot.failures = 0
            slot.next_run = None
        else:
            slot.failures += 1
            slot.next_run = next_attempt(self.policy, slot.failures, now, self._random, retry_at=slot.not_before)
        if slot.again:
            slot.next_run = max(now, slot.not_before) if slot.not_before else now
        slot.again = False

    def failures(self, account_id: int) -> int:
        return self._slots[account_id].failures


def schedule_entries(rows: Iterable[dict[str, object]]) -> list[ScheduleEntry]:
    """ScheduleEntry values from `app.store.accounts.account_status_rows` rows."""
    entries = []
    for row in rows:
        until = row.get("rate_limited_until")
        entries.append(
            ScheduleEntry(
                account_id=int(str(row["id"])),
                interval_s=int(str(row.get("sync_interval_s") or DEFAULT_INTERVAL_S)),
                state=AccountState(str(row.get("state") or AccountState.OK.value)),
                rate_limited_until=until if isinstance(until, datetime) else None,
            )
        )
    return entries
