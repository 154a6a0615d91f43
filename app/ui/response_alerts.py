"""Response-time alerts: a desktop notification when a conversation's clock enters warning or breach, and the
count of breached conversations for the window title.

What runs where: the running clocks past their warning time are read by a worker job (an indexed read of the
open conversations); the GUI thread only compares the result with what it already announced. Each clock is
announced at most once per state: a conversation is identified with the start of its running clock, so a new
clock (a new question after our reply) may warn again, the same one never twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QSystemTrayIcon
from shiboken6 import isValid
from sqlalchemy import Engine

from app.store.clocks import Alerting, AlertScan, alerting
from app.ui.workers import Job, start_job

log = logging.getLogger("app.ui.alerts")

WARNING, BREACHED = "warning", "breached"
MAX_NAMED = 3  # more at once are summed up in one notification rather than a burst of them


class ResponseAlerts(QObject):
    """Signals: notified(str, str, list) with the title, text and conversation ids of each notification
    shown (also when no system tray exists); breached_count_changed(int) when the number of breached
    conversations changes."""

    notified = Signal(str, str, list)
    breached_count_changed = Signal(int)

    def __init__(
        self,
        engine: Engine,
        now: Callable[[], datetime],
        tray: QSystemTrayIcon | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._now = now
        self.tray = tray
        self._announced: set[tuple[int, datetime, str]] = set()
        self._job: Job | None = None
        self._again = False
        self.breached_count = 0

    @Slot()
    def check(self) -> None:
        """Read the clocks in warning or breach on a worker and announce what is new."""
        if self._job is not None:
            self._again = True
            return
        engine, now = self._engine, self._now()
        job: Job | None = None

        def finished(found: AlertScan) -> None:
            if isValid(self):
                self._job = None
                self._on_found(found)

        def failed(error: object) -> None:
            if isValid(self):
                self._job = None
                log.warning("the response timers could not be read: %s", error)

        job = start_job(lambda: alerting(engine, now), description="reading the response timers",
                        on_finished=finished, on_failed=failed)  # fmt: skip
        self._job = job

    def _on_found(self, found: AlertScan) -> None:
        if found.breached != self.breached_count:
            self.breached_count = found.breached
            self.breached_count_changed.emit(found.breached)
        for state in (BREACHED, WARNING):
            fresh = [a for a in found.recent if (BREACHED if a.breached else WARNING) == state]
            fresh = [a for a in fresh if (a.conversation_id, a.waiting_since, state) not in self._announced]
            if fresh:
                self._announced.update((a.conversation_id, a.waiting_since, state) for a in fresh)
                self._notify(state, fresh)
        if self._again:
            self._again = False
            self.check()

    def _notify(self, state: str, entered: list[Alerting]) -> None:
        names = [a.name or "a customer" for a in entered]
        if state == BREACHED:
            title = "Response time breached" if len(entered) == 1 else f"{len(entered)} response times breached"
            text = "Overdue: " if len(entered) <= MAX_NAMED else "Overdue, among others: "
        else:
            title = "Response due soon" if len(entered) == 1 else f"{len(entered)} responses due soon"
            text = "Waiting for an answer: " if len(entered) <= MAX_NAMED else "Waiting, among others: "
        text += ", ".join(names[:MAX_NAMED])
        if self.tray is not None and self.tray.isVisible():
            icon = QSystemTrayIcon.MessageIcon.Critical if state == BREACHED else QSystemTrayIcon.MessageIcon.Warning
            self.tray.showMessage(title, text, icon)
        self.notified.emit(title, text, [a.conversation_id for a in entered])
