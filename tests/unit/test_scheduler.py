"""The scheduler: first run at once, then every interval; backoff after failures; retry_at honoured; one job each.

No connector is involved: outcomes are built directly, and time moves only on a ManualClock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.clock import ManualClock
from app.domain.models import AccountState
from app.sync.backoff import BackoffPolicy
from app.sync.events import SyncOutcome
from app.sync.scheduler import ScheduleEntry, Scheduler, schedule_entries


def ok(account_id: int) -> SyncOutcome:
    return SyncOutcome(account_id=account_id, account_name=f"a{account_id}", state=AccountState.OK)


def failed(account_id: int, state: AccountState, **extra: object) -> SyncOutcome:
    return SyncOutcome(account_id=account_id, account_name=f"a{account_id}", state=state, error="boom", **extra)


@pytest.fixture
def scheduler(clock: ManualClock) -> Scheduler:
    # The jitter always draws its top value, so the backoff equals its ceiling minus a hair.
    return Scheduler(clock, policy=BackoffPolicy(base_s=10, cap_s=80, minimum_s=1), random_source=lambda: 0.999999)


def run_once(scheduler: Scheduler, outcome: SyncOutcome) -> None:
    scheduler.started(outcome.account_id)
    scheduler.finished(outcome)


def test_every_account_is_due_at_start_and_again_only_after_its_interval(
    scheduler: Scheduler, clock: ManualClock
) -> None:
    scheduler.set_accounts([ScheduleEntry(1, interval_s=60), ScheduleEntry(2, interval_s=300)])
    assert scheduler.due() == [1, 2]
    run_once(scheduler, ok(1))
    run_once(scheduler, ok(2))
    clock.advance(timedelta(seconds=59))
    assert scheduler.due() == []
    clock.advance(timedelta(seconds=1))
    assert scheduler.due() == [1]
    clock.advance(timedelta(seconds=240))
    assert scheduler.due() == [1, 2]


def test_a_running_account_is_never_due_and_cannot_be_started_twice(scheduler: Scheduler, clock: ManualClock) -> None:
    scheduler.set_accounts([ScheduleEntry(1)])
    scheduler.started(1)
    clock.advance(timedelta(hours=1))
    assert scheduler.due() == []
    scheduler.request_now(1)
    assert scheduler.due() == []
    with pytest.raises(RuntimeError, match="already syncing"):
        scheduler.started(1)


def test_failures_back_off_exponentially_up_to_the_cap_and_success_resets(
    scheduler: Scheduler, clock: ManualClock
) -> None:
    scheduler.set_accounts([ScheduleEntry(1, interval_s=60)])
    delays = []
    for _ in range(5):
        run_once(scheduler, failed(1, AccountState.OFFLINE))
        next_run = scheduler.next_run(1)
        assert next_run is not None
        delays.append(round((next_run - clock.now()).total_seconds()))
        clock.set(next_run)
    assert delays == [10, 20, 40, 80, 80]
    run_once(scheduler, ok(1))
    assert scheduler.failures(1) == 0
    assert scheduler.next_run(1) == clock.now() + timedelta(seconds=60)


def test_rate_limited_account_waits_for_retry_at_even_when_sync_now_is_pressed(
    scheduler: Scheduler, clock: ManualClock
) -> None:
    scheduler.set_accounts([ScheduleEntry(1)])
    retry_at = clock.now() + timedelta(minutes=15)
    run_once(scheduler, failed(1, AccountState.RATE_LIMITED, retry_at=retry_at))
    assert scheduler.next_run(1) == retry_at
    scheduler.request_now(1)
    assert scheduler.next_run(1) == retry_at
    clock.set(retry_at - timedelta(seconds=1))
    assert scheduler.due() == []
    clock.set(retry_at)
    assert scheduler.due() == [1]


def test_account_that_needs_sign_in_waits_for_sync_now(scheduler: Scheduler, clock: ManualClock) -> None:
    scheduler.set_accounts([ScheduleEntry(1)])
    run_once(scheduler, failed(1, AccountState.NEEDS_SIGN_IN))
    clock.advance(timedelta(days=1))
    assert scheduler.due() == []
    assert scheduler.next_wakeup() is None
    scheduler.request_now()
    assert scheduler.due() == [1]


def test_sync_now_during_a_run_runs_again_right_after_it(scheduler: Scheduler, clock: ManualClock) -> None:
    scheduler.set_accounts([ScheduleEntry(1, interval_s=600)])
    scheduler.started(1)
    scheduler.request_now(1)
    scheduler.finished(ok(1))
    assert scheduler.due() == [1]


def test_accounts_stored_as_rate_limited_or_needing_sign_in_start_that_way(
    scheduler: Scheduler, clock: ManualClock
) -> None:
    until = clock.now() + timedelta(minutes=5)
    scheduler.set_accounts(
        [
            ScheduleEntry(1, state=AccountState.RATE_LIMITED, rate_limited_until=until),
            ScheduleEntry(2, state=AccountState.NEEDS_SIGN_IN),
            ScheduleEntry(3, state=AccountState.RATE_LIMITED, rate_limited_until=clock.now() - timedelta(seconds=1)),
        ]
    )
    assert scheduler.due() == [3]
    assert scheduler.next_run(1) == until
    assert scheduler.next_run(2) is None


def test_removed_accounts_are_forgotten_even_while_running(scheduler: Scheduler) -> None:
    scheduler.set_accounts([ScheduleEntry(1), ScheduleEntry(2)])
    scheduler.started(1)
    scheduler.set_accounts([ScheduleEntry(2)])
    scheduler.finished(ok(1))  # the run of a removed account ends quietly
    assert scheduler.accounts() == [2]


def test_working_offline_and_cancelled_runs_are_not_counted_as_failures(
    scheduler: Scheduler, clock: ManualClock
) -> None:
    scheduler.set_accounts([ScheduleEntry(1, interval_s=60)])
    run_once(scheduler, failed(1, AccountState.OFFLINE, work_offline=True))
    run_once(scheduler, SyncOutcome(1, "a1", AccountState.OK, cancelled=True))
    assert scheduler.failures(1) == 0
    assert scheduler.next_run(1) == clock.now() + timedelta(seconds=60)


def test_entries_are_read_from_account_status_rows(clock: ManualClock) -> None:
    until = clock.now() + timedelta(minutes=1)
    rows = [
        {"id": 4, "sync_interval_s": 120, "state": "rate_limited", "rate_limited_until": until},
        {"id": 5, "sync_interval_s": None, "state": "ok", "rate_limited_until": None},
    ]
    assert schedule_entries(rows) == [
        ScheduleEntry(4, 120, AccountState.RATE_LIMITED, until),
        ScheduleEntry(5, 60, AccountState.OK, None),
    ]
