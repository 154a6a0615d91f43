"""The few statements whose spelling differs between SQLite and PostgreSQL, chosen by the engine's dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(connection: Connection, table: Table) -> Any:
    """An INSERT that supports `on_conflict_do_nothing` / `on_conflict_do_update` on this database."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: list[Any], size: int = 500) -> list[list[Any]]:
    """Split IN-lists so they stay under every backend's bound-parameter limit."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def positional_sql(statement: Any, columns: tuple[str, ...]) -> str:
    """SQLite SQL text for `statement` taking one tuple per row, in exactly the order of `columns`."""
    compiled = statement.compile(dialect=sqlite.dialect(), column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != columns:
        raise ValueError(f"columns must be given in table order: {compiled.positiontup}")
    return str(compiled)
