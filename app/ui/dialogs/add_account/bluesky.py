"""Bluesky sign-in form: handle, app password and (for accounts not hosted by Bluesky) the PDS address.

The app password is sent once to create a session and never stored; the keyring keeps the session.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton

from app.ui.dialogs.add_account.base import SignInDialog, SignInForm

DEFAULT_SERVER = "https://bsky.social"


class BlueskyForm(SignInForm):
    """Adding or signing in again both start a new session with an app password."""

    platform = "bluesky"
    title = "Bluesky"

    def __init__(self, host: SignInDialog, account: dict[str, Any] | None = None) -> None:
        super().__init__(host, account)
        again = account is not None
        self.handle = QLineEdit(str(account.get("handle") or "") if account else "")
        self.handle.setPlaceholderText("support.bsky.social")
        self.app_password = QLineEdit()
        self.app_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.app_password.setPlaceholderText("xxxx-xxxx-xxxx-xxxx")
        self.server = QLineEdit(str(account["base_url"]) if account else "")
        self.server.setPlaceholderText(DEFAULT_SERVER)
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional")
        for field in (self.handle, self.server):
            field.setReadOnly(again)
        note = QLabel(
            "Use an app password (Bluesky: Settings → Privacy and security → App passwords), not your main "
            "password. Allow direct messages on it for Parley to read and answer DMs."
        )
        note.setWordWrap(True)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setDefault(True)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow("Handle:", self.handle)
        layout.addRow("App password:", self.app_password)
        layout.addRow("Server (PDS):", self.server)
        if not again:
            layout.addRow("Name in Parley:", self.name)
        layout.addRow("", note)
        layout.addRow("", self.sign_in_button)
        self.sign_in_button.clicked.connect(self._on_sign_in_button_clicked)
        self.app_password.returnPressed.connect(self._on_sign_in_button_clicked)

    @Slot()
    def _on_sign_in_button_clicked(self) -> None:
        server = self.server.text().strip()
        problem = self.check_address(server) if server else ""
        if not problem and not (self.handle.text().strip() and self.app_password.text().strip()):
            problem = "Please give the handle and an app password."
        if problem:
            self.host.say(problem, error=True)
            return
        service, ctx = self.host.service, self.host.ctx
        handle, app_password = self.handle.text().strip(), self.app_password.text()
        name = self.name.text().strip() or None
        self.app_password.clear()  # nothing keeps the app password once it is on its way
        self.host.say(f"Signing in to {server or DEFAULT_SERVER}…")
        if self.account is not None:
            account_id, account_name = int(self.account["id"]), str(self.account["name"])

            def again() -> tuple[str, int]:
                service.reauthenticate_bluesky(ctx, account_id, app_password)
                return f"{account_name} is signed in again.", account_id

            self.host.run(again, "sign in to Bluesky again", self._done)
            return

        def add() -> tuple[str, int]:
            added = service.add_bluesky_account(ctx, handle, app_password, server, name=name)
            return f"Added {added.name}.", int(added.id)

        self.host.run(add, "add a Bluesky account", self._done)

    def _done(self, result: tuple[str, int]) -> None:
        self.host.finish(*result)
