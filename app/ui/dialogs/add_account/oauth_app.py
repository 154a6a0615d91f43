"""X and Reddit sign-in forms: the client id of the app the person registered, then the browser (OAuth 2.0).

Both platforms want each client registered by hand in their developer portal, with the redirect address
``http://127.0.0.1:8765/callback``. The browser comes back to Parley on that address; a browser on another
device ends on an address that does not load, which the person pastes instead.
"""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from app.domain.models import Platform
from app.platforms.mastodon_oauth import SignInCancelled
from app.platforms.oauth2 import TokenBundle
from app.sync import oauth_accounts
from app.ui.dialogs.add_account.base import SignInDialog, SignInForm
from app.ui.dialogs.job_runner import error_text


class OAuthAppForm(SignInForm):
    """Client id (kept with the account, it is not a secret), then sign in with the browser or a pasted address.

    The sign-in calls go to `app.sync.oauth_accounts` (the host's account service covers the other platforms).
    """

    platform_enum: ClassVar[Platform]
    portal: ClassVar[str] = ""  # where the app is registered, shown as help

    def __init__(self, host: SignInDialog, account: dict[str, Any] | None = None) -> None:
        super().__init__(host, account)
        self._flow: Any = None
        self.port: int | None = None  # None: the platform's registered port (tests pick a free one)
        self.api_url = ""  # empty: the platform itself (tests point it at an emulator)
        self.auth_url = ""
        self.client_id = QLineEdit()
        self.client_id.setPlaceholderText("the app's client id" if account is None else "the app signed in with before")
        self.client_id.setReadOnly(account is not None)
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional, e.g. support")
        help_text = QLabel(
            f"Register an app for Parley at {self.portal} with the redirect address "
            "<b>http://127.0.0.1:8765/callback</b>, then give its client id here."
        )
        help_text.setWordWrap(True)
        help_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.fields = QFormLayout()
        self.fields.addRow("Client id:", self.client_id)
        if account is None:
            self.fields.addRow("Name in Parley:", self.name)
        self.browser_button = QPushButton("Sign in with the browser")
        self.browser_button.setDefault(True)
        self.browser_status = QLabel("Your browser opens the sign-in page; approve Parley there.")
        self.browser_status.setWordWrap(True)
        self.browser_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.pasted = QLineEdit()
        self.pasted.setPlaceholderText("browser on another device? paste the address it ended on")
        self.paste_button = QPushButton("Use address")
        paste_row = QHBoxLayout()
        paste_row.addWidget(self.pasted, 1)
        paste_row.addWidget(self.paste_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(help_text)
        layout.addLayout(self.fields)
        layout.addWidget(self.browser_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.browser_status)
        layout.addLayout(paste_row)
        self._show_paste(False)
        self.browser_button.clicked.connect(self._on_browser_button_clicked)
        self.paste_button.clicked.connect(self._on_paste_button_clicked)

    def cancel(self) -> None:
        if self._flow is not None:
            self._flow.cancel()

    def app(self) -> Any:
        """The app typed in here; None when signing in again (the account's own app, looked up by the worker)."""
        if self.account is not None:
            return None
        return oauth_accounts.OAuthApp(
            platform=self.platform_enum,
            client_id=self.client_id.text().strip(),
            api_url=self.api_url,
            auth_url=self.auth_url,
            modmail=self.modmail_wanted(),
            client_secret=self.client_secret_given(),
        )

    def modmail_wanted(self) -> bool:
        return False

    def client_secret_given(self) -> str:
        return ""

    @Slot()
    def _on_browser_button_clicked(self) -> None:
        if self.account is None and not self.client_id.text().strip():
            self.host.say("Give the client id of your app first.", error=True)
            return
        self.cancel()  # a second click starts afresh
        service, ctx, app, port = oauth_accounts, self.host.ctx, self.app(), self.port
        account_id = int(self.account["id"]) if self.account is not None else 0

        def start() -> Any:
            return service.start_oauth_sign_in(ctx, app or service.oauth_app_for(ctx, account_id), port=port)

        self.host.run(start, f"start a {self.title} sign-in", self._begun, on_dropped=lambda flow: flow.close())

    def _begun(self, flow: Any) -> None:
        self._flow = flow
        self.destroyed.connect(flow.cancel)
        finish = self._finisher()
        opened = self.host.open_url(flow.url)
        self._show_paste(True)
        if opened:
            self.browser_status.setText("Waiting for you to approve Parley in the browser…")
        else:
            self.browser_status.setText(f'No browser could be opened. Open <a href="{flow.url}">this address</a>.')
        self.host.say("")
        if not flow.listening:
            self.browser_status.setText(
                f"Another program uses {flow.redirect_uri}: approve Parley, then paste the address the browser "
                "ends on below."
            )
            return
        self.host.run(
            lambda: finish(flow.wait()), f"wait for the {self.title} sign-in", self._done, on_failed=self._wait_failed,
            blocking=False,
        )  # fmt: skip

    @Slot()
    def _on_paste_button_clicked(self) -> None:
        flow, pasted, finish = self._flow, self.pasted.text(), self._finisher()
        if flow is None or not pasted.strip():
            self.host.say("Paste the address the browser ended on first.", error=True)
            return
        self.host.say("Checking the sign-in…")
        self.host.run(lambda: finish(flow.redeem(pasted)), f"finish a {self.title} sign-in", self._done)

    def _finisher(self) -> Any:
        service, ctx, app = oauth_accounts, self.host.ctx, self.app()
        name = self.name.text().strip() or None
        if self.account is not None:
            account_id, account_name = int(self.account["id"]), str(self.account["name"])

            def again(tokens: TokenBundle) -> tuple[str, int]:
                service.reauthenticate_oauth(ctx, account_id, tokens)
                return f"{account_name} is signed in again.", account_id

            return again

        def add(tokens: TokenBundle) -> tuple[str, int]:
            added = service.add_oauth_account(ctx, app, tokens, name=name)
            return f"Added {added.name}.", int(added.id)

        return add

    def _done(self, result: tuple[str, int]) -> None:
        self.host.finish(*result)

    def _wait_failed(self, error: object) -> None:
        if isinstance(error, SignInCancelled):
            return
        self.browser_status.setText("The browser did not finish the sign-in.")
        self.host.say(error_text(error), error=True)

    def _show_paste(self, shown: bool) -> None:
        for widget in (self.pasted, self.paste_button):
            widget.setVisible(shown)


class XForm(OAuthAppForm):
    """Sign in to X. Reading DMs needs an X API tier that includes them (the free tier does not)."""

    platform = "x"
    title = "X"
    platform_enum = Platform.X
    portal = "developer.x.com (OAuth 2.0, type \u201cnative app\u201d)"


class RedditForm(OAuthAppForm):
    """Sign in to Reddit with an "installed app"; moderators can also bring in their subreddits' modmail."""

    platform = "reddit"
    title = "Reddit"
    platform_enum = Platform.REDDIT
    portal = "reddit.com/prefs/apps (type \u201cinstalled app\u201d)"

    def __init__(self, host: SignInDialog, account: dict[str, Any] | None = None) -> None:
        super().__init__(host, account)
        self.modmail = QCheckBox("Also sync modmail (for moderators)")
        self.client_secret = QLineEdit()
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.client_secret.setPlaceholderText("only for a \u201cscript\u201d or \u201cweb\u201d app")
        if account is None:
            self.fields.addRow("App secret:", self.client_secret)
            self.fields.addRow("", self.modmail)

    def modmail_wanted(self) -> bool:
        return self.modmail.isChecked()

    def client_secret_given(self) -> str:
        return self.client_secret.text().strip()
