"""Adding X and Reddit accounts through the browser (OAuth 2.0), in the Accounts dialog and on the command line,
against the X and Reddit emulators on 127.0.0.1.

No real browser runs: a stand-in replaces "open the system browser". It opens the emulator's consent page with
``login=<user>`` (the emulators' stand-in for the person approving) and follows the redirect back to Parley's
loopback receiver, or, as a browser on another device, only notes the address it would end on.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import requests
from PySide6.QtCore import Qt

from app import APP_ID
from app.context import AppContext
from app.domain.models import Platform
from app.platforms.oauth2 import TokenBundle
from app.store import accounts
from app.sync import account_service, oauth_accounts
from app.ui.dialogs.accounts_dialog import AccountsDialog
from tests.peers.reddit_api import RedditApi
from tests.peers.x_api import XApi
from tests.ui_fixtures import ui_app_ctx  # noqa: F401 - the fixture ctx

REPO = Path(__file__).resolve().parents[2]


class ConsentBrowser:
    """Approves every sign-in page it is asked to open as `login`; `follow=False` is a browser elsewhere."""

    def __init__(self, login: str, *, follow: bool = True) -> None:
        self.login, self.follow = login, follow
        self.opened: list[str] = []
        self.ended_on: list[str] = []
        self.errors: list[BaseException] = []

    def open(self, url: str) -> bool:
        self.opened.append(url)
        threading.Thread(target=self._approve, args=(url,), daemon=True).start()
        return True

    def _approve(self, url: str) -> None:
        try:
            page = requests.get(url, params={"login": self.login}, allow_redirects=False, timeout=10)
            assert page.status_code == 302, page.text
            self.ended_on.append(page.headers["Location"])
            if self.follow:
                requests.get(page.headers["Location"], timeout=10).raise_for_status()
        except BaseException as exc:  # reported to the test, which asserts there were none
            self.errors.append(exc)


def browser_env(tmp_path: Path, login: str) -> dict[str, str]:
    """The environment for a `parley` process whose BROWSER stands in for the person's: it approves as `login`."""
    browser = tmp_path / "browser"
    browser.write_text(
        f"#!{sys.executable}\nimport sys, requests\n"
        f"requests.get(sys.argv[1], params={{'login': {login!r}}}, timeout=10).raise_for_status()\n"
    )
    browser.chmod(0o755)
    return dict(os.environ, BROWSER=str(browser), PYTHONPATH=str(REPO))


@pytest.fixture
def x() -> Iterator[XApi]:
    server = XApi()
    yield server
    server.close()


@pytest.fixture
def reddit() -> Iterator[RedditApi]:
    server = RedditApi()
    yield server
    server.close()


def open_form(ctx: AppContext, browser: ConsentBrowser, qtbot, platform: str):  # type: ignore[no-untyped-def]
    dialog = AccountsDialog(ctx, account_service)
    dialog.open_url = browser.open
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy)
    qtbot.mouseClick(dialog.add_buttons[platform], Qt.MouseButton.LeftButton)
    assert dialog.sign_in_dialog is not None
    form = dialog.sign_in_dialog.form
    form.port = 0  # any free port: the emulator accepts whatever redirect the request names
    return dialog, form


def test_add_x_through_the_browser_keeps_the_rotating_tokens_in_the_keyring(ctx: AppContext, x: XApi, qtbot) -> None:
    person = x.add_user("brandsupport", "Brand Support")
    browser = ConsentBrowser("brandsupport")
    dialog, form = open_form(ctx, browser, qtbot, "x")
    form.api_url, form.auth_url = x.url, x.url + "/i/oauth2/authorize"
    qtbot.keyClicks(form.client_id, x.client_id)
    qtbot.keyClicks(form.name, "support")

    qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy, timeout=20_000)
    assert browser.errors == [] and "Added support." in dialog.message.text()
    query = requests.utils.urlparse(browser.opened[0]).query
    for part in ("code_challenge_method=S256", "scope=dm.read+dm.write+tweet.read+tweet.write", "offline.access"):
        assert part in query
    [account] = accounts.list_accounts(ctx.engine)
    assert (account.platform, account.handle, account.platform_user_id) == (Platform.X, "@brandsupport", person["id"])
    assert account.options["client_id"] == x.client_id
    kept = TokenBundle.loads(ctx.secrets.get(account.id) or "")
    assert x.tokens[kept.access_token] == person["id"] and x.refresh_tokens[kept.refresh_token] == person["id"]


def test_a_reddit_moderator_adds_an_account_with_modmail_by_pasting_the_address_from_another_device(
    ctx: AppContext, reddit: RedditApi, qtbot
) -> None:
    reddit.add_user("brand_mod")
    browser = ConsentBrowser("brand_mod", follow=False)
    dialog, form = open_form(ctx, browser, qtbot, "reddit")
    form.api_url, form.auth_url = reddit.url, reddit.url
    qtbot.keyClicks(form.client_id, reddit.client_id)
    qtbot.mouseClick(form.modmail, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.pasted.isVisible() and len(browser.ended_on) == 1, timeout=10_000)

    qtbot.keyClicks(form.pasted, browser.ended_on[0])
    qtbot.mouseClick(form.paste_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy, timeout=20_000)
    assert browser.errors == [] and "duration=permanent" in browser.opened[0]
    [account] = accounts.list_accounts(ctx.engine)
    assert (account.platform, account.handle, account.options["modmail"]) == (Platform.REDDIT, "u/brand_mod", True)
    kept = TokenBundle.loads(ctx.secrets.get(account.id) or "")
    assert reddit.tokens[kept.access_token] == "brand_mod" and kept.refresh_token in reddit.refresh_tokens


def test_a_pasted_address_from_another_sign_in_attempt_is_refused_and_nothing_is_added(
    ctx: AppContext, x: XApi, qtbot
) -> None:
    x.add_user("brand")
    dialog, form = open_form(ctx, ConsentBrowser("nobody-approves", follow=False), qtbot, "x")
    form.api_url, form.auth_url = x.url, x.url + "/i/oauth2/authorize"
    qtbot.keyClicks(form.client_id, x.client_id)
    qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.pasted.isVisible())

    qtbot.keyClicks(form.pasted, "http://127.0.0.1:8765/callback?state=someone-elses&code=abc")
    qtbot.mouseClick(form.paste_button, Qt.MouseButton.LeftButton)

    sign_in = dialog.sign_in_dialog
    qtbot.waitUntil(lambda: "does not belong to this attempt" in sign_in.message.text(), timeout=10_000)
    assert accounts.list_accounts(ctx.engine) == []


def test_cli_adds_an_x_account_through_the_browser(tmp_path: Path, x: XApi, secret_service: dict[str, str]) -> None:
    person: dict[str, Any] = x.add_user("clibrand")
    env = browser_env(tmp_path, "clibrand")
    data_dir = tmp_path / "profile"
    base = [sys.executable, "-m", "app", "--data-dir", str(data_dir)]
    added = subprocess.run(
        [*base, "accounts", "add", "x", "--client-id", x.client_id, "--port", "0", "--name", "brand",
         "--api-url", x.url, "--auth-url", x.url + "/i/oauth2/authorize"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, env=env, cwd=REPO,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "/i/oauth2/authorize?" in added.stderr and "Added brand (@clibrand)" in added.stderr
    listed = subprocess.run([*base, "accounts", "list", "--json"], capture_output=True, text=True, env=env, cwd=REPO)
    [row] = json.loads(listed.stdout)
    assert (row["platform"], row["handle"]) == ("x", "@clibrand")
    with sqlite3.connect(data_dir / "parley.sqlite3") as connection:
        profile_id = connection.execute("SELECT value FROM profile_settings WHERE key = 'profile_id'").fetchone()[0]
    kept = TokenBundle.loads(keyring.get_password(APP_ID, f"{profile_id}/{row['id']}") or "")
    assert x.tokens[kept.access_token] == person["id"]
    for path in [data_dir / "parley.sqlite3", *data_dir.rglob("*.log"), *data_dir.rglob("*.toml")]:
        content = path.read_bytes()
        assert kept.access_token.encode() not in content and kept.refresh_token.encode() not in content


def test_cli_refuses_x_without_a_client_id(tmp_path: Path, secret_service: dict[str, str]) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    run = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(tmp_path / "p"), "accounts", "add", "reddit"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, env=env, cwd=REPO,
    )  # fmt: skip
    assert run.returncode != 0 and "--client-id" in run.stderr


def test_a_revoked_x_account_signs_in_again_through_the_browser_with_its_own_app(
    ctx: AppContext, x: XApi, qtbot
) -> None:
    person = x.add_user("brand")
    account = oauth_accounts.add_oauth_account(
        ctx,
        oauth_accounts.OAuthApp(Platform.X, x.client_id, api_url=x.url, auth_url=x.url + "/i/oauth2/authorize"),
        TokenBundle(person["access_token"], person["refresh_token"]),
    )
    x.expire_access_tokens()
    x.refresh_tokens.clear()
    browser = ConsentBrowser("brand")
    dialog = AccountsDialog(ctx, account_service)
    dialog.open_url = browser.open
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.table.rowCount() == 1)
    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.sign_in_dialog is not None
    form = dialog.sign_in_dialog.form
    form.port = 0

    qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: "is signed in again." in dialog.message.text(), timeout=20_000)
    assert browser.errors == [] and f"client_id={x.client_id}" in browser.opened[0]
    kept = TokenBundle.loads(ctx.secrets.get(account.id) or "")
    assert x.tokens[kept.access_token] == person["id"] and x.refresh_tokens[kept.refresh_token] == person["id"]
    assert [a.id for a in accounts.list_accounts(ctx.engine)] == [account.id]


def test_with_the_redirect_port_taken_the_form_says_so_and_a_pasted_address_still_signs_in(
    ctx: AppContext, x: XApi, qtbot
) -> None:
    import socket

    x.add_user("brand")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    browser = ConsentBrowser("brand", follow=False)
    dialog, form = open_form(ctx, browser, qtbot, "x")
    form.port = taken.getsockname()[1]
    form.api_url, form.auth_url = x.url, x.url + "/i/oauth2/authorize"
    qtbot.keyClicks(form.client_id, x.client_id)
    try:
        qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Another program uses" in form.browser_status.text() and len(browser.ended_on) == 1)
        qtbot.keyClicks(form.pasted, browser.ended_on[0])
        qtbot.mouseClick(form.paste_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy, timeout=20_000)
    finally:
        taken.close()
    assert browser.errors == [] and [a.handle for a in accounts.list_accounts(ctx.engine)] == ["@brand"]


def test_a_reddit_script_app_signs_in_with_its_secret_which_the_keyring_keeps_for_renewals(
    ctx: AppContext, qtbot
) -> None:
    reddit = RedditApi(client_id="script-app", client_secret="s3cret-of-the-app")
    try:
        reddit.add_user("brand")
        browser = ConsentBrowser("brand")
        dialog, form = open_form(ctx, browser, qtbot, "reddit")
        form.api_url, form.auth_url = reddit.url, reddit.url
        qtbot.keyClicks(form.client_id, "script-app")
        qtbot.keyClicks(form.client_secret, "s3cret-of-the-app")
        qtbot.mouseClick(form.browser_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy, timeout=20_000)
        assert browser.errors == []
        [account] = accounts.list_accounts(ctx.engine)
        assert "s3cret" not in json.dumps(account.options)  # the secret is not kept with the account's details
        reddit.expire_access_tokens()

        identity = account_service.test_connection(ctx, account.id)  # renews with the secret from the keyring

        assert identity.handle == "u/brand"
        kept = TokenBundle.loads(ctx.secrets.get(account.id) or "")
        assert kept.client_secret == "s3cret-of-the-app" and reddit.tokens[kept.access_token] == "brand"
        assert len(reddit.received("POST", r"/api/v1/access_token")) == 2  # the sign-in, then the renewal
    finally:
        reddit.close()


def test_cli_adds_a_reddit_script_app_account_with_its_secret_from_stdin(
    tmp_path: Path, secret_service: dict[str, str]
) -> None:
    reddit = RedditApi(client_id="script-app", client_secret="s3cret-of-the-app")
    try:
        reddit.add_user("clibrand")
        env = browser_env(tmp_path, "clibrand")
        base = [sys.executable, "-m", "app", "--data-dir", str(tmp_path / "profile")]
        added = subprocess.run(
            [*base, "accounts", "add", "reddit", "--client-id", "script-app", "--with-secret", "--modmail",
             "--port", "0", "--api-url", reddit.url, "--auth-url", reddit.url],
            input="s3cret-of-the-app\n", capture_output=True, text=True, timeout=60, env=env, cwd=REPO,
        )  # fmt: skip
    finally:
        reddit.close()
    assert added.returncode == 0, added.stderr
    assert "Added u/clibrand (u/clibrand)" in added.stderr and "s3cret" not in added.stderr
    assert "duration=permanent" in added.stderr
