"""SyncController: runs SyncEngine jobs on a QThreadPool, driven by the Scheduler and a one-second QTimer."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from app.context import AppContext
from app.domain.models import AccountState
from app.errors import KnownError
from app.logs import REDACTOR
from app.platforms.registry import make_connector
from app.store import accounts
from app.sync.engine import ConnectorFactory, SyncEngine
from app.sync.events import SyncOutcome, SyncProgress
from app.sync.scheduler import Scheduler, schedule_entries
from app.sync.writer import StoreWriter

log = logging.getLogger("app.sync.qt")

SHUTDOWN_DEADLINE_S = 2.0


class _JobSignals(QObject):
    """A job's signals; created on the GUI thread so queued deliveries land there."""

    progressed = Signal(object)  # SyncProgress
    finished = Signal(object)  # SyncOutcome


@dataclass(frozen=True)
class _Running:
    name: str
    cancel: threading.Event
    signals: _JobSignals


class _SyncJob(QRunnable):
    """One account's sync run on a pool thread. Never touches widgets; reports only through signals."""

    def __init__(
        self, engine: SyncEngine, account_id: int, name: str, cancel: threading.Event, signals: _JobSignals
    ) -> None:
        super().__init__()
        self.engine = engine
        self.account_id = account_id
        self.name = name
        self.signals = signals
        self.cancel = cancel

    def run(self) -> None:
        try:
            outcome = self.engine.sync_account(self.account_id, self.cancel, self.signals.progressed.emit)
        except Exception as exc:  # nothing may vanish inside the pool: log it and report it
            log.error("sync job for account %s failed", self.account_id, exc_info=True)
            outcome = SyncOutcome(
                account_id=self.account_id,
                account_name=self.name,
                state=AccountState.ERROR,
                error=REDACTOR.scrub(f"Sync failed ({type(exc).__name__}: {exc}). Details are in the log file."),
            )
        self.signals.finished.emit(outcome)


class SyncController(QObject):
    """Keeps every account in sync in the background.

    Signals (all delivered on the GUI thread):
      account_progressed(SyncProgress): a page of one account's stream was stored.
      account_synced(SyncOutcome): an account's run ended well (or was cancelled).
      account_failed(SyncOutcome): an account's run ended in trouble; `outcome.error` says what.
      messages_stored(list[int]): these conversations got new messages (sent per page, as they land).
      states_changed(): account states in the store may have changed (refresh the account list).

    `shutdown()` (connect it to aboutToQuit) cancels every job and returns within two seconds:
    it sets each job's cancel event (checked between pages), aborts the connectors in use (their
    sockets are shut down, so a read waiting on a silent server ends at once and no retry starts),
    closes them on a helper thread, and waits for the pool until the deadline at most.

    After a failed run the planned retry ("retrying at 14:05") is written to the account, so the
    status bar and the Accounts dialog can show it; states_changed follows once it is written.
    """

    account_progressed = Signal(object)
    account_synced = Signal(object)
    account_failed = Signal(object)
    messages_stored = Signal(list)
    states_changed = Signal()
    _retry_written = Signal()  # emitted on the writer thread; delivered queued here

    def __init__(
        self,
        ctx: AppContext,
        *,
        connector_factory: ConnectorFactory = make_connector,
        scheduler: Scheduler | None = None,
        tick_ms: int = 1000,
        max_jobs: int = 4,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.writer = StoreWriter()
        self.engine = SyncEngine(ctx, connector_factory=connector_factory, writer=self.writer)
        self.scheduler = scheduler or Scheduler(ctx.clock)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_jobs)
        # Running accounts. The pool owns the QRunnables; their signal objects are deleted here, on
        # the GUI thread they belong to, once the outcome has arrived.
        self._jobs: dict[int, _Running] = {}
        self._closing = False
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._retry_written.connect(self._on_retry_written)

    def start(self) -> None:
        """Begin syncing every account on its interval (each one runs once right away)."""
        self.reload_accounts()
        self._timer.start()
        self._launch_due()

    def reload_accounts(self) -> None:
        """Pick up added or removed accounts and changed intervals."""
        self.scheduler.set_accounts(schedule_entries(accounts.account_status_rows(self.ctx.engine)))

    def sync_now(self, account_id: int | None = None) -> None:
        """Sync one account (or all) now, as F5 does; a platform's retry_at still holds."""
        if self._closing:
            return
        self.reload_accounts()
        if account_id is not None and account_id not in self.scheduler.accounts():
            log.warning("sync-now for unknown account %s ignored", account_id)
            return
        self.scheduler.request_now(account_id)
        self._launch_due(forced=True)

    def is_syncing(self, account_id: int | None = None) -> bool:
        return bool(self._jobs) if account_id is None else account_id in self._jobs

    def running_jobs(self) -> int:
        """Pool threads still busy with a sync (after shutdown: ones left waiting on the network)."""
        return self._pool.activeThreadCount()

    def shutdown(self, deadline_s: float = SHUTDOWN_DEADLINE_S) -> bool:
        """Cancel every job and stop; True when all jobs ended before the deadline."""
        started = time.monotonic()
        self._closing = True
        self._timer.stop()
        self._pool.clear()  # queued jobs never start
        for running in self._jobs.values():
            running.cancel.set()
        self.engine.abort_active_connectors()
        # Closing can itself block on a misbehaving connector, so it must not hold up the deadline.
        threading.Thread(target=self.engine.close_active_connectors, name="sync-close", daemon=True).start()
        remaining_ms = max(0, int((deadline_s - (time.monotonic() - started)) * 1000) - 100)
        finished = self._pool.waitForDone(remaining_ms)
        if not finished:
            stuck = sorted(running.name for running in self._jobs.values())
            log.warning("shutdown: left %s still waiting on the network; their results are dropped", stuck)
        self.writer.shutdown(timeout=max(0.0, deadline_s - (time.monotonic() - started)), cancel_pending=True)
        return finished

    def _launch_due(self, *, forced: bool = False) -> None:
        if self._closing or (self.ctx.offline and not forced):
            return  # working offline: the timer starts nothing; sync-now still reports "offline"
        for account_id in self.scheduler.due():
            try:
                name = accounts.get_account(self.ctx.engine, account_id).name
            except Exception:
                log.warning("account %s vanished before its sync", account_id, exc_info=True)
                continue
            signals = _JobSignals()  # on the GUI thread, like this controller
            cancel = threading.Event()
            signals.progressed.connect(self._on_job_progressed)
            signals.finished.connect(self._on_job_finished)
            self.scheduler.started(account_id)
            self._jobs[account_id] = _Running(name, cancel, signals)
            self._pool.start(_SyncJob(self.engine, account_id, name, cancel, signals))

    def _record_retry(self, outcome: SyncOutcome) -> None:
        """Write when a failing account is tried again (or that no retry is pending) without blocking here."""
        if outcome.cancelled or outcome.work_offline:
            return
        planned = None
        if outcome.failed and outcome.account_id in self.scheduler.accounts():
            planned = self.scheduler.next_run(outcome.account_id)
        try:
            written = self.writer.submit(accounts.set_retry_at, self.ctx.engine, outcome.account_id, planned)
        except KnownError:
            return  # the writer has shut down: quitting
        # Runs on the writer thread (or here, when shutdown cancels the write): nothing to say once closing.
        written.add_done_callback(lambda _future: None if self._closing else self._retry_written.emit())

    @Slot()
    def _on_retry_written(self) -> None:
        if not self._closing:
            self.states_changed.emit()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._launch_due()

    @Slot(object)
    def _on_job_progressed(self, progress: SyncProgress) -> None:
        if self._closing:
            return
        self.account_progressed.emit(progress)
        if progress.page_stored and progress.conversation_ids:
            self.messages_stored.emit(list(progress.conversation_ids))

    @Slot(object)
    def _on_job_finished(self, outcome: SyncOutcome) -> None:
        running = self._jobs.pop(outcome.account_id, None)
        if running is not None:
            running.signals.deleteLater()  # on its own (GUI) thread; the pool thread may still hold the wrapper
        if self._closing:
            return
        self.scheduler.finished(outcome)
        self._record_retry(outcome)
        if outcome.failed:
            self.account_failed.emit(outcome)
        else:
            self.account_synced.emit(outcome)
        self.states_changed.emit()
