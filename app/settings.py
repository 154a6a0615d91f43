"""User preferences: a typed dataclass saved as TOML in the profile (window geometry lives in QSettings)."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

log = logging.getLogger("app.settings")


@dataclass
class Preferences:
    agent_name: str = ""
    sync_interval_s: int = 60
    auto_accept_direct_invites: bool = True
    work_offline: bool = False
    show_notifications: bool = True
    display_time_zone: str = ""
    public_replies_need_review: bool = False


def load_preferences(path: Path) -> Preferences:
    if not path.exists():
        return Preferences()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        log.warning("ignoring unreadable settings file %s: %s", path, exc)
        return Preferences()
    known = {f.name: f.type for f in fields(Preferences)}
    defaults = Preferences()
    values = {}
    for name in known:
        value = data.get(name, getattr(defaults, name))
        values[name] = value if isinstance(value, type(getattr(defaults, name))) else getattr(defaults, name)
    return Preferences(**values)


def save_preferences(path: Path, preferences: Preferences) -> None:
    lines = []
    for key, value in asdict(preferences).items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.replace(path)
