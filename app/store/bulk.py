"""Large imports (a first sync of a long history, a restore): one big transaction, text index rebuilt once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from sqlalchemy import Connection, Engine

from app.domain.models import FetchedMessage
from app.store.ingest import DeferredSummaries, IngestResult, store_messages, write_cursor


@dataclass
class BulkResult:
    stored: int = 0
    duplicates: int = 0


def bulk_ingest(
    engine: Engine,
    account_id: int,
    fetched: Iterable[FetchedMessage],
    *,
    now: datetime,
    stream: str | None = None,
    cursor: str | None = None,
    batch: int = 50_000,
    rebuild_text_index: bool = True,
    score_tone: bool = False,
) -> BulkResult:
    """Store many messages atomically; on SQLite the text index is rebuilt once instead of row by row.

    Readers keep seeing the previous state (WAL) until the single commit at the end. Rules run as on any
    ingest; the tone of each message is only estimated when asked (`score_tone`), as it would take most of
    the import's time — imported history then counts as neutral.
    """
    result = BulkResult()
    with engine.begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        triggers = _drop_fts_triggers(connection) if sqlite else []
        summaries = DeferredSummaries()
        for part in _batches(fetched, batch):
            stored: IngestResult = store_messages(
                connection, account_id, part, score_tone=score_tone, deferred=summaries
            )
            result.stored += stored.stored
            result.duplicates += stored.duplicates
        summaries.write(connection)
        if stream is not None and cursor is not None:
            write_cursor(connection, account_id, stream, cursor, now=now)
        if sqlite:
            if rebuild_text_index:
                rebuild_fts(connection)
            for statement in triggers:
                connection.exec_driver_sql(statement)
    return result


def _drop_fts_triggers(connection: Connection) -> list[str]:
    """Drop the triggers that keep the text index in step, returning their SQL to recreate them as they were."""
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'messages_fts_%'"
    ).all()
    for name, _sql in rows:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in rows]


def rebuild_fts(connection: Connection) -> None:
    connection.exec_driver_sql("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")


def _batches(items: Iterable[FetchedMessage], size: int) -> Iterator[list[FetchedMessage]]:
    iterator = iter(items)
    while part := list(islice(iterator, size)):
        yield part
