"""Finds data files in resources/ (demo data, the starter playbook): source checkout, installed wheel or bundle."""

from __future__ import annotations

from pathlib import Path

from app.paths import resources_dir


def resources_root() -> Path:
    # Without a resources folder the checkout path is still the clearest thing to name in the error.
    return resources_dir() or Path(__file__).resolve().parents[2] / "resources"


def demo_file(name: str) -> Path:
    return resources_root() / "demo" / name


def starter_playbook() -> Path:
    return resources_root() / "playbook" / "starter.yaml"
