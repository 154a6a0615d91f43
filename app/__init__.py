"""Parley: one inbox for every customer conversation on social media."""

from __future__ import annotations

from importlib import metadata

APP_ID = "io.parley.Parley"
APP_NAME = "Parley"


def version() -> str:
    """The version declared in pyproject.toml, read from the installed metadata or the source tree."""
    try:
        return metadata.version("parley")
    except metadata.PackageNotFoundError:
        return _version_from_source_tree()


def _version_from_source_tree() -> str:
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        with pyproject.open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0+unknown"
