"""One benchmark process driving the real window: started by gui_benchmarks, results as JSON in a file.

python -m benchmarks.gui_child scroll PROFILE OUT   # scroll to the end (cold), then walk every row; memory
python -m benchmarks.gui_child tick PROFILE OUT     # GUI-thread time of the inbox's live tick

The window is opened exactly as `parley --data-dir PROFILE --offline` opens it (app.ui.launch.start_gui),
offscreen; nothing syncs. Times are taken on the GUI thread around synchronous repaints.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app.cli import build_parser
from app.domain.clock import ManualClock
from app.ui.first_paint import FirstPaintWatcher, resident_bytes
from app.ui.inbox_controller import FIRST_SCREEN
from app.ui.launch import GuiSession, start_gui
from app.ui.main_window import MainWindow
from app.ui.widgets.inbox_view import TICK_MS

WAIT_MS = 120_000
SCROLL_REPEATS = 5
TICK_REPEATS = 30


def live_tick(window: MainWindow, clock: ManualClock) -> int:
    """The inbox's live tick as its timer runs it, and the repaint that follows.

    This is the one call to change when the tick moves: the clock moves on by the view's tick interval (what
    happens between two real ticks), InboxView.tick marks the rows on screen whose timer or age now reads
    differently and emits `ticked` (which the response alerts listen to), then the update it posted is
    painted synchronously (what the event loop would do next).
    """
    clock.advance(timedelta(milliseconds=TICK_MS))
    marked = window.inbox_view.tick()
    QCoreApplication.sendPostedEvents(None, int(QEvent.Type.UpdateRequest))
    return marked


def _wait(connect: Any, what: str) -> None:
    """Run the event loop until `connect(loop.quit)` fires; fail after WAIT_MS rather than hang."""
    loop = QEventLoop()
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(WAIT_MS)
    connect(loop.quit)
    loop.exec()
    if not timer.isActive():
        raise SystemExit(f"gave up waiting for {what}")
    timer.stop()


def _open(profile: Path) -> tuple[GuiSession, MainWindow]:
    args = build_parser().parse_args(["--data-dir", str(profile), "--offline"])
    session = start_gui(args, errors_in_window=False)
    if session.window is None:
        raise SystemExit(f"the window did not open (exit code {session.exit_code})")
    window = session.window
    listed: list[bool] = []
    window.inbox_controller.list_refreshed.connect(lambda: listed.append(True))
    watchers: list[FirstPaintWatcher] = []
    _wait(lambda quit_: watchers.append(FirstPaintWatcher(window.inbox_view, quit_)), "the first paint")
    if window.inbox_model.rowCount() >= FIRST_SCREEN and not listed:  # the whole list follows from a worker
        _wait(window.inbox_controller.list_refreshed.connect, "the whole inbox list")
    return session, window


def scroll(window: MainWindow) -> dict[str, Any]:
    view, model = window.inbox_view, window.inbox_model
    rows = model.rowCount()
    samples = []
    for _ in range(SCROLL_REPEATS):
        model.set_ids(model.ids())  # every cached block dropped: each scroll reads its rows from the store
        view.scrollToTop()
        view.viewport().repaint()
        started = time.perf_counter()
        view.scrollToBottom()
        view.viewport().repaint()
        samples.append(time.perf_counter() - started)
    model.set_ids(model.ids())
    view.scrollToTop()
    bar = view.verticalScrollBar()
    step = max(1, min(bar.pageStep(), 200 * view.verticalHeader().defaultSectionSize()))
    started, value = time.perf_counter(), 0
    while True:  # every row passes through the viewport's block reads: a page at a time, a block at most
        bar.setValue(value)
        view.viewport().repaint()
        if value >= bar.maximum():
            break
        value = min(bar.maximum(), value + step)
    return {
        "rows": rows,
        "scroll_to_end_s": statistics.median(samples),
        "walk_s": time.perf_counter() - started,
        "rss_after_walk_bytes": resident_bytes(),
        "block_loads": model.block_loads,
    }


def tick(window: MainWindow) -> dict[str, Any]:
    window.resize(1280, 1024)  # a full-height window on a common screen: more rows on screen than the default
    QApplication.processEvents()
    clock = ManualClock(datetime.now(UTC))
    window.ctx.clock = clock  # moved on by the tick interval before each tick, as the real clock would be
    window.inbox_view.viewport().repaint()  # every row on screen painted at the starting time
    wall, cpu, marked = [], [], []
    for _ in range(TICK_REPEATS):
        QApplication.processEvents()  # what an earlier tick queued is not counted against this one
        started, started_cpu = time.perf_counter(), time.thread_time()
        marked.append(live_tick(window, clock))
        wall.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
        if window.inbox_view.tick() != 0:
            raise SystemExit("a tick's repaint did not happen inside the measured call")
    full = []  # the worst case: every row on screen reads differently (e.g. the first tick after a long sleep)
    for _ in range(TICK_REPEATS):
        QApplication.processEvents()
        window.inbox_view.itemDelegate().painted_faces.clear()
        started = time.perf_counter()
        live_tick(window, clock)
        full.append(time.perf_counter() - started)
    view = window.inbox_view
    return {
        "full_tick_s": statistics.median(full),
        "rows_repainted": statistics.median(marked),
        "rows_on_screen": view.rowAt(view.viewport().height() - 1) - view.rowAt(0) + 1,
        "rows": window.inbox_model.rowCount(),
        "tick_s": statistics.median(wall),
        "tick_p95_s": sorted(wall)[int(0.95 * (len(wall) - 1))],
        "tick_cpu_s": statistics.median(cpu),
    }


def main(argv: list[str]) -> int:
    mode, profile, out = argv[0], Path(argv[1]), Path(argv[2])
    session, window = _open(profile)
    try:
        result = {"scroll": scroll, "tick": tick}[mode](window)
    finally:
        session.close()
    out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
