"""Where things live: a profile's database, settings and logs (platformdirs, or --data-dir / PARLEY_DATA_DIR),
and the app's own read-only resources/ folder."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import platformdirs

from app.errors import ProfileError

ENV_DATA_DIR = "PARLEY_DATA_DIR"


@dataclass(frozen=True)
class ProfilePaths:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "parley.sqlite3"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs / "parley.log"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.toml"

    @property
    def window_state_file(self) -> Path:
        return self.root / "window.ini"

    def demo(self) -> ProfilePaths:
        """The demo profile lives beside the real one, never inside its database."""
        return ProfilePaths(self.root.parent / f"{self.root.name}-demo")


def resolve_profile(data_dir: str | os.PathLike[str] | None = None) -> ProfilePaths:
    chosen = data_dir or os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir("Parley", "Parley")
    return ProfilePaths(Path(chosen).expanduser().resolve())


def ensure_writable(paths: ProfilePaths) -> None:
    """Create the profile folders, or say plainly why they cannot be used."""
    try:
        for folder in (paths.root, paths.logs, paths.backups):
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProfileError(
            f"Cannot create the profile folder {paths.root}: {exc.strerror or exc}",
            hint="Choose another folder with --data-dir or PARLEY_DATA_DIR.",
        ) from exc
    if not os.access(paths.root, os.W_OK | os.X_OK):
        raise ProfileError(
            f"The profile folder {paths.root} is not writable.",
            hint="Fix its permissions, or choose another folder with --data-dir or PARLEY_DATA_DIR.",
        )


@cache
def resources_dir() -> Path | None:
    """The resources/ folder (icons, demo data, starter playbook), or None when this install lacks one.

    Looked for in a PyInstaller bundle, then inside the installed package (a wheel ships it as
    app/resources, see setup.py), then beside the package in a source checkout.
    """
    package = Path(__file__).resolve().parent
    candidates = [package / "resources", package.parent / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / "resources")
    for folder in candidates:
        if (folder / "icons" / "parley.svg").is_file():
            return folder
    return None
