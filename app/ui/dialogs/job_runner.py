"""Slow calls of a dialog run as worker jobs; the runner keeps them referenced and drops late results.

A result that arrives after the dialog closed is ignored instead of reaching a deleted widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.errors import KnownError
from app.ui.workers import Job, start_job


def error_text(error: object) -> str:
    if isinstance(error, KnownError):
        return error.user_message()
    return f"Something went wrong ({type(error).__name__}); the details are in the log file."


class JobRunner:
    """Starts jobs for one dialog. `busy` counts blocking jobs only (a sign-in waiting on the browser is not)."""

    def __init__(self, on_change: Callable[[], None], on_error: Callable[[object], None]) -> None:
        self._on_change = on_change
        self._on_error = on_error
        self._jobs: dict[Job, bool] = {}
        self._closed = False

    @property
    def busy(self) -> bool:
        return any(self._jobs.values())

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
        """`on_dropped` gets a result that arrived after `close()` (to release what it holds)."""
        job: Job | None = None

        def settle(handler: Callable[[Any], None], value: Any) -> None:
            if job is not None:
                self._jobs.pop(job, None)
            if self._closed:
                if on_dropped is not None and handler is on_done:
                    on_dropped(value)
                return
            handler(value)
            self._on_change()

        job = start_job(
            call,
            description=description,
            on_finished=lambda result: settle(on_done, result),
            on_failed=lambda error: settle(on_failed or self._on_error, error),
        )
        self._jobs[job] = blocking
        self._on_change()

    def close(self) -> None:
        """Results still to come are dropped."""
        self._closed = True
