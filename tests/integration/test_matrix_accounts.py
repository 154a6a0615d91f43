"""Matrix accounts end to end against a real Synapse, through the Accounts dialog and the real SyncController:
a sync gap found, shown, fetched with one click and resolved; the sign-in's expiry counted down; signing in
again from the status bar's link; removing the account signs its device out on the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import requests
from PySide6.QtCore import Qt
from sqlalchemy import select, update

from app.context import AppContext
from app.domain.clock import ManualClock
from app.domain.models import AccountRef, AccountState
from app.store import accounts
from app.store.gaps import list_open_gaps
from app.store.schema import messages, sync_gaps
from app.sync import account_service
from app.sync.qt_bridge import SyncController
from app.ui.dialogs.accounts_dialog import AccountsDialog
from app.ui.launch import build_main_window
from app.ui.timefmt import clock_time
from tests.peers.synapse import MatrixUser, SynapseServer
from tests.ui_fixtures import ui_app_ctx, ui_controller  # noqa: F401 - the fixtures ctx and controller

pytestmark = pytest.mark.synapse


@dataclass
class Brand:
    user: MatrixUser
    account: AccountRef


@pytest.fixture
def brand(ctx: AppContext, synapse: SynapseServer) -> Brand:
    user = synapse.register(synapse.unique("brand"))
    account = account_service.add_matrix_account(ctx, synapse.url, user.user_id, user.password, name="brand")
    return Brand(user, account)


@pytest.fixture
def customer(synapse: SynapseServer) -> MatrixUser:
    return synapse.register(synapse.unique("customer"))


def sync(controller: SyncController, account_id: int, qtbot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(controller.account_synced, timeout=30_000):
        controller.sync_now(account_id)


def open_dialog(ctx: AppContext, controller: SyncController, qtbot) -> AccountsDialog:  # type: ignore[no-untyped-def]
    dialog = AccountsDialog(ctx, account_service, sync_controller=controller)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy)
    dialog.table.selectRow(0)
    return dialog


def whoami(synapse: SynapseServer, token: str) -> int:
    url = f"{synapse.url}/_matrix/client/v3/account/whoami"
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def test_a_sync_gap_is_shown_and_one_click_fetches_the_missing_messages_exactly_once(
    ctx: AppContext, brand: Brand, customer: MatrixUser, controller: SyncController, qtbot
) -> None:
    # Small bounds so 20 messages overflow one sync: 5 in the timeline, one back-fill page of 5.
    options = dict(brand.account.options, timeline_limit=5, backfill_pages=1, backfill_page_size=5)
    with ctx.engine.begin() as connection:
        connection.execute(
            update(accounts.accounts).where(accounts.accounts.c.id == brand.account.id).values(options=options)
        )
    sync(controller, brand.account.id, qtbot)
    room = customer.create_room(invite=(brand.user.user_id,), direct=True)
    customer.send(room, "hello")
    sync(controller, brand.account.id, qtbot)
    sent = [customer.send(room, f"order question {i}") for i in range(20)]
    sync(controller, brand.account.id, qtbot)

    [gap] = list_open_gaps(ctx.engine, brand.account.id)
    assert gap.fillable and gap.start is not None and gap.end is not None
    dialog = open_dialog(ctx, controller, qtbot)
    now = ctx.clock.now()
    shown = f"Possible missed messages {clock_time(gap.start, now)}–{clock_time(gap.end, now).split(' ')[-1]}"
    assert shown in dialog.details.text()
    assert "1 possible gap" in dialog.table.item(0, 3).text()
    assert room not in dialog.details.text(), "the connector's resume data is not shown"
    assert dialog.fill_button.isVisible() and dialog.fill_button.isEnabled()

    with qtbot.waitSignal(controller.account_synced, timeout=30_000):
        qtbot.mouseClick(dialog.fill_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Possible missed messages" not in dialog.details.text() and not dialog.busy)
    assert not dialog.fill_button.isEnabled()

    with ctx.engine.connect() as connection:
        stored = (
            connection.execute(select(messages.c.platform_message_id).where(messages.c.platform_message_id.in_(sent)))
            .scalars()
            .all()
        )
        resolved = connection.execute(select(sync_gaps.c.resolved_at).where(sync_gaps.c.id == gap.id)).scalar_one()
    assert sorted(stored) == sorted(sent), "every missed message stored, none twice"
    assert resolved is not None and list_open_gaps(ctx.engine, brand.account.id) == []


def test_the_sign_in_expiry_the_homeserver_gives_is_counted_down_and_warned_about_a_week_ahead(
    ctx: AppContext, brand: Brand, controller: SyncController, qtbot
) -> None:
    # The test Synapse ends sessions after 30 days (session_lifetime), so its login says when (expires_in_ms).
    [row] = account_service.describe_accounts(ctx)
    expires = accounts.account_status_rows(ctx.engine)[0]["token_expires_at"]
    assert expires is not None and row["token_expires_at"] == expires.isoformat()
    clock = ManualClock(expires - timedelta(days=30))
    ctx.clock = clock
    dialog = open_dialog(ctx, controller, qtbot)
    assert "Sign-in expires in 30 days 0 h" in dialog.details.text()
    assert "sign-in expires" not in dialog.table.item(0, 3).text(), "no warning a month ahead"

    clock.advance(timedelta(days=23, hours=12))  # 6 days 12 h left
    window = build_main_window(ctx, controller)
    qtbot.addWidget(window)
    dialog.reload()
    qtbot.waitUntil(lambda: "sign-in expires in 6 days 12 h" in dialog.table.item(0, 3).text())
    assert "The sign-in expires in 6 days 12 h: sign in again to keep syncing." in dialog.details.text()
    [link] = window.sync_status.links.values()
    assert link.text() == "brand: sign-in expires in 6 days 12 h"


def test_signing_in_again_from_the_status_bar_link_takes_the_password_and_sync_resumes(
    ctx: AppContext, synapse: SynapseServer, brand: Brand, customer: MatrixUser, controller: SyncController, qtbot
) -> None:
    old_token = ctx.secrets.get(brand.account.id)
    assert old_token
    requests.post(  # the session is ended elsewhere (another client, an admin)
        f"{synapse.url}/_matrix/client/v3/logout", headers={"Authorization": f"Bearer {old_token}"}, timeout=10
    ).raise_for_status()
    with qtbot.waitSignal(controller.account_failed, timeout=30_000):
        controller.sync_now(brand.account.id)
    assert accounts.account_state(ctx.engine, brand.account.id) is AccountState.NEEDS_SIGN_IN

    window = build_main_window(ctx, controller)
    qtbot.addWidget(window)
    [link] = window.sync_status.links.values()
    assert link.text() == "brand: sign-in needed"
    qtbot.mouseClick(link, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(AccountsDialog) is not None)
    dialog = window.findChild(AccountsDialog)
    qtbot.waitUntil(lambda: dialog.sign_in_dialog is not None)
    form = dialog.sign_in_dialog.form
    assert form.homeserver.text() == synapse.url and form.homeserver.isReadOnly()
    assert form.user.text() == brand.user.user_id
    form.password.setText(brand.user.password)
    with qtbot.waitSignal(controller.account_synced, timeout=30_000):  # signing in syncs the account at once
        qtbot.mouseClick(form.sign_in_button, Qt.MouseButton.LeftButton)

    new_token = ctx.secrets.get(brand.account.id)
    assert new_token and new_token != old_token and whoami(synapse, new_token) == 200
    assert accounts.account_state(ctx.engine, brand.account.id) is AccountState.OK
    assert "brand is signed in again." in dialog.message.text()
    qtbot.waitUntil(lambda: not window.sync_status.links)


def test_removing_a_matrix_account_signs_its_device_out_before_forgetting_the_token(
    ctx: AppContext, synapse: SynapseServer, brand: Brand, controller: SyncController, qtbot
) -> None:
    token = ctx.secrets.get(brand.account.id)
    assert token and whoami(synapse, token) == 200
    device = brand.account.options["device_id"]
    assert device in {d["device_id"] for d in brand.user.call("GET", "/devices")["devices"]}
    dialog = open_dialog(ctx, controller, qtbot)
    dialog.confirm = lambda question: "signs its session out on the server" in question
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0 and not dialog.busy)

    assert "its session on the server was signed out" in dialog.message.text()
    assert whoami(synapse, token) == 401
    assert device not in {d["device_id"] for d in brand.user.call("GET", "/devices")["devices"]}
    assert ctx.secrets.get(brand.account.id) is None


def test_removing_an_account_whose_server_is_gone_still_removes_it_and_says_the_device_stayed(
    ctx: AppContext, brand: Brand, controller: SyncController, qtbot
) -> None:
    from tests.peers.mastodon_mock import free_port

    accounts.update_connection(ctx.engine, brand.account.id, base_url=f"http://127.0.0.1:{free_port()}")
    dialog = open_dialog(ctx, controller, qtbot)
    dialog.confirm = lambda question: True
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0 and not dialog.busy)

    assert "The server could not sign its session out (Cannot reach 127.0.0.1" in dialog.message.text()
    assert "remove the device in the account's security settings" in dialog.message.text()
    assert ctx.secrets.get(brand.account.id) is None
    assert account_service.describe_accounts(ctx) == []
