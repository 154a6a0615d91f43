"""Finds data files in resources/ (demo data, the starter playbook), from a source checkout or a bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_root() -> Path:
    bundled = getattr(sys, "_MEIPASS", None)
    if bundled:
        return Path(bundled) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def demo_file(name: str) -> Path:
    return resources_root() / "demo" / name


def starter_playbook() -> Path:
    return resources_root() / "playbook" / "starter.yaml"
