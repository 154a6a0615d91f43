"""The sync engine on a real SQLite profile and the real keyring, fed by a FAKE connector.

The fake stands in for a platform so these tests can decide what the platform does; it proves
the engine's storing and state logic only. Real platforms are covered by the connector tests.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.context import AppContext
from app.domain.clock import ManualClock
from app.domain.models import AccountRef, AccountState, Gap, Page
from app.errors import AuthError, NetworkError, NotFound, RateLimited
from app.store import accounts, gaps, inbox
from app.store.schema import contacts, messages
from app.sync.engine import SyncEngine
from app.sync.events import SyncProgress
from app.sync.writer import StoreWriter
from tests.factories import T0, message
from tests.sync_fakes import FakePlatform, pages_of
from tests.sync_fixtures import add_account as add
from tests.sync_fixtures import sync_ctx, sync_fake  # noqa: F401 - the fixtures ctx and fake


@pytest.fixture
def engine(ctx: AppContext, fake: FakePlatform):
    writer = StoreWriter()
    yield SyncEngine(ctx, connector_factory=fake, writer=writer)
    writer.shutdown(timeout=5)


def stored_ids(ctx: AppContext, account: AccountRef) -> list[str]:
    with ctx.engine.connect() as connection:
        return sorted(
            connection.execute(
                select(messages.c.platform_message_id).where(messages.c.account_id == account.id)
            ).scalars()
        )


def test_pages_are_stored_once_with_their_cursor_and_the_next_run_resumes_from_it(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine
) -> None:
    brand = add(ctx, "brand")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1", "m2"], ["m2", "m3"], ["m4"]))
    progress: list[SyncProgress] = []

    outcome = engine.sync_account(brand.id, threading.Event(), progress.append)

    assert outcome.state is AccountState.OK and not outcome.failed
    assert (outcome.pages, outcome.stored, outcome.duplicates) == (3, 4, 1)
    assert stored_ids(ctx, brand) == ["m1", "m2", "m3", "m4"]
    assert accounts.get_cursor(ctx.engine, brand.id, "mentions") == "m4"
    assert [(p.pages, p.stored, p.page_stored) for p in progress] == [(1, 2, 2), (2, 3, 1), (3, 4, 1)]
    assert set(outcome.conversation_ids) == set(inbox.conversation_ids(ctx.engine))

    fake.resume_from_cursor = False  # a platform that ignores the cursor and sends everything again
    again = engine.sync_account(brand.id, threading.Event())
    assert fake.fetch_calls[-1][:3] == ("brand", "mentions", "m4")
    assert (again.stored, again.duplicates) == (0, 5)  # m2 came twice in the replay
    assert inbox.message_count(ctx.engine) == 4


def test_success_marks_the_account_ok_with_the_clock_time(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine, clock: ManualClock
) -> None:
    brand = add(ctx, "brand")
    accounts.set_account_state(ctx.engine, brand.id, AccountState.OFFLINE, "was down")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]))
    engine.sync_account(brand.id, threading.Event())
    row = accounts.account_status_rows(ctx.engine)[0]
    assert (row["state"], row["state_detail"], row["last_synced_at"]) == ("ok", "", clock.now())


def test_a_page_whose_write_fails_stores_nothing_of_itself_and_keeps_the_earlier_cursor(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine
) -> None:
    brand = add(ctx, "brand")
    # Tried: a page the database refuses half-way — its author is written first, then its naive
    # timestamp is rejected when the conversation row is inserted.
    unstorable = message("m2", key="t2", author="zed")
    unstorable = dataclasses.replace(unstorable, created_at=unstorable.created_at.replace(tzinfo=None))
    fake.script(
        "brand",
        "mentions",
        *pages_of("mentions", ["m1"]),
        Page(stream="mentions", messages=(unstorable,), cursor="m2", has_more=False),
    )
    outcome = engine.sync_account(brand.id, threading.Event())
    assert outcome.state is AccountState.ERROR and "Unexpected error" in outcome.error
    assert stored_ids(ctx, brand) == ["m1"]
    assert accounts.get_cursor(ctx.engine, brand.id, "mentions") == "m1"
    with ctx.engine.connect() as connection:
        authors = set(connection.execute(select(contacts.c.platform_user_id)).scalars())
    assert authors == {"u-ann"}  # the half-written page was rolled back, author and all
    log_text = ctx.paths.log_file.read_text(encoding="utf-8")
    assert "unexpected error while syncing" in log_text and "Traceback" in log_text


def test_cancel_between_pages_stops_fetching_and_keeps_what_was_stored(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine
) -> None:
    brand = add(ctx, "brand")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"], ["m2"], ["m3"]))
    cancel = threading.Event()

    outcome = engine.sync_account(brand.id, cancel, lambda progress: cancel.set())

    assert outcome.cancelled and not outcome.failed
    assert fake.served == [("brand", "mentions", "m1")]  # page 2 was never asked for
    assert stored_ids(ctx, brand) == ["m1"]
    assert accounts.get_cursor(ctx.engine, brand.id, "mentions") == "m1"
    assert accounts.account_status_rows(ctx.engine)[0]["last_synced_at"] is None
    assert fake.closed == ["brand"]


def test_auth_error_on_one_account_marks_only_it_and_the_other_syncs(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine
) -> None:
    revoked, healthy = add(ctx, "revoked"), add(ctx, "healthy")
    fake.script("revoked", "mentions", AuthError("token revoked", status=401))
    fake.script("healthy", "mentions", *pages_of("mentions", ["h1", "h2"]))

    results = {}
    threads = [
        threading.Thread(target=lambda a=a: results.update({a.name: engine.sync_account(a.id, threading.Event())}))
        for a in (revoked, healthy)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert results["revoked"].state is AccountState.NEEDS_SIGN_IN
    assert "token revoked" in results["revoked"].error
    assert results["healthy"].state is AccountState.OK
    assert accounts.account_state(ctx.engine, revoked.id) is AccountState.NEEDS_SIGN_IN
    assert accounts.account_state(ctx.engine, healthy.id) is AccountState.OK
    assert stored_ids(ctx, healthy) == ["h1", "h2"] and stored_ids(ctx, revoked) == []


def test_rate_limit_records_when_the_platform_allows_the_next_call(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine
) -> None:
    brand = add(ctx, "brand")
    retry_at = datetime(2026, 1, 5, 9, 15, 30, tzinfo=UTC)
    fake.script(
        "brand", "mentions", *pages_of("mentions", ["m1"]), RateLimited("slow down", retry_at=retry_at.timestamp())
    )
    outcome = engine.sync_account(brand.id, threading.Event())
    assert outcome.state is AccountState.RATE_LIMITED and outcome.retry_at == retry_at
    row = accounts.account_status_rows(ctx.engine)[0]
    assert (row["state"], row["rate_limited_until"]) == ("rate_limited", retry_at)
    assert accounts.get_cursor(ctx.engine, brand.id, "mentions") == "m1"


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (NetworkError("Cannot reach m.example."), AccountState.OFFLINE),
        (NotFound("gone", status=404), AccountState.ERROR),
    ],
    ids=["unreachable", "not-found"],
)
def test_network_trouble_means_offline_and_other_platform_errors_mean_error(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine, error: Exception, state: AccountState
) -> None:
    brand = add(ctx, "brand")
    fake.script("brand", "mentions", error)
    outcome = engine.sync_account(brand.id, threading.Event())
    assert outcome.state is state and str(error) in outcome.error
    assert accounts.account_status_rows(ctx.engine)[0]["state_detail"] == outcome.error


def test_missing_keyring_entry_means_needs_sign_in_without_contacting_the_platform(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine
) -> None:
    brand = add(ctx, "brand", token=None)
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]))
    outcome = engine.sync_account(brand.id, threading.Event())
    assert outcome.state is AccountState.NEEDS_SIGN_IN and "keyring" in outcome.error
    assert fake.fetch_calls == []
    assert accounts.account_state(ctx.engine, brand.id) is AccountState.NEEDS_SIGN_IN


def test_working_offline_touches_neither_platform_nor_account_state(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine
) -> None:
    brand = add(ctx, "brand")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]))
    ctx.offline = True
    outcome = engine.sync_account(brand.id, threading.Event())
    assert outcome.work_offline and outcome.state is AccountState.OFFLINE and "offline" in outcome.error.lower()
    assert fake.fetch_calls == []
    assert accounts.account_state(ctx.engine, brand.id) is AccountState.OK


def test_a_rotated_credential_replaces_the_old_one_in_the_keyring(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine
) -> None:
    brand = add(ctx, "brand")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]))
    fake.rotations["brand"] = "rotated-secret-value"
    engine.sync_account(brand.id, threading.Event())
    assert ctx.secrets.get(brand.id) == "rotated-secret-value"


def test_every_stream_keeps_its_own_cursor_and_gaps_are_recorded(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine, clock: ManualClock
) -> None:
    brand = add(ctx, "brand")
    gap = Gap(stream="dms", start=T0, end=T0 + timedelta(hours=1), detail="server dropped old items")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]))
    fake.script(
        "brand",
        "dms",
        Page(stream="dms", messages=(message("d1", key="dm"),), cursor="d1", has_more=False, gaps=(gap,)),
    )
    outcome = engine.sync_account(brand.id, threading.Event())
    assert outcome.stream == "dms" and outcome.pages == 2
    assert accounts.get_cursor(ctx.engine, brand.id, "mentions") == "m1"
    assert accounts.get_cursor(ctx.engine, brand.id, "dms") == "d1"
    [open_gap] = accounts.account_status_rows(ctx.engine)[0]["open_gaps"]
    assert (open_gap["stream"], open_gap["detail"]) == ("dms", "server dropped old items")
    with ctx.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(messages)).scalar_one() == 2


def test_a_gap_is_left_for_the_next_run_which_marks_it_unfillable_when_the_platform_cannot_backfill(
    ctx: AppContext, fake: FakePlatform, engine: SyncEngine
) -> None:
    # The fake connector has no back-fill of its own: the Connector default refuses, as a platform would.
    brand = add(ctx, "brand")
    gap = Gap(stream="mentions", start=T0, end=T0 + timedelta(minutes=40), detail="page boundary skipped items")
    fake.script(
        "brand",
        "mentions",
        Page(stream="mentions", messages=(message("m1"),), cursor="m1", has_more=False, gaps=(gap,)),
    )
    engine.sync_account(brand.id, threading.Event())
    [found] = gaps.list_open_gaps(ctx.engine, brand.id)
    assert (found.fillable, found.fill_note) == (True, ""), "a gap found in a run is not back-filled in that run"

    outcome = engine.sync_account(brand.id, threading.Event())
    assert outcome.state is AccountState.OK, "a gap that cannot be filled does not fail the account"
    [kept] = gaps.list_open_gaps(ctx.engine, brand.id)
    assert kept.id == found.id and not kept.fillable
    assert "cannot be fetched again on this platform" in kept.fill_note
    assert gaps.list_open_gaps(ctx.engine, brand.id, fillable_only=True) == []
