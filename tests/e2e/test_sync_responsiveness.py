"""A 20,000-message sync in the background: the window keeps answering and the status bar shows progress."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer
from pytestqt.qtbot import QtBot

from app.context import AppContext, open_context
from app.paths import ProfilePaths
from app.store import inbox
from app.sync import account_service
from app.sync.qt_bridge import SyncController
from app.ui.launch import application, build_main_window
from tests.peers.mastodon_feed import FeedServer

TOTAL = 20_000
STALL_LIMIT_MS = 100


class StallWatchdog:
    """Measures the longest gap between ticks of a 10 ms timer: how long the event loop was blocked."""

    def __init__(self) -> None:
        self.longest_ms = 0
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._on_timeout)

    def start(self) -> None:
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _on_timeout(self) -> None:
        self.longest_ms = max(self.longest_ms, self._clock.restart())


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer(TOTAL).start()
    yield server
    server.stop()


@pytest.fixture
def ctx(tmp_path: Path, secret_service: dict[str, str]) -> Iterator[AppContext]:
    application()
    context = open_context(ProfilePaths(tmp_path / "profile"))
    yield context
    context.close()


def test_the_inbox_stays_responsive_while_20000_messages_sync(qtbot: QtBot, ctx: AppContext, feed: FeedServer) -> None:
    account = account_service.add_mastodon_account(ctx, feed.url, feed.token, name="brand")
    controller = SyncController(ctx)
    window = build_main_window(ctx, controller)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    progress_seen: list[str] = []
    controller.account_progressed.connect(lambda _p: progress_seen.append(window.sync_status.text()))

    watchdog = StallWatchdog()
    watchdog.start()
    started = time.monotonic()
    with qtbot.waitSignal(controller.account_synced, timeout=180_000) as synced:
        controller.sync_now(account.id)
    elapsed = time.monotonic() - started
    # Keep the loop going a little longer: the last refreshes of the list happen after the final page.
    qtbot.waitUntil(lambda: window.inbox_model.rowCount() == TOTAL // 5, timeout=10_000)
    watchdog.stop()
    controller.shutdown()

    assert synced.args[0].stored == TOTAL and inbox.message_count(ctx.engine) == TOTAL
    assert any("syncing" in text and "new" in text for text in progress_seen), progress_seen[-3:]
    assert watchdog.longest_ms < STALL_LIMIT_MS, (
        f"the event loop stalled for {watchdog.longest_ms} ms during a {elapsed:.0f} s sync"
    )
