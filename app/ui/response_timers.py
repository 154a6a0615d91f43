"""Response timers in the window: the alerts notifier, the policy line of the thread, and the policies dialog
with the recompute that follows a save.

What runs where: the policy line is one indexed read on the GUI thread; after the policies are saved, moving
every open conversation's due time runs on a worker, through the store writer when sync runs (so it queues
behind page writes instead of racing them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from app import APP_NAME
from app.context import AppContext
from app.domain.models import ConversationSummary
from app.domain.timers import ResponseKind, format_remaining
from app.store import clocks
from app.ui.resources import app_icon
from app.ui.response_alerts import ResponseAlerts
from app.ui.timefmt import exact
from app.ui.workers import Job, start_job


class ResponseTimers(QObject):
    """Signals: policies_applied(int) with how many open conversations were moved to the saved policies;
    status_message(str, int) with a text and how long (ms) the status bar should show it."""

    policies_applied = Signal(int)
    status_message = Signal(str, int)

    def __init__(
        self,
        ctx: AppContext,
        now: Callable[[], datetime],
        zone: Callable[[], tzinfo | None],
        *,
        sync_controller: Any | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self._now, self._zone = ctx, now, zone
        self._sync_controller = sync_controller
        self._window = parent
        self.alerts = ResponseAlerts(ctx.engine, now, self._tray(), self)
        self._job: Job | None = None

    def _tray(self) -> QSystemTrayIcon | None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return None  # no notification area (a bare window manager, a test): alerts still reach the title
        tray = QSystemTrayIcon(app_icon(), self)
        tray.setToolTip(APP_NAME)
        tray.show()
        return tray

    def policy_text(self, summary: ConversationSummary) -> str:
        """'Response policy — Direct messages: … · first response due Mon 2 Mar, 10:00 (45m left)'."""
        try:
            policy, kind = clocks.applicable_policy(self.ctx.engine, summary.id)
        except LookupError:
            return ""
        text = f"Response policy — {policy.describe()}"
        if summary.paused:
            return text + " · clock paused while pending"
        if kind is not None and summary.next_due_at is not None:
            which = "first response" if kind is ResponseKind.FIRST else "next response"
            due = summary.next_due_at
            text += f" · {which} due {exact(due, self._zone())} ({format_remaining(self._now(), due)})"
        return text

    @Slot()
    def open_policies(self) -> Any:
        from app.ui.dialogs.policies_dialog import PoliciesDialog

        dialog = PoliciesDialog(self.ctx, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.policies_saved.connect(self.reapply_policies)
        dialog.open()
        return dialog

    @Slot()
    def reapply_policies(self) -> None:
        """Move open conversations' due times to the saved policies, off the GUI thread."""
        engine = self.ctx.engine
        writer = getattr(self._sync_controller, "writer", None)

        def run() -> int:
            if writer is not None:
                return int(writer.call(clocks.reapply_policies, engine))
            return clocks.reapply_policies(engine)

        self.status_message.emit("Policies saved: moving open conversations to the new targets…", 4000)
        self._job = start_job(
            run, description="applying the response policies", on_finished=self._on_job_finished,
            on_failed=self._on_job_failed,
        )  # fmt: skip

    @Slot(object)
    def _on_job_finished(self, moved: object) -> None:
        self._job = None
        count = int(moved) if isinstance(moved, int) else 0
        self.status_message.emit(f"Policies applied to {count:,} open conversations.", 6000)
        self.alerts.check()
        self.policies_applied.emit(count)

    @Slot(object)
    def _on_job_failed(self, error: object) -> None:
        self._job = None
        self.status_message.emit(f"The policies were saved but not yet applied: {error}", 8000)
