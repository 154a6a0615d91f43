"""Starting the demo workspace from the window: the embedded server runs up in a worker, then sync begins."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, Slot

from app.context import AppContext
from app.demo.workspace import DemoSession, start_demo
from app.errors import KnownError
from app.ui.workers import Job, start_job

log = logging.getLogger("app.ui.demo")


class DemoStarter(QObject):
    """Seeds (first time) and starts the demo server off the GUI thread, then asks the sync to run."""

    def __init__(
        self, window: Any, ctx: AppContext, sync_controller: Any, *, traffic_interval_s: float | None = 8.0
    ) -> None:
        super().__init__(window)
        self.window, self.ctx, self.sync_controller = window, ctx, sync_controller
        self.traffic_interval_s = traffic_interval_s
        self.session: DemoSession | None = None
        self._job: Job | None = None
        self._stopped = False

    def start(self) -> None:
        self.window.statusBar().showMessage("Starting the demo workspace…")
        self._job = start_job(
            lambda: start_demo(self.ctx, traffic_interval_s=self.traffic_interval_s),
            description="starting the demo workspace",
            on_finished=self._on_job_finished,
            on_failed=self._on_job_failed,
        )

    def stop(self) -> None:
        self._stopped = True
        if self._job is not None and self.session is None:
            # Still starting: let the start finish (seconds at most) so its server is stopped, not orphaned.
            QThreadPool.globalInstance().waitForDone(30_000)
            self._on_job_finished_late()
        if self.session is not None:
            self.session.stop()
            self.session = None

    @Slot(object)
    def _on_job_finished(self, session: DemoSession) -> None:
        if self._stopped:
            session.stop()
            return
        self.session = session
        self.window.playbook_controller.reload()  # start_demo filled an empty playbook with the starter answers
        self.window.statusBar().showMessage("Demo workspace ready: syncing the brand's conversations…", 6000)
        self.sync_controller.sync_now(session.account.id)

    def _on_job_finished_late(self) -> None:
        QCoreApplication.sendPostedEvents()  # deliver the finished signal queued by the worker

    @Slot(object)
    def _on_job_failed(self, error: object) -> None:
        text = error.user_message() if isinstance(error, KnownError) else str(error)
        log.error("demo workspace failed to start: %s", text)
        self.window.statusBar().showMessage(f"The demo workspace could not start: {text}")
