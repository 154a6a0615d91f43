"""The outbox view driven by keys and clicks over a real profile: review actions, held and failed replies, the
four-eyes rule as the window meets it. Nothing is sent here (no outbox controller): the sending states are
set through the store as the sender sets them; tests/integration/test_outbox_sending.py covers the sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.context import AppContext
from app.domain.outbox import OutboxItem, OutboxState
from app.store import inbox, outbox
from app.store.ingest import store_page
from app.ui.launch import build_main_window
from app.ui.main_window import MainWindow
from tests.factories import message, page
from tests.ui.helpers import show_window

S = OutboxState


@pytest.fixture
def queued(seeded_ctx: AppContext) -> list[OutboxItem]:
    ids = inbox.conversation_ids(seeded_ctx.engine)[:4]
    now = seeded_ctx.clock.now()
    return [outbox.queue_reply(seeded_ctx.engine, c, f"Reply {n}", now=now, author="Sam") for n, c in enumerate(ids)]


def open_outbox(qtbot: QtBot, ctx: AppContext) -> MainWindow:
    window = show_window(qtbot, build_main_window(ctx))
    window.inbox_view.step(0)  # a conversation is chosen in the inbox behind the outbox
    assert window.inbox_view.current_conversation_id is not None
    qtbot.keyClick(
        window.inbox_view, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert window.pages.currentWidget() is window.outbox_view
    return window


def states(ctx: AppContext) -> list[tuple[str, str]]:
    return [(item.body, item.state.value) for item in outbox.list_items(ctx.engine)]


def test_return_to_draft_with_a_comment_edit_and_discard_with_undo(
    qtbot: QtBot, seeded_ctx: AppContext, queued: list[OutboxItem]
) -> None:
    window = open_outbox(qtbot, seeded_ctx)
    view = window.outbox_view
    view.choose(queued[1].id)
    qtbot.keyClicks(view.comment, "Too curt")
    qtbot.mouseClick(view.draft_button, Qt.MouseButton.LeftButton)
    draft = outbox.get_item(seeded_ctx.engine, queued[1].id)
    assert (draft.state, draft.comment) == (S.DRAFT, "Too curt")
    assert "Comment: Too curt" in view.state_label.text()

    view.editor.selectAll()
    qtbot.keyClicks(view.editor, "Reply 1, kinder")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert outbox.get_item(seeded_ctx.engine, queued[1].id).body == "Reply 1, kinder"

    view.list.setFocus()
    view.choose(queued[0].id)
    qtbot.keyClick(view.list, Qt.Key.Key_Delete)
    assert [body for body, _ in states(seeded_ctx)] == ["Reply 1, kinder", "Reply 2", "Reply 3"]
    assert window.outbox_button.text() == "Outbox · 3"
    qtbot.keyClick(view.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert outbox.list_items(seeded_ctx.engine)[0] == queued[0], "undo gives back the same reply, in its place"
    assert window.outbox_button.text() == "Outbox · 4"

    before = {
        i: s.status for i, s in inbox.summaries(seeded_ctx.engine, inbox.conversation_ids(seeded_ctx.engine)).items()
    }
    qtbot.keyClick(view.list, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)  # the inbox's "close" key
    after = {i: s.status for i, s in inbox.summaries(seeded_ctx.engine, list(before)).items()}
    assert after == before, "inbox keys do not act on the hidden inbox while the outbox is shown"

    qtbot.keyClick(view.list, Qt.Key.Key_Escape)
    assert window.pages.currentWidget() is window.splitter
    assert window.triage.action_close.isEnabled()


def test_selected_replies_are_approved_together_and_the_reviewer_is_recorded(
    qtbot: QtBot, seeded_ctx: AppContext, queued: list[OutboxItem]
) -> None:
    window = open_outbox(qtbot, seeded_ctx)
    view = window.outbox_view
    view.reviewer.setText("Kim")
    view.list.setFocus()
    view.choose(queued[0].id)
    qtbot.keyClick(view.list, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)  # select the first two
    qtbot.keyClick(view.list, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    items = outbox.list_items(seeded_ctx.engine)
    assert [(i.state, i.reviewer) for i in items[:2]] == [(S.APPROVED, "Kim")] * 2
    assert [i.state for i in items[2:]] == [S.AWAITING_REVIEW] * 2
    assert "Working offline" not in window.statusBar().currentMessage()


def test_the_four_eyes_rule_refuses_approval_without_a_reviewer_in_the_window(
    qtbot: QtBot, seeded_ctx: AppContext, queued: list[OutboxItem]
) -> None:
    """Bad input: "Approve all" with the reviewer's name left empty while public replies need a reviewer."""
    seeded_ctx.preferences.public_replies_need_review = True
    window = open_outbox(qtbot, seeded_ctx)
    view = window.outbox_view
    view.reviewer.clear()
    qtbot.mouseClick(view.approve_all_button, Qt.MouseButton.LeftButton)
    assert "name of the reviewer" in window.statusBar().currentMessage()
    assert {state for _, state in states(seeded_ctx)} == {"awaiting_review"}, "nothing was approved"
    qtbot.keyClicks(view.reviewer, "Kim")
    qtbot.mouseClick(view.approve_all_button, Qt.MouseButton.LeftButton)
    assert {(i.state, i.reviewer) for i in outbox.list_items(seeded_ctx.engine)} == {(S.APPROVED, "Kim")}


def test_held_replies_show_what_arrived_and_failed_ones_the_platforms_reason_and_both_can_go_again(
    qtbot: QtBot, seeded_ctx: AppContext, queued: list[OutboxItem]
) -> None:
    engine, now = seeded_ctx.engine, seeded_ctx.clock.now()
    held, failed = queued[0], queued[1]
    outbox.approve(engine, [held.id, failed.id], now=now, reviewer="Kim")
    key = inbox.conversation_key(engine, held.conversation_id)[1]
    later = message("late-1", key=key, minutes=100, text="Never mind, it arrived!", author="cust0")
    store_page(engine, held.account_id, page(later), now=now + timedelta(minutes=1))
    outbox.move_state(engine, [held.id], S.SENDING, now=now)
    outbox.move_state(engine, [held.id], S.HELD, now=now, error="1 new message(s) arrived after approval.")
    outbox.move_state(engine, [failed.id], S.SENDING, now=now)
    outbox.move_state(engine, [failed.id], S.FAILED, now=now, error="Validation failed: Text too long")

    window = open_outbox(qtbot, seeded_ctx)
    view = window.outbox_view
    view.choose(held.id)
    assert "Held" in view.state_label.text() and "1 new message" in view.state_label.text()
    assert "Never mind, it arrived!" in view.context.toPlainText()
    assert "new since it was queued" in view.context.toPlainText()
    assert view.approve_button.text() == "&Approve again"
    qtbot.mouseClick(view.approve_button, Qt.MouseButton.LeftButton)
    assert outbox.get_item(engine, held.id).state is S.APPROVED

    view.choose(failed.id)
    assert "The platform said: Validation failed: Text too long" in view.state_label.text()
    assert view.approve_button.text() == "&Retry"
    qtbot.mouseClick(view.approve_button, Qt.MouseButton.LeftButton)
    assert outbox.get_item(engine, failed.id).state is S.APPROVED
