"""Mastodon sign-in form: the browser (OAuth with PKCE, loopback redirect or a pasted code) or a pasted token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from app.platforms.mastodon_oauth import SignInCancelled
from app.ui.dialogs.add_account.base import SignInDialog, SignInForm
from app.ui.dialogs.job_runner import error_text


class MastodonForm(SignInForm):
    """Three ways in, one result: the browser comes back to Parley, the person pastes the code the
    instance shows, or the person pastes an access token made under Preferences › Development."""

    platform = "mastodon"
    title = "Mastodon"

    def __init__(self, host: SignInDialog, account: dict[str, Any] | None = None) -> None:
        super().__init__(host, account)
        self._flow: Any = None  # the BrowserSignIn under way
        self.instance = QLineEdit(str(account["base_url"]) if account else "")
        self.instance.setPlaceholderText("https://mastodon.social")
        self.instance.setReadOnly(account is not None)
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional, e.g. support")
        fields = QFormLayout()
        fields.addRow("Instance address:", self.instance)
        if account is None:
            fields.addRow("Name in Parley:", self.name)

        self.browser_button = QPushButton("Sign in with the browser")
        self.browser_button.setDefault(True)
        self.browser_status = QLabel("Your browser opens the instance's sign-in page; approve Parley there.")
        self.browser_status.setWordWrap(True)
        self.browser_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.code = QLineEdit()
        self.code.setPlaceholderText("the code the instance shows, or the whole address of that page")
        self.code_button = QPushButton("Use code")
        self.code_page_link = QLabel('<a href="code-page">Browser on another device? Get a code to paste</a>')
        code_row = QHBoxLayout()
        code_row.addWidget(self.code, 1)
        code_row.addWidget(self.code_button)
        browser = QGroupBox("Sign in with the browser (recommended)")
        browser_layout = QVBoxLayout(browser)
        browser_layout.addWidget(self.browser_button, 0, Qt.AlignmentFlag.AlignLeft)
        browser_layout.addWidget(self.browser_status)
        browser_layout.addWidget(self.code_page_link)
        browser_layout.addLayout(code_row)

        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Preferences › Development › New application › access token")
        self.token_button = QPushButton("Use token")
        token_box = QGroupBox("Or paste an access token")
        token_row = QHBoxLayout(token_box)
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.token_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(fields)
        layout.addWidget(browser)
        layout.addWidget(token_box)
        self._show_code_entry(False)
        self.browser_button.clicked.connect(self._on_browser_button_clicked)
        self.code_button.clicked.connect(self._on_code_button_clicked)
        self.code_page_link.linkActivated.connect(self._on_code_page_link_activated)
        self.token_button.clicked.connect(self._on_token_button_clicked)

    def cancel(self) -> None:
        if self._flow is not None:
            self._flow.cancel()

    # --- the three ways in ---------------------------------------------------------------------------
    @Slot()
    def _on_browser_button_clicked(self) -> None:
        if not self._address_ok():
            return
        self.cancel()  # a second click starts afresh
        address = self.instance.text().strip()
        service, ctx = self.host.service, self.host.ctx
        self.host.say(f"Registering Parley with {address}…")
        self.host.run(
            lambda: service.start_mastodon_sign_in(ctx, address), "start a Mastodon sign-in", self._begun,
            on_dropped=lambda flow: flow.close(),  # closed meanwhile: stop listening for a browser
        )  # fmt: skip

    def _begun(self, flow: Any) -> None:
        self._flow = flow
        self.destroyed.connect(flow.cancel)  # however this form goes away, the wait on the browser ends
        finish = self._finisher()
        opened = self.host.open_url(flow.url)
        self._show_code_entry(True)
        if opened:
            self.browser_status.setText("Waiting for you to approve Parley in the browser…")
        else:
            self.browser_status.setText(f'No browser could be opened. Open <a href="{flow.url}">this address</a>.')
        self.host.say("")
        self.host.run(
            lambda: finish(flow.wait()), "wait for the Mastodon sign-in", self._done, on_failed=self._wait_failed,
            blocking=False,
        )  # fmt: skip

    @Slot()
    def _on_code_button_clicked(self) -> None:
        flow, pasted, finish = self._flow, self.code.text(), self._finisher()
        if flow is None or not pasted.strip():
            self.host.say("Paste the code the instance showed first.", error=True)
            return
        self.host.say("Checking the code…")
        self.host.run(lambda: finish(flow.redeem(pasted)), "finish a Mastodon sign-in with a code", self._done)

    @Slot(str)
    def _on_code_page_link_activated(self, _link: str) -> None:
        if self._flow is not None:
            self.host.open_url(self._flow.paste_url)
            self.browser_status.setText("Approve Parley on that page, then paste the code it shows below.")

    @Slot()
    def _on_token_button_clicked(self) -> None:
        token, finish = self.token.text().strip(), self._finisher()
        if not self._address_ok():
            return
        if not token:
            self.host.say("Paste the access token first.", error=True)
            return
        self.host.say("Checking the token with the instance…")
        self.host.run(lambda: finish(token), "sign in to Mastodon with a token", self._done)

    # --- results -------------------------------------------------------------------------------------
    def _finisher(self) -> Callable[[str], tuple[str, int]]:
        """What to do with a token, on the worker thread: everything it needs is read here, on the GUI thread."""
        service, ctx = self.host.service, self.host.ctx
        address, name = self.instance.text().strip(), self.name.text().strip() or None
        if self.account is not None:
            account_id, account_name = int(self.account["id"]), str(self.account["name"])

            def again(token: str) -> tuple[str, int]:
                service.reauthenticate(ctx, account_id, token)
                return f"{account_name} is signed in again.", account_id

            return again

        def add(token: str) -> tuple[str, int]:
            added = service.add_mastodon_account(ctx, address, token, name=name)
            return f"Added {added.name}.", int(added.id)

        return add

    def _done(self, result: tuple[str, int]) -> None:
        message, account_id = result
        self.host.finish(message, account_id)

    def _wait_failed(self, error: object) -> None:
        if isinstance(error, SignInCancelled):
            return  # a newer attempt, a pasted code or closing the dialog ended this wait
        self.browser_status.setText("The browser did not finish the sign-in.")
        self.host.say(error_text(error), error=True)

    def _address_ok(self) -> bool:
        problem = self.check_address(self.instance.text())
        if problem:
            self.host.say(problem, error=True)
        return not problem

    def _show_code_entry(self, shown: bool) -> None:
        for widget in (self.code, self.code_button, self.code_page_link):
            widget.setVisible(shown)
