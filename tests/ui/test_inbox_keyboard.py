"""Working the inbox with the keyboard alone: triage twenty conversations, undo, multi-selection, menus, overlay."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from app.context import AppContext
from app.domain.models import ConversationStatus
from app.store import inbox, triage
from app.ui.launch import build_main_window
from app.ui.main_window import MainWindow
from tests.ui.helpers import add_mastodon, fill_inbox, show_window

Key = Qt.Key


def focused(window: MainWindow) -> QWidget:
    widget = QApplication.focusWidget()
    return widget if widget is not None else window


def press(qtbot, window: MainWindow, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(focused(window), key, modifier)


def type_text(qtbot, window: MainWindow, text: str) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClicks(focused(window), text)


def test_twenty_conversations_triaged_with_keys_only_land_in_the_store_and_undo_restores_the_last(
    qtbot, ui_ctx: AppContext
) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 30)
    window = show_window(qtbot, build_main_window(ui_ctx))
    engine = window.ctx.engine
    now = ui_ctx.clock.now()
    press(qtbot, window, Key.Key_Escape)  # back to the list
    press(qtbot, window, Key.Key_J)  # opens the first (most urgent) conversation
    expected: dict[int, dict[str, object]] = {}
    plan = ["tag", "assign", "close", "snooze", "open"] * 4
    for step in plan:
        current = window.inbox_view.current_conversation_id
        assert current is not None and current not in expected, step
        if step == "tag":
            press(qtbot, window, Key.Key_T)
            assert window.picker.isVisible() and window.picker.filter.hasFocus()
            type_text(qtbot, window, "compl")
            assert window.picker.current_texts() == ["#complaint"]
            press(qtbot, window, Key.Key_Return)
            expected[current] = {"tags": {"complaint"}}
            press(qtbot, window, Key.Key_J)
        elif step == "assign":
            press(qtbot, window, Key.Key_A)
            type_text(qtbot, window, "cust")
            press(qtbot, window, Key.Key_Return)
            expected[current] = {"assignee": "Customer Service"}
            press(qtbot, window, Key.Key_J)
        elif step == "close":
            press(qtbot, window, Key.Key_E)  # closes and opens the next by itself
            expected[current] = {"status": "closed"}
        elif step == "snooze":
            press(qtbot, window, Key.Key_S)
            type_text(qtbot, window, "2h")
            press(qtbot, window, Key.Key_Return)  # a typed length, not a preset
            expected[current] = {"status": "snoozed", "snoozed_until": now + timedelta(hours=2)}
        else:  # open: read it in the thread pane, then back to the list
            press(qtbot, window, Key.Key_Return)
            assert window.thread_view.browser.hasFocus()
            press(qtbot, window, Key.Key_Escape)
            assert window.inbox_view.hasFocus()
            expected[current] = {"unread_count": 0}
            press(qtbot, window, Key.Key_J)
        assert not window.picker.isVisible()

    assert len(expected) == 20
    states = triage.conversation_state(engine, expected)
    tags = triage.tags_of(engine, expected)
    for conversation_id, wanted in expected.items():
        for column, value in wanted.items():
            actual = tags[conversation_id] if column == "tags" else states[conversation_id][column]
            assert actual == value, (conversation_id, column)
    untouched = [cid for cid in inbox.conversation_ids(engine) if cid not in expected]
    assert all(triage.conversation_state(engine, untouched)[cid]["status"] == "open" for cid in untouched)
    assert all(not tags for tags in triage.tags_of(engine, untouched).values())

    last = list(expected)[-1]  # the last action opened (so read) it; the one before was a snooze
    snoozed = list(expected)[-2]
    qtbot.waitUntil(lambda: window.inbox_model.row_of(snoozed) is None)  # the list caught up: it left "All open"
    press(qtbot, window, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # Opening is not a triage action: Ctrl+Z undoes the snooze, the last triage change.
    assert triage.conversation_state(engine, [snoozed])[snoozed]["status"] == "open"
    assert triage.conversation_state(engine, [snoozed])[snoozed]["snoozed_until"] is None
    assert triage.conversation_state(engine, [last])[last]["unread_count"] == 0
    qtbot.waitUntil(lambda: window.inbox_view.current_conversation_id == snoozed)  # back, and open again


def test_a_multi_selection_is_triaged_at_once_and_undone_at_once(qtbot, ui_ctx: AppContext) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 8)
    window = show_window(qtbot, build_main_window(ui_ctx))
    press(qtbot, window, Key.Key_J)
    press(qtbot, window, Key.Key_J, Qt.KeyboardModifier.ShiftModifier)
    press(qtbot, window, Key.Key_J, Qt.KeyboardModifier.ShiftModifier)  # rows 0-2 selected
    press(qtbot, window, Key.Key_J)
    press(qtbot, window, Key.Key_J)  # row 4 alone ...
    press(qtbot, window, Key.Key_K, Qt.KeyboardModifier.ShiftModifier)  # ... plus row 3
    press(qtbot, window, Key.Key_X)  # x toggles the current row (3) back out
    chosen = window.inbox_view.selected_ids()
    rows = [window.inbox_model.row_of(cid) for cid in chosen]
    assert rows == [4]
    press(qtbot, window, Key.Key_K, Qt.KeyboardModifier.ShiftModifier)  # row 3 again: 3 and 4
    press(qtbot, window, Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all 8
    chosen = window.inbox_view.selected_ids()
    assert len(chosen) == 8

    press(qtbot, window, Key.Key_Exclam, Qt.KeyboardModifier.ShiftModifier)
    type_text(qtbot, window, "urg")
    press(qtbot, window, Key.Key_Return)
    states = triage.conversation_state(window.ctx.engine, chosen)
    assert {s["priority"] for s in states.values()} == {2} and {s["priority_locked"] for s in states.values()} == {1}
    press(qtbot, window, Key.Key_U)  # the open one was read: the selection is marked unread
    assert all(s["unread_count"] >= 1 for s in triage.conversation_state(window.ctx.engine, chosen).values())
    press(qtbot, window, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, window, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    states = triage.conversation_state(window.ctx.engine, chosen)
    assert {s["priority"] for s in states.values()} == {0} and {s["priority_locked"] for s in states.values()} == {0}


def test_pickers_ignore_bad_input_and_escape_cancels(qtbot, ui_ctx: AppContext) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 3)
    window = show_window(qtbot, build_main_window(ui_ctx))
    press(qtbot, window, Key.Key_S)  # nothing selected: nothing opens
    assert not window.picker.isVisible()
    press(qtbot, window, Key.Key_J)
    current = window.inbox_view.current_conversation_id
    press(qtbot, window, Key.Key_S)
    type_text(qtbot, window, "whenever")  # not a length
    assert "45m" in window.picker.hint.text()
    press(qtbot, window, Key.Key_Return)
    assert window.picker.isVisible()  # refused, still open
    press(qtbot, window, Key.Key_Escape)
    assert not window.picker.isVisible() and window.inbox_view.hasFocus()
    assert triage.conversation_state(window.ctx.engine, [current])[current]["status"] == "open"
    press(qtbot, window, Key.Key_T)
    type_text(qtbot, window, "shipping delay")  # a new tag: created and applied
    press(qtbot, window, Key.Key_Return)
    assert triage.tags_of(window.ctx.engine, [current])[current] == {"shipping delay"}
    assert window.inbox_view.current_conversation_id == current


def test_letters_typed_in_the_composer_and_search_are_text_not_shortcuts(qtbot, window: MainWindow) -> None:
    window.keys.action_next.trigger()
    current = window.inbox_view.current_conversation_id
    press(qtbot, window, Key.Key_R)
    assert window.composer.editor.hasFocus()
    type_text(qtbot, window, "see you at the store")  # e, s, t, a, u, o: all triage keys elsewhere
    assert window.composer.editor.toPlainText() == "see you at the store"
    assert triage.conversation_state(window.ctx.engine, [current])[current]["status"] == "open"
    assert not window.picker.isVisible()
    press(qtbot, window, Key.Key_Escape)
    press(qtbot, window, Key.Key_Slash)
    assert window.filter_bar.search.hasFocus()
    type_text(qtbot, window, "east")
    assert window.filter_bar.search.text() == "east"
    assert window.inbox_view.current_conversation_id == current


def test_every_key_of_the_issue_is_in_a_menu_and_the_overlay(window: MainWindow) -> None:
    shown: dict[str, str] = {}
    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():  # type: ignore[union-attr]
            for sequence in action.shortcuts():
                shown[sequence.toString()] = action.text().replace("&", "")
    for key in ("J", "K", "Return", "R", "E", "P", "S", "T", "A", "U", "/", "Esc", "?", "Ctrl+Z", "N", "X"):
        assert key in shown, key
    listed = window.overlay.listed_texts()
    assert "Close and open next" in listed and "Undo last triage" in listed and "Snooze…" in listed
    section_titles = [name for name, _ in window.shortcut_sections()]
    assert section_titles[:4] == ["File", "View", "Conversation", "Triage"]


def test_status_triage_keys_set_pending_and_reopen(qtbot, window: MainWindow) -> None:
    window.sidebar.choose("view:everything")
    qtbot.waitSignal(window.inbox_controller.list_refreshed, timeout=2000)
    press(qtbot, window, Key.Key_J)
    current = window.inbox_view.current_conversation_id
    press(qtbot, window, Key.Key_P)
    assert inbox.summaries(window.ctx.engine, [current])[current].status is ConversationStatus.PENDING
    press(qtbot, window, Key.Key_K)  # back to it (pending moved on to the next)
    assert window.inbox_view.current_conversation_id == current
    press(qtbot, window, Key.Key_O)
    assert inbox.summaries(window.ctx.engine, [current])[current].status is ConversationStatus.OPEN
