"""What several reliability tests share: the real connector tuned for test time, feed accounts, invariants, the CLI,
and the harness of the malformed-payload tests (a checked store, payloads mixing good, broken and junk items,
and what must hold after such a payload was synced)."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from app.context import AppContext
from app.domain.clock import PLAUSIBLE_FROM, PLAUSIBLE_UNTIL
from app.domain.models import AccountRef, Page, Platform
from app.platforms.base import Connector
from app.platforms.http import make_session
from app.platforms.mastodon import MastodonConnector
from app.store import accounts
from app.store.database import open_store
from app.store.ingest import store_page
from app.store.schema import messages
from tests.peers.mastodon_feed import BRAND_ID
from tests.reliability.hostile import mutate

REPO_ROOT = Path(__file__).resolve().parents[2]


def real_connector(account: AccountRef, secret: str, *, read_timeout: float = 5.0) -> MastodonConnector:
    """The production connector and retry policy, with a shorter read timeout and backoff to keep tests fast."""
    return MastodonConnector(account, secret, timeout=(2.0, read_timeout), session=make_session(backoff=0.05))


def add_mastodon_account(
    ctx: AppContext, url: str, token: str, *, user_id: str = BRAND_ID, name: str = "brand"
) -> AccountRef:
    account = accounts.add_account(
        ctx.engine, platform=Platform.MASTODON, name=name, base_url=url, now=ctx.clock.now(), platform_user_id=user_id
    )
    ctx.secrets.set(account.id, token)
    return account


def stored_counts(ctx: AppContext, account: AccountRef) -> tuple[int, int]:
    """(messages, distinct platform ids) stored for the account."""
    with ctx.engine.connect() as connection:
        total, distinct = connection.execute(
            select(func.count(), func.count(messages.c.platform_message_id.distinct())).where(
                messages.c.account_id == account.id
            )
        ).one()
    return int(total), int(distinct)


def assert_cursor_covers_only_what_is_stored(ctx: AppContext, account: AccountRef) -> None:
    """FeedServer's notification n carries message n-1 and every notification is a mention: a stored cursor
    of c is honest exactly when messages 1..c, and no others, are stored."""
    total, distinct = stored_counts(ctx, account)
    cursor = accounts.get_cursor(ctx.engine, account.id, "mentions")
    assert total == distinct, "a message was stored twice"
    assert total == (int(cursor) if cursor else 0), f"cursor {cursor} but {total} messages stored"


def message_count(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])


def parley(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the `parley` command line in its own process on the profile at `data_dir`."""
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- the malformed-payload harness (test_malformed_*.py) ---------------------------------------------------------
serial = itertools.count(1)  # account names and markers unique across every example of a module


def checked_store(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Engine]:
    """A store for a module's examples; once they ran, SQLite's integrity check and FTS5's own check of the
    text index against the messages must pass."""
    engine = open_store(tmp_path_factory.mktemp(name) / "parley.sqlite3")
    yield engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        # FTS5's own check of the full-text index against the messages it indexes; raises if they differ.
        connection.exec_driver_sql("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
    engine.dispose()


def fetch_into_store(
    engine: Engine, account: AccountRef, connector: Connector, stream: str, *, now: datetime
) -> list[Page]:
    """Fetch `stream` with the real connector and store every page, as sync does; the pages fetched."""
    try:
        pages = list(connector.fetch(stream, None))
    finally:
        connector.close()
    for page in pages:
        store_page(engine, account.id, page, now=now)
    return pages


def stored(engine: Engine, account_id: int) -> dict[str, Any]:
    """The account's stored messages by platform id (body text and time)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(messages.c.platform_message_id, messages.c.body_text, messages.c.created_at).where(
                messages.c.account_id == account_id
            )
        ).all()
    return {row.platform_message_id: row for row in rows}


def fts_finds(engine: Engine, word: str) -> bool:
    with engine.connect() as connection:
        query = text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH :w")
        return connection.execute(query, {"w": f'"{word}"'}).scalar_one() > 0


def assemble(
    items: list[tuple[str, Any]],
    make: Callable[[int, str, str], dict[str, Any]],
    id_of: Callable[[dict[str, Any]], str],
    prefix: str,
) -> tuple[list[Any], dict[str, str]]:
    """A payload from drawn items: ("good", words) made whole by `make(number, marker, words)`, ("broken",
    (path, action, value)) a whole item mutated there, ("junk", value) as drawn. Returns the payload's items
    and, for each good one, its id (`id_of`) and the unique marker its text carries."""
    body: list[Any] = []
    good: dict[str, str] = {}
    for number, (kind, detail) in enumerate(items):
        marker = f"{prefix}{next(serial)}q{number}"
        if kind == "good":
            item: Any = make(number, marker, detail)
            good[id_of(item)] = marker
        elif kind == "broken":
            path, action, value = detail
            item = mutate(make(number, marker, "broken"), path, action, value)
        else:
            item = detail
        body.append(item)
    return body, good


def assert_readable_kept(
    engine: Engine, account: AccountRef, pages: list[Page], good: dict[str, str], log_text: str
) -> dict[str, Any]:
    """Every good item stored and searchable, every stored time plausible, every rejected item logged with
    its id. Returns the stored rows for the caller's own checks."""
    rows = stored(engine, account.id)
    for item_id, marker in good.items():
        assert item_id in rows, f"good item {item_id} was not stored"
        assert marker in rows[item_id].body_text and fts_finds(engine, marker)
    for row in rows.values():
        assert PLAUSIBLE_FROM <= row.created_at < PLAUSIBLE_UNTIL
    for item in (item for page in pages for item in page.rejected):
        assert f"skipped unreadable item {item.item_id}" in log_text
    return rows
