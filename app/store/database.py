"""Opening the cache: engine with WAL and foreign keys, migrations with a backup first, clear errors."""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError

from app.errors import StoreError

log = logging.getLogger("app.store")

ENV_DATABASE_URL = "PARLEY_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BACKUPS_KEPT = 5


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
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


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
    if url.startswith("sqlite") and database is not None:
        _check_sqlite_file(database)
    engine = create_store_engine(url)
    try:
        if url.startswith("sqlite"):
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        migrate(engine, url, database=database, backups=backups)
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


def backup_sqlite(database: Path, folder: Path, *, reason: str = "daily") -> Path:
    """Copy a live database with SQLite's online backup API and keep the newest few copies."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"parley-{stamp}-{reason}.sqlite3"
    source = sqlite3.connect(database)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    for old in list_backups(folder)[BACKUPS_KEPT:]:
        old.unlink(missing_ok=True)
    return target


def list_backups(folder: Path) -> list[Path]:
    """Backups, newest first."""
    return sorted(folder.glob("parley-*.sqlite3"), reverse=True)


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
        raise StoreError(
            f"The database {database} is damaged or is not a Parley database; it was left untouched.",
            hint="Restore a backup from the profile's backups folder, or open another profile with --data-dir.",
        )


def _store_error(database: Path | None, exc: SQLAlchemyError) -> StoreError:
    detail = str(getattr(exc, "orig", exc))
    where = f" {database}" if database else ""
    if "readonly" in detail or "read-only" in detail:
        return StoreError(
            f"The database{where} is read-only.",
            hint="Fix the file's permissions, or open another profile with --data-dir.",
        )
    if "locked" in detail:
        return StoreError(f"The database{where} is locked by another program.", hint="Close the other Parley window.")
    if "malformed" in detail or "not a database" in detail:
        return StoreError(
            f"The database{where} is damaged; it was left untouched.",
            hint="Restore a backup from the profile's backups folder.",
        )
    return StoreError(f"Cannot open the database{where}: {detail}")
