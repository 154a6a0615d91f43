"""AppContext: the one bundle of engine, secrets, preferences and clock that is handed to what needs it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from app.domain.clock import Clock, SystemClock
from app.logs import configure_logging
from app.paths import ProfilePaths, ensure_writable
from app.secrets import SecretStore
from app.settings import Preferences, load_preferences, save_preferences
from app.store.database import open_store
from app.store.profile import profile_id


@dataclass
class AppContext:
    paths: ProfilePaths
    engine: Engine
    secrets: SecretStore
    preferences: Preferences
    clock: Clock = field(default_factory=SystemClock)
    demo: bool = False
    offline: bool = False

    def save_preferences(self) -> None:
        save_preferences(self.paths.settings_file, self.preferences)

    def close(self) -> None:
        self.engine.dispose()


def open_context(
    paths: ProfilePaths,
    *,
    secrets: SecretStore | None = None,
    clock: Clock | None = None,
    demo: bool = False,
    offline: bool = False,
    verbose: bool = False,
) -> AppContext:
    """Make the profile usable (folders, log, migrated database) or raise a KnownError that says why not."""
    ensure_writable(paths)
    configure_logging(paths.log_file, verbose=verbose)
    engine = open_store(paths.database, backups=paths.backups)
    return AppContext(
        paths=paths,
        engine=engine,
        secrets=secrets or SecretStore(profile_id=profile_id(engine)),
        preferences=load_preferences(paths.settings_file),
        clock=clock or SystemClock(),
        demo=demo,
        offline=offline,
    )
