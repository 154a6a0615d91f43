"""OutboxController: sends approved replies in the background, one run at a time, and says what happened."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from app.context import AppContext
from app.logs import REDACTOR
from app.platforms.registry import make_connector
from app.sync.engine import ConnectorFactory
from app.sync.sender import OutboxSender, SendReport
from app.sync.writer import StoreWriter

log = logging.getLogger("app.sync.outbox")

RETRY_INTERVAL_MS = 30_000


class _SendSignals(QObject):
    finished = Signal(object)  # SendReport


class _SendJob(QRunnable):
    def __init__(self, sender: OutboxSender, cancel: threading.Event, signals: _SendSignals) -> None:
        super().__init__()
        self.sender, self.cancel, self.signals = sender, cancel, signals

    def run(self) -> None:
        try:
            report = self.sender.send_ready(cancel=self.cancel)
        except Exception as exc:  # reported, never lost inside the pool
            log.error("sending the outbox failed", exc_info=True)
            report = SendReport(messages=[REDACTOR.scrub(f"Sending failed ({type(exc).__name__}: {exc}).")])
        self.signals.finished.emit(report)


class OutboxController(QObject):
    """Signals: outbox_sent(SendReport) after each run; outbox_changed() whenever items may have moved.

    Runs on request (send_now: after a reply is approved, after going online or after a sync) and every
    30 s while anything waits for a retry time. Store writes go through the sync's single writer.
    """

    outbox_sent = Signal(object)
    outbox_changed = Signal()

    def __init__(
        self,
        ctx: AppContext,
        writer: StoreWriter,
        *,
        connector_factory: ConnectorFactory = make_connector,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sender = OutboxSender(ctx, connector_factory=connector_factory, write=writer.call)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._running: tuple[threading.Event, _SendSignals] | None = None
        self._again = False
        self._closing = False
        self._timer = QTimer(self)
        self._timer.setInterval(RETRY_INTERVAL_MS)
        self._timer.timeout.connect(self.send_now)

    def start(self) -> None:
        self._timer.start()
        self.send_now()

    def is_sending(self) -> bool:
        return self._running is not None

    @Slot()
    def send_now(self) -> None:
        if self._closing or self.ctx.offline:
            return
        if self._running is not None:
            self._again = True  # one more run right after this one, for items approved meanwhile
            return
        cancel, signals = threading.Event(), _SendSignals()
        signals.finished.connect(self._on_job_finished)
        self._running = (cancel, signals)
        self._pool.start(_SendJob(self.sender, cancel, signals))

    def shutdown(self, deadline_ms: int = 1500) -> None:
        self._closing = True
        self._timer.stop()
        if self._running is not None:
            self._running[0].set()
        self._pool.waitForDone(deadline_ms)

    @Slot(object)
    def _on_job_finished(self, report: SendReport) -> None:
        if self._running is not None:
            self._running[1].deleteLater()
        self._running = None
        if self._closing:
            return
        self.outbox_sent.emit(report)
        self.outbox_changed.emit()
        if self._again:
            self._again = False
            self.send_now()
