"""The Qt binding itself: signals carrying Python objects from pool threads must be safe.

PySide6 6.12.0 corrupts reference counts when a signal carries a Python object from a QThreadPool
thread to the GUI thread (the process aborts with "deallocating True or False" after ~100 emits); the
sync and outbox controllers do exactly that for every page, so pyproject.toml pins 6.11.3. This test
keeps any future bump honest. It runs in a subprocess because the failure is an abort.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal, Slot
app = QCoreApplication([])
class Source(QObject):
    carried = Signal(object)
received = []
class Sink(QObject):
    @Slot(object)
    def take(self, value): received.append(value["n"])
source, sink = Source(), Sink()
source.carried.connect(sink.take)
class Emit(QRunnable):
    def run(self):
        for n in range(5000):
            source.carried.emit({"n": n, "flag": n % 2 == 0, "nothing": None})
QThreadPool.globalInstance().start(Emit())
while len(received) < 5000:
    app.processEvents()
print(sum(received))
"""


def test_signals_carrying_python_objects_across_threads_keep_the_interpreter_sound() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == str(sum(range(5000)))
