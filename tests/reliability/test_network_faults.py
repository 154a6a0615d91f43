"""Network faults between Parley and a Mastodon server, driven through the real SyncEngine and connector.

Two local servers speak the Mastodon API: FeedServer (a volume feed whose faults this suite scripts:
resets, slow answers, loops, revoked tokens) and mastodon-mock (a third-party emulator whose fault API
gives 5xx bursts and 429 storms). The connector is the real one with a short read timeout and a short
retry backoff, so the production retry policy runs in test time. After every fault: no crash, bounded
retries, nothing duplicated, and the stored cursor never points past what was stored.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from app.context import AppContext
from app.domain.clock import ManualClock
from app.domain.models import AccountRef, AccountState
from app.store import accounts
from app.sync.engine import SyncEngine
from app.sync.events import SyncOutcome, SyncProgress
from app.sync.scheduler import ScheduleEntry, Scheduler
from app.sync.writer import StoreWriter
from tests.peers.mastodon_feed import BRAND_ID, FeedServer
from tests.peers.mastodon_mock import MastodonMock
from tests.reliability.helpers import (
    add_mastodon_account,
    assert_cursor_covers_only_what_is_stored,
    real_connector,
    stored_counts,
)

AREA = "Network faults"
TOTAL = 200  # five pages of 40
READ_TIMEOUT_S = 0.5


@pytest.fixture
def engine(context: AppContext) -> Iterator[SyncEngine]:
    writer = StoreWriter()
    yield SyncEngine(context, connector_factory=real_connector, writer=writer)
    writer.shutdown(timeout=5)


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer(TOTAL).start()
    yield server
    server.stop()


def add_account(ctx: AppContext, url: str, token: str, user_id: str = BRAND_ID) -> AccountRef:
    return add_mastodon_account(ctx, url, token, user_id=user_id, name=f"brand-{secrets.token_hex(3)}")


def sync(engine: SyncEngine, account: AccountRef, on_progress: Callable[[SyncProgress], None] | None = None):
    return engine.sync_account(account.id, threading.Event(), on_progress)


def notification_requests(feed: FeedServer, since: int = 0) -> list[str]:
    return [path for path in feed.requests[since:] if path.startswith("/api/v1/notifications")]


def assert_no_crash(outcome: SyncOutcome, ctx: AppContext) -> None:
    assert "Unexpected error" not in outcome.error, outcome.error
    assert "unexpected error" not in ctx.paths.log_file.read_text(encoding="utf-8")


# -- connection resets -----------------------------------------------------------------------------------


def test_a_connection_reset_before_the_answer_is_retried_within_the_run(
    context: AppContext, engine: SyncEngine, feed: FeedServer
) -> None:
    """Fault: TCP reset instead of the answer to the third page's request.

    Survives: the read is retried at once, the run completes, every message is stored once.
    """
    account = add_account(context, feed.url, feed.token)
    feed.add_fault("reset", skip=2)
    outcome = sync(engine, account)
    assert outcome.state is AccountState.OK and outcome.stored == TOTAL
    assert_cursor_covers_only_what_is_stored(context, account)
    pages = notification_requests(feed)
    assert len(pages) == len(set(pages)) + 1, "exactly one page was asked for twice"


def test_a_connection_reset_mid_page_is_retried_and_a_lasting_one_ends_the_run_cleanly(
    context: AppContext, engine: SyncEngine, feed: FeedServer
) -> None:
    """Fault: TCP reset half-way through a page's body; first once, then on every attempt.

    Survives: once, the page is read again and the run completes; every time, the run stops after a
    bounded number of attempts, marked offline with a clear message, keeping the pages stored before it;
    the next run resumes from there with no duplicates.
    """
    account = add_account(context, feed.url, feed.token)
    feed.add_fault("cut", skip=1)
    assert sync(engine, account).stored == TOTAL

    feed.total = 2 * TOTAL
    feed.faults.clear()
    fault = feed.add_fault("cut", skip=2, times=None)
    outcome = sync(engine, account)
    assert outcome.state is AccountState.OFFLINE and "broke off" in outcome.error
    assert fault.hits == 4, "one read and three re-reads: the session's read-retry budget"
    assert outcome.stored == 80
    assert_cursor_covers_only_what_is_stored(context, account)
    assert_no_crash(outcome, context)

    feed.faults.clear()
    assert sync(engine, account).stored == TOTAL - 80
    assert_cursor_covers_only_what_is_stored(context, account)
    assert stored_counts(context, account) == (2 * TOTAL, 2 * TOTAL)


# -- slow answers -------------------------------------------------------------------------------------------


def test_an_answer_slower_than_the_timeout_is_retried_then_given_up_on(context: AppContext, feed: FeedServer) -> None:
    """Fault: a page that answers 2 s late against a 0.5 s read timeout; once, then on every attempt.

    Survives: once, the retry gets the page and the run completes; every time, the run gives up after
    four attempts and a few seconds, marked offline ("did not answer in time"), keeping what it stored.
    """
    with StoreWriter() as writer:
        impatient = SyncEngine(
            context, writer=writer, connector_factory=lambda a, s: real_connector(a, s, read_timeout=READ_TIMEOUT_S)
        )
        slow_answers(context, impatient, feed)


def slow_answers(context: AppContext, engine: SyncEngine, feed: FeedServer) -> None:
    account = add_account(context, feed.url, feed.token)
    feed.add_fault("delay", skip=1, delay_s=2.0)
    assert sync(engine, account).stored == TOTAL

    feed.total = 2 * TOTAL
    feed.faults.clear()
    fault = feed.add_fault("delay", skip=1, times=None, delay_s=2.0)
    started = time.monotonic()
    outcome = sync(engine, account)
    elapsed = time.monotonic() - started
    assert outcome.state is AccountState.OFFLINE and "did not answer in time" in outcome.error
    assert fault.hits == 4 and elapsed < 15, "four attempts of half a second each, and short backoffs"
    assert outcome.stored == 40
    assert_cursor_covers_only_what_is_stored(context, account)
    assert_no_crash(outcome, context)


# -- pagination that loops ------------------------------------------------------------------------------------


def test_pagination_that_serves_the_same_cursor_again_is_stopped(
    context: AppContext, engine: SyncEngine, feed: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Fault: from the third request on, the server answers every page with the second page again (the
    same items, the same Link cursor), whatever min_id Parley asks for.

    Survives: the walk notices that the cursor did not advance and stops after one repeated page instead
    of looping; it logs why, stores nothing twice, and keeps the cursor at the last real page.
    """
    account = add_account(context, feed.url, feed.token)
    feed.add_fault("replay", skip=2, times=None, replay_min_id="40")
    outcome = sync(engine, account)
    assert outcome.state is AccountState.OK
    assert len(notification_requests(feed)) == 3
    assert stored_counts(context, account) == (80, 80)
    assert accounts.get_cursor(context.engine, account.id, "mentions") == "80"
    assert "did not advance" in caplog.text


# -- a token revoked between two pages -----------------------------------------------------------------------


def test_a_token_revoked_between_two_pages_asks_for_sign_in_and_keeps_the_first_page(
    context: AppContext, engine: SyncEngine, feed: FeedServer
) -> None:
    """Fault: the access token is revoked on the server after the first page was served.

    Survives: the run stops with "needs sign-in" and a message saying to sign in again (without the
    token in it); the first page and its cursor stay stored; after signing in, the sync resumes.
    """
    account = add_account(context, feed.url, feed.token)

    def revoke(progress: SyncProgress) -> None:
        feed.token = "a-new-token-after-revocation"

    outcome = sync(engine, account, revoke)
    assert outcome.state is AccountState.NEEDS_SIGN_IN and "sign in" in outcome.error.lower()
    assert "feed-token" not in outcome.error
    assert outcome.stored == 40
    assert_cursor_covers_only_what_is_stored(context, account)
    assert accounts.account_state(context.engine, account.id) is AccountState.NEEDS_SIGN_IN

    context.secrets.set(account.id, feed.token)
    assert sync(engine, account).stored == TOTAL - 40
    assert_cursor_covers_only_what_is_stored(context, account)


# -- 5xx bursts and 429 storms, through mastodon-mock's fault API ----------------------------------------


@pytest.fixture(scope="module")
def busy_brand(mastodon_server: MastodonMock) -> dict[str, Any]:
    """A brand on mastodon-mock with 60 mentions waiting (two pages)."""
    brand = mastodon_server.create_user(f"brand_{secrets.token_hex(3)}")
    customer = mastodon_server.create_user(f"cust_{secrets.token_hex(3)}")
    for number in range(60):
        mastodon_server.post(customer["access_token"], f"@{brand['username']} question {number}")
    return brand


@pytest.fixture
def mock(mastodon_server: MastodonMock) -> Iterator[MastodonMock]:
    yield mastodon_server
    mastodon_server.clear_faults()


def remaining(mock: MastodonMock, rule: dict[str, Any]) -> int:
    listed = requests.get(f"{mock.url}/api/v1/_mock/faults", timeout=10).json()
    rules = listed if isinstance(listed, list) else listed.get("rules", listed.get("faults", []))
    return next((r["remaining"] for r in rules if r["id"] == rule["id"]), 0) or 0


def fault_after_first_page(mock: MastodonMock, rule: dict[str, Any], added: list[dict[str, Any]]):
    def inject(progress: SyncProgress) -> None:
        if progress.stream == "mentions" and progress.pages == 1 and not added:
            added.append(mock.add_fault(rule))

    return inject


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_burst_of_server_errors_is_retried_with_backoff_and_a_long_one_waits_for_later(
    context: AppContext, engine: SyncEngine, mock: MastodonMock, busy_brand: dict[str, Any], status: int
) -> None:
    """Fault: HTTP {id} on the second page: a burst of two, then a burst of twenty.

    Survives: the short burst is ridden out by the read retries (with backoff, honouring a 503's
    Retry-After of a second) and the run completes; the long one ends the run after four attempts, keeping the first
    page; the scheduler backs off before the next run, which then completes with no duplicates.
    """
    headers = {"Retry-After": "1"} if status == 503 else {}
    rule = {
        "match": {"methods": ["GET"], "path": "/api/v1/notifications"},
        "effect": {"type": "status", "status": status, "headers": headers},
    }
    account = add_account(context, mock.url, busy_brand["access_token"], busy_brand["id"])
    added: list[dict[str, Any]] = []
    started = time.monotonic()
    outcome = sync(engine, account, fault_after_first_page(mock, {**rule, "count": 2}, added))
    assert outcome.state is AccountState.OK and outcome.stored == 60
    assert remaining(mock, added[0]) == 0
    if status == 503:
        assert time.monotonic() - started >= 2, "Retry-After: 1 was honoured twice"

    other = add_account(context, mock.url, busy_brand["access_token"], busy_brand["id"])
    added.clear()
    lasting = {**rule, "effect": {**rule["effect"], "headers": {}}, "count": 20}
    outcome = sync(engine, other, fault_after_first_page(mock, lasting, added))
    assert outcome.failed and outcome.stored == 40
    assert remaining(mock, added[0]) == 20 - 4, "one attempt and three retries"
    assert_no_crash(outcome, context)
    clock = ManualClock()
    scheduler = Scheduler(clock, random_source=lambda: 0.5)
    scheduler.set_accounts([ScheduleEntry(account_id=other.id, interval_s=60, state=AccountState.OK)])
    scheduler.started(other.id)
    scheduler.finished(outcome)
    assert scheduler.due() == [] and scheduler.next_run(other.id) > clock.now()

    mock.clear_faults()
    assert sync(engine, other).stored == 20
    assert stored_counts(context, other) == (60, 60)


@pytest.mark.parametrize("reset_header", ["with reset headers", "without reset headers"])
def test_a_429_storm_makes_one_request_and_waits_until_the_platform_allows(
    context: AppContext, engine: SyncEngine, mock: MastodonMock, busy_brand: dict[str, Any], reset_header: str
) -> None:
    """Fault: every request answered 429 Too Many Requests ({id}), starting on the second page.

    Survives: Parley stops at the first 429 without retrying into the storm, keeps the first page, marks
    the account rate-limited until the reset (a minute when the server names none), and the scheduler
    does not run it again before then.
    """
    reset = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    if reset_header == "with reset headers":
        effect = {"type": "ratelimit", "headers": {"X-RateLimit-Reset": reset.isoformat(), "Retry-After": "600"}}
    else:
        effect = {"type": "status", "status": 429}
    rule = {"match": {"path": "/api/v1/notifications"}, "effect": effect, "count": 50}
    account = add_account(context, mock.url, busy_brand["access_token"], busy_brand["id"])
    added: list[dict[str, Any]] = []
    before = datetime.now(UTC)

    outcome = sync(engine, account, fault_after_first_page(mock, rule, added))

    assert outcome.state is AccountState.RATE_LIMITED and outcome.stored == 40
    assert remaining(mock, added[0]) == 49, "exactly one request met the storm"
    assert outcome.retry_at is not None
    if reset_header == "with reset headers":
        assert abs((outcome.retry_at - reset).total_seconds()) <= 5
    else:
        assert timedelta(seconds=59) <= outcome.retry_at - before <= timedelta(seconds=70)
    until = accounts.account_status_rows(context.engine)[0]["rate_limited_until"]
    assert abs(until - outcome.retry_at) < timedelta(milliseconds=1)
    clock = ManualClock(datetime.now(UTC))
    scheduler = Scheduler(clock)
    scheduler.set_accounts([ScheduleEntry(account_id=account.id, interval_s=60, state=AccountState.OK)])
    scheduler.started(account.id)
    scheduler.finished(outcome)
    scheduler.request_now(account.id)  # even sync-now waits for the platform's reset
    assert scheduler.due() == []
    clock.set(outcome.retry_at + timedelta(seconds=1))
    assert scheduler.due() == [account.id]
    assert_no_crash(outcome, context)
