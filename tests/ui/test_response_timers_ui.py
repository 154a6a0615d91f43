"""Response timers in the window, on a real profile and the controllable clock: row colours, notifications, the
title count, the policy in the thread view, and the policies dialog applying a new target to open conversations.

The notifications are observed through ResponseAlerts.notified (the OS notification area does not exist
offscreen); everything else is the real window driven with qtbot.
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QPushButton, QSpinBox
from sqlalchemy import select

from app.context import AppContext
from app.domain.models import MessageKind
from app.domain.timers import TimerState
from app.store import inbox, triage
from app.store.ingest import store_page
from app.store.schema import conversations, response_records
from app.ui import theme
from app.ui.delegates.conversation_delegate import TIMER_COLOURS, TIMER_PILL, timer_text
from app.ui.dialogs.policies_dialog import PoliciesDialog
from app.ui.launch import build_main_window
from app.ui.main_window import MainWindow
from tests.factories import message, page
from tests.ui.helpers import add_mastodon, fill_inbox, show_window


def one_dm(ctx: AppContext) -> int:
    """A customer DM written just now (the default DM policy: due in 1 h, warning after 45 min)."""
    account = add_mastodon(ctx)
    start = ctx.clock.now()
    minutes = int((start - message("x").created_at).total_seconds() // 60)
    store_page(ctx.engine, account.id, page(message("dm", key="dm", minutes=minutes, kind=MessageKind.DM)), now=start)
    with ctx.engine.connect() as connection:
        return int(connection.execute(select(conversations.c.id)).scalar_one())


def row_state(window: MainWindow) -> TimerState:
    summary = window.inbox_model.summary(0)
    assert summary is not None
    return timer_text(summary, window.now())[1]


def pill_colour(window: MainWindow) -> QColor:
    """The colour painted inside the first row's timer pill, read from a grab of the viewport."""
    view = window.inbox_view
    rect = view.visualRect(window.inbox_model.index(0, 0))
    image = view.viewport().grab().toImage()
    point = QPoint(rect.right() - 6 - 3, rect.top() + 60)
    assert rect.right() - 6 - TIMER_PILL < point.x()
    return image.pixelColor(point)


def test_the_row_turns_warning_then_breached_with_one_notification_each_and_the_title_counts(
    qtbot, ui_ctx: AppContext
) -> None:
    one_dm(ui_ctx)
    window = show_window(qtbot, build_main_window(ui_ctx))
    notes: list[tuple[str, str, list]] = []
    window.alerts.notified.connect(lambda title, text, ids: notes.append((title, text, ids)))
    assert row_state(window) is TimerState.OK
    assert pill_colour(window) == TIMER_COLOURS[TimerState.OK][0]
    assert window.windowTitle() == "Parley"

    ui_ctx.clock.advance(timedelta(minutes=46))
    with qtbot.waitSignal(window.alerts.notified, timeout=5000):
        assert window.inbox_view.tick() == 1
    assert row_state(window) is TimerState.WARNING
    qtbot.waitUntil(lambda: pill_colour(window) == theme.WARNING_BG, timeout=3000)
    assert [n[0] for n in notes] == ["Response due soon"]
    with qtbot.assertNotEmitted(window.alerts.notified, wait=300):
        window.inbox_view.tick()  # still in warning: nothing new to say
    assert window.windowTitle() == "Parley"

    ui_ctx.clock.advance(timedelta(minutes=15))
    with qtbot.waitSignal(window.alerts.breached_count_changed, timeout=5000):
        window.inbox_view.tick()
    qtbot.waitUntil(lambda: len(notes) == 2, timeout=3000)
    assert notes[1][0] == "Response time breached" and "Ann" in notes[1][1]
    assert row_state(window) is TimerState.BREACHED
    qtbot.waitUntil(lambda: pill_colour(window) == theme.DANGER, timeout=3000)
    assert window.windowTitle() == "Parley — 1 breached"
    with qtbot.assertNotEmitted(window.alerts.notified, wait=300):
        window.inbox_view.tick()
    assert len(notes) == 2


def test_snoozing_hides_no_breach_and_closing_clears_the_title(qtbot, ui_ctx: AppContext) -> None:
    cid = one_dm(ui_ctx)
    ui_ctx.clock.advance(timedelta(hours=2))
    window = show_window(qtbot, build_main_window(ui_ctx))
    qtbot.waitUntil(lambda: window.windowTitle() == "Parley — 1 breached", timeout=5000)
    triage.snooze(ui_ctx.engine, [cid], ui_ctx.clock.now() + timedelta(hours=3), now=ui_ctx.clock.now())
    with qtbot.assertNotEmitted(window.alerts.breached_count_changed, wait=300):
        window.inbox_view.tick()
    assert window.windowTitle() == "Parley — 1 breached"
    window.inbox_view.select_conversation(cid)
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_E)  # close (and next)
    with qtbot.waitSignal(window.alerts.breached_count_changed, timeout=5000):
        window.inbox_view.tick()
    assert window.windowTitle() == "Parley"


def test_the_thread_shows_the_policy_and_the_breaching_soon_view_lists_the_warning(qtbot, ui_ctx: AppContext) -> None:
    cid = one_dm(ui_ctx)
    ui_ctx.clock.advance(timedelta(minutes=50))
    window = show_window(qtbot, build_main_window(ui_ctx))
    window.inbox_view.select_conversation(cid)
    text = window.thread_view.policy.text()
    assert "Direct messages" in text and "first response due" in text and "10m left" in text
    with qtbot.waitSignal(window.inbox_controller.list_refreshed, timeout=5000):
        window.sidebar.choose("view:breaching")
    assert window.inbox_model.ids() == [cid]


def test_a_policy_edited_in_the_dialog_moves_open_clocks_off_the_gui_thread_and_keeps_records(
    qtbot, ui_ctx: AppContext
) -> None:
    cid = one_dm(ui_ctx)
    window = show_window(qtbot, build_main_window(ui_ctx))
    window.action_policies.trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PoliciesDialog) and w.isVisible())
    dialog.list.setCurrentRow(1)  # "Direct messages"
    assert dialog.name.text() == "Direct messages"
    first = dialog.findChild(QSpinBox, "firstTarget")
    first.selectAll()
    qtbot.keyClicks(first, "20")
    assert dialog.policies()[1].first_response == timedelta(minutes=20)
    qtbot.mouseClick(dialog.findChild(QPushButton, "movePolicyUp"), Qt.MouseButton.LeftButton)
    assert dialog.policies()[0].name == "Direct messages"
    with qtbot.waitSignal(window.policies_applied, timeout=5000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    summary = inbox.summaries(ui_ctx.engine, [cid])[cid]
    assert summary.next_due_at == ui_ctx.clock.now() + timedelta(minutes=20)
    assert summary.next_warn_at == ui_ctx.clock.now() + timedelta(minutes=15)
    with ui_ctx.engine.connect() as connection:
        record = connection.execute(select(response_records)).one()
    assert record.target_s == 3600  # measured under the policy that held when the clock started


def test_the_dialog_refuses_a_calendar_that_closes_before_it_opens(qtbot, ui_ctx: AppContext) -> None:
    window = show_window(qtbot, build_main_window(ui_ctx))
    window.action_policies.trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PoliciesDialog) and w.isVisible())
    qtbot.mouseClick(dialog.findChild(QPushButton, "addPolicy"), Qt.MouseButton.LeftButton)
    dialog.business_hours.click()
    monday_close = dialog.calendar.days[0][2]
    monday_close.setTime(monday_close.time().fromString("08:00", "HH:mm"))
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert dialog.isVisible()
    assert "close after they open" in dialog.problems.text()


def test_a_tick_repaints_only_the_rows_on_screen_and_reads_nothing(qtbot, ui_ctx: AppContext) -> None:
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 60)
    window = show_window(qtbot, build_main_window(ui_ctx))
    window.resize(1100, 500)
    qtbot.waitUntil(lambda: window.inbox_model.rowCount() == 60, timeout=5000)
    view = window.inbox_view
    on_screen = view.rowAt(view.viewport().height() - 1) - view.rowAt(0) + 1
    delegate = view.itemDelegate()
    qtbot.waitUntil(lambda: len(delegate.painted_faces) >= on_screen)
    loads = window.inbox_model.block_loads
    assert view.tick() == 0, "no time passed: every row on screen still reads the same"
    ui_ctx.clock.advance(timedelta(minutes=1))
    assert 0 < view.tick() <= on_screen < 60  # rows whose timer or age now reads differently
    qtbot.waitUntil(lambda: view.tick() == 0)  # once repainted they match the clock again
    assert window.inbox_model.block_loads == loads  # the rows' summaries are cached; only the time moved


def test_a_ticks_repaint_of_the_timers_alone_looks_exactly_like_a_full_repaint(qtbot, ui_ctx: AppContext) -> None:
    """The tick repaints only each row's age and timer pill; the pixels must equal a full repaint of the rows
    (nothing stale left beside a timer that got shorter, nothing of the row wiped)."""
    fill_inbox(ui_ctx, add_mastodon(ui_ctx), 30)
    window = show_window(qtbot, build_main_window(ui_ctx))
    window.resize(1100, 500)
    qtbot.waitUntil(lambda: window.inbox_model.rowCount() == 30, timeout=5000)
    view = window.inbox_view
    view.viewport().repaint()
    ui_ctx.clock.advance(timedelta(minutes=50))  # "1h 00m left" becomes "10m left", ages move on

    def on_screen() -> QImage:  # what the window's backing store holds (QWidget.grab would repaint it all)
        return QApplication.primaryScreen().grabWindow(window.winId()).toImage()

    assert view.tick() > 0
    QApplication.sendPostedEvents(None, QEvent.Type.UpdateRequest)  # the partial repaint the tick asked for
    assert view.tick() == 0, "the tick's repaint brought every timer on screen up to date"
    partial = on_screen()
    view.viewport().repaint()  # every row laid out again
    full = on_screen()

    assert not partial.isNull() and partial == full


def test_the_thread_policy_line_moves_on_with_the_tick(qtbot, ui_ctx: AppContext) -> None:
    cid = one_dm(ui_ctx)
    window = show_window(qtbot, build_main_window(ui_ctx))
    window.inbox_view.select_conversation(cid)
    assert "1h 00m left" in window.thread_view.policy.text()
    ui_ctx.clock.advance(timedelta(minutes=25))
    window.inbox_view.tick()
    assert "35m left" in window.thread_view.policy.text()


def test_marking_pending_with_the_key_pauses_the_row_timer(qtbot, ui_ctx: AppContext) -> None:
    cid = one_dm(ui_ctx)
    window = show_window(qtbot, build_main_window(ui_ctx))
    with qtbot.waitSignal(window.inbox_controller.list_refreshed, timeout=5000):
        window.sidebar.choose("view:everything")
    window.inbox_view.select_conversation(cid)
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: inbox.summaries(ui_ctx.engine, [cid])[cid].paused, timeout=3000)
    summary = inbox.summaries(ui_ctx.engine, [cid])[cid]
    assert timer_text(summary, window.now()) == ("paused", TimerState.NONE)
    window.inbox_view.clearSelection()
    assert window.inbox_view.select_conversation(cid)  # opening the pending conversation names the pause
    assert "paused while pending" in window.thread_view.policy.text()
