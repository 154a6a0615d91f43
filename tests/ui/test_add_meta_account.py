"""The Accounts dialog's Facebook Page / Instagram form with the real account service and keyring, against
the Graph API emulator: a refused token is explained and nothing is added; a good one adds the account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from app.context import AppContext
from app.domain.models import Platform
from app.store import accounts
from app.sync.account_service import add_graph_account
from app.ui.dialogs.accounts_dialog import AccountsDialog
from tests.peers.graph_api import GraphApi


@pytest.fixture
def graph() -> Iterator[GraphApi]:
    server = GraphApi().start()
    yield server
    server.stop()


def test_adding_an_instagram_account_with_the_page_token(qtbot, ui_ctx: AppContext, graph: GraphApi) -> None:  # type: ignore[no-untyped-def]
    dialog = AccountsDialog(ui_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy)
    assert dialog.add_buttons["facebook"].text() == "Add Facebook Page…"

    qtbot.mouseClick(dialog.add_buttons["instagram"], Qt.MouseButton.LeftButton)
    sign_in = dialog.sign_in_dialog
    assert sign_in is not None
    form = sign_in.form
    assert "instagram_manage_messages" in form.help.text()
    form.graph_url.setText(graph.url)
    qtbot.keyClicks(form.page_id, graph.page.id)
    qtbot.keyClicks(form.token, "EAAB-expired")
    qtbot.mouseClick(form.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not sign_in.busy)
    assert "Page access token" in sign_in.message.text() and "EAAB-expired" not in sign_in.message.text()
    assert form.token.text() == "" and accounts.list_accounts(ui_ctx.engine) == []

    qtbot.keyClicks(form.token, graph.token)
    qtbot.mouseClick(form.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy)

    (added,) = accounts.list_accounts(ui_ctx.engine)
    assert (added.platform, added.handle, added.platform_user_id) == (Platform.INSTAGRAM, "@acme.outdoor", graph.ig.id)
    assert added.options["page_id"] == graph.page.id
    assert ui_ctx.secrets.get(added.id) == graph.token


def test_signing_a_page_in_again_replaces_the_token_in_the_keyring(qtbot, ui_ctx: AppContext, graph: GraphApi) -> None:  # type: ignore[no-untyped-def]
    added = add_graph_account(ui_ctx, Platform.FACEBOOK, graph.page.id, graph.token, "acme", graph_url=graph.url)
    graph.token = "page-token-2"  # the old token was revoked and a new one made
    dialog = AccountsDialog(ui_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy)

    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    sign_in = dialog.sign_in_dialog
    assert sign_in is not None and not sign_in.form.page_id.isVisible()
    qtbot.keyClicks(sign_in.form.token, "page-token-2")
    qtbot.keyClick(sign_in.form.token, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.sign_in_dialog is None and not dialog.busy)

    assert ui_ctx.secrets.get(added.id) == "page-token-2"
    assert "acme is signed in again." in dialog.message.text()
