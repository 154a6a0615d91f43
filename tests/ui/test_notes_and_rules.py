"""Internal notes stay local (checked against a real Mastodon API server), and rules made in the editor apply at
ingest to matching messages only, with a dry run that lists exactly the conversations they would change."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import requests
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.context import AppContext
from app.domain.models import Platform
from app.domain.triage import Priority
from app.platforms.mastodon import MastodonConnector
from app.store import accounts, inbox, notes, outbox, rules
from app.store.ingest import store_page
from app.sync.sender import OutboxSender
from app.ui.dialogs.rules_dialog import RulesDialog
from app.ui.launch import application, build_main_window
from app.ui.widgets.note_editor import NOTE_BG
from tests.factories import message, page
from tests.peers.mastodon_mock import MastodonMock
from tests.ui.helpers import add_mastodon, show_window


def test_an_internal_note_is_stored_shown_apart_and_never_reaches_the_platform(
    qtbot, context: AppContext, mastodon_server: MastodonMock
) -> None:
    application()
    brand = mastodon_server.create_user(f"brand_{secrets.token_hex(3)}")
    customer = mastodon_server.create_user(f"cust_{secrets.token_hex(3)}")
    mastodon_server.post(customer["access_token"], f"@{brand['username']} my parcel is lost", visibility="direct")
    account = accounts.add_account(context.engine, platform=Platform.MASTODON, name=brand["username"],
                                   base_url=mastodon_server.url, now=datetime.now(UTC))  # fmt: skip
    accounts.update_identity(context.engine, account.id, handle="@" + brand["username"], display_name="Brand",
                             platform_user_id=brand["id"])  # fmt: skip
    context.secrets.set(account.id, brand["access_token"])
    connector = MastodonConnector(accounts.get_account(context.engine, account.id), brand["access_token"])
    for stream in connector.streams():
        for fetched in connector.fetch(stream, accounts.get_cursor(context.engine, account.id, stream)):
            store_page(context.engine, account.id, fetched, now=datetime.now(UTC))
    # A tripwire on the server: any write request at all would use up this rule's budget.
    tripwire = mastodon_server.add_fault(
        {"match": {"methods": ["POST", "PUT", "PATCH", "DELETE"], "path_regex": "^/api/"},
         "effect": {"type": "status", "status": 500}, "count": 1000}
    )  # fmt: skip
    try:
        window = show_window(qtbot, build_main_window(context))
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_J)
        conversation_id = window.inbox_view.current_conversation_id
        assert conversation_id is not None
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_N)
        assert window.note_editor.editor.hasFocus()
        qtbot.keyClicks(window.note_editor.editor, "Customer called the shop too; refund already promised by Ana.")
        qtbot.keyClick(window.note_editor.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

        (note,) = notes.notes_of(context.engine, conversation_id)
        assert note.body == "Customer called the shop too; refund already promised by Ana."
        assert not window.note_editor.isVisible()
        assert window.composer.editor.toPlainText() == ""  # the note did not go through the reply composer
        shown = window.thread_view.browser.toPlainText()
        assert "Internal note" in shown and "refund already promised by Ana" in shown and "never sent" in shown
        assert NOTE_BG.lower() in window.thread_view.browser.toHtml().lower()  # styled apart from messages

        assert outbox.list_items(context.engine) == []
        report = OutboxSender(context).send_ready()  # the real sending machinery finds nothing to send
        assert report.sent == [] and report.ok
        rules_left = requests.get(f"{mastodon_server.url}/api/v1/_mock/faults", timeout=10).json()
        assert [r["remaining"] for r in rules_left if r["id"] == tripwire["id"]] == [1000], "a write reached it"
        statuses = requests.get(f"{mastodon_server.url}/api/v1/accounts/{brand['id']}/statuses", timeout=10).json()
        assert statuses == []
    finally:
        mastodon_server.clear_faults()


def test_a_rule_made_in_the_editor_dry_runs_exactly_and_then_applies_at_ingest(qtbot, ui_ctx: AppContext) -> None:
    account = add_mastodon(ui_ctx)
    store_page(
        ui_ctx.engine,
        account.id,
        page(
            message("a", key="a", text="Where is my REFUND?", author="maria"),
            message("b", key="b", minutes=1, text="Parcel is late, again.", author="tom"),
            message("c", key="c", minutes=2, text="The chocolate arrived, thanks", author="ola"),  # not "late"
            message("d", key="d", minutes=3, text="Do you ship to Norway?", author="kim"),
        ),
        now=ui_ctx.clock.now(),
    )
    window = show_window(qtbot, build_main_window(ui_ctx))
    qtbot.keyClick(
        window.inbox_view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, RulesDialog) and w.isVisible())
    qtbot.mouseClick(dialog.findChild(type(dialog.dry_run_button), "addRule"), Qt.MouseButton.LeftButton)
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "Refunds and late parcels")
    qtbot.keyClicks(dialog.keywords, "refund|late")
    qtbot.keyClicks(dialog.tags, "complaint")
    dialog.assignee.setCurrentIndex(dialog.assignee.findData("Customer Service"))
    dialog.priority.setCurrentIndex(dialog.priority.findData("HIGH"))

    with qtbot.waitSignal(dialog.dry_run_finished, timeout=10_000):
        qtbot.mouseClick(dialog.dry_run_button, Qt.MouseButton.LeftButton)
    by_key = {k: inbox.summaries(ui_ctx.engine, [cid])[cid] for k, cid in _ids(ui_ctx).items()}
    assert sorted(dialog.dry_run_ids()) == sorted([by_key["a"].id, by_key["b"].id])
    assert "Would change 2 conversations" in dialog.dry_run_summary.text()
    assert all(not s.tags and not s.assignee for s in by_key.values())  # a dry run changes nothing

    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    (stored,) = rules.list_rules(ui_ctx.engine)
    assert stored.conditions.keywords == ("refund", "late") and stored.actions.priority is Priority.HIGH

    store_page(
        ui_ctx.engine,
        account.id,
        page(
            message("e", key="e", minutes=10, text="I want a refund", author="lee"),
            message("f", key="f", minutes=11, text="Running LATE with my order", author="ann"),
            message("g", key="g", minutes=12, text="Lovely plate, translated well", author="bo"),  # "late" inside words
            message("h", key="h", minutes=13, text="Is the store open?", author="cy"),
        ),
        now=ui_ctx.clock.now(),
    )
    after = {k: inbox.summaries(ui_ctx.engine, [cid])[cid] for k, cid in _ids(ui_ctx).items()}
    for key in ("e", "f"):
        assert (after[key].tags, after[key].assignee, after[key].priority) == (
            ("complaint",), "Customer Service", int(Priority.HIGH)), key  # fmt: skip
    for key in ("a", "b", "c", "d", "g", "h"):  # the old ones keep their state: rules run as messages arrive
        assert (after[key].tags, after[key].assignee) == ((), ""), key


def _ids(ctx: AppContext) -> dict[str, int]:
    with ctx.engine.connect() as connection:
        return {r.conversation_key: r.id for r in connection.exec_driver_sql(
            "SELECT conversation_key, id FROM conversations")}  # fmt: skip
