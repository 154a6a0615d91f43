"""Malformed Matrix /sync answers, served over HTTP to the real connector and stored in a real SQLite store.

A homeserver's /sync nests rooms, timelines and events; each level can be missing, of the wrong type or
hostile. Whatever it holds, good events are stored, bad ones are rejected with their event id, and the
sync token moves on so the next sync does not read the same poison again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from app.domain.models import AccountRef, Page, Platform
from app.platforms.matrix import MatrixConnector
from app.store import accounts, inbox
from tests.peers.json_server import JsonServer, Reply
from tests.reliability.helpers import assemble, assert_readable_kept, checked_store, fetch_into_store, serial, stored
from tests.reliability.hostile import PAYLOAD_SETTINGS, hostile_text, junk, mutations, odd_millis

AREA = "Malformed platform data"
ME = "@brand:example.org"
ANN = "@ann:example.org"
DM_ROOM = "!dm:example.org"
GROUP_ROOM = "!group:example.org"
TOKEN = "matrix-token-0123456789"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PREFIX = "/_matrix/client/v3"

EVENT_FIELDS = [
    (name,) for name in ("type", "event_id", "sender", "origin_server_ts", "content", "unsigned", "room_id")
] + [("content", name) for name in ("msgtype", "body", "format", "formatted_body", "m.relates_to", "m.mentions", "url")]


def message_event(number: int, marker: str, words: str = "", *, sender: str = ANN) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": f"$e{number}-{marker}",
        "sender": sender,
        "origin_server_ts": 1_767_600_000_000 + number * 1000,
        "content": {
            "msgtype": "m.text",
            "body": f"{marker} {words}",
            "format": "org.matrix.custom.html",
            "formatted_body": f"<p>{marker} <b>{words}</b></p>",
        },
    }


def member(user: str, name: Any) -> dict[str, Any]:
    return {
        "type": "m.room.member",
        "state_key": user,
        "sender": user,
        "content": {"membership": "join", "displayname": name},
    }


def sync_body(rooms: Any, next_batch: str = "s1") -> dict[str, Any]:
    return {"next_batch": next_batch, "rooms": {"join": rooms}}


@pytest.fixture(scope="module")
def server() -> Iterator[JsonServer]:
    server = JsonServer().start()
    server.routes[f"{PREFIX}/account/whoami"] = Reply.json({"user_id": ME})
    server.routes[f"{PREFIX}/profile/{quote(ME, safe='')}/displayname"] = Reply.json({"displayname": "Brand"})
    server.routes[f"{PREFIX}/user/{quote(ME, safe='')}/account_data/m.direct"] = Reply.json({ANN: [DM_ROOM]})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from checked_store(tmp_path_factory, "malformed-matrix")


def serve_sync(server: JsonServer, first: bytes) -> None:
    """The first /sync answers `first`; the next one (with `since`) is quiet, which ends the fetch."""
    server.routes[f"{PREFIX}/sync"] = lambda query: (
        Reply.json({"next_batch": query["since"][0]}) if "since" in query else Reply(200, first)
    )


def sync_into_store(server: JsonServer, engine: Engine) -> tuple[AccountRef, list[Page]]:
    account = accounts.add_account(
        engine, platform=Platform.MATRIX, name=f"matrix-{next(serial)}", base_url=server.url, now=NOW,
        platform_user_id=ME,
    )  # fmt: skip
    return account, fetch_into_store(engine, account, MatrixConnector(account, TOKEN), "sync", now=NOW)


event_strategy = st.one_of(
    st.tuples(st.just("good"), hostile_text),
    st.tuples(st.just("broken"), mutations(EVENT_FIELDS)),
    st.tuples(st.just("broken"), mutations([("origin_server_ts",)], odd_millis)),
    st.tuples(st.just("broken"), mutations([("content", "body"), ("content", "formatted_body")], hostile_text)),
    st.tuples(st.just("junk"), junk),
)
room_damage = st.sampled_from(["none", "timeline junk", "events junk", "state junk", "room junk"])


@PAYLOAD_SETTINGS
@given(events=st.lists(event_strategy, min_size=1, max_size=10), names=st.lists(junk, max_size=3), damage=room_damage)
@example(
    events=[("good", "\ud800"), ("broken", (("origin_server_ts",), "replace", 2**63))], names=["\x00"], damage="none"
)
def test_a_sync_with_broken_events_keeps_every_readable_one(
    server: JsonServer,
    store: Engine,
    caplog: pytest.LogCaptureFixture,
    events: list[tuple[str, Any]],
    names: list[Any],
    damage: str,
) -> None:
    """Fault: Matrix /sync answers whose events have missing, extra, null and wrong-typed fields, hostile
    unicode (RTL, combining marks, emoji ZWJ, NUL, lone surrogates) and impossible timestamps, next to good
    events, and whose other rooms have timelines, event lists, member state or the room itself broken.

    Survives: every readable message of the direct room is stored and searchable, each unreadable event is
    skipped and logged with its id, and the sync token moves on.
    """
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="app.store.ingest")
    timeline, good = assemble(events, message_event, lambda event: event["event_id"], "x")
    damaged: Any = {"timeline": {"events": [message_event(99, "other")]}, "state": {"events": [member(ANN, "Ann")]}}
    if damage == "timeline junk":
        damaged["timeline"] = names or None
    elif damage == "events junk":
        damaged["timeline"]["events"] = names or 7
    elif damage == "state junk":
        damaged["state"] = {"events": names or "x"}
    elif damage == "room junk":
        damaged = names or "room"
    rooms = {
        DM_ROOM: {"timeline": {"events": timeline}, "state": {"events": [member(ANN, n) for n in names]}},
        GROUP_ROOM: damaged,
    }
    serve_sync(server, json.dumps(sync_body(rooms)).encode())

    account, pages = sync_into_store(server, store)

    assert_readable_kept(store, account, pages, good, caplog.text)
    assert accounts.get_cursor(store, account.id, "sync") == "s1"


def test_a_10_mb_matrix_message_is_cut_to_size_and_the_sync_goes_on(server: JsonServer, store: Engine) -> None:
    """Fault: a 10 MB m.room.message (plain body and formatted body) between ordinary messages.

    Survives: the sync stores every message within seconds; the huge one is cut to a bounded size.
    """
    huge = message_event(0, "huge")
    huge["content"]["body"] = "spam " * 2_000_000
    huge["content"]["formatted_body"] = "<p>" + "<i>spam</i> " * 1_000_000 + "</p>"
    ordinary = [message_event(n, f"x{next(serial)}", "fine") for n in range(1, 6)]
    serve_sync(server, json.dumps(sync_body({DM_ROOM: {"timeline": {"events": [huge, *ordinary]}}})).encode())

    started = time.monotonic()
    account, _pages = sync_into_store(server, store)
    elapsed = time.monotonic() - started

    assert len(stored(store, account.id)) == 6
    assert elapsed < 30, f"a 10 MB event took {elapsed:.1f} s to fetch and store"
    with store.connect() as connection:
        sizes = connection.exec_driver_sql(
            "SELECT max(length(body_text)), max(length(body_html)), max(length(raw)) "
            "FROM messages WHERE account_id = ?",
            (account.id,),
        ).one()
    assert max(sizes) <= 1_000_000, sizes


def test_a_reply_chain_2000_deep_in_a_group_room_is_one_conversation(server: JsonServer, store: Engine) -> None:
    """Fault: a Matrix reply chain 2,000 events deep (a customer and the brand answering each other).

    Survives: the whole chain lands in the one conversation the first mention opened, split into
    bounded pages, in order.
    """
    chain = []
    for number in range(2000):
        sender = ANN if number % 2 == 0 else ME
        event = message_event(number, f"x{next(serial)}", "deep", sender=sender)
        event["content"]["m.mentions"] = {"user_ids": [ME]} if sender == ANN else {}
        if number:
            event["content"]["m.relates_to"] = {"m.in_reply_to": {"event_id": chain[-1]["event_id"]}}
        chain.append(event)
    serve_sync(server, json.dumps(sync_body({GROUP_ROOM: {"timeline": {"events": chain}}})).encode())

    account, pages = sync_into_store(server, store)

    assert len(pages) >= 4
    (conversation,) = [c for c in inbox.inbox_page(store) if c.account_id == account.id]
    thread = inbox.thread(store, conversation.id)
    assert [m.platform_message_id for m in thread] == [e["event_id"] for e in chain]
