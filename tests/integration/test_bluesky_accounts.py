"""Bluesky accounts end to end against the local AT Protocol network: added through the Accounts dialog and the
CLI with an app password, synced by the real SyncController into the inbox, signed in again.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.cli import build_parser
from app.context import AppContext
from app.domain.models import AccountState, MessageKind, Platform
from app.domain.outbox import OutboxState
from app.errors import AuthError
from app.store import accounts, inbox, outbox
from app.sync import account_service
from app.sync.qt_bridge import SyncController
from app.sync.sender import OutboxSender
from app.ui.dialogs.accounts_dialog import AccountsDialog
from app.ui.dialogs.add_account.bluesky import BlueskyForm
from tests.peers.bluesky_network import BlueskyNetwork
from tests.sync_fakes import isolate_keyring
from tests.ui_fixtures import ui_app_ctx, ui_controller  # noqa: F401 - the fixtures ctx and controller

pytestmark = pytest.mark.bluesky


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


def test_cli_adds_with_the_app_password_from_stdin_testing_keeps_a_refreshed_session_and_signing_in_again_replaces_it(
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
    stale = json.loads(first)
    ctx.secrets.set(account.id, json.dumps({**stale, "accessJwt": stale["accessJwt"][:-6] + "AAAAAA"}))
    assert account_service.test_connection(ctx, account.id).platform_user_id == user.did
    first = ctx.secrets.get(account.id)
    assert first and json.loads(first)["refreshJwt"] != stale["refreshJwt"], "testing refreshed and kept the session"
    with pytest.raises(AuthError):
        account_service.reauthenticate_bluesky(ctx, account.id, "wrong-wrong-wrong-wrong")
    assert ctx.secrets.get(account.id) == first, "a failed sign-in keeps the session that works"
    account_service.reauthenticate_bluesky(ctx, account.id, user.app_password)
    second = ctx.secrets.get(account.id)
    assert second and second != first and json.loads(second)["did"] == user.did


def test_a_sync_refreshes_an_expired_session_into_the_keyring_and_the_outbox_replies_once(
    ctx: AppContext, bluesky: BlueskyNetwork, controller: SyncController, qtbot
) -> None:
    """The access token in the keyring no longer verifies: the sync refreshes it and stores the rotated pair.
    Then an approved reply goes out through the outbox as one post in the thread, and a second run sends
    nothing more; the next sync recognises the post instead of storing it twice."""
    user = bluesky.users["brand"]
    account = account_service.add_bluesky_account(ctx, user.handle, user.app_password, bluesky.pds, "brand-outbox")
    session = json.loads(ctx.secrets.get(account.id) or "{}")
    ctx.secrets.set(account.id, json.dumps({**session, "accessJwt": session["accessJwt"][:-6] + "AAAAAA"}))
    question = bluesky.post("ann", "@brand.test do you have size 44?", mention="brand")
    bluesky.settle()
    with qtbot.waitSignal(controller.account_synced, timeout=30_000):
        controller.sync_now(account.id)
    rotated = json.loads(ctx.secrets.get(account.id) or "{}")
    assert rotated["refreshJwt"] != session["refreshJwt"] and rotated["did"] == user.did
    assert accounts.account_state(ctx.engine, account.id) is AccountState.OK

    (conversation,) = [
        c.id
        for c in inbox.inbox_page(ctx.engine)
        if c.account_id == account.id
        and question["uri"] in {m.platform_message_id for m in inbox.thread(ctx.engine, c.id)}
    ]
    item = outbox.queue_reply(ctx.engine, conversation, "Yes, size 44 is in stock.", now=datetime.now(UTC))
    outbox.move_state(ctx.engine, [item.id], OutboxState.APPROVED, now=datetime.now(UTC), reviewer="Kim")
    report = OutboxSender(ctx).send_ready(account_id=account.id)
    assert report.sent == [item.id], report.messages
    assert OutboxSender(ctx).send_ready(account_id=account.id).sent == []
    posts = [p for p in bluesky.posts_by("brand") if p["value"]["text"] == "Yes, size 44 is in stock."]
    assert len(posts) == 1 and posts[0]["value"]["reply"]["parent"]["uri"] == question["uri"]
    bluesky.settle()
    with qtbot.waitSignal(controller.account_synced, timeout=30_000):
        controller.sync_now(account.id)
    stored = [m.platform_message_id for m in inbox.thread(ctx.engine, conversation)]
    assert stored.count(posts[0]["uri"]) == 1


def test_the_demo_workspace_adds_the_local_networks_brand_account_once(
    ctx: AppContext, bluesky: BlueskyNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PARLEY_DEMO_BLUESKY names the running network's description (as the network tool writes it)."""
    from app.context import open_context
    from app.demo.bluesky import DEMO_BLUESKY_ACCOUNT, ENV, ensure_bluesky_demo
    from tests.peers.bluesky_network import write_info

    info = tmp_path / "network.json"
    write_info(bluesky, info)
    demo = open_context(ctx.paths.demo(), demo=True)
    try:
        isolate_keyring(demo)
        monkeypatch.delenv(ENV, raising=False)
        assert ensure_bluesky_demo(demo) is None, "no network described: the demo stays as it was"
        monkeypatch.setenv(ENV, str(info))
        added = ensure_bluesky_demo(demo)
        assert added is not None and added.name == DEMO_BLUESKY_ACCOUNT and added.platform is Platform.BLUESKY
        assert ensure_bluesky_demo(demo) == added, "the next start finds it"
        assert [a.name for a in accounts.list_accounts(demo.engine)] == [DEMO_BLUESKY_ACCOUNT]
        assert ensure_bluesky_demo(ctx) is None, "only in the demo profile"
    finally:
        demo.close()


def test_a_lost_session_asks_for_sign_in_and_the_dialog_signs_in_again_with_an_app_password(
    ctx: AppContext, bluesky: BlueskyNetwork, controller: SyncController, qtbot
) -> None:
    """Both tokens in the keyring are refused (the session was revoked): the sync marks the account; signing in
    again from the Accounts dialog takes a new app password, keeps the handle and server, and sync resumes."""
    user = bluesky.users["brand"]
    account = account_service.add_bluesky_account(ctx, user.handle, user.app_password, bluesky.pds, "brand-again")
    session = json.loads(ctx.secrets.get(account.id) or "{}")
    ctx.secrets.set(account.id, json.dumps({**session, "accessJwt": "not.a.token", "refreshJwt": "not.a.token"}))
    with qtbot.waitSignal(controller.account_failed, timeout=30_000):
        controller.sync_now(account.id)
    assert accounts.account_state(ctx.engine, account.id) is AccountState.NEEDS_SIGN_IN

    dialog = AccountsDialog(ctx, account_service, sync_controller=controller)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy)
    (row,) = [r for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0).text() == "brand-again"]
    dialog.table.selectRow(row)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.sign_in_dialog is not None
    form = dialog.sign_in_dialog.form
    assert isinstance(form, BlueskyForm)
    assert form.handle.text() == user.handle and form.handle.isReadOnly()
    assert form.server.text() == bluesky.pds and form.server.isReadOnly()
    qtbot.keyClicks(form.app_password, user.app_password)
    with qtbot.waitSignal(controller.account_synced, timeout=30_000):  # signing in syncs the account at once
        qtbot.keyClick(form.app_password, Qt.Key.Key_Return)
    renewed = json.loads(ctx.secrets.get(account.id) or "{}")
    assert renewed["accessJwt"] != "not.a.token" and renewed["did"] == user.did
    assert accounts.account_state(ctx.engine, account.id) is AccountState.OK
    assert "brand-again is signed in again." in dialog.message.text()
