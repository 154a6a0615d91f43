"""Finding the resources/ folder (source tree, installed data or frozen bundle) and loading icons from it."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

import app


def _candidates() -> list[Path]:
    package = Path(app.__file__).resolve().parent
    found = []
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files here
    if bundle:
        found.append(Path(bundle) / "resources")
    found.append(package / "resources")  # shipped as package data
    found.append(Path(sys.prefix) / "share" / "parley" / "resources")  # shipped as data-files
    found.append(package.parent / "resources")  # running from a source checkout
    return found


@cache
def resources_dir() -> Path | None:
    """The first resources/ folder that holds the app icon, or None when the install lacks one."""
    for folder in _candidates():
        if (folder / "icons" / "parley.svg").is_file():
            return folder
    return None


def resource_path(*parts: str) -> Path | None:
    root = resources_dir()
    if root is None:
        return None
    path = root.joinpath(*parts)
    return path if path.exists() else None


def icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg; an empty icon when missing, so a broken install still starts."""
    path = resource_path("icons", f"{name}.svg")
    return QIcon(str(path)) if path else QIcon()


def app_icon() -> QIcon:
    return icon("parley")
