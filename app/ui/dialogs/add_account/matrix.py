"""Matrix sign-in form: homeserver, user and password (the password is used once and never stored)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFormLayout, QLineEdit, QPushButton

from app.ui.dialogs.add_account.base import SignInDialog, SignInForm


class MatrixForm(SignInForm):
    """Adding signs in on a device of Parley's own; signing in again reuses that device."""

    platform = "matrix"
    title = "Matrix"

    def __init__(self, host: SignInDialog, account: dict[str, Any] | None = None) -> None:
        super().__init__(host, account)
        again = account is not None
        self.homeserver = QLineEdit(str(account["base_url"]) if account else "")
        self.homeserver.setPlaceholderText("https://matrix.org")
        self.user = QLineEdit(str(account.get("handle") or "") if account else "")
        self.user.setPlaceholderText("@support:example.org")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional")
        for field in (self.homeserver, self.user):
            field.setReadOnly(again)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setDefault(True)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow("Homeserver:", self.homeserver)
        layout.addRow("User:", self.user)
        layout.addRow("Password:", self.password)
        if not again:
            layout.addRow("Name in Parley:", self.name)
        layout.addRow("", self.sign_in_button)
        self.sign_in_button.clicked.connect(self._on_sign_in_button_clicked)
        self.password.returnPressed.connect(self._on_sign_in_button_clicked)

    @Slot()
    def _on_sign_in_button_clicked(self) -> None:
        problem = self.check_address(self.homeserver.text())
        if not problem and not (self.user.text().strip() and self.password.text()):
            problem = "Please give the user and the password."
        if problem:
            self.host.say(problem, error=True)
            return
        service, ctx = self.host.service, self.host.ctx
        homeserver, user, password = self.homeserver.text().strip(), self.user.text().strip(), self.password.text()
        name = self.name.text().strip() or None
        self.password.clear()  # nothing keeps the password once it is on its way
        self.host.say(f"Signing in to {homeserver}…")
        if self.account is not None:
            account_id, account_name = int(self.account["id"]), str(self.account["name"])

            def again() -> tuple[str, int]:
                service.reauthenticate_matrix(ctx, account_id, password)
                return f"{account_name} is signed in again.", account_id

            self.host.run(again, "sign in to Matrix again", self._done)
            return

        def add() -> tuple[str, int]:
            added = service.add_matrix_account(ctx, homeserver, user, password, name=name)
            return f"Added {added.name}.", int(added.id)

        self.host.run(add, "add a Matrix account", self._done)

    def _done(self, result: tuple[str, int]) -> None:
        self.host.finish(*result)
