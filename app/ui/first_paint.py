"""Noticing the inbox's first paint: for measuring start-up (benchmarks/) without changing what start-up does.

`PARLEY_REPORT_FIRST_PAINT=FILE parley ...` writes, once the inbox list has first been painted, a JSON object
to FILE: `monotonic` (the system-wide monotonic clock, comparable with the starting process's), `process_time`
(CPU seconds of this process so far), `rows` (conversations listed) and `rss_bytes` (resident memory), and
then quits as the Quit action does. Without the variable nothing is watched.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QAbstractItemView, QApplication

ENV_REPORT_FIRST_PAINT = "PARLEY_REPORT_FIRST_PAINT"


class FirstPaintWatcher(QObject):
    """Calls `on_painted` once, right after the view's viewport has finished its first paint."""

    def __init__(self, view: QAbstractItemView, on_painted: Callable[[], None]) -> None:
        super().__init__(view)
        self._view, self._on_painted, self._seen = view, on_painted, False
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint and not self._seen:
            self._seen = True
            self._view.viewport().removeEventFilter(self)
            QTimer.singleShot(0, self._on_painted)  # after this paint event has been handled
        return False


def resident_bytes() -> int:
    """This process's resident memory now (Linux), else its peak so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource  # not on Windows
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def report_first_paint_if_asked(view: QAbstractItemView) -> FirstPaintWatcher | None:
    """With PARLEY_REPORT_FIRST_PAINT set, write the first paint's figures there and quit."""
    target = os.environ.get(ENV_REPORT_FIRST_PAINT)
    if not target:
        return None

    def report() -> None:
        figures = {
            "monotonic": time.monotonic(),
            "process_time": time.process_time(),
            "rows": view.model().rowCount(),
            "rss_bytes": resident_bytes(),
        }
        Path(target).write_text(json.dumps(figures), encoding="utf-8")
        QApplication.quit()

    return FirstPaintWatcher(view, report)
