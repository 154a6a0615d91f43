"""Loading icons from the resources/ folder (found by app.paths.resources_dir) as QIcons."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

from app.paths import resources_dir


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
