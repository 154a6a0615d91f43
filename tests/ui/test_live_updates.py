"""Live updates from sync while someone works: the list and the open thread change, their place does not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from PySide6.QtCore import QPoint, Qt

from app.context import AppContext
from app.domain.models import Identity
from app.store import inbox
from app.store.ingest import store_page
from app.ui.delegates.conversation_delegate import ROW_HEIGHT
from app.ui.launch import build_main_window
from tests.factories import message, page
from tests.ui.helpers import StandInSyncController, add_mastodon, fill_inbox, show_window


def test_fifty_synced_messages_keep_the_typed_reply_the_selection_and_the_scroll(qtbot, ui_ctx: AppContext) -> None:
    brand = add_mastodon(ui_ctx)
    fill_inbox(ui_ctx, brand, 60)
    controller = StandInSyncController()
    window = show_window(qtbot, build_main_window(ui_ctx, controller))
    window.resize(1200, 700)
    bar = window.filter_bar
    with qtbot.waitSignal(window.inbox_controller.list_refreshed):
        bar.order.setCurrentIndex(bar.order.findData("newest"))  # new conversations then land above the viewport
    view = window.inbox_view
    view.scrollTo(window.inbox_model.index(20, 0), view.ScrollHint.PositionAtTop)
    view.verticalScrollBar().setValue(view.verticalScrollBar().value() + 17)  # a row partly scrolled off
    opened = window.inbox_model.conversation_id(24)
    assert opened is not None and view.select_conversation(opened)
    qtbot.keyClick(view, Qt.Key.Key_R)
    qtbot.keyClicks(window.composer.editor, "Thanks for your patience, I've checked with the warehouse and")
    cursor = window.composer.editor.textCursor().position()
    thread_bar = window.thread_view.browser.verticalScrollBar()
    thread_bar.setValue(thread_bar.minimum())  # reading the start of the thread

    def place() -> tuple[int | None, int]:
        top = view.indexAt(QPoint(1, 1))
        return window.inbox_model.conversation_id(top.row()), view.visualRect(top).top()

    top_before, scroll_before = place(), view.verticalScrollBar().value()
    selected_before = view.selected_ids()

    # 50 messages: 25 new conversations (newer than all) and 25 replies into existing ones, the open one too.
    new = [message(f"new-{i}", key=f"new-{i}", minutes=900 + i, text=f"New question {i}", author=f"n{i}")
           for i in range(25)]  # fmt: skip
    key_of_opened = next(key for key, cid in _keys(ui_ctx).items() if cid == opened)  # the open conversation's key
    replies = [message(f"more-{i}", key=f"brand-k{i}", minutes=800 + i, text=f"Any news? {i}", author=f"cust{i}")
               for i in range(23)]  # fmt: skip
    replies += [
        replace(message(f"open-{i}", key=key_of_opened, minutes=850 + i, text=f"Still there? {i}"),
                author=Identity("u-x", "@x", "X"))
        for i in range(2)
    ]  # fmt: skip
    assert len(new) + len(replies) == 50
    store_page(ui_ctx.engine, brand.id, page(*new, *replies), now=ui_ctx.clock.now() + timedelta(minutes=1))
    with qtbot.waitSignal(window.inbox_controller.list_refreshed):
        controller.messages_stored.emit(sorted(set(inbox.conversation_ids(ui_ctx.engine))))

    assert window.inbox_model.rowCount() == 85
    assert window.composer.editor.toPlainText() == "Thanks for your patience, I've checked with the warehouse and"
    assert window.composer.editor.hasFocus() and window.composer.editor.textCursor().position() == cursor
    assert view.current_conversation_id == opened and view.selected_ids() == selected_before
    assert "Still there? 1" in window.thread_view.browser.toPlainText()  # the open thread got its new messages
    assert thread_bar.value() == thread_bar.minimum()  # ... without moving the reader
    assert place() == top_before  # the same conversation at the same pixel offset at the top of the list
    # Conversations that moved above it (25 new ones, 24 with new replies) shifted the scroll bar by exactly
    # their rows: the content under the reader's eyes did not move.
    top_row_after = window.inbox_model.row_of(top_before[0])  # type: ignore[arg-type]
    assert top_row_after == 20 + 49
    assert view.verticalScrollBar().value() - scroll_before == 49 * ROW_HEIGHT


def _keys(ctx: AppContext) -> dict[str, int]:
    with ctx.engine.connect() as connection:
        return {r.conversation_key: r.id for r in connection.exec_driver_sql(
            "SELECT conversation_key, id FROM conversations")}  # fmt: skip
