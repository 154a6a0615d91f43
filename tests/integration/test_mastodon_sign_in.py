"""Adding and re-signing Mastodon accounts through the browser, in the Accounts dialog and on the command line,
against mastodon-mock.

No real browser runs: in the dialog a StandInBrowser replaces QDesktopServices.openUrl (it fetches the
instance's sign-in page with requests, picks the account and follows the redirect, as a person would);
on the command line the BROWSER environment variable names a small script that does the same.
mastodon-mock's consent page has no password and does not check PKCE (see test_mastodon_oauth.py).
"""

from __future__ import annotations

import io
import json
import os
import queue
import secrets
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import keyring
import pytest
import requests
from PySide6.QtCore import QPoint, Qt
from sqlalchemy import update

from app import APP_ID
from app.context import AppContext
from app.domain.models import AccountRef, AccountState, Platform
from app.platforms.mastodon import MastodonConnector
from app.platforms.mastodon_oauth import obtain_token
from app.store import accounts
from app.store.schema import accounts as accounts_table
from app.sync import account_service
from app.ui.dialogs.accounts_dialog import AccountsDialog
from tests.peers.mastodon_mock import MastodonMock
from tests.peers.oauth_browser import StandInBrowser, approve_sign_in, shown_code
from tests.ui_fixtures import ui_app_ctx  # noqa: F401 - the fixture ctx

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def person(mastodon_server: MastodonMock) -> dict[str, Any]:
    return mastodon_server.create_user(f"signin_{secrets.token_hex(4)}")


def handle_of(server: MastodonMock, token: str) -> str:
    account = AccountRef(id=1, platform=Platform.MASTODON, name="check", base_url=server.url)
    return MastodonConnector(account, token).verify().handle


def open_form(ctx: AppContext, browser: StandInBrowser, qtbot, account_row: int | None = None):  # type: ignore[no-untyped-def]
    dialog = AccountsDialog(ctx, account_service)
    dialog.open_url = browser.open
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy)
    if account_row is None:
        qtbot.mouseClick(dialog.add_buttons["mastodon"], Qt.MouseButton.LeftButton)
    else:
        dialog.table.selectRow(account_row)
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.sign_in_dialog is not None
    return dialog, dialog.sign_in_dialog.form


def test_add_mastodon_through_the_browser_comes_back_to_parley_and_keeps_the_token_in_the_keyring(
    ctx: AppContext, mastodon_server: MastodonMock, person: dict[str, Any], qtbot
) -> None:
    browser = StandInBrowser(approve_as=person["username"])
    dialog, form = open_form(ctx, browser, qtbot)
    form.instance.setText(mastodon_server.url)
    form.name.setText("support")
    qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy, timeout=20_000)
    assert browser.errors == []
    [opened] = browser.opened
    assert opened.startswith(f"{mastodon_server.url}/oauth/authorize?") and "code_challenge_method=S256" in opened
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in opened, "the browser comes back to a loopback receiver"
    assert "Added support." in dialog.message.text() and dialog.sign_in_dialog is None
    account = accounts.find_account(ctx.engine, "support")
    token = ctx.secrets.get(account.id)
    assert token and handle_of(mastodon_server, token) == f"@{person['username']}"
    assert account.handle == f"@{person['username']}"


def test_a_browser_on_another_device_gets_a_code_page_and_the_pasted_code_signs_in(
    ctx: AppContext, mastodon_server: MastodonMock, person: dict[str, Any], qtbot
) -> None:
    browser = StandInBrowser(approve_as=person["username"], on_this_computer=False)
    dialog, form = open_form(ctx, browser, qtbot)
    form.instance.setText(mastodon_server.url)
    qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.code_page_link.isVisible() and len(browser.opened) == 1)

    link = form.code_page_link
    qtbot.mouseClick(link, Qt.MouseButton.LeftButton, pos=QPoint(10, link.height() // 2))
    qtbot.waitUntil(lambda: len(browser.codes) == 1, timeout=10_000)
    assert "redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob" in browser.opened[1]
    form.code.setText(f"  {browser.codes[0]} ")
    qtbot.mouseClick(form.code_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy, timeout=20_000)
    assert browser.errors == []
    assert f"Added @{person['username']}." in dialog.message.text()
    [account] = accounts.list_accounts(ctx.engine)
    assert handle_of(mastodon_server, ctx.secrets.get(account.id) or "") == f"@{person['username']}"


def test_a_made_up_code_is_refused_in_the_form_and_nothing_is_added(
    ctx: AppContext, mastodon_server: MastodonMock, qtbot
) -> None:
    browser = StandInBrowser()  # the person never approves
    dialog, form = open_form(ctx, browser, qtbot)
    form.instance.setText(mastodon_server.url)
    qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.code.isVisible())
    form.code.setText("made-up-code")
    qtbot.mouseClick(form.code_button, Qt.MouseButton.LeftButton)
    sign_in = dialog.sign_in_dialog
    qtbot.waitUntil(lambda: "did not accept the code" in sign_in.message.text(), timeout=10_000)
    assert accounts.list_accounts(ctx.engine) == []
    sign_in.reject()  # closing stops the wait on the browser at once
    qtbot.waitUntil(lambda: dialog.sign_in_dialog is None)


def test_a_revoked_mastodon_account_signs_in_again_through_the_browser_and_keeps_its_data(
    ctx: AppContext, mastodon_server: MastodonMock, person: dict[str, Any], qtbot
) -> None:
    account = account_service.add_mastodon_account(ctx, mastodon_server.url, person["access_token"], "brand")
    requests.post(f"{mastodon_server.url}/oauth/revoke", data={"token": person["access_token"]}, timeout=10)
    with pytest.raises(Exception, match="refused the sign-in"):
        account_service.test_connection(ctx, account.id)
    assert accounts.account_state(ctx.engine, account.id) is AccountState.NEEDS_SIGN_IN

    browser = StandInBrowser(approve_as=person["username"])
    dialog, form = open_form(ctx, browser, qtbot, account_row=0)
    assert "Sign-in needed" in dialog.table.item(0, 3).text() and dialog.sign_in_button.isDefault()
    assert form.instance.text() == mastodon_server.url and form.instance.isReadOnly()
    qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "brand is signed in again." in dialog.message.text(), timeout=20_000)

    assert browser.errors == []
    assert accounts.account_state(ctx.engine, account.id) is AccountState.OK
    token = ctx.secrets.get(account.id)
    assert token and token != person["access_token"] and handle_of(mastodon_server, token) == f"@{person['username']}"
    assert accounts.list_accounts(ctx.engine) == [accounts.get_account(ctx.engine, account.id)], "same account"


def test_signing_in_again_as_someone_else_is_refused_and_the_old_token_stays(
    ctx: AppContext, mastodon_server: MastodonMock, person: dict[str, Any], qtbot
) -> None:
    account = account_service.add_mastodon_account(ctx, mastodon_server.url, person["access_token"], "brand")
    with ctx.engine.begin() as connection:
        connection.execute(update(accounts_table).values(state=AccountState.NEEDS_SIGN_IN.value))
    stranger = mastodon_server.create_user(f"stranger_{secrets.token_hex(3)}")
    dialog, form = open_form(ctx, StandInBrowser(), qtbot, account_row=0)
    form.token.setText(stranger["access_token"])
    qtbot.mouseClick(form.token_button, Qt.MouseButton.LeftButton)
    sign_in = dialog.sign_in_dialog
    qtbot.waitUntil(lambda: f"belongs to @{stranger['username']}" in sign_in.message.text(), timeout=10_000)
    assert ctx.secrets.get(account.id) == person["access_token"]


def test_obtain_token_takes_a_code_pasted_on_stdin_while_waiting_for_the_browser(
    mastodon_server: MastodonMock, person: dict[str, Any]
) -> None:
    read_end, write_end = os.pipe()
    stdin = os.fdopen(read_end)
    out = queue.SimpleQueue[str]()

    class Printed(io.StringIO):
        def write(self, text: str) -> int:
            out.put(text)
            return len(text)

    result: list[str] = []
    worker = threading.Thread(
        target=lambda: result.append(
            obtain_token(mastodon_server.url, open_browser=lambda url: None, stdin=stdin, out=Printed())
        ),
        daemon=True,
    )
    worker.start()
    printed = ""
    while "paste the code" not in printed:
        printed += out.get(timeout=10)
    paste_url = next(line.strip() for line in printed.splitlines() if "redirect_uri=urn" in line)
    code = shown_code(approve_sign_in(paste_url, person["username"]))
    os.write(write_end, f"{code}\n".encode())
    worker.join(10)
    os.close(write_end)
    stdin.close()
    assert result and handle_of(mastodon_server, result[0]) == f"@{person['username']}"


def test_cli_adds_a_mastodon_account_through_the_browser(
    tmp_path: Path, mastodon_server: MastodonMock, person: dict[str, Any], secret_service: dict[str, str]
) -> None:
    browser = tmp_path / "browser"  # stands in for the person's browser: approves as `person`
    browser.write_text(
        f"#!{sys.executable}\nimport sys\nfrom tests.peers.oauth_browser import approve_sign_in\n"
        f"approve_sign_in(sys.argv[1], {person['username']!r}).raise_for_status()\n"
    )
    browser.chmod(0o755)
    env = dict(os.environ, BROWSER=str(browser), PYTHONPATH=str(REPO))
    data_dir = tmp_path / "profile"
    base = [sys.executable, "-m", "app", "--data-dir", str(data_dir)]
    added = subprocess.run(
        [*base, "accounts", "add", "mastodon", "--instance", mastodon_server.url, "--oauth", "--name", "brand"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, env=env, cwd=REPO,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "/oauth/authorize?" in added.stderr and f"Added brand (@{person['username']})" in added.stderr
    listed = subprocess.run([*base, "accounts", "list", "--json"], capture_output=True, text=True, env=env, cwd=REPO)
    [row] = json.loads(listed.stdout)
    assert (row["name"], row["handle"], row["token_expires_at"]) == ("brand", f"@{person['username']}", None)
    with sqlite3.connect(data_dir / "parley.sqlite3") as connection:
        profile_id = connection.execute("SELECT value FROM profile_settings WHERE key = 'profile_id'").fetchone()[0]
    token = keyring.get_password(APP_ID, f"{profile_id}/{row['id']}")
    assert token and handle_of(mastodon_server, token) == f"@{person['username']}"
    for path in [data_dir / "parley.sqlite3", *data_dir.rglob("*.log"), *data_dir.rglob("*.toml")]:
        assert token.encode() not in path.read_bytes(), f"the token leaked into {path.name}"
