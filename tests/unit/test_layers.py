"""The core stays free of Qt: importing domain, store and platforms must not load PySide6."""

from __future__ import annotations

import subprocess
import sys


def test_core_layers_import_without_qt() -> None:
    code = (
        "import sys, pkgutil, importlib, app.domain, app.store, app.platforms\n"
        "for pkg in (app.domain, app.store, app.platforms):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if '.migrations' in info.name: continue\n"
        "        importlib.import_module(info.name)\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('PySide6'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
