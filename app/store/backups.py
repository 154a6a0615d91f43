"""Restoring an automatic backup: the damaged database is moved aside (never deleted) and the backup copied in."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.errors import StoreError
from app.store.database import backup_time, is_sound, list_backups

log = logging.getLogger("app.store.backups")

# A database in WAL mode is three files; restoring one without the others would mix two databases.
_COMPANIONS = ("", "-wal", "-shm")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    taken_at: datetime | None
    size: int
    reason: str


@dataclass(frozen=True)
class Restored:
    backup: Path
    damaged_kept_as: Path | None


def describe_backups(folder: Path) -> list[BackupInfo]:
    """The automatic backups, newest first, with when and why each was taken."""
    found = []
    for path in list_backups(folder):
        reason = path.stem.split("-", 2)[-1] if path.stem.count("-") >= 2 else ""
        found.append(BackupInfo(path, backup_time(path), path.stat().st_size, reason))
    return found


def restore_backup(database: Path, folder: Path, backup: Path | None = None) -> Restored:
    """Put `backup` (default: the newest sound one) in place of `database`, keeping the old file beside it.

    Only call this while no Parley process has the database open.
    """
    chosen = _choose(folder, backup)
    kept = _move_aside(database)
    temporary = database.with_name(database.name + ".restoring")
    shutil.copyfile(chosen, temporary)
    os.replace(temporary, database)
    log.warning("restored %s from %s; the previous database is kept as %s", database, chosen, kept)
    return Restored(backup=chosen, damaged_kept_as=kept)


def _choose(folder: Path, backup: Path | None) -> Path:
    if backup is not None:
        candidate = backup if backup.exists() or backup.is_absolute() else folder / backup
        if not candidate.is_file():
            raise StoreError(f"There is no backup {backup}.", hint="`parley restore-backup --list` shows them.")
        if not is_sound(candidate):
            raise StoreError(f"The backup {candidate.name} is damaged too.", hint="Choose an older one.")
        return candidate
    backups = list_backups(folder)
    if not backups:
        raise StoreError(f"There is no automatic backup in {folder} to restore.")
    for candidate in backups:
        if is_sound(candidate):
            return candidate
        log.warning("skipping damaged backup %s", candidate)
    raise StoreError(f"Every backup in {folder} is damaged.", hint="Open another profile with --data-dir.")


def _move_aside(database: Path) -> Path | None:
    if not database.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = database.with_name(f"{database.name}.damaged-{stamp}")
    for suffix in _COMPANIONS:
        source = database.with_name(database.name + suffix)
        if source.exists():
            try:
                source.rename(kept.with_name(kept.name + suffix))
            except OSError as exc:
                raise StoreError(
                    f"Could not move {source} aside: {exc.strerror or exc}; nothing was restored."
                ) from exc
    return kept
