"""Sync transparency and quitting, with the real connectors and the real SyncController.

The platforms here are small local servers: FeedServer speaks Mastodon's documented API (with its
X-RateLimit headers), a closed port stands for an unreachable instance, and SilentServer accepts
connections and reads requests but never answers (a hung platform).
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
import shiboken6

from app.context import AppContext
from app.domain.clock import ManualClock
from app.domain.models import AccountRef, AccountState, Platform
from app.store import accounts
from app.sync import account_service
from app.sync.qt_bridge import SyncController
from app.ui.dialogs.accounts_dialog import AccountsDialog
from app.ui.widgets.sync_status import SyncStatusWidget
from tests.factories import T0
from tests.peers.mastodon_feed import FeedServer
from tests.peers.mastodon_mock import free_port
from tests.sync_fakes import isolate_keyring
from tests.ui_fixtures import ui_controller  # noqa: F401 - the fixture controller


class SilentServer:
    """Accepts every connection and reads what the client sends, but never answers."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.received = threading.Event()  # a whole request came in: the client now waits in a read
        self._held: list[socket.socket] = []
        threading.Thread(target=self._serve, name="silent-server", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(connection)
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                return
            data += chunk
        self.received.set()

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()


@pytest.fixture
def ctx(context: AppContext, clock: ManualClock) -> AppContext:
    isolate_keyring(context)
    clock.set(T0)
    context.clock = clock
    return context


def add(ctx: AppContext, platform: Platform, base_url: str, secret: str) -> AccountRef:
    account = accounts.add_account(ctx.engine, platform=platform, name="brand", base_url=base_url, now=T0)
    ctx.secrets.set(account.id, secret)
    return account


def test_a_sync_keeps_the_platforms_rate_limit_budget_and_the_dialog_shows_it(
    ctx: AppContext, controller: SyncController, qtbot
) -> None:
    feed = FeedServer(total=3).start()
    try:
        brand = add(ctx, Platform.MASTODON, feed.url, feed.token)
        with qtbot.waitSignal(controller.account_synced, timeout=10_000):
            controller.sync_now(brand.id)
    finally:
        feed.stop()
    [row] = accounts.account_status_rows(ctx.engine)
    assert (row["rate_limit_limit"], row["rate_limit_remaining"]) == (300, 299)

    dialog = AccountsDialog(ctx, account_service, sync_controller=controller)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    dialog.table.selectRow(0)
    assert "Rate limit: 299 of 300 requests left" in dialog.details.text()
    assert "Sign-in does not expire" in dialog.details.text()  # Mastodon tokens carry no expiry


def test_a_failed_sync_records_when_it_retries_and_the_status_bar_and_dialog_say_so(
    ctx: AppContext, controller: SyncController, clock: ManualClock, qtbot
) -> None:
    brand = add(ctx, Platform.MASTODON, f"http://127.0.0.1:{free_port()}", "token")  # nobody listens there
    status = SyncStatusWidget(ctx.engine, clock.now, lambda: None)
    qtbot.addWidget(status)
    controller.states_changed.connect(status.reload_accounts)
    with qtbot.waitSignal(controller.account_failed, timeout=15_000) as failed:
        controller.sync_now(brand.id)
    assert failed.args[0].state is AccountState.OFFLINE
    planned = controller.scheduler.next_run(brand.id)
    assert planned is not None and planned > clock.now()
    stored = lambda: accounts.account_status_rows(ctx.engine)[0]["retry_at"]  # noqa: E731
    qtbot.waitUntil(lambda: stored() is not None and abs(stored() - planned) < timedelta(milliseconds=1))
    qtbot.waitUntil(lambda: status.text() == f"brand: offline, retrying at {planned.astimezone():%H:%M}")

    dialog = AccountsDialog(ctx, account_service, sync_controller=controller)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    dialog.table.selectRow(0)
    assert f"Retrying at {planned.astimezone():%H:%M}" in dialog.details.text()

    clock.advance(timedelta(hours=1))  # a retry in the past is no longer announced
    status.reload_accounts()
    assert status.text() == "brand: offline"


@pytest.mark.parametrize("platform", [Platform.MASTODON, Platform.MATRIX])
def test_quitting_ends_a_sync_hung_in_a_read_within_two_seconds(ctx: AppContext, platform: Platform, qtbot) -> None:
    server = SilentServer()
    brand = add(ctx, platform, server.url, "token")
    controller = SyncController(ctx)
    try:
        controller.sync_now(brand.id)
        assert server.received.wait(10), "the connector should be waiting for the silent server's answer"
        assert controller.is_syncing(brand.id)

        started = time.monotonic()
        all_ended = controller.shutdown()
        shiboken6.delete(controller)  # deletes its QThreadPool, whose destructor waits for every job
        elapsed = time.monotonic() - started
    finally:
        server.close()
    # Without the abort the read would wait out its 30 s timeout (and its retries).
    assert all_ended and elapsed < 2.0, f"quitting took {elapsed:.2f} s"
