"""Running slow calls (network, keyring) off the GUI thread: a QRunnable job whose signals report back.

The job's signal object is created on the GUI thread, so its signals reach GUI slots queued; the job
itself never touches a widget. Every exception is logged and reported through `failed`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.errors import KnownError

log = logging.getLogger("app.ui.workers")


class JobSignals(QObject):
    """Signals: finished(object) with the call's result, failed(object) with the exception."""

    finished = Signal(object)
    failed = Signal(object)


class Job(QRunnable):
    def __init__(self, call: Callable[[], Any], description: str) -> None:
        super().__init__()
        self.signals = JobSignals()
        self._call = call
        self._description = description

    def run(self) -> None:
        try:
            result = self._call()
        except KnownError as exc:
            log.info("%s failed: %s", self._description, exc)
            self._report("failed", exc)
        except Exception as exc:  # a bug: logged with its traceback, still reported to the caller
            log.error("%s failed unexpectedly", self._description, exc_info=True)
            self._report("failed", exc)
        else:
            self._report("finished", result)

    def _report(self, outcome: str, value: Any) -> None:
        try:
            getattr(self.signals, outcome).emit(value)
        except RuntimeError:
            # Quitting destroyed the signal object (and whoever listened) while this job was still running.
            log.info("%s %s after its window closed; result dropped", self._description, outcome)


def start_job(
    call: Callable[[], Any],
    *,
    description: str,
    on_finished: Callable[[Any], None],
    on_failed: Callable[[Any], None],
    pool: QThreadPool | None = None,
) -> Job:
    """Run `call` on the pool; the returned job must be kept referenced until one of its signals fires."""
    job = Job(call, description)
    job.setAutoDelete(False)
    job.signals.finished.connect(on_finished)
    job.signals.failed.connect(on_failed)
    (pool or QThreadPool.globalInstance()).start(job)
    return job
