"""Inbox view benchmarks: a saved view's whole ordered id list and the sidebar's counts, against raw SQLite."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from app.domain.search_syntax import SearchQuery, parse_query
from app.domain.views import DEFAULT_VIEWS
from app.store import accounts, triage
from app.store.inbox_query import InboxQuery, combine, counts, ordered_ids, refresh_statistics
from benchmarks.report import Row, median, ms

Log = Callable[[str], None]
RAW_URGENT = (
    "SELECT id FROM conversations WHERE status = 'open' AND next_due_at IS NOT NULL ORDER BY next_due_at, id",
    "SELECT id FROM conversations INDEXED BY ix_conversations_inbox WHERE (status != 'open' OR next_due_at IS NULL)"
    " AND status IN ('open') ORDER BY last_message_at DESC, id DESC",
)


def run_all(engine: Engine, database: Path, now: object, log: Log) -> list[Row]:
    refresh_statistics(engine)  # what the app does a few seconds after start-up
    return [_all_open(engine, database, now, log), _sidebar_counts(engine, now, log)]


def _timed(call: Callable[[], object], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return median(samples)


def _all_open(engine: Engine, database: Path, now: object, log: Log) -> Row:
    query = combine(parse_query("is:open"))
    found: list[int] = []
    app = _timed(lambda: found.extend(ordered_ids(engine, query, now=now)))  # type: ignore[arg-type]
    raw = sqlite3.connect(database)
    base = _timed(lambda: [raw.execute(sql).fetchall() for sql in RAW_URGENT])
    raw.close()
    log(f"view id list (All open): {ms(app)} vs raw {ms(base)}")
    return Row(
        "inbox view, whole ordered id list (All open, most urgent first)",
        ms(app),
        ms(base),
        f"{app / base:.1f}x",
        "< 250 ms (read off the GUI thread)",
        app < 0.25,
        f"{len(found) // 5:,} conversations listed; the window first paints a 200-row screen read in ~1 ms",
    )


def _sidebar_counts(engine: Engine, now: object, log: Log) -> Row:
    entries: dict[str, InboxQuery] = {v.key: combine(v.query, me="Customer Service") for v in DEFAULT_VIEWS}
    not_closed = parse_query("status:open status:pending status:snoozed")
    for account in accounts.list_accounts(engine):
        entries[f"account:{account.name}"] = combine(SearchQuery(accounts=(account.name,)), not_closed)
    for tag in triage.list_tags(engine):
        entries[f"tag:{tag}"] = combine(SearchQuery(tags=(tag,)), not_closed)
    for name in triage.list_assignees(engine):
        entries[f"assignee:{name}"] = combine(SearchQuery(exact_assignees=(name,)), not_closed)
    seconds = _timed(lambda: counts(engine, entries, now=now), repeat=3)  # type: ignore[arg-type]
    log(f"sidebar counts ({len(entries)} entries): {ms(seconds)}")
    return Row(
        f"sidebar counts, every entry ({len(entries)} COUNT queries)",
        ms(seconds),
        "-",
        "-",
        "< 1 s (counted off the GUI thread)",
        seconds < 1.0,
    )
