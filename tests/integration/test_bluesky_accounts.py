"""Bluesky accounts end to end against the local AT Protocol network: added through the Accounts dialog and the
CLI with an app password, synced by the real SyncController into the inbox, signed in again.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from app.cli import build_parser
from app.context import AppContext
from app.domain.models import MessageKind, Platform
from app.errors import AuthError
from app.store import accounts, inbox
from app.sync import account_service
from app.sync.qt_bridge import SyncController
from app.ui.dialogs.accounts_dialog import AccountsDialog
from app.ui.dialogs.add_account.bluesky import BlueskyForm
from app.ui.launch import application
from tests.peers.bluesky_network import BlueskyNetwork
from tests.sync_fakes import isolate_keyring

pytestmark = pytest.mark.bluesky


@pytest.fixture
def ctx(context: AppContext) -> AppContext:
    application()
    isolate_keyring(context)
    return context


@pytest.fixture
def controller(ctx: AppContext, qtbot) -> Iterator[SyncController]:  # type: ignore[no-untyped-def]
    made = SyncController(ctx)
    yield made
    made.shutdown()


def test_adding_from_the_dialog_keeps_the_session_in_the_keyring_and_the_sync_brings_the_mention(
    ctx: AppContext, bluesky: BlueskyNetwork, controller: SyncController, qtbot
) -> None:
    dialog = AccountsDialog(ctx, account_service, sync_controller=controller)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy)
    qtbot.mouseClick(dialog.add_buttons["bluesky"], Qt.MouseButton.LeftButton)
    assert dialog.sign_in_dialog is not None
    form = dialog.sign_in_dialog.form
    assert isinstance(form, BlueskyForm)
    user = bluesky.users["brand"]
    qtbot.keyClicks(form.handle, user.handle)
    qtbot.keyClicks(form.app_password, user.app_password)
    qtbot.keyClicks(form.server, bluesky.pds)
    qtbot.keyClicks(form.name, "brand-sky")
    signed_in = dialog.sign_in_dialog.signed_in
    with qtbot.waitSignals([signed_in, controller.account_synced], timeout=30_000):  # adding syncs at once
        qtbot.mouseClick(form.sign_in_button, Qt.MouseButton.LeftButton)
    (account,) = [a for a in accounts.list_accounts(ctx.engine) if a.name == "brand-sky"]
    assert (account.platform, account.platform_user_id, account.base_url) == (Platform.BLUESKY, user.did, bluesky.pds)
    secret = ctx.secrets.get(account.id) or ""
    assert set(json.loads(secret)) == {"accessJwt", "refreshJwt", "did", "handle"}
    assert user.app_password not in secret

    question = bluesky.post("ann", "@brand.test where is parcel 42?", mention="brand")
    bluesky.settle()
    convo = bluesky.chat.open_convo(user.did, bluesky.users["ann"].did)
    bluesky.chat.say(convo, bluesky.users["ann"].did, "also: can I change the address?")
    with qtbot.waitSignal(controller.account_synced, timeout=30_000):
        controller.sync_now(account.id)
    found = {m.platform_message_id: m for c in inbox.inbox_page(ctx.engine) for m in inbox.thread(ctx.engine, c.id)}
    assert question["uri"] in found, "the mention came from the AppView"
    dms = [m.text for m in found.values() if m.kind is MessageKind.DM]
    assert "also: can I change the address?" in dms, "the DM came through the PDS's chat proxy"


def test_cli_adds_with_the_app_password_from_stdin_and_signing_in_again_replaces_the_session(
    ctx: AppContext, bluesky: BlueskyNetwork
) -> None:
    user = bluesky.users["bob"]
    args = build_parser().parse_args(
        ["accounts", "add", "bluesky", "--handle", user.handle, "--server", bluesky.pds, "--name", "bob-sky"]
    )
    assert account_service.add_account_from_cli(ctx, args, stdin=io.StringIO(user.app_password + "\n")) == 0
    (account,) = [a for a in accounts.list_accounts(ctx.engine) if a.name == "bob-sky"]
    first = ctx.secrets.get(account.id)
    assert account.handle == user.handle and first and user.app_password not in first
    with pytest.raises(AuthError):
        account_service.reauthenticate_bluesky(ctx, account.id, "wrong-wrong-wrong-wrong")
    assert ctx.secrets.get(account.id) == first, "a failed sign-in keeps the session that works"
    account_service.reauthenticate_bluesky(ctx, account.id, user.app_password)
    second = ctx.secrets.get(account.id)
    assert second and second != first and json.loads(second)["did"] == user.did
