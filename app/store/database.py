"""Opening the cache: engine with WAL and foreign keys, migrations with a backup first, daily backups, clear errors."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError

from app.errors import DatabaseDamaged, StoreError

log = logging.getLogger("app.store")

ENV_DATABASE_URL = "PARLEY_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BACKUPS_KEPT = 5
DAILY = timedelta(days=1)
_BACKUP_STAMP = re.compile(r"^parley-(\d{8}T\d{6})\d*Z-")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "handle_error", _explain_sqlite_error)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def _explain_sqlite_error(context: ExceptionContext) -> StoreError | None:
    """Trouble with the file itself (locked, read-only, full, damaged) as a StoreError that says what to do.

    Every read and write anywhere in the app goes through the engine, so one handler here turns a
    failed write during a sync, a send or a click into the same clear message; the transaction that
    failed is rolled back as usual, so nothing of it is written.
    """
    original = context.original_exception
    if not isinstance(original, sqlite3.Error):
        return None
    database = context.engine.url.database if context.engine is not None else None
    return explain_store_error(Path(database) if database else None, str(original))


def explain_store_error(database: Path | None, detail: str) -> StoreError | None:
    """The StoreError for a SQLite error message about the database file, or None for other errors."""
    where = f" {database}" if database else ""
    lowered = detail.lower()
    if "locked" in lowered or "busy" in lowered:
        return StoreError(
            f"The database{where} is locked by another program; nothing was written.",
            hint="Close the other Parley window or `parley` command, then try again.",
        )
    if "readonly" in lowered or "read-only" in lowered:
        return StoreError(
            f"The database{where} is read-only; nothing was written.",
            hint="Fix the file's permissions, or open another profile with --data-dir.",
        )
    if "disk is full" in lowered or "database or disk is full" in lowered:
        return StoreError(
            f"The disk holding the database{where} is full; nothing was written.",
            hint="Free some disk space; Parley carries on where it stopped.",
        )
    if "malformed" in lowered or "not a database" in lowered:
        return DatabaseDamaged(f"The database{where} is damaged; it was left untouched.", hint=_restore_hint(database))
    if "disk i/o error" in lowered:
        return StoreError(f"Could not read or write the database{where} (disk I/O error); nothing was written.")
    return None


def _restore_hint(database: Path | None) -> str:
    # The profile keeps its backups in "backups" beside the database (app.paths.ProfilePaths).
    backups = list_backups(database.parent / "backups") if database is not None else []
    if backups:
        return (
            "Restore the newest automatic backup with `parley restore-backup` (or the button shown at start-up); "
            "the damaged file is kept beside it."
        )
    return "There is no automatic backup yet; open another profile with --data-dir."


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def open_store(database: Path | None = None, *, url: str | None = None, backups: Path | None = None) -> Engine:
    """Open (creating or upgrading as needed) the cache at `database`, or at `url` for a server database."""
    url = url or os.environ.get(ENV_DATABASE_URL) or sqlite_url(_require(database))
    existed = database is not None and database.exists() and database.stat().st_size > 0
    if url.startswith("sqlite") and database is not None:
        _check_sqlite_file(database)
    engine = create_store_engine(url)
    try:
        if url.startswith("sqlite"):
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        migrate(engine, url, database=database, backups=backups)
        if existed and database is not None and backups is not None and url.startswith("sqlite"):
            backup_daily(database, backups)
    except StoreError:
        engine.dispose()
        raise
    except (DatabaseError, OperationalError) as exc:
        engine.dispose()
        raise _store_error(database, exc) from exc
    return engine


def migrate(engine: Engine, url: str, *, database: Path | None = None, backups: Path | None = None) -> None:
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_current_head()
    current = current_revision(engine)
    if current == head:
        return
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"This database was made by a newer version of Parley (schema {current}).",
            hint="Install the newer Parley again, or open another profile with --data-dir.",
        )
    has_data = current is not None or bool(inspect(engine).get_table_names())
    if has_data and database is not None and backups is not None:
        backup_sqlite(database, backups, reason=f"before-{head}")
    log.info("migrating store from %s to %s", current, head)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def backup_sqlite(database: Path, folder: Path, *, reason: str = "daily", keep_if: Any = None) -> Path | None:
    """Copy a live database with SQLite's online backup API and keep the newest few copies.

    With `keep_if`, a copy it rejects is deleted at once and the older copies are all kept.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"parley-{stamp}-{reason}.sqlite3"
    source = sqlite3.connect(database)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
            # A copy is a plain file: in WAL mode even a read-only check would leave -wal/-shm beside it.
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
    finally:
        source.close()
    if keep_if is not None and not keep_if(target):
        target.unlink(missing_ok=True)
        return None
    for old in list_backups(folder)[BACKUPS_KEPT:]:
        old.unlink(missing_ok=True)
    return target


def list_backups(folder: Path) -> list[Path]:
    """Backups, newest first."""
    return sorted(folder.glob("parley-*.sqlite3"), reverse=True)


def backup_time(backup: Path) -> datetime | None:
    """When a backup was taken, from its name."""
    match = _BACKUP_STAMP.match(backup.name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def backup_daily(database: Path, folder: Path, *, now: datetime | None = None) -> Path | None:
    """Take a backup when the newest is more than a day old, and check it.

    A copy that fails SQLite's quick check is deleted, so a quietly damaged database never pushes the
    good backups out, and the damage is reported (DatabaseDamaged) while a good backup still exists.
    """
    now = now or datetime.now(UTC)
    newest = next((t for t in map(backup_time, list_backups(folder)) if t is not None), None)
    if newest is not None and now - newest < DAILY:
        return None
    try:
        target = backup_sqlite(database, folder, reason="daily", keep_if=is_sound)
    except sqlite3.Error as exc:
        log.error("daily backup of %s failed: %s", database, exc)
        return None
    if target is None:
        log.error("daily backup of %s failed its integrity check; older backups kept", database)
        raise DatabaseDamaged(
            f"The database {database} is damaged (its daily check failed); it was left untouched.",
            hint=_restore_hint(database),
        )
    return target


def is_sound(path: Path) -> bool:
    """Whether a database file (not in use) passes SQLite's quick check; opened read-only, never changed."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        return bool(connection.execute("PRAGMA quick_check").fetchone() == ("ok",))
    except sqlite3.DatabaseError:
        return False
    finally:
        connection.close()


def _require(database: Path | None) -> Path:
    if database is None:
        raise StoreError("No database file was given.")
    return database


def _check_sqlite_file(database: Path) -> None:
    """Refuse a file that is not a SQLite database before anything writes to it."""
    if not database.exists():
        return
    try:
        with database.open("rb") as handle:
            header = handle.read(16)
    except OSError as exc:
        raise StoreError(f"Cannot read the database {database}: {exc.strerror or exc}") from exc
    if header and header != b"SQLite format 3\x00":
        raise DatabaseDamaged(
            f"The database {database} is damaged or is not a Parley database; it was left untouched.",
            hint=_restore_hint(database),
        )


def _store_error(database: Path | None, exc: SQLAlchemyError) -> StoreError:
    detail = str(getattr(exc, "orig", exc))
    where = f" {database}" if database else ""
    return explain_store_error(database, detail) or StoreError(f"Cannot open the database{where}: {detail}")
