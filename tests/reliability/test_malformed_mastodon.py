"""Malformed Mastodon payloads, served over HTTP to the real connector and stored in a real SQLite store.

Each example is a notifications page in which good mentions sit next to broken ones (fields missing,
extra or of the wrong type, nulls, hostile unicode, odd timestamps). Whatever the page holds, the
connector must not fail: good items are stored, bad ones are rejected and logged with their id, the
cursor moves past the page so the sync goes on, and the store (FTS index included) stays sound.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from app.domain.clock import PLAUSIBLE_FROM, PLAUSIBLE_UNTIL
from app.domain.models import AccountRef, Page, Platform
from app.errors import PlatformError
from app.platforms.http import make_session
from app.platforms.mastodon import MastodonConnector
from app.platforms.mastodon_parse import id_key, newest_id
from app.store import accounts, inbox
from app.store.database import open_store
from app.store.ingest import store_page
from tests.peers.json_server import JsonServer, Reply
from tests.reliability.helpers import assemble, assert_readable_kept, checked_store, fetch_into_store, serial, stored
from tests.reliability.hostile import (
    PAYLOAD_SETTINGS,
    hostile_text,
    junk,
    mutate,
    mutations,
    nested_json,
    odd_timestamp,
)

AREA = "Malformed platform data"
OWN = "1"
TOKEN = "malformed-token-0123456789"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

NOTIFICATION_FIELDS = [("id",), ("type",), ("status",), ("created_at",), ("account",)]
STATUS_FIELDS = [
    ("status", name)
    for name in (
        "id",
        "created_at",
        "content",
        "account",
        "in_reply_to_id",
        "in_reply_to_account_id",
        "visibility",
        "spoiler_text",
        "mentions",
        "media_attachments",
        "url",
    )
]
ACCOUNT_FIELDS = [("status", "account", name) for name in ("id", "acct", "display_name", "username")]


def notification(number: int, marker: str, words: str = "") -> dict[str, Any]:
    status_id = str(900_000 + number)
    return {
        "id": str(1000 + number),
        "type": "mention",
        "created_at": "2026-01-05T08:00:00.000Z",
        "account": {"id": str(50 + number), "acct": f"c{number}@example.org"},
        "status": {
            "id": status_id,
            "created_at": "2026-01-05T08:00:00.000Z",
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "visibility": "public",
            "spoiler_text": "",
            "content": f'<p><a href="https://m.example/@brand">@brand</a> {marker} {json.dumps(words)[1:-1]}</p>',
            "account": {
                "id": str(50 + number),
                "username": f"c{number}",
                "acct": f"c{number}@example.org",
                "display_name": words,
            },
            "mentions": [{"id": OWN, "acct": "brand", "username": "brand"}],
            "media_attachments": [],
        },
    }


def paged(items: list[dict[str, Any]]) -> Any:
    """A notifications route that pages `items` by min_id as Mastodon does (40 above min_id, newest first)."""
    ordered = sorted(items, key=lambda item: id_key(item["id"]))

    def route(query: dict[str, list[str]]) -> Reply:
        low = query.get("min_id", ["0"])[0]
        above = [item for item in ordered if id_key(item["id"]) > id_key(low)][:40]
        return Reply.json(list(reversed(above)))

    return route


def once(body: bytes) -> Any:
    """A notifications route that serves `body` for the first page and nothing after it."""
    return lambda query: Reply(200, body) if query.get("min_id") == ["0"] else Reply.json([])


def without_surrogates(value: Any) -> Any:
    """What Parley must make of text with lone surrogates (JSON can carry them as escapes): U+FFFD instead."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


@pytest.fixture(scope="module")
def server() -> Iterator[JsonServer]:
    server = JsonServer().start()
    server.routes["/api/v1/accounts/verify_credentials"] = Reply.json({"id": OWN, "acct": "brand"})
    server.routes["/api/v1/conversations"] = Reply.json([])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from checked_store(tmp_path_factory, "malformed-mastodon")


def sync_into_store(server: JsonServer, engine: Engine) -> tuple[AccountRef, list[Page]]:
    """Fetch the mentions stream from `server` with the real connector and store every page, as sync does."""
    account = accounts.add_account(
        engine, platform=Platform.MASTODON, name=f"brand-{next(serial)}", base_url=server.url, now=NOW,
        platform_user_id=OWN,
    )  # fmt: skip
    connector = MastodonConnector(account, TOKEN, session=make_session(retries=0))
    return account, fetch_into_store(engine, account, connector, "mentions", now=NOW)


item_strategy = st.one_of(
    st.tuples(st.just("good"), hostile_text),
    st.tuples(st.just("broken"), mutations(NOTIFICATION_FIELDS + STATUS_FIELDS + ACCOUNT_FIELDS)),
    st.tuples(st.just("broken"), mutations([("status", "created_at")], odd_timestamp)),
    st.tuples(st.just("broken"), mutations([("status", "content"), ("status", "account", "acct")], hostile_text)),
    st.tuples(st.just("junk"), junk),
)


@PAYLOAD_SETTINGS
@given(items=st.lists(item_strategy, min_size=1, max_size=10))
@example(items=[("good", "\x00"), ("broken", (("status",), "replace", None)), ("good", "\ud800")])
@example(items=[("broken", (("status", "created_at"), "replace", "9999-12-31T23:59:59-12:00")), ("good", "ok")])
def test_a_page_of_broken_mentions_keeps_every_readable_one(
    server: JsonServer, store: Engine, caplog: pytest.LogCaptureFixture, items: list[tuple[str, Any]]
) -> None:
    """Fault: Mastodon notifications with missing, extra, null and wrong-typed fields, hostile unicode (RTL,
    combining marks, emoji ZWJ, NUL, lone surrogates) and odd or far-future timestamps, mixed with good ones.

    Survives: every readable mention is stored and searchable, each unreadable one is skipped and logged
    with its id, and the cursor moves past the page so the sync goes on.
    """
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="app.store.ingest")
    body, good = assemble(items, notification, lambda item: item["status"]["id"], "m")
    server.routes["/api/v1/notifications"] = once(json.dumps(body).encode())

    account, pages = sync_into_store(server, store)

    rows = assert_readable_kept(store, account, pages, good, caplog.text)
    rejected = [item for page in pages for item in page.rejected]
    labels = " ".join(item.item_id for item in rejected)
    for index, item in enumerate(body):
        notification_id = without_surrogates(item.get("id")) if isinstance(item, dict) else None
        status = item.get("status") if isinstance(item, dict) else None
        status_id = status.get("id") if isinstance(status, dict) else None
        accounted_for = (
            (isinstance(status_id, str) and without_surrogates(status_id) in rows)
            or f"notification #{index}" in labels
            or (isinstance(notification_id, str) and f"notification {notification_id}" in labels)
            or (isinstance(notification_id, str) and notification_id and item.get("type") != "mention")
        )
        assert accounted_for, f"item #{index} was neither stored nor rejected: {item!r:.300}"
    valid_ids = [
        without_surrogates(item["id"]) for item in body if isinstance(item, dict) and isinstance(item.get("id"), str)
    ]
    newest = newest_id(i for i in valid_ids if i)
    expected_cursor = newest if newest is not None and id_key(newest) > id_key("0") else None
    assert accounts.get_cursor(store, account.id, "mentions") == expected_cursor


@PAYLOAD_SETTINGS
@given(moment=odd_timestamp)
def test_odd_timestamps_are_read_or_rejected_never_trusted_blindly(
    server: JsonServer, store: Engine, moment: Any
) -> None:
    """Fault: a status whose created_at is far in the future or past, not ISO 8601, out of range, or not text.

    Survives: the status is stored with a time between 1970 and 2200, or skipped with its id and the reason.
    """
    item = notification(1, f"m{next(serial)}")
    item["status"]["created_at"] = moment
    server.routes["/api/v1/notifications"] = once(json.dumps([item]).encode())
    account, pages = sync_into_store(server, store)
    rows = stored(store, account.id)
    if rows:
        (row,) = rows.values()
        assert PLAUSIBLE_FROM <= row.created_at < PLAUSIBLE_UNTIL
    else:
        (rejected,) = [r for page in pages for r in page.rejected]
        assert "900001" in rejected.item_id and "created_at" in rejected.reason


@pytest.mark.parametrize("shape", ["words", "tags"])
def test_a_10_mb_status_is_stored_cut_to_size_and_its_page_with_it(
    server: JsonServer, store: Engine, shape: str
) -> None:
    """Fault: a 10 MB status (10 MB of {id}) on a page of ordinary mentions.

    Survives: the page is stored within seconds; the huge body is cut to a bounded size with a note, so
    neither the database nor the thread view has to hold 10 MB.
    """
    huge = notification(0, f"m{next(serial)}")
    filler = "lorem ipsum dolor " if shape == "words" else "<span><b></b></span>"
    huge["status"]["content"] = "<p>" + filler * (10_000_000 // len(filler)) + "</p>"
    ordinary = [notification(n, f"m{next(serial)}", "fine") for n in range(1, 6)]
    server.routes["/api/v1/notifications"] = once(json.dumps([huge, *ordinary]).encode())

    started = time.monotonic()
    account, _pages = sync_into_store(server, store)
    elapsed = time.monotonic() - started

    rows = stored(store, account.id)
    assert set(rows) == {"900000", "900001", "900002", "900003", "900004", "900005"}
    assert elapsed < 30, f"a 10 MB status took {elapsed:.1f} s to fetch and store"
    with store.connect() as connection:
        sizes = connection.exec_driver_sql(
            "SELECT length(body_text), length(body_html), length(raw) FROM messages "
            "WHERE account_id = ? AND platform_message_id = '900000'",
            (account.id,),
        ).one()
    assert max(sizes) <= 1_000_000, sizes
    if shape == "words":
        assert "Parley keeps at most 200,000 characters" in rows["900000"].body_text[-200:]


def test_a_thread_nested_2000_replies_deep_stays_one_conversation(server: JsonServer, store: Engine) -> None:
    """Fault: a reply chain 2,000 statuses deep, arriving over 50 pages with broken items between them.

    Survives: every reply is stored in the one conversation of its root, in order, and the sync walks
    every page to the end.
    """
    chain = []
    for number in range(2000):
        item = notification(number, f"m{next(serial)}", "deep")
        if number:
            item["status"]["in_reply_to_id"] = str(900_000 + number - 1)
        chain.append(item)
    broken = [mutate(notification(n, "x"), ("status", "account"), "replace", None) for n in range(3000, 3040, 10)]
    server.routes["/api/v1/notifications"] = paged(chain + broken)

    account, pages = sync_into_store(server, store)

    assert len(pages) >= 50 and not pages[-1].has_more
    assert len(stored(store, account.id)) == 2000
    (conversation,) = [c for c in inbox.inbox_page(store) if c.account_id == account.id]
    thread = inbox.thread(store, conversation.id)
    assert [m.platform_message_id for m in thread] == [str(900_000 + n) for n in range(2000)]
    assert sum(len(page.rejected) for page in pages) == 4


@pytest.mark.parametrize("depth", [50, 900, 100_000])
def test_deeply_nested_json_in_a_status_never_crashes_the_sync(server: JsonServer, store: Engine, depth: int) -> None:
    """Fault: a status carrying an unknown field nested {id} levels deep.

    Survives: a depth JSON can hold is stored with the rest of its page; one too deep to read is a
    clear platform error for the whole page, and the cursor stays where it was.
    """
    marker = f"m{next(serial)}"
    item = json.dumps(notification(1, marker, "nested"))
    poisoned = item[:-1] + ', "x_nested": ' + nested_json(depth) + "}"
    server.routes["/api/v1/notifications"] = once(("[" + poisoned + "]").encode())
    try:
        account, _pages = sync_into_store(server, store)
    except PlatformError as exc:
        assert depth > 1000, f"depth {depth} should be readable"
        assert "not valid JSON" in str(exc) or "cannot read" in str(exc)
        return
    assert set(stored(store, account.id)) == {"900001"}


def test_the_failed_page_leaves_the_store_untouched(tmp_path: Path, server: JsonServer) -> None:
    """Fault: a notifications page that is not JSON at all (truncated mid-string) after a good page.

    Survives: the good page and its cursor are stored; the unreadable page raises a platform error
    that names the problem, and nothing of it is written.
    """
    engine = open_store(tmp_path / "parley.sqlite3")
    good = [notification(n, f"m{next(serial)}") for n in range(40)]

    def route(query: dict[str, list[str]]) -> Reply:
        return Reply.json(list(reversed(good))) if query.get("min_id") == ["0"] else Reply(200, b'[{"id": "20')

    server.routes["/api/v1/notifications"] = route
    account = accounts.add_account(
        engine, platform=Platform.MASTODON, name="brand", base_url=server.url, now=NOW, platform_user_id=OWN
    )
    connector = MastodonConnector(account, TOKEN, session=make_session(retries=0))
    pages = connector.fetch("mentions", None)
    store_page(engine, account.id, next(pages), now=NOW)
    with pytest.raises(PlatformError, match="not valid JSON"):
        next(pages)
    connector.close()
    assert len(stored(engine, account.id)) == 40
    assert accounts.get_cursor(engine, account.id, "mentions") == "1039"
    engine.dispose()
