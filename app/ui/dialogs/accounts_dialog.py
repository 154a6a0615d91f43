"""The Accounts dialog: each account's state and sync health; add, sign in again, test, fill gaps, remove.

Every call into the account service (sign-in, verify, keyring, listing) runs as a worker job; the dialog
shows a busy state meanwhile and the platform's own words when something fails. Each platform's sign-in
form lives in `app.ui.dialogs.add_account` and is listed in its SIGN_IN_FORMS table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.errors import KnownError
from app.store.accounts import set_option
from app.ui.account_health import health_of
from app.ui.dialogs.accounts_view import (
    COLUMNS,
    ERROR,
    MUTED,
    WARN,
    details_html,
    removal_text,
    remove_question,
    table_items,
)
from app.ui.dialogs.add_account import SIGN_IN_FORMS, SignInDialog, SignInForm
from app.ui.dialogs.job_runner import JobRunner, error_text
from app.ui.timefmt import display_zone

log = logging.getLogger("app.ui.accounts")

__all__ = ["AccountsDialog", "default_account_service", "error_text"]


def default_account_service() -> Any | None:
    """The sync layer's account service, or None in a build without it (the dialog then says so)."""
    try:
        from app.sync import account_service
    except ImportError:
        return None
    return account_service


def open_in_browser(url: str) -> bool:
    return QDesktopServices.openUrl(QUrl(url))


class AccountsDialog(QDialog):
    """Accounts table, the selected account's sync health, and actions.

    `confirm` asks a yes/no question and `open_url` opens the system browser; both are replaceable so
    tests need no modal loop and no browser. With a `sync_controller`, a sign-in or "Fetch missing
    messages" syncs the account at once and the dialog follows the controller's state changes.
    """

    def __init__(
        self,
        ctx: AppContext,
        service: Any | None = None,
        parent: QWidget | None = None,
        *,
        sync_controller: Any | None = None,
        forms: dict[str, type[SignInForm]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Accounts")
        self._ctx = ctx
        self._service: Any = service if service is not None else default_account_service()
        self._controller = sync_controller
        self._forms = dict(SIGN_IN_FORMS if forms is None else forms)
        self.jobs = JobRunner(self._update_buttons, lambda error: self._set_message(error_text(error), error=True))
        self._rows: list[dict[str, Any]] = []
        self._focus: tuple[int, bool] | None = None  # account to select once listed, and whether to sign it in
        self.confirm: Callable[[str], bool] = self._ask
        self.ask_department: Callable[[str, str], str | None] = self._ask_department
        self.open_url: Callable[[str], bool] = open_in_browser
        self.sign_in_dialog: SignInDialog | None = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.details = QLabel()
        self.details.setObjectName("accountDetails")
        self.details.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("accountsMessage")
        self.message.setWordWrap(True)
        self.add_buttons = {platform: QPushButton(f"Add {form.title}…") for platform, form in self._forms.items()}
        self.sign_in_button = QPushButton("Sign in again…")
        self.test_button = QPushButton("Test connection")
        self.fill_button = QPushButton("Fetch missing messages")
        self.fill_button.setVisible(sync_controller is not None)
        self.department_button = QPushButton("Department…")
        self.department_button.setToolTip("The team answering this account; reports can group by it")
        self.remove_button = QPushButton("Remove…")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        adding, acting = QHBoxLayout(), QHBoxLayout()
        for platform, button in self.add_buttons.items():
            adding.addWidget(button)
            button.clicked.connect(lambda _checked=False, p=platform: self.open_sign_in(p))
        adding.addStretch(1)
        for button in (
            self.sign_in_button, self.test_button, self.fill_button, self.department_button, self.remove_button
        ):  # fmt: skip
            acting.addWidget(button)
        acting.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.message)
        layout.addLayout(acting)
        layout.addLayout(adding)
        layout.addWidget(close)
        self.resize(780, 460)
        self.sign_in_button.clicked.connect(self._on_sign_in_button_clicked)
        self.test_button.clicked.connect(self._on_test_button_clicked)
        self.fill_button.clicked.connect(self._on_fill_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.department_button.clicked.connect(self._on_department_button_clicked)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self._ticker = QTimer(self)  # keeps "synced 2 min ago" and the sign-in countdown current
        self._ticker.setInterval(15_000)
        self._ticker.timeout.connect(self._show_details)
        self._ticker.start()
        if sync_controller is not None:
            sync_controller.states_changed.connect(self.reload)
        if self._service is None:
            self._set_message("Managing accounts is not available in this build of Parley.", error=True)
        self._update_buttons()
        self.reload()

    @property
    def busy(self) -> bool:
        return self.jobs.busy

    @Slot()
    def reload(self) -> None:
        if self._service is not None:
            service, ctx = self._service, self._ctx
            self.jobs.run(lambda: service.describe_accounts(ctx), "list accounts", self._show_rows)

    def focus_account(self, account_id: int, *, sign_in: bool = False) -> None:
        """Select an account once it is listed and, with `sign_in`, open its sign-in form (status-bar link)."""
        self._focus = (account_id, sign_in)
        self._apply_focus()

    def selected_account(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self._rows[rows[0].row()] if rows and rows[0].row() < len(self._rows) else None

    def open_sign_in(self, platform: str, account: dict[str, Any] | None = None) -> SignInDialog | None:
        """Open the platform's form: to add an account, or (with `account`) to sign that one in again."""
        form = self._forms.get(platform)
        if form is None:
            self._set_message(f"Parley cannot sign in to {platform} accounts yet.", error=True)
            return None
        if self.sign_in_dialog is not None:
            self.sign_in_dialog.close()
        dialog = SignInDialog(self._ctx, self._service, form, open_url=self.open_url, account=account, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.signed_in.connect(self._on_sign_in_dialog_signed_in)
        dialog.destroyed.connect(self._on_sign_in_dialog_destroyed)
        self.sign_in_dialog = dialog
        dialog.open()
        return dialog

    # --- actions -------------------------------------------------------------------------------------
    @Slot()
    def _on_sign_in_button_clicked(self) -> None:
        account = self.selected_account()
        if account is not None:
            self.open_sign_in(str(account["platform"]), account)

    @Slot()
    def _on_test_button_clicked(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        service, ctx, name = self._service, self._ctx, account["name"]
        self._set_message(f"Testing {name}…")
        self.jobs.run(
            lambda: service.test_connection(ctx, account["id"]),
            "test a connection",
            lambda result: self._on_tested(name, result),
            on_failed=self._on_test_failed,
        )

    @Slot()
    def _on_fill_button_clicked(self) -> None:
        account = self.selected_account()
        if account is None or self._controller is None:
            return
        self._set_message(f"Fetching the missing messages of {account['name']}…")
        self._controller.sync_now(int(account["id"]))

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        name = account["name"]
        if not self.confirm(remove_question(name)):
            return
        self._set_message(f"Removing {name}…")
        service, ctx = self._service, self._ctx
        self.jobs.run(
            lambda: service.remove_account(ctx, name, delete_data=True), "remove an account",
            lambda result: self._after_change(*removal_text(name, result)),
        )  # fmt: skip

    @Slot()
    def _on_department_button_clicked(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        name = str(account["name"])
        answer = self.ask_department(name, str(account.get("department") or ""))
        if answer is None:
            return
        try:  # one small UPDATE: fine on the GUI thread, like a triage write
            set_option(self._ctx.engine, int(account["id"]), "department", answer.strip())
        except KnownError as exc:
            self._set_message(exc.user_message(), error=True)
            return
        self._after_change(f"{name}: department {answer.strip() or 'cleared'}.")

    # --- results -------------------------------------------------------------------------------------
    def _show_rows(self, rows: list[dict[str, Any]]) -> None:
        selected = self.selected_account()
        self._rows = list(rows)
        now = self._ctx.clock.now()
        self.table.setRowCount(len(self._rows))
        for index, row in enumerate(self._rows):
            for column, item in enumerate(table_items(row, now)):
                self.table.setItem(index, column, item)
            if selected is not None and row.get("id") == selected.get("id"):
                self.table.selectRow(index)
        if not self._rows and self._service is not None and not self.message.text():
            self._set_message("No accounts yet. Add one to start.")
        self._apply_focus()
        self._show_details()

    def _apply_focus(self) -> None:
        if self._focus is None:
            return
        account_id, sign_in = self._focus
        for index, row in enumerate(self._rows):
            if row.get("id") == account_id:
                self._focus = None
                self.table.selectRow(index)
                if sign_in:
                    self.open_sign_in(str(row["platform"]), row)
                return

    @Slot()
    def _show_details(self) -> None:
        account = self.selected_account()
        if account is None:
            self.details.clear()
            return
        zone = display_zone(self._ctx.preferences.display_time_zone)
        self.details.setText(details_html(account, self._ctx.clock.now(), zone))

    @Slot()
    def _on_table_selection_changed(self) -> None:
        self._show_details()
        self._update_buttons()

    @Slot(str, int)
    def _on_sign_in_dialog_signed_in(self, message: str, account_id: int) -> None:
        self._after_change(message)
        if self._controller is not None:
            self._controller.sync_now(account_id)  # picks up a new account, and un-pauses one that needed sign-in

    @Slot()
    def _on_sign_in_dialog_destroyed(self) -> None:
        self.sign_in_dialog = None

    def _on_tested(self, name: str, result: Any) -> None:
        who = getattr(result, "handle", None) or (result if isinstance(result, str) else "")
        self._set_message(f"{name}: connection works{f' (signed in as {who})' if who else ''}.")
        self.reload()

    def _on_test_failed(self, error: object) -> None:
        self._set_message(error_text(error), error=True)
        self.reload()  # a refused sign-in now shows as "Sign-in needed"

    def _after_change(self, text: str, warn: bool = False) -> None:
        self._set_message(text, warn=warn)
        self.reload()

    # --- plumbing ------------------------------------------------------------------------------------
    def done(self, result: int) -> None:
        if self.sign_in_dialog is not None:
            self.sign_in_dialog.reject()  # a sign-in waiting on the browser stops with this dialog
        self.jobs.close()
        self._ticker.stop()
        super().done(result)

    def _set_message(self, text: str, *, error: bool = False, warn: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {ERROR if error else WARN if warn else MUTED};")

    @Slot()
    def _update_buttons(self) -> None:
        ready = self._service is not None and not self.jobs.busy
        account = self.selected_account()
        for button in self.add_buttons.values():
            button.setEnabled(ready)
        for button in (self.sign_in_button, self.test_button, self.remove_button, self.department_button):
            button.setEnabled(ready and account is not None)
        self.sign_in_button.setDefault(bool(account and account.get("needs_sign_in")))
        fillable = bool(account and any(gap.fillable for gap in health_of(account).gaps))
        self.fill_button.setEnabled(ready and fillable)
        self.setCursor(Qt.CursorShape.BusyCursor if self.jobs.busy else Qt.CursorShape.ArrowCursor)

    def _ask_department(self, name: str, current: str) -> str | None:
        text, accepted = QInputDialog.getText(
            self, "Department", f"The department answering {name} (reports group by it; empty for none):", text=current
        )
        return text if accepted else None

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(
            self, "Remove account", question, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        )
        return answer == QMessageBox.StandardButton.Yes
