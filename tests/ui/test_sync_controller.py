"""SyncController: background jobs on a QThreadPool report through signals; shutdown never hangs.

The platform is a FAKE connector standing in for real ones (scheduling logic only); the store is a
real SQLite profile and credentials come from the real keyring.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.context import AppContext
from app.domain.clock import ManualClock
from app.domain.models import AccountRef, AccountState
from app.errors import AuthError
from app.store import accounts, inbox
from app.sync.events import SyncOutcome
from app.sync.qt_bridge import SyncController
from tests.sync_fakes import Block, FakePlatform, pages_of
from tests.sync_fixtures import add_account as add
from tests.sync_fixtures import sync_ctx, sync_fake  # noqa: F401 - the fixtures ctx and fake


@pytest.fixture
def controller(ctx: AppContext, fake: FakePlatform, qtbot) -> Iterator[SyncController]:
    controller = SyncController(ctx, connector_factory=fake)
    yield controller
    controller.shutdown()


def test_sync_now_reports_the_outcome_and_the_conversations_that_got_messages(
    ctx: AppContext, fake: FakePlatform, controller: SyncController, qtbot
) -> None:
    brand = add(ctx, "brand")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1", "m2"]))
    with (
        qtbot.waitSignal(controller.account_synced, timeout=5000) as synced,
        qtbot.waitSignal(controller.messages_stored, timeout=5000) as stored,
        qtbot.waitSignal(controller.states_changed, timeout=5000),
    ):
        controller.sync_now(brand.id)
    outcome: SyncOutcome = synced.args[0]
    assert (outcome.account_name, outcome.state, outcome.stored) == ("brand", AccountState.OK, 2)
    assert sorted(stored.args[0]) == sorted(inbox.conversation_ids(ctx.engine))
    assert not controller.is_syncing()


def test_start_syncs_every_account_once_then_waits_for_the_interval(
    ctx: AppContext, fake: FakePlatform, controller: SyncController, qtbot, clock: ManualClock
) -> None:
    for name in ("a", "b"):
        add(ctx, name)
        fake.script(name, "mentions", *pages_of("mentions", [f"{name}1"]))
    done: list[str] = []
    controller.account_synced.connect(lambda outcome: done.append(outcome.account_name))
    controller.start()
    qtbot.waitUntil(lambda: sorted(done) == ["a", "b"], timeout=5000)
    assert controller.scheduler.due() == []
    clock.advance(timedelta(seconds=60))
    assert sorted(controller.scheduler.due()) == sorted(a.id for a in accounts.list_accounts(ctx.engine))


def test_auth_error_fails_one_account_while_the_other_syncs(
    ctx: AppContext, fake: FakePlatform, controller: SyncController, qtbot
) -> None:
    add(ctx, "revoked")
    add(ctx, "healthy")
    fake.script("revoked", "mentions", AuthError("token revoked", status=401))
    fake.script("healthy", "mentions", *pages_of("mentions", ["h1"]))
    with (
        qtbot.waitSignal(controller.account_failed, timeout=5000) as failed,
        qtbot.waitSignal(controller.account_synced, timeout=5000) as synced,
    ):
        controller.sync_now()
    assert (failed.args[0].account_name, failed.args[0].state) == ("revoked", AccountState.NEEDS_SIGN_IN)
    assert synced.args[0].account_name == "healthy"


def test_an_unexpected_exception_in_a_job_is_logged_and_reported(
    ctx: AppContext, controller: SyncController, qtbot, caplog: pytest.LogCaptureFixture
) -> None:
    brand = add(ctx, "brand")

    def exploding_factory(account: AccountRef, secret: str):
        raise RuntimeError("factory exploded")

    controller.engine.connector_factory = exploding_factory
    with (
        caplog.at_level(logging.ERROR, logger="app.sync"),
        qtbot.waitSignal(controller.account_failed, timeout=5000) as failed,
    ):
        controller.sync_now(brand.id)
    outcome: SyncOutcome = failed.args[0]
    assert outcome.state is AccountState.ERROR and "RuntimeError: factory exploded" in outcome.error
    assert any("sync job for account" in r.getMessage() for r in caplog.records if r.name == "app.sync.qt")
    assert "factory exploded" in ctx.paths.log_file.read_text(encoding="utf-8")  # with its traceback, in the log file
    assert not controller.is_syncing(brand.id)


def test_working_offline_starts_nothing_on_the_timer_and_sync_now_says_offline(
    ctx: AppContext, fake: FakePlatform, controller: SyncController, qtbot
) -> None:
    brand = add(ctx, "brand")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]))
    ctx.offline = True
    controller.start()
    assert not controller.is_syncing()
    with qtbot.waitSignal(controller.account_failed, timeout=5000) as failed:
        controller.sync_now(brand.id)
    assert failed.args[0].work_offline and fake.fetch_calls == []


def test_shutdown_returns_quickly_while_a_request_hangs_and_closing_ends_it(
    ctx: AppContext, fake: FakePlatform, controller: SyncController, qtbot
) -> None:
    add(ctx, "brand")
    hang = Block(until_closed=True)
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]), hang)
    controller.sync_now()
    assert hang.entered.wait(5)

    started = time.monotonic()
    all_ended = controller.shutdown()
    assert time.monotonic() - started < 2.5
    assert all_ended  # closing the connector aborted the hung request
    assert inbox.message_count(ctx.engine) == 1  # the page stored before the hang is kept


def test_shutdown_keeps_its_deadline_even_when_a_request_ignores_the_close(
    ctx: AppContext, fake: FakePlatform, controller: SyncController, qtbot
) -> None:
    add(ctx, "brand")
    hang = Block(until_closed=False)  # like a socket read that closing the session cannot interrupt
    fake.script("brand", "mentions", hang)
    controller.sync_now()
    assert hang.entered.wait(5)
    try:
        started = time.monotonic()
        assert controller.shutdown() is False
        assert time.monotonic() - started < 2.5
    finally:
        hang.release.set()  # the "request timeout" finally fires
        qtbot.waitUntil(lambda: controller.running_jobs() == 0, timeout=5000)
