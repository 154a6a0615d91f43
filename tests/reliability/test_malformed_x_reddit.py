"""Malformed X and Reddit payloads, served over HTTP to the real connectors and stored in a real SQLite store.

Each example is a page (X mentions, a Reddit inbox listing) in which good items sit next to broken ones (fields
missing, extra or of the wrong type, nulls, hostile unicode, odd timestamps). Whatever the page holds, the
connector must not fail: good items are stored, bad ones are rejected with their id, and the store stays sound.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from app.domain.clock import PLAUSIBLE_FROM, PLAUSIBLE_UNTIL
from app.domain.models import Page, Platform
from app.platforms.http import make_session
from app.platforms.oauth2 import TokenBundle
from app.platforms.reddit import RedditConnector
from app.platforms.x import XConnector
from app.store import accounts
from tests.peers.json_server import JsonServer, Reply
from tests.reliability.helpers import assemble, checked_store, fetch_into_store, serial, stored
from tests.reliability.hostile import PAYLOAD_SETTINGS, hostile_text, junk, mutations, odd_timestamp

AREA = "Malformed platform data"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SECRET = TokenBundle("malformed-token-0123456789").dumps()

TWEET_FIELDS = [(name,) for name in ("id", "text", "author_id", "created_at", "conversation_id", "referenced_tweets")]
THING_FIELDS = [("kind",)] + [
    ("data", name)
    for name in ("name", "author", "author_fullname", "body", "body_html", "created_utc", "parent_id", "type",
                 "first_message_name", "subject", "replies")
]  # fmt: skip


def tweet(number: int, marker: str, words: str = "") -> dict[str, Any]:
    tweet_id = str(1_700_000_000_000_000_000 + number)
    return {
        "id": tweet_id,
        "text": f"@brand {marker} {words}",
        "author_id": str(50 + number),
        "created_at": "2026-01-05T08:00:00.000Z",
        "conversation_id": tweet_id,
        "edit_history_tweet_ids": [tweet_id],
    }


def thing(number: int, marker: str, words: str = "") -> dict[str, Any]:
    kind = "t1" if number % 2 else "t4"
    return {
        "kind": kind,
        "data": {
            "name": f"{kind}_m{number}",
            "author": f"user{number}",
            "author_fullname": f"t2_{number}",
            "body": f"{marker} {words}",
            "body_html": f"<div class='md'><p>{marker}</p></div>",
            "created_utc": 1_767_600_000.0 + number,
            "parent_id": "t3_post" if kind == "t1" else None,
            "type": "post_reply",
            "first_message_name": None,
            "subject": "hello",
            "replies": "",
        },
    }


@pytest.fixture(scope="module")
def server() -> Iterator[JsonServer]:
    server = JsonServer().start()
    server.routes["/api/info"] = Reply.json({"kind": "Listing", "data": {"after": None, "children": []}})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from checked_store(tmp_path_factory, "malformed-x-reddit")


def sync_into_store(server: JsonServer, engine: Engine, platform: Platform) -> tuple[int, list[Page]]:
    handle = "@brand" if platform is Platform.X else "u/brand"
    account = accounts.add_account(
        engine, platform=platform, name=f"brand-{next(serial)}", base_url=server.url, now=NOW, handle=handle,
        platform_user_id="1", options={"client_id": "c"},
    )  # fmt: skip
    cls = XConnector if platform is Platform.X else RedditConnector
    connector = cls(account, SECRET, session=make_session(retries=0))
    stream = "mentions" if platform is Platform.X else "inbox"
    return account.id, fetch_into_store(engine, account, connector, stream, now=NOW)


def build(items: list[tuple[str, Any]], make: Any) -> tuple[list[Any], dict[str, str]]:
    return assemble(items, make, lambda item: item["id"] if "id" in item else item["data"]["name"], "m")


def check(engine: Engine, account_id: int, pages: list[Page], body: list[Any], good: dict[str, str], key: Any) -> None:
    rows = stored(engine, account_id)
    for item_id, marker in good.items():
        assert item_id in rows, f"good item {item_id} was not stored"
        assert marker in rows[item_id].body_text
    for row in rows.values():
        assert PLAUSIBLE_FROM <= row.created_at < PLAUSIBLE_UNTIL
    labels = " ".join(r.item_id for page in pages for r in page.rejected)
    for index, item in enumerate(body):
        item_id = key(item)
        accounted_for = (
            (isinstance(item_id, str) and item_id in rows)
            or f"item #{index}" in labels
            or (isinstance(item_id, str) and item_id and item_id in labels)
        )
        assert accounted_for, f"item #{index} was neither stored nor rejected: {item!r:.300}"


def tweet_id_of(item: Any) -> Any:
    return item.get("id") if isinstance(item, dict) else None


def thing_name_of(item: Any) -> Any:
    data = item.get("data") if isinstance(item, dict) else None
    return data.get("name") if isinstance(data, dict) else None


@PAYLOAD_SETTINGS
@given(
    items=st.lists(
        st.one_of(
            st.tuples(st.just("good"), hostile_text),
            st.tuples(st.just("broken"), mutations(TWEET_FIELDS)),
            st.tuples(st.just("broken"), mutations([("created_at",)], odd_timestamp)),
            st.tuples(st.just("junk"), junk),
        ),
        min_size=1,
        max_size=10,
    )
)
@example(items=[("good", "\x00"), ("broken", (("id",), "replace", "12ab")), ("good", "\ud800")])
def test_a_page_of_broken_x_mentions_keeps_every_readable_one(
    server: JsonServer, store: Engine, caplog: pytest.LogCaptureFixture, items: list[tuple[str, Any]]
) -> None:
    """Fault: X mentions with missing, extra, null and wrong-typed fields, hostile unicode and odd timestamps,
    mixed with good ones (and a `data` that X answers alongside `includes` and `meta`).

    Survives: every readable mention is stored, each unreadable one is rejected with its id, the page never fails.
    """
    caplog.set_level(logging.WARNING, logger="app.store.ingest")
    body, good = build(items, tweet)
    answer = {"data": body, "includes": {"users": [{"id": "51", "username": "c1", "name": "C"}]}, "meta": {}}
    server.routes["/2/users/1/mentions"] = Reply(200, json.dumps(answer).encode())

    account_id, pages = sync_into_store(server, store, Platform.X)

    check(store, account_id, pages, body, good, tweet_id_of)


@PAYLOAD_SETTINGS
@given(
    items=st.lists(
        st.one_of(
            st.tuples(st.just("good"), hostile_text),
            st.tuples(st.just("broken"), mutations(THING_FIELDS)),
            st.tuples(st.just("broken"), mutations([("data", "created_utc")], odd_timestamp)),
            st.tuples(st.just("junk"), junk),
        ),
        min_size=1,
        max_size=10,
    )
)
@example(items=[("good", "ok"), ("broken", (("data", "created_utc"), "replace", 1e300)), ("junk", None)])
def test_a_reddit_inbox_listing_with_broken_items_keeps_every_readable_one(
    server: JsonServer, store: Engine, items: list[tuple[str, Any]]
) -> None:
    """Fault: a Reddit inbox listing whose comments and messages have missing, extra, null and wrong-typed fields,
    hostile unicode and impossible created_utc values, mixed with good ones.

    Survives: every readable item is stored, each unreadable one is rejected with its name, the page never fails.
    """
    body, good = build(items, thing)
    answer = {"kind": "Listing", "data": {"after": None, "children": body}}
    server.routes["/message/inbox"] = Reply(200, json.dumps(answer).encode())

    account_id, pages = sync_into_store(server, store, Platform.REDDIT)

    check(store, account_id, pages, body, good, thing_name_of)


@pytest.mark.parametrize(
    ("platform", "path", "payload"),
    [
        (Platform.X, "/2/users/1/mentions", b"[not json"),
        (Platform.X, "/2/users/1/mentions", b'{"data": {"id": "1"}}'),
        (Platform.REDDIT, "/message/inbox", b'{"kind": "t1"}'),
        (Platform.REDDIT, "/message/inbox", b"<html>Our CDN is having trouble</html>"),
    ],
)
def test_a_page_that_is_not_the_expected_shape_is_a_clear_error_and_stores_nothing(
    server: JsonServer, store: Engine, platform: Platform, path: str, payload: bytes
) -> None:
    """Fault: a page that is not JSON, or JSON of the wrong shape (an object where a list belongs, no Listing).

    Survives: a PlatformError saying what was wrong; nothing is stored and no cursor moves.
    """
    from app.errors import PlatformError

    server.routes[path] = Reply(200, payload)
    with pytest.raises(PlatformError) as raised:
        sync_into_store(server, store, platform)
    assert "X" in str(raised.value) or "Reddit" in str(raised.value)
