"""Prefix search (ship*) through the vocabulary: the same rows as FTS5's own prefix query, found by the words."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import delete

from app.domain.models import Platform
from app.domain.search_syntax import Term, parse_query
from app.store import accounts
from app.store.database import open_store
from app.store.ingest import store_page
from app.store.schema import messages
from app.store.search import PREFIX_WORDS, fts_expression, prefix_words, search_messages
from tests.factories import T0, message, page

# Words sharing prefixes, in several cases and scripts; 600 messages, so a page of 200 leaves some out.
BODIES = (
    "Shipping to Norway?",
    "SHIPPED yesterday, thanks",
    "the shipment is late",
    "ship it please",
    "Rückerstattung bitte",
    "ruckus at the store",
    "größe 42 fehlt",
    "grown-up size",
    "order 4711 missing",
    "order 47 arrived",
    "refund_request pending",
    "no match here",
    "parcel shipped, refund later",
)


@pytest.fixture
def store(tmp_path: Path):
    engine = open_store(tmp_path / "s.sqlite3")
    brand = accounts.add_account(engine, platform=Platform.MASTODON, name="brand", base_url="https://m", now=T0)
    support = accounts.add_account(engine, platform=Platform.MATRIX, name="support", base_url="https://x", now=T0)
    for account, parity in ((brand, 1), (support, 0)):  # the accounts' messages interleave in time
        numbered = [n for n in range(600) if n % 2 == parity]
        bodies = [message(f"m{n}", key=f"k{n % 40}", text=BODIES[n % len(BODIES)], minutes=n) for n in numbered]
        store_page(engine, account.id, page(*bodies), now=T0)
    yield engine, tmp_path / "s.sqlite3"
    engine.dispose()


def _plain_prefix_search(path: Path, text: str) -> list[tuple[int, str]]:
    """What FTS5's own prefix* query finds, newest first, with the same snippet (the old, slow query)."""
    with sqlite3.connect(path) as raw:
        return raw.execute(
            "SELECT messages.id, snippet(messages_fts, 0, '[', ']', '…', 12) FROM messages_fts JOIN messages "
            "ON messages.id = messages_fts.rowid WHERE messages_fts MATCH ? ORDER BY messages_fts.rowid DESC "
            "LIMIT 200",
            (fts_expression(parse_query(text).terms),),
        ).fetchall()


@pytest.mark.parametrize(
    "text", ["ship*", "Ship*", "SHIPP*", "ship* refund*", "parcel ship*", "order 47*", "ru*", "rü*", "grö*", "zzz*"]
)
def test_prefix_search_finds_the_rows_and_snippets_of_fts5s_own_prefix_query(store, text: str) -> None:
    engine, path = store
    expected = _plain_prefix_search(path, text)
    hits = search_messages(engine, parse_query(text), now=T0)
    assert [(h.message_id, h.snippet) for h in hits] == expected
    if text.lower() == "ship*":  # more than a page matches: the newest 200 by id, in order
        assert len(hits) == 200 and [h.message_id for h in hits] == sorted((h.message_id for h in hits), reverse=True)


def test_prefix_search_still_applies_the_conversation_filters(store) -> None:
    engine, path = store
    everywhere = {message_id for message_id, _ in _plain_prefix_search(path, "ship*")}
    with sqlite3.connect(path) as raw:
        matrix_sql = "SELECT messages.id FROM messages JOIN accounts ON accounts.id = messages.account_id "
        on_matrix = {row[0] for row in raw.execute(matrix_sql + "WHERE accounts.platform = 'matrix'")}
    hits = search_messages(engine, parse_query("ship* platform:matrix"), now=T0)
    assert hits and {h.message_id for h in hits} <= everywhere & on_matrix
    assert len(hits) == min(200, len(everywhere & on_matrix))


def test_a_prefix_stands_for_the_indexed_words_it_begins(store) -> None:
    engine, _ = store
    terms = (
        *parse_query("Ship* ru* rü* order").terms,
        Term("ship it", prefix=True, phrase=True),
        Term("ship-it", prefix=True),
    )
    with engine.connect() as connection:
        words = prefix_words(connection, terms)
    # Lower-cased as indexed; non-ASCII prefixes (accents are folded by the index) stay prefix queries.
    assert words == {"Ship": ["ship", "shipment", "shipped", "shipping"], "ru": ["ruckerstattung", "ruckus"]}
    assert fts_expression(terms, words).startswith('("ship" OR "shipment" OR "shipped" OR "shipping") AND ')


def test_words_indexed_after_a_search_are_found_by_the_next(store) -> None:
    engine, _ = store
    assert search_messages(engine, parse_query("shipwreck*"), now=T0) == []
    brand = accounts.list_accounts(engine)[0]
    store_page(engine, brand.id, page(message("new", key="new", text="A shipwreck!", minutes=999)), now=T0)
    assert [h.snippet for h in search_messages(engine, parse_query("shipwreck*"), now=T0)] == ["A [shipwreck]!"]


def test_a_deleted_messages_words_are_not_searched(store) -> None:
    engine, path = store
    hits = search_messages(engine, parse_query("ruck*"), now=T0)
    with engine.begin() as connection:
        connection.execute(delete(messages).where(messages.c.id.in_([h.message_id for h in hits])))
    assert search_messages(engine, parse_query("ruck*"), now=T0) == []
    assert _plain_prefix_search(path, "ruck*") == []


def test_a_prefix_of_too_many_words_stays_a_prefix_query(tmp_path: Path) -> None:
    engine = open_store(tmp_path / "s.sqlite3")
    brand = accounts.add_account(engine, platform=Platform.MASTODON, name="brand", base_url="https://m", now=T0)
    body = " ".join(f"w{number:03}" for number in range(PREFIX_WORDS + 1))
    store_page(engine, brand.id, page(message("m", text=body), message("n", key="n", text="w000 only")), now=T0)
    with engine.connect() as connection:
        assert prefix_words(connection, (Term("w", prefix=True),)) == {}
        assert prefix_words(connection, (Term("w00", prefix=True),))["w00"] == [f"w00{n}" for n in range(10)]
    assert len(search_messages(engine, parse_query("w*"), now=T0)) == 2
    engine.dispose()


@pytest.mark.parametrize("text", ["ship*", "refund", "ship* platform:matrix", "from:ann"])
def test_hits_without_snippets_are_the_same_hits_in_the_same_order(store, text: str) -> None:
    engine, _ = store
    full = search_messages(engine, parse_query(text), now=T0)
    bare = search_messages(engine, parse_query(text), now=T0, snippets=False)
    assert full and all(h.snippet for h in full) and {h.snippet for h in bare} == {""}
    assert [(h.message_id, h.conversation_id, h.created_at) for h in bare] == [
        (h.message_id, h.conversation_id, h.created_at) for h in full
    ]
