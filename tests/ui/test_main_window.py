"""The main window over a real profile: panes, selection marks read, shortcuts, live updates, window state."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app import APP_ID
from app.context import AppContext
from app.domain.models import AccountState, ConversationStatus
from app.settings import load_preferences
from app.store import accounts, inbox
from app.ui.launch import build_main_window
from app.ui.main_window import MainWindow
from app.ui.resources import app_icon
from tests.ui.helpers import StandInSyncController, add_mastodon, add_playbook_entry, fill_inbox, show_window


def click_row(qtbot, window: MainWindow, row: int) -> None:  # type: ignore[no-untyped-def]
    view = window.inbox_view
    rect = view.visualRect(window.inbox_model.index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_window_shows_three_panes_and_the_open_conversations_most_urgent_first(window: MainWindow) -> None:
    assert window.windowTitle().startswith("Parley")  # then the breached count (see test_response_timers_ui)
    assert [window.splitter.widget(i).isVisible() for i in range(3)] == [True, True, True]
    assert window.splitter.widget(0) is window.inbox_pane and window.splitter.widget(2) is window.playbook
    ids = inbox.conversation_ids(window.ctx.engine)
    assert window.inbox_model.rowCount() == len(ids) == 12
    shown = [window.inbox_model.summary(row) for row in range(12)]
    assert window.sidebar.current_key() == "view:all-open"
    # Unanswered conversations by due time (DMs are due sooner), then the answered ones newest first.
    waiting = [s for s in shown if s is not None and s.next_due_at is not None]
    answered = [s for s in shown if s is not None and s.next_due_at is None]
    assert shown == waiting + answered and len(answered) == 3
    assert [s.next_due_at for s in waiting] == sorted(s.next_due_at for s in waiting if s.next_due_at)
    assert [s.last_message_at for s in answered] == sorted((s.last_message_at for s in answered), reverse=True)
    assert "12 conversations" in window.counts_label.text()
    assert "brand: not synced yet" in window.sync_status.text()


def test_clicking_a_row_shows_its_thread_and_marks_it_read_in_the_store(qtbot, window: MainWindow) -> None:
    engine = window.ctx.engine
    target_id = window.inbox_model.conversation_id(3)
    assert target_id is not None
    assert inbox.summaries(engine, [target_id])[target_id].unread_count == 1  # it starts unread

    click_row(qtbot, window, 3)

    messages = inbox.thread(engine, target_id)
    shown = window.thread_view.browser.toPlainText()
    assert messages[0].text in shown
    assert window.thread_view.title.text() == inbox.summaries(engine, [target_id])[target_id].contact_name
    assert inbox.summaries(engine, [target_id])[target_id].unread_count == 0
    refreshed = window.inbox_model.summary(3)
    assert refreshed is not None and refreshed.unread_count == 0  # the row repaints as read, not stale
    assert window.composer.editor.isEnabled()


def test_question_mark_opens_the_shortcuts_overlay_and_escape_closes_it(qtbot, window: MainWindow) -> None:
    window.inbox_view.setFocus()
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(window.overlay.isVisible)
    listed = window.overlay.listed_texts()
    for action in window.actions():
        if action.shortcuts():
            assert action.text().replace("&", "") in listed, action.text()
    assert window.overlay.geometry() == window.rect()

    qtbot.keyClick(window.overlay, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.overlay.isVisible())

    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Question)  # a layout with "?" on its own key
    qtbot.waitUntil(window.overlay.isVisible)
    assert window.overlay.hasFocus()
    qtbot.keyClick(window.overlay, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: not window.overlay.isVisible())
    assert window.inbox_view.hasFocus()  # focus goes back where it was


def test_question_mark_typed_in_the_composer_is_text_not_the_overlay(qtbot, window: MainWindow) -> None:
    click_row(qtbot, window, 0)
    window.composer.editor.setFocus()
    qtbot.keyClicks(window.composer.editor, "Any news?")
    assert window.composer.editor.toPlainText() == "Any news?"
    assert not window.overlay.isVisible()


def test_every_menu_action_shows_a_shortcut(window: MainWindow) -> None:
    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():  # type: ignore[union-attr]
            if not action.isSeparator():
                assert action.shortcuts(), action.text()


def test_window_geometry_and_splitter_sizes_survive_a_restart(qtbot, seeded_ctx: AppContext) -> None:
    first = show_window(qtbot, build_main_window(seeded_ctx))
    # The offscreen screen is 800x800 and a restored geometry is kept on screen, so stay inside it.
    first.resize(790, 611)
    first.splitter.setSizes([270, 330, 190])
    qtbot.waitUntil(lambda: first.size().width() == 790)
    sizes = first.splitter.sizes()
    size = first.size()
    first.action_show_playbook.setChecked(False)
    first.close()
    assert seeded_ctx.paths.window_state_file.is_file()

    second = show_window(qtbot, build_main_window(seeded_ctx))
    assert second.size() == size
    assert not second.playbook.isVisible()
    second.action_show_playbook.setChecked(True)  # back with the width it had before it was hidden
    qtbot.waitUntil(lambda: second.splitter.sizes() == sizes)


def test_stored_messages_refresh_the_inbox_and_keep_the_selection(qtbot, seeded_ctx: AppContext) -> None:
    controller = StandInSyncController()
    window = show_window(qtbot, build_main_window(seeded_ctx, controller))
    click_row(qtbot, window, 2)
    selected = window.inbox_view.current_conversation_id

    other = add_mastodon(seeded_ctx, "support")
    fill_inbox(seeded_ctx, other, 3, start_minute=500)  # newer than everything, due later than the rest
    with qtbot.waitSignal(window.inbox_controller.list_refreshed):
        controller.messages_stored.emit(inbox.conversation_ids(seeded_ctx.engine)[:3])

    # Refreshes are gathered for a moment (a large sync stores many pages a second), then applied.
    qtbot.waitUntil(lambda: window.inbox_model.rowCount() == 15)
    assert window.inbox_view.current_conversation_id == selected
    assert window.inbox_view.currentIndex().row() == 2
    accounts_shown = {window.inbox_model.summary(row).account_name for row in range(15)}  # type: ignore[union-attr]
    assert accounts_shown == {"brand", "support"}
    assert "15 conversations" in window.counts_label.text()


def test_sync_signals_update_the_per_account_status_text(qtbot, seeded_ctx: AppContext) -> None:
    controller = StandInSyncController()
    window = build_main_window(seeded_ctx, controller)
    qtbot.addWidget(window)
    brand = accounts.find_account(seeded_ctx.engine, "brand")

    class Progress:
        account_id = brand.id
        stored = 4

    controller.account_progressed.emit(Progress())
    assert window.sync_status.text() == "brand: syncing… (4 new)"

    now = seeded_ctx.clock.now()
    accounts.set_account_state(seeded_ctx.engine, brand.id, AccountState.OK, synced_at=now - timedelta(minutes=2))
    controller.account_synced.emit(Progress())
    assert window.sync_status.text() == "brand: synced 2 min ago"

    until = now.replace(hour=14, minute=5).astimezone()
    accounts.set_account_state(seeded_ctx.engine, brand.id, AccountState.RATE_LIMITED, rate_limited_until=until)
    controller.account_failed.emit(Progress())
    assert window.sync_status.text() == f"brand: rate-limited until {until:%H:%M}"

    accounts.set_account_state(seeded_ctx.engine, brand.id, AccountState.NEEDS_SIGN_IN)
    controller.states_changed.emit()
    assert window.sync_status.text() == "brand: sign-in needed"


def test_f5_asks_the_controller_to_sync_unless_working_offline(qtbot, seeded_ctx: AppContext) -> None:
    controller = StandInSyncController()
    window = show_window(qtbot, build_main_window(seeded_ctx, controller))
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_F5)
    assert controller.sync_requests == [None]

    window.action_offline.trigger()  # File › Work offline
    assert load_preferences(seeded_ctx.paths.settings_file).work_offline is True
    assert window.offline_label.isVisible()
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_F5)
    assert controller.sync_requests == [None]


def test_close_shortcut_closes_the_conversation_and_opens_the_next(qtbot, window: MainWindow) -> None:
    click_row(qtbot, window, 1)
    conversation_id = window.inbox_view.current_conversation_id
    following = window.inbox_model.conversation_id(2)
    assert conversation_id is not None
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert inbox.summaries(window.ctx.engine, [conversation_id])[conversation_id].status is ConversationStatus.CLOSED
    assert window.inbox_view.current_conversation_id == following  # moved on without waiting for the list
    qtbot.waitUntil(lambda: window.inbox_model.row_of(conversation_id) is None)  # gone from "All open"
    assert window.inbox_view.current_conversation_id == following

    window.sidebar.choose("view:everything")
    qtbot.waitUntil(lambda: window.inbox_view.select_conversation(conversation_id))
    qtbot.keyClick(
        window.inbox_view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert inbox.summaries(window.ctx.engine, [conversation_id])[conversation_id].status is ConversationStatus.OPEN


def test_composer_counts_against_the_limit_and_keeps_a_direct_reply_direct(qtbot, window: MainWindow) -> None:
    direct_row = next(
        row for row in range(window.inbox_model.rowCount()) if window.inbox_model.summary(row).kind.value == "dm"
    )
    click_row(qtbot, window, direct_row)
    composer = window.composer
    assert composer.visibility_label.text().startswith("Direct reply")
    qtbot.keyClicks(composer.editor, "Hello")
    assert composer.counter.text() == f"5 / {composer.limit}"
    assert composer.send_button.isEnabled()
    with qtbot.waitSignal(window.reply_send_requested) as sent:
        qtbot.keyClick(composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert sent.args == [window.inbox_view.current_conversation_id, "Hello"]

    composer.editor.setPlainText("x" * (composer.limit + 1))  # one over the limit
    assert not composer.send_button.isEnabled() and not composer.review_button.isEnabled()
    with qtbot.assertNotEmitted(window.reply_review_requested):
        qtbot.mouseClick(composer.review_button, Qt.MouseButton.LeftButton)


def test_playbook_lists_stored_answers_filters_and_inserts(qtbot, ui_ctx: AppContext) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 2)
    add_playbook_entry(ui_ctx, "Refund timeline", "Refunds reach your card within 5 working days.", "Billing")
    add_playbook_entry(ui_ctx, "Lost parcel", "Sorry your parcel is late; I've asked the courier.", "Delivery")
    window = show_window(qtbot, build_main_window(ui_ctx))
    assert window.playbook.visible_titles() == ["Refund timeline", "Lost parcel"]
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.playbook.search.hasFocus() or QApplication.focusWidget() is window.playbook.search
    qtbot.keyClicks(window.playbook.search, "courier")
    assert window.playbook.visible_titles() == ["Lost parcel"]

    qtbot.keyClick(window.playbook.search, Qt.Key.Key_Return)
    assert window.composer.editor.toPlainText() == ""  # no conversation selected: nothing to insert into

    click_row(qtbot, window, 0)
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.playbook.search, Qt.Key.Key_Return)
    assert window.composer.editor.toPlainText() == "Sorry your parcel is late; I've asked the courier."
    assert window.composer.editor.hasFocus()


def test_demo_profile_says_so_in_the_title(qtbot, seeded_ctx: AppContext) -> None:
    seeded_ctx.demo = True
    window = build_main_window(seeded_ctx)
    qtbot.addWidget(window)
    assert window.windowTitle() == "Parley — demo"


def test_an_unsent_draft_survives_switching_conversations(qtbot, window: MainWindow) -> None:
    click_row(qtbot, window, 0)
    first_id = window.inbox_view.current_conversation_id
    qtbot.keyClicks(window.composer.editor, "Half-written answer")
    click_row(qtbot, window, 1)
    assert window.composer.editor.toPlainText() == ""  # the other conversation has its own (empty) draft
    assert first_id is not None and window.composer.draft_for(first_id) == "Half-written answer"
    click_row(qtbot, window, 0)
    assert window.composer.editor.toPlainText() == "Half-written answer"


def test_saved_work_offline_choice_holds_at_the_next_start(qtbot, seeded_ctx: AppContext) -> None:
    seeded_ctx.preferences.work_offline = True
    window = show_window(qtbot, build_main_window(seeded_ctx))
    assert window.action_offline.isChecked() and window.offline_label.isVisible()
    assert seeded_ctx.offline is True


def test_the_app_has_its_id_name_and_a_drawn_icon(window: MainWindow) -> None:
    application = QApplication.instance()
    assert isinstance(application, QApplication)
    assert application.desktopFileName() == APP_ID
    assert application.applicationName() == "Parley"
    pixmap = app_icon().pixmap(64, 64)
    assert not pixmap.isNull() and pixmap.toImage().pixelColor(32, 8).alpha() > 0  # the SVG really rendered
    assert not window.windowIcon().isNull()
