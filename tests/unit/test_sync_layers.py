"""The sync logic runs without Qt (CLI, tests); only the bridge loads Qt, and only QtCore."""

from __future__ import annotations

import json
import subprocess
import sys

QT_FREE = ["backoff", "writer", "events", "engine", "scheduler", "account_service", "cli_sync"]

_PROBE = """
import importlib, json, sys
def pyside():
    return sorted(m for m in sys.modules if m.startswith("PySide6"))
for name in NAMES:
    importlib.import_module("app.sync." + name)
before = pyside()
importlib.import_module("app.sync.qt_bridge")
print(json.dumps({"logic": before, "bridge": pyside()}))
"""


def test_sync_logic_loads_no_qt_and_the_bridge_only_qtcore() -> None:
    code = _PROBE.replace("NAMES", repr(QT_FREE))
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert loaded["logic"] == []
    assert "PySide6.QtCore" in loaded["bridge"]
    assert not {"PySide6.QtGui", "PySide6.QtWidgets"} & set(loaded["bridge"])
