"""The inbox's order and counts: most urgent first, filters ANDed, new search operators, exact counts."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app.domain.models import ConversationStatus, Direction, MessageKind, Platform
from app.domain.search_syntax import SearchSyntaxError, parse_query
from app.domain.triage import Priority
from app.domain.views import Order
from app.store import accounts, triage
from app.store.database import open_store
from app.store.inbox_query import combine, count, counts, ordered_ids
from app.store.ingest import store_page
from app.store.schema import conversations
from tests.factories import T0, message, page

NOW = T0 + timedelta(hours=2)


@pytest.fixture
def store(tmp_path: Path):
    """Six conversations: a..f by age (a oldest). DMs are due 1 h after the customer wrote, others 4 h."""
    engine = open_store(tmp_path / "q.sqlite3")
    account = accounts.add_account(engine, platform=Platform.MASTODON, name="brand", base_url="https://m", now=T0)
    fetched = [
        message("a", key="a", minutes=0, kind=MessageKind.DM),  # due T0+1h: breached at NOW
        message("b", key="b", minutes=10),  # due T0+4h10
        message("c", key="c", minutes=20, kind=MessageKind.DM),  # due T0+1h20: breached
        message("d", key="d", minutes=30),  # answered below: no timer
        message("d-re", key="d", minutes=31, direction=Direction.OUTBOUND, author="brand", parent="d"),
        message("e", key="e", minutes=40),  # closed below
        message("f", key="f", minutes=50),  # snoozed below
    ]
    store_page(engine, account.id, page(*fetched), now=T0)
    with engine.connect() as connection:
        ids = {r.conversation_key: r.id for r in connection.execute(conversations.select())}
    triage.set_status(engine, [ids["e"]], ConversationStatus.CLOSED, now=NOW - timedelta(minutes=5))
    triage.snooze(engine, [ids["f"]], NOW + timedelta(hours=1), now=NOW)
    yield engine, ids
    engine.dispose()


def keys(ids: dict[str, int], found: list[int]) -> str:
    names = {v: k for k, v in ids.items()}
    return "".join(names[i] for i in found)


def test_most_urgent_first_then_newest(store) -> None:
    engine, ids = store
    assert keys(ids, ordered_ids(engine, combine(), now=NOW)) == "acb" + "fed"  # breached, due soonest, rest newest
    assert keys(ids, ordered_ids(engine, combine(order=Order.NEWEST), now=NOW)) == "fedcba"
    triage.set_priority(engine, [ids["b"]], Priority.URGENT)
    assert keys(ids, ordered_ids(engine, combine(order=Order.PRIORITY), now=NOW)) == "bfedca"
    assert keys(ids, ordered_ids(engine, combine(parse_query("is:open")), now=NOW)) == "acbd"


def test_filters_and_views_are_anded_and_counted_exactly(store) -> None:
    engine, ids = store
    triage.set_tag(engine, [ids["a"], ids["b"], ids["e"]], "complaint", present=True)
    triage.set_assignee(engine, [ids["b"], ids["c"]], "Sam")
    view = parse_query("tag:complaint status:open status:pending status:snoozed")
    # Tagged a complaint, the mention b falls under the 30-minute "Public complaints" policy: due before a.
    assert keys(ids, ordered_ids(engine, combine(view), now=NOW)) == "ba"
    assert keys(ids, ordered_ids(engine, combine(view, parse_query("is:mine"), me="Sam"), now=NOW)) == "b"
    assert keys(ids, ordered_ids(engine, combine(parse_query("is:mine"), me=""), now=NOW)) == ""  # no name: none
    queries = {
        "view": combine(view),
        "closed-today": combine(parse_query("closed:today"), zone=UTC),
        "breaching": combine(parse_query("sla:breached sla:warning")),
        "negative": combine(parse_query("is:negative")),
    }
    assert counts(engine, queries, now=NOW) == {"view": 2, "closed-today": 1, "breaching": 3, "negative": 0}
    assert count(engine, combine(parse_query("closed:yesterday"), zone=UTC), now=NOW) == 0
    assert count(engine, combine(parse_query("closed:2026-03-02"), zone=UTC), now=NOW) == 1


def test_priority_and_closed_operators_parse_or_explain(store) -> None:
    engine, ids = store
    with engine.begin() as connection:
        connection.execute(update(conversations).where(conversations.c.id == ids["c"]).values(priority=1))
    assert keys(ids, ordered_ids(engine, combine(parse_query("priority:high")), now=NOW)) == "c"
    assert keys(ids, ordered_ids(engine, combine(parse_query("priority:high priority:normal")), now=NOW)) == "acbfed"
    assert keys(ids, ordered_ids(engine, combine(parse_query("priority:low")), now=NOW)) == ""
    for bad, hint in (("priority:soon", "Unknown priority"), ("closed:someday", "today, yesterday")):
        with pytest.raises(SearchSyntaxError, match=hint):
            parse_query(bad)


def test_words_search_within_a_view(store) -> None:
    engine, ids = store
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE messages SET body_text = 'refund please' WHERE platform_message_id = 'b'")
    assert keys(ids, ordered_ids(engine, combine(parse_query("refund"), parse_query("is:open")), now=NOW)) == "b"
    assert keys(ids, ordered_ids(engine, combine(parse_query("refund"), parse_query("is:closed")), now=NOW)) == ""


def test_a_first_screen_is_the_start_of_the_whole_list_in_every_order(store) -> None:
    engine, _ids = store
    for order in Order:
        whole = ordered_ids(engine, combine(order=order), now=NOW)
        for limit in (1, 2, 3, 4, 6, 10):  # inside the timed part, across into the rest, beyond the end
            assert ordered_ids(engine, combine(order=order), now=NOW, limit=limit) == whole[:limit], (order, limit)
