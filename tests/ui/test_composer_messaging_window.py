"""The composer keeps Meta's 24-hour messaging window: a late Messenger reply is refused with the reason and
the allowed alternative, while a fresh one and a public comment reply can be sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from PySide6.QtCore import Qt

from app.context import AppContext
from app.domain.clock import ManualClock
from app.domain.messaging_window import reply_rule
from app.domain.models import Identity, MessageKind, Platform, Visibility
from app.store import accounts, inbox, outbox
from app.store.ingest import store_page
from app.ui.launch import build_main_window
from app.ui.main_window import MainWindow
from app.ui.widgets.composer import Composer
from tests.factories import T0, message, page
from tests.ui.helpers import show_window


def seed_page(ctx: AppContext) -> dict[str, int]:
    """A Facebook Page with a DM from Ann (at T0), one from Bob (24 h later) and a comment from Cy (at T0)."""
    account = accounts.add_account(
        ctx.engine, platform=Platform.FACEBOOK, name="acme", base_url="https://graph.facebook.com/v21.0", now=T0,
        options={"page_id": "1000001"},
    )  # fmt: skip
    ann = replace(message("m_1", key="dm:t_1", text="Where is my tent?", author="ann", kind=MessageKind.DM))
    bob = message("m_2", key="dm:t_2", minutes=24 * 60, text="Is the shop open?", author="bob", kind=MessageKind.DM)
    cy = message("c_1", key="comments:c_1", text="Price?", author="cy", kind=MessageKind.COMMENT)
    people = [replace(m, author=Identity(m.author.platform_user_id, m.author.display_name, m.author.display_name))
              for m in (ann, bob, cy)]  # fmt: skip
    store_page(ctx.engine, account.id, page(*people, stream="messenger"), now=T0)
    return {row.snippet: row.id for row in inbox.inbox_page(ctx.engine)}


def open_conversation(qtbot, window: MainWindow, conversation_id: int) -> None:  # type: ignore[no-untyped-def]
    row = window.inbox_model.row_of(conversation_id)
    assert row is not None
    rect = window.inbox_view.visualRect(window.inbox_model.index(row, 0))
    qtbot.mouseClick(window.inbox_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.composer.conversation_id == conversation_id)


def type_and_send(qtbot, window: MainWindow, text: str) -> None:  # type: ignore[no-untyped-def]
    window.composer.editor.setFocus()
    qtbot.keyClicks(window.composer.editor, text)
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_a_messenger_reply_25_hours_late_is_refused_with_the_reason_and_the_alternative(
    qtbot, ui_ctx: AppContext, ui_clock: ManualClock
) -> None:  # type: ignore[no-untyped-def]
    ids = seed_page(ui_ctx)
    ui_clock.set(T0 + timedelta(hours=25))
    window = show_window(qtbot, build_main_window(ui_ctx))

    open_conversation(qtbot, window, ids["Where is my tent?"])
    type_and_send(qtbot, window, "Sorry for the wait!")

    composer = window.composer
    assert not composer.send_button.isEnabled() and not composer.review_button.isEnabled()
    assert composer.rule_label.isVisible()
    shown = composer.rule_label.text()
    assert "within 24 hours" in shown and "25 hours ago" in shown
    assert "Reply publicly or privately to one of their comments" in shown
    assert outbox.list_items(ui_ctx.engine) == []  # Ctrl+Return queued nothing

    # Bob wrote an hour ago: his conversation can be answered, and so can a public comment.
    open_conversation(qtbot, window, ids["Is the shop open?"])
    assert not composer.rule_label.isVisible()
    type_and_send(qtbot, window, "Yes, until 6.")
    open_conversation(qtbot, window, ids["Price?"])
    type_and_send(qtbot, window, "From 199 euros.")
    queued = sorted(item.body for item in outbox.list_items(ui_ctx.engine))
    assert queued == ["From 199 euros.", "Yes, until 6."]


def test_the_composer_shows_the_human_agent_tag_when_a_late_reply_is_allowed_with_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    composer = Composer()
    qtbot.addWidget(composer)
    composer.show()
    rule = reply_rule(Platform.FACEBOOK, MessageKind.DM, T0, T0 + timedelta(days=3), human_agent=True)

    composer.set_conversation(7, Platform.FACEBOOK, MessageKind.DM, Visibility.DIRECT, rule=rule)
    qtbot.keyClicks(composer.editor, "Sorry for the wait!")

    assert composer.send_button.isEnabled()
    assert "Human Agent tag" in composer.rule_label.text() and composer.rule_label.isVisible()
    composer.clear_conversation()
    assert not composer.rule_label.isVisible()


def test_the_composer_counts_a_dm_against_the_platforms_dm_limit_and_a_public_reply_against_the_post_limit(
    qtbot,
) -> None:  # type: ignore[no-untyped-def]
    """Input tried: 300 characters on X, first in a DM (allowed: 10,000) and then in a reply post (280)."""
    composer = Composer()
    qtbot.addWidget(composer)
    composer.show()
    composer.set_conversation(1, Platform.X, MessageKind.DM, Visibility.DIRECT)
    composer.editor.setPlainText("x" * 300)
    assert composer.limit == 10_000 and composer.send_button.isEnabled()

    composer.set_conversation(2, Platform.X, MessageKind.MENTION, Visibility.PUBLIC)
    composer.editor.setPlainText("x" * 300)
    assert composer.limit == 280 and not composer.send_button.isEnabled()
    assert composer.counter.text() == "300 / 280"
