"""The few statements whose spelling differs between SQLite and PostgreSQL, chosen by the engine's dialect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Connection, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles


def upsert(connection: Connection, table: Table) -> Any:
    """An INSERT that supports `on_conflict_do_nothing` / `on_conflict_do_update` on this database."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: list[Any], size: int = 500) -> list[list[Any]]:
    """Split IN-lists so they stay under every backend's bound-parameter limit."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def in_values(connection: Connection, column: Any, values: list[Any]) -> Iterator[ColumnElement[bool]]:
    """Conditions `column IN values`, as few as the database allows.

    On SQLite one, however long the list: the values travel as a single JSON parameter read by json_each,
    so the statement compiles once and is cached (an expanding IN list is re-rendered on every call, which
    was a quarter of a bulk import's time). Elsewhere one condition per chunk of `chunks`.
    """
    if connection.dialect.name == "sqlite":
        listed = json.dumps(values)
        # SQLite's JSON functions end a string at a NUL character; such (hostile) values take the plain path.
        if "\\u0000" not in listed:
            if values:
                yield json_listed(column, listed)
            return
    for part in chunks(values):
        yield column.in_(part)


def json_listed(column: Any, values: Any) -> ColumnElement[bool]:
    """`column IN` the items of a JSON array (a string, or a bind parameter that will hold one); SQLite only."""
    listed = func.json_each(values).table_valued("value")
    return column.in_(select(listed.c.value))  # type: ignore[no-any-return]


def positional_sql(statement: Any, columns: tuple[str, ...]) -> str:
    """SQLite SQL text for `statement` taking one tuple per row, in exactly the order of `columns`."""
    compiled = statement.compile(dialect=sqlite.dialect(), column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != columns:
        raise ValueError(f"columns must be given in table order: {compiled.positiontup}")
    return str(compiled)


class _Selective(ColumnElement[bool]):
    """A condition the planner should treat as rare (SQLite's likelihood(); other databases see it plain)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is, not "… = 1"

    def __init__(self, condition: ColumnElement[bool], probability: float) -> None:
        self.condition = condition
        self.probability = probability


@compiles(_Selective)
def _compile_selective(element: _Selective, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.condition, **kw))


@compiles(_Selective, "sqlite")
def _compile_selective_sqlite(element: _Selective, compiler: Any, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.condition, **kw)}, {element.probability!r})"


def selective(condition: ColumnElement[bool], probability: float = 0.001) -> ColumnElement[bool]:
    """Mark `condition` as matching few rows. SQLite's statistics keep only averages, so with most
    conversations unassigned it takes `assignee = ?` to match nearly everything and scans 200k rows
    instead of reading the assignee index (measured: 280 ms against 1 ms)."""
    return _Selective(condition, probability)
