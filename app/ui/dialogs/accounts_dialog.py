"""The Accounts dialog: list accounts with their state; add, test and remove them without blocking the window.

Every call into the account service (sign-in, verify, keyring, listing) runs as a worker job; the dialog
shows a busy state meanwhile and the platform's own words when something fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.errors import KnownError
from app.ui.workers import Job, start_job

log = logging.getLogger("app.ui.accounts")

_STATE_TEXT = {
    "ok": "OK",
    "needs_sign_in": "Sign-in needed",
    "offline": "Offline",
    "rate_limited": "Rate-limited",
    "error": "Error",
}
_COLUMNS = ("Name", "Platform", "Handle", "State", "Last synced")


def default_account_service() -> Any | None:
    """The sync layer's account service, or None in a build without it (the dialog then says so)."""
    try:
        from app.sync import account_service
    except ImportError:
        return None
    return account_service


def error_text(error: object) -> str:
    if isinstance(error, KnownError):
        return error.user_message()
    return f"Something went wrong ({type(error).__name__}); the details are in the log file."


class CredentialsDialog(QDialog):
    """A small form for one sign-in; `values()` returns the fields once accepted."""

    def __init__(self, title: str, fields: list[tuple[str, str, bool, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.inputs: dict[str, QLineEdit] = {}
        self._required = {key for key, _, required, _ in fields if required}
        form = QFormLayout()
        for key, label, _required, placeholder in fields:
            edit = QLineEdit()
            edit.setPlaceholderText(placeholder)
            if key in ("token", "password"):
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.inputs[key] = edit
            form.addRow(label, edit)
        self.error = QLabel()
        self.error.setStyleSheet("color: #C92A2A;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def values(self) -> dict[str, str]:
        return {key: edit.text().strip() for key, edit in self.inputs.items()}

    @Slot()
    def _on_buttons_accepted(self) -> None:
        values = self.values()
        missing = [key for key in self._required if not values[key]]
        url = values.get("url", "")
        if missing:
            self._fail("Please fill in every required field.")
        elif url and not url.lower().startswith(("https://", "http://")):
            self._fail("The address must start with https:// (for example https://mastodon.social).")
        else:
            self.accept()

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class AccountsDialog(QDialog):
    """Accounts table and actions. `confirm` asks a yes/no question; replaceable so tests need no modal loop."""

    def __init__(self, ctx: AppContext, service: Any | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Accounts")
        self._ctx = ctx
        self._service: Any = service if service is not None else default_account_service()
        self._jobs: set[Job] = set()
        self._rows: list[dict[str, Any]] = []
        self.confirm: Callable[[str], bool] = self._ask
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.message = QLabel()
        self.message.setObjectName("accountsMessage")
        self.message.setWordWrap(True)
        self.add_mastodon_button = QPushButton("Add Mastodon…")
        self.add_matrix_button = QPushButton("Add Matrix…")
        self.test_button = QPushButton("Test connection")
        self.remove_button = QPushButton("Remove…")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        actions = QHBoxLayout()
        for button in (self.add_mastodon_button, self.add_matrix_button, self.test_button, self.remove_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        layout.addWidget(close)
        self.resize(720, 380)
        self.add_mastodon_button.clicked.connect(self._on_add_mastodon_clicked)
        self.add_matrix_button.clicked.connect(self._on_add_matrix_clicked)
        self.test_button.clicked.connect(self._on_test_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        if self._service is None:
            self._set_message("Managing accounts is not available in this build of Parley.", error=True)
        self._update_buttons()
        self.reload()

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def reload(self) -> None:
        if self._service is not None:
            self._run(lambda: self._service.describe_accounts(self._ctx), "list accounts", self._show_rows)

    def selected_account(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self._rows[rows[0].row()] if rows else None

    # --- actions -------------------------------------------------------------------------------------
    def add_mastodon(self, instance_url: str, token: str, name: str | None = None) -> None:
        self._set_message(f"Checking the token with {instance_url}…")
        self._run(
            lambda: self._service.add_mastodon_account(self._ctx, instance_url, token, name=name or None),
            "add a Mastodon account",
            self._on_account_added,
        )

    def add_matrix(self, homeserver: str, user: str, password: str, name: str | None = None) -> None:
        self._set_message(f"Signing in to {homeserver}…")
        self._run(
            lambda: self._service.add_matrix_account(self._ctx, homeserver, user, password, name=name or None),
            "add a Matrix account",
            self._on_account_added,
        )

    @Slot()
    def _on_add_mastodon_clicked(self) -> None:
        form = CredentialsDialog(
            "Add a Mastodon account",
            [
                ("url", "Instance address:", True, "https://mastodon.social"),
                ("token", "Access token:", True, "Preferences › Development › New application"),
                ("name", "Name in Parley:", False, "optional, e.g. support"),
            ],
            self,
        )
        if form.exec() == QDialog.DialogCode.Accepted:
            values = form.values()
            self.add_mastodon(values["url"], values["token"], values["name"])

    @Slot()
    def _on_add_matrix_clicked(self) -> None:
        form = CredentialsDialog(
            "Add a Matrix account",
            [
                ("url", "Homeserver:", True, "https://matrix.org"),
                ("user", "User:", True, "@support:example.org"),
                ("password", "Password:", True, ""),
                ("name", "Name in Parley:", False, "optional"),
            ],
            self,
        )
        if form.exec() == QDialog.DialogCode.Accepted:
            values = form.values()
            self.add_matrix(values["url"], values["user"], values["password"], values["name"])

    @Slot()
    def _on_test_clicked(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        self._set_message(f"Testing {account['name']}…")
        self._run(
            lambda: self._service.test_connection(self._ctx, account["id"]),
            "test a connection",
            lambda result: self._on_tested(account["name"], result),
        )

    @Slot()
    def _on_remove_clicked(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        name = account["name"]
        question = (
            f"Remove the account “{name}”?\n\nIts keyring entry and every cached conversation and message "
            "of it are deleted from this computer. Nothing is deleted on the platform."
        )
        if not self.confirm(question):
            return
        self._set_message(f"Removing {name}…")
        self._run(
            lambda: self._service.remove_account(self._ctx, name, delete_data=True),
            "remove an account",
            lambda _result: self._after_change(f"Removed {name} and its cached data."),
        )

    # --- results -------------------------------------------------------------------------------------
    def _show_rows(self, rows: list[dict[str, Any]]) -> None:
        self._rows = list(rows)
        self.table.setRowCount(len(self._rows))
        for index, row in enumerate(self._rows):
            state = _STATE_TEXT.get(str(row.get("state")), str(row.get("state")))
            if row.get("needs_sign_in"):
                state = _STATE_TEXT["needs_sign_in"]
            if row.get("open_gaps"):
                state += f" · {len(row['open_gaps'])} gap(s)"
            last = row.get("last_synced")
            cells = (row.get("name"), row.get("platform"), row.get("handle"), state, last or "never")
            for column, value in enumerate(cells):
                item = QTableWidgetItem("" if value is None else str(value))
                if column == 3 and row.get("state_detail"):
                    item.setToolTip(str(row["state_detail"]))
                self.table.setItem(index, column, item)
        if not self._rows and self._service is not None and not self.message.text():
            self._set_message("No accounts yet. Add a Mastodon or Matrix account to start.")
        self._update_buttons()

    def _on_account_added(self, result: Any) -> None:
        name = getattr(result, "name", None) or (result.get("name") if isinstance(result, dict) else None)
        self._after_change(f"Added {name}." if name else "Account added.")

    def _on_tested(self, name: str, result: Any) -> None:
        who = getattr(result, "handle", None) or (result if isinstance(result, str) else "")
        self._set_message(f"{name}: connection works{f' (signed in as {who})' if who else ''}.")

    def _after_change(self, text: str) -> None:
        self._set_message(text)
        self.reload()

    # --- plumbing ------------------------------------------------------------------------------------
    def _run(self, call: Callable[[], Any], description: str, on_done: Callable[[Any], None]) -> None:
        job: Job | None = None

        def finished(result: Any) -> None:
            if job is not None:
                self._jobs.discard(job)
            on_done(result)
            self._update_buttons()

        def failed(error: object) -> None:
            if job is not None:
                self._jobs.discard(job)
            self._set_message(error_text(error), error=True)
            self._update_buttons()

        job = start_job(call, description=description, on_finished=finished, on_failed=failed)
        self._jobs.add(job)
        self._update_buttons()

    def _set_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {'#C92A2A' if error else '#687083'};")

    @Slot()
    def _update_buttons(self) -> None:
        ready = self._service is not None and not self._jobs
        has_selection = self.selected_account() is not None if self._rows else False
        self.add_mastodon_button.setEnabled(ready)
        self.add_matrix_button.setEnabled(ready)
        self.test_button.setEnabled(ready and has_selection)
        self.remove_button.setEnabled(ready and has_selection)
        self.setCursor(Qt.CursorShape.BusyCursor if self._jobs else Qt.CursorShape.ArrowCursor)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(
            self, "Remove account", question, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        )
        return answer == QMessageBox.StandardButton.Yes
