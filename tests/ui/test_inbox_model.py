"""The inbox model: a correct Qt model over a real store, lazy block loading, live refresh that keeps the place."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QPoint
from PySide6.QtWidgets import QAbstractItemView

from app.context import AppContext
from app.domain.models import ConversationSummary
from app.store import inbox
from app.ui.delegates.conversation_delegate import ROW_HEIGHT, ConversationDelegate
from app.ui.models.inbox_model import CONVERSATION_ID_ROLE, SUMMARY_ROLE, InboxModel
from app.ui.widgets.inbox_view import InboxView
from tests.ui.helpers import add_mastodon, fill_inbox, show_window


def test_inbox_model_passes_qt_model_tester_with_a_thousand_conversations(qtmodeltester, ui_ctx: AppContext) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 1000)
    model = InboxModel(ui_ctx.engine, block_size=200)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 1000
    summary = model.index(999, 0).data(SUMMARY_ROLE)
    assert isinstance(summary, ConversationSummary)
    assert summary.id == inbox.conversation_ids(ui_ctx.engine)[999] == model.index(999, 0).data(CONVERSATION_ID_ROLE)


def test_rows_load_in_blocks_only_when_asked_for_and_the_cache_stays_bounded(ui_ctx: AppContext) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 1000)
    model = InboxModel(ui_ctx.engine, block_size=100, max_blocks=3)
    assert model.rowCount() == 1000 and model.block_loads == 0  # the count is known before any row is read
    for row in range(100):
        model.summary(row)
    assert model.block_loads == 1
    model.summary(950)  # jumping to the end reads that block alone
    assert model.block_loads == 2
    for row in (250, 350, 450):
        model.summary(row)
    assert model.block_loads == 5
    assert len(model._blocks) == 3  # least recently used blocks were dropped
    model.summary(0)
    assert model.block_loads == 6  # block 0 had been dropped, so it is read again


def test_a_deleted_conversation_reads_as_an_empty_row_not_an_error(ui_ctx: AppContext) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 3)
    model = InboxModel(ui_ctx.engine)
    with ui_ctx.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM conversations WHERE id = ?", (model.conversation_id(1),))
    assert model.index(1, 0).data(SUMMARY_ROLE) is None
    assert model.summary(0) is not None and model.summary(2) is not None


def test_refresh_keeps_the_selected_conversation_and_the_row_at_the_top(qtbot, ui_ctx: AppContext) -> None:
    brand = add_mastodon(ui_ctx)
    fill_inbox(ui_ctx, brand, 300)
    model = InboxModel(ui_ctx.engine)
    view = InboxView(model)
    view.setItemDelegate(ConversationDelegate(ui_ctx.clock.now, lambda: None, view))
    view.resize(400, 600)
    show_window(qtbot, view)
    selected_id = model.conversation_id(120)
    assert selected_id is not None
    with qtbot.waitSignal(view.conversation_selected) as chosen:
        view.selectionModel().setCurrentIndex(model.index(120, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert chosen.args == [selected_id]
    view.scrollTo(model.index(100, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    top_id = model.conversation_id(view.indexAt(QPoint(1, 1)).row())

    fill_inbox(ui_ctx, add_mastodon(ui_ctx, "support"), 7, start_minute=5000)  # 7 newer conversations on top
    with qtbot.assertNotEmitted(view.conversation_selected):
        view.refresh_keeping_place()

    assert model.rowCount() == 307
    assert view.current_conversation_id == selected_id
    assert view.selectionModel().selectedRows()[0].row() == 127
    assert model.conversation_id(view.indexAt(QPoint(1, 1)).row()) == top_id
    assert view.visualRect(model.index(107, 0)).height() == ROW_HEIGHT


def test_refresh_at_the_top_shows_the_new_conversations(qtbot, ui_ctx: AppContext) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 50)
    model = InboxModel(ui_ctx.engine)
    view = show_window(qtbot, InboxView(model))
    assert view.verticalScrollBar().value() == 0
    fill_inbox(ui_ctx, add_mastodon(ui_ctx, "support"), 2, start_minute=5000)
    view.refresh_keeping_place()
    assert view.verticalScrollBar().value() == 0
    newest = model.summary(0)
    assert newest is not None and newest.account_name == "support"


def test_the_view_reads_only_the_blocks_on_screen_even_when_keys_are_typed(qtbot, ui_ctx: AppContext) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 1000)
    model = InboxModel(ui_ctx.engine, block_size=100)
    view = InboxView(model)
    view.setItemDelegate(ConversationDelegate(ui_ctx.clock.now, lambda: None, view))
    view.resize(400, 600)
    show_window(qtbot, view)
    qtbot.waitUntil(lambda: model.block_loads >= 1)  # the first screenful was painted
    assert model.block_loads == 1
    view.scrollToBottom()
    qtbot.waitUntil(lambda: model.block_loads == 2)
    qtbot.keyClicks(view, "zebra")  # type-ahead must not scan (and so load) every row
    assert model.block_loads == 2


def test_a_big_inbox_opens_with_its_first_screen_then_the_whole_list(qtbot, ui_ctx: AppContext, monkeypatch) -> None:
    from app.domain.views import Order
    from app.store.inbox_query import combine, ordered_ids
    from app.ui import inbox_controller
    from app.ui.launch import build_main_window

    monkeypatch.setattr(inbox_controller, "FIRST_SCREEN", 200)  # a small screen: no need for 1,000+ conversations
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 450)
    window = build_main_window(ui_ctx)
    qtbot.addWidget(window)
    assert window.inbox_model.rowCount() == 200  # read on the GUI thread: painted at once
    with qtbot.waitSignal(window.inbox_controller.list_refreshed, timeout=10_000):
        pass
    expected = ordered_ids(ui_ctx.engine, combine(window.inbox_controller.base_query("view:all-open")[0],
                                                  order=Order.URGENT), now=ui_ctx.clock.now())  # fmt: skip
    assert window.inbox_model.ids() == expected and len(expected) == 450
