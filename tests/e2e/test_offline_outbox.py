"""Working offline end to end: answer through the composer, review in the outbox view, restart, go online.

Real parts throughout: mastodon-mock on 127.0.0.1, the profile on a SQLite file, the token in the real
keyring, the real SyncController and OutboxController, and the window driven by clicks and key presses.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.context import AppContext, open_context
from app.paths import ProfilePaths
from app.store import inbox, outbox
from app.sync import account_service
from app.sync.qt_bridge import SyncController
from app.sync.qt_outbox import OutboxController
from app.ui.launch import application, build_main_window
from app.ui.main_window import MainWindow
from tests.peers.mastodon_mock import MastodonMock
from tests.ui.helpers import show_window

WAIT_MS = 30_000


@dataclass
class Running:
    ctx: AppContext
    window: MainWindow
    sync: SyncController
    sender: OutboxController

    def close(self) -> None:
        self.window.close()
        self.sender.shutdown()
        self.sync.shutdown()
        self.ctx.close()


def start(qtbot: QtBot, paths: ProfilePaths) -> Running:
    """What `parley` does at start-up: context, controllers, window, then sync and sending begin."""
    ctx = open_context(paths)
    sync = SyncController(ctx)
    sender = OutboxController(ctx, sync.writer)
    sync.account_synced.connect(sender.send_now)
    window = show_window(qtbot, build_main_window(ctx, sync, sender))
    sync.start()
    sender.start()
    return Running(ctx, window, sync, sender)


def posted(server: MastodonMock, brand: dict[str, Any]) -> list[str]:
    """The brand account's statuses as the server has them, oldest first."""
    response = requests.get(f"{server.url}/api/v1/accounts/{brand['id']}/statuses", params={"limit": 40}, timeout=10)
    response.raise_for_status()
    return [status["content"] for status in reversed(response.json())]


def click_conversation(qtbot: QtBot, window: MainWindow, conversation_id: int) -> None:
    row = window.inbox_model.row_of(conversation_id)
    assert row is not None
    rect = window.inbox_view.visualRect(window.inbox_model.index(row, 0))
    qtbot.mouseClick(window.inbox_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.composer.conversation_id == conversation_id)


def list_texts(window: MainWindow) -> list[str]:
    view = window.outbox_view.list
    return [view.topLevelItem(i).text(2) for i in range(view.topLevelItemCount())]  # type: ignore[union-attr]


def test_replies_written_offline_and_reviewed_go_out_once_in_order_after_a_restart(
    qtbot: QtBot, tmp_path: Path, mastodon_server: MastodonMock, secret_service: dict[str, str]
) -> None:
    application()
    brand = mastodon_server.create_user(f"off_{secrets.token_hex(3)}", "Brand")
    for number in range(5):
        customer = mastodon_server.create_user(f"offc{number}_{secrets.token_hex(3)}", f"Customer {number}")
        mastodon_server.post(customer["access_token"], f"@{brand['username']} question {number}")
    paths = ProfilePaths(tmp_path / "profile")
    setup = open_context(paths)
    account_service.add_mastodon_account(setup, mastodon_server.url, brand["access_token"], "brand")
    setup.close()

    first = start(qtbot, paths)
    window = first.window
    qtbot.waitUntil(lambda: window.inbox_model.rowCount() == 5, timeout=WAIT_MS)
    conversations = [window.inbox_model.conversation_id(row) for row in range(5)]

    qtbot.mouseClick(window.offline_button, Qt.MouseButton.LeftButton)  # the status bar's "Work offline"
    assert first.ctx.offline and window.action_offline.isChecked() and window.offline_label.isVisible()
    for number, conversation in enumerate(conversations):
        click_conversation(qtbot, window, conversation)
        qtbot.keyClicks(window.composer.editor, f"Answer number {number}")
        qtbot.keyClick(
            window.composer.editor, Qt.Key.Key_Return,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )  # fmt: skip  # Queue for review
        qtbot.waitUntil(lambda: window.composer.editor.toPlainText() == "")
    assert window.outbox_button.text() == "Outbox · 5"

    qtbot.mouseClick(window.outbox_button, Qt.MouseButton.LeftButton)
    view = window.outbox_view
    assert window.pages.currentWidget() is view
    assert list_texts(window) == [f"Answer number {n}" for n in range(5)]
    assert "question 0" in view.context.toPlainText(), "the reply is shown beside its conversation"
    view.list.setFocus()
    view.choose(outbox.list_items(first.ctx.engine)[2].id)
    qtbot.keyClick(view.list, Qt.Key.Key_Delete)  # discard "Answer number 2"
    view.choose(outbox.list_items(first.ctx.engine)[-1].id)
    qtbot.keyClick(view.list, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)  # "4" goes before "3"
    qtbot.keyClick(view.list, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)  # ... and before "1"
    expected = ["Answer number 0", "Answer number 4", "Answer number 1", "Answer number 3"]
    assert list_texts(window) == expected
    view.choose(outbox.list_items(first.ctx.engine)[0].id)
    qtbot.keyClick(view.list, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # approve the first
    qtbot.mouseClick(view.approve_all_button, Qt.MouseButton.LeftButton)  # and the other three
    assert [item.state.value for item in outbox.list_items(first.ctx.engine)] == ["approved"] * 4
    assert window.outbox_button.text() == "Outbox · 4"
    assert posted(mastodon_server, brand) == [], "nothing left while working offline"
    first.close()

    second = start(qtbot, paths)
    window = second.window
    assert second.ctx.offline and window.action_offline.isChecked(), "the offline choice held across the restart"
    qtbot.mouseClick(window.offline_button, Qt.MouseButton.LeftButton)  # go online
    qtbot.waitUntil(lambda: len(posted(mastodon_server, brand)) >= 4, timeout=WAIT_MS)
    texts = posted(mastodon_server, brand)
    assert len(texts) == 4, "each approved reply reached the server exactly once"
    assert [next(e for e in expected if e in text) for text in texts] == expected, "in the approved order"
    qtbot.waitUntil(lambda: not second.sender.is_sending(), timeout=WAIT_MS)

    with qtbot.waitSignal(second.sync.account_synced, timeout=WAIT_MS):
        window.sync_now()  # sync reads the replies back from the server
    answered = [c for n, c in enumerate(conversations) if n != 2]
    summaries = inbox.summaries(second.ctx.engine, conversations)
    for conversation in answered:
        assert summaries[conversation].message_count == 2, "the sent reply was stored once, not echoed"
        assert summaries[conversation].waiting_since is None and summaries[conversation].next_due_at is None
    discarded = summaries[conversations[2]]
    assert discarded.message_count == 1 and discarded.waiting_since is not None, "the discarded reply never went"
    assert len(posted(mastodon_server, brand)) == 4
    assert outbox.count_pending(second.ctx.engine) == 0 and window.outbox_button.text() == "Outbox"
    second.close()
