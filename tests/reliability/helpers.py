"""What several reliability tests share: the real connector tuned for test time, feed accounts, invariants, the CLI."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from app.context import AppContext
from app.domain.models import AccountRef, Platform
from app.platforms.http import make_session
from app.platforms.mastodon import MastodonConnector
from app.store import accounts
from app.store.schema import messages
from tests.peers.mastodon_feed import BRAND_ID

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
