"""The sign-in dialog that hosts one platform's form, and the base class every platform's form extends.

A form builds its own fields and asks its host to run the slow calls (registering, signing in,
checking a token) as worker jobs; the host shows progress and errors, and closes once the form
reports an account added or signed in again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.context import AppContext
from app.ui.dialogs.job_runner import JobRunner, error_text

ERROR_COLOUR = "#C92A2A"
MUTED_COLOUR = "#687083"


class SignInForm(QWidget):
    """One platform's form: add an account (`account` None) or sign an existing one in again.

    Subclasses set `platform` (the Platform value) and `title`, build their fields in `__init__`, run
    network calls through `self.host.run(...)` and end with `self.host.finish(message, account_id)`.
    `account` is the account's row from `describe_accounts` (id, name, handle, base_url, ...).
    """

    platform: ClassVar[str] = ""
    title: ClassVar[str] = ""

    def __init__(self, host: SignInDialog, account: dict[str, Any] | None = None) -> None:
        super().__init__(host)
        self.host = host
        self.account = account

    @property
    def signing_in_again(self) -> bool:
        return self.account is not None

    def cancel(self) -> None:
        """Stop waiting on the person (a browser that never comes back); the host is closing."""

    @staticmethod
    def check_address(text: str) -> str:
        """'' when the address can be tried, else what is wrong with it."""
        if not text.strip():
            return "Please give the server's address."
        if "://" in text and not text.strip().lower().startswith(("https://", "http://")):
            return "The address must start with https:// (for example https://mastodon.social)."
        return ""


class SignInDialog(QDialog):
    """Hosts one SignInForm.

    Signals:
      signed_in(str, int): the form added an account or signed one in again (message, account id).
    """

    signed_in = Signal(str, int)

    def __init__(
        self,
        ctx: AppContext,
        service: Any,
        form_class: type[SignInForm],
        *,
        open_url: Callable[[str], bool],
        account: dict[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = service
        self.open_url = open_url
        self.jobs = JobRunner(self._on_jobs_changed, self._on_job_failed)
        what = f"Sign in to {account['name']} again" if account else f"Add a {form_class.title} account"
        self.setWindowTitle(what)
        self.form = form_class(self, account)
        self.message = QLabel()
        self.message.setObjectName("signInMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        app = QCoreApplication.instance()
        if app is not None:  # a sign-in waiting on the browser must not hold up quitting
            app.aboutToQuit.connect(self._on_app_about_to_quit)

    @property
    def busy(self) -> bool:
        return self.jobs.busy

    def run(
        self,
        call: Callable[[], Any],
        description: str,
        on_done: Callable[[Any], None],
        *,
        on_failed: Callable[[object], None] | None = None,
        blocking: bool = True,
        on_dropped: Callable[[Any], None] | None = None,
    ) -> None:
        self.jobs.run(call, description, on_done, on_failed=on_failed, blocking=blocking, on_dropped=on_dropped)

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR if error else MUTED_COLOUR};")

    def finish(self, message: str, account_id: int) -> None:
        self._stop()
        self.signed_in.emit(message, account_id)
        self.accept()

    def done(self, result: int) -> None:
        self._stop()
        super().done(result)

    def _stop(self) -> None:
        self.form.cancel()
        self.jobs.close()

    @Slot()
    def _on_app_about_to_quit(self) -> None:
        self._stop()

    def _on_jobs_changed(self) -> None:
        self.form.setEnabled(not self.jobs.busy)
        self.setCursor(Qt.CursorShape.BusyCursor if self.jobs.busy else Qt.CursorShape.ArrowCursor)

    def _on_job_failed(self, error: object) -> None:
        self.say(error_text(error), error=True)
