"""Search: the query language's parsing and errors, and each operator against a known store fixture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from app.domain.models import ConversationStatus, Direction, MessageKind, Platform
from app.domain.search_syntax import SearchSyntaxError, Term, parse_query
from app.store import accounts
from app.store.database import open_store
from app.store.ingest import store_page
from app.store.schema import conversation_tags, conversations, tags
from app.store.search import search_conversation_ids, search_messages
from tests.factories import T0, message, page


def test_words_phrases_prefixes_and_operators_parse() -> None:
    query = parse_query(
        'refund "never arrived" ship* from:@maria platform:mastodon tag:Complaint is:unread '
        "status:pending sla:breached assignee:sam before:2026-03-31 after:2026-03-01"
    )
    assert query.terms == (Term("refund"), Term("never arrived", phrase=True), Term("ship", prefix=True))
    assert query.authors == ("maria",) and query.platforms == (Platform.MASTODON,)
    assert query.tags == ("complaint",) and query.flags == {"unread"}
    assert query.statuses == (ConversationStatus.PENDING,) and query.sla == ("breached",)
    assert query.before == datetime(2026, 3, 31, tzinfo=UTC) and query.after == datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "position", "hint"),
    [
        ("refund colour:red", 7, "Unknown filter"),
        ('"never arrived', 0, "closing"),
        ("before:yesterday", 0, "date like"),
        ("platform:myspace", 0, "Unknown platform"),
        ("is:", 0, "needs a value"),
        ("is:angry", 0, "is:unread"),
        ("*", 0, "start of a word"),
    ],
)
def test_bad_syntax_names_the_problem_and_where(text: str, position: int, hint: str) -> None:
    with pytest.raises(SearchSyntaxError, match=hint) as raised:
        parse_query(text)
    assert raised.value.position == position


def test_fts_syntax_in_user_text_is_treated_as_words() -> None:
    assert parse_query("NEAR(a b) OR -x").terms == (Term("NEAR"), Term("a"), Term("b"), Term("OR"), Term("x"))


@pytest.fixture
def fixture_store(tmp_path: Path):
    engine = open_store(tmp_path / "s.sqlite3")
    mastodon = accounts.add_account(engine, platform=Platform.MASTODON, name="brand", base_url="https://m", now=T0)
    matrix = accounts.add_account(engine, platform=Platform.MATRIX, name="support", base_url="https://x", now=T0)
    store_page(
        engine,
        mastodon.id,
        page(
            message("m1", key="late", text="My parcel never arrived, I want a refund", author="maria"),
            message("m2", key="praise", text="Great jacket, thanks!", author="tom", minutes=5),
            message("m3", key="ship", text="When do you ship to Norway?", author="ola", minutes=10),
        ),
        now=T0,
    )
    store_page(
        engine,
        matrix.id,
        page(
            message("x1", key="dm", text="Refunds take how long?", author="maria", kind=MessageKind.DM, minutes=20),
            message("x2", key="dm", text="About five days", author="brand", direction=Direction.OUTBOUND, minutes=25),
        ),
        now=T0,
    )
    ids = {row.conversation_key: row.id for row in engine.connect().execute(conversations.select())}
    with engine.begin() as connection:
        tag_id = connection.execute(select(tags.c.id).where(tags.c.name == "complaint")).scalar_one()  # a starter tag
        connection.execute(insert(conversation_tags).values(conversation_id=ids["late"], tag_id=tag_id))
        connection.execute(
            update(conversations).where(conversations.c.id == ids["ship"]).values(status="pending", assignee="Sam")
        )
        connection.execute(update(conversations).where(conversations.c.id == ids["praise"]).values(unread_count=0))
    yield engine, ids
    engine.dispose()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("refund", ["late"]),
        ("refund*", ["dm", "late"]),
        ('"never arrived"', ["late"]),
        ('"arrived never"', []),
        ("parcel refund", ["late"]),
        ("from:@maria", ["dm", "late"]),
        ("from:maria refund*", ["dm", "late"]),
        ("platform:matrix", ["dm"]),
        ("account:brand", ["ship", "praise", "late"]),
        ("tag:complaint", ["late"]),
        ("is:unread", ["dm", "ship", "late"]),
        ("is:pending", ["ship"]),
        ("status:open", ["dm", "praise", "late"]),
        ("assignee:sam", ["ship"]),
        ("kind:dm", ["dm"]),
        ("after:2026-03-03", []),
        ("before:2026-03-03 tag:complaint", ["late"]),
    ],
)
def test_each_operator_returns_exactly_the_expected_conversations(fixture_store, text, expected) -> None:
    engine, ids = fixture_store
    found = search_conversation_ids(engine, parse_query(text), now=T0 + timedelta(hours=1), me="Sam")
    assert found == [ids[key] for key in expected]


def test_sla_breached_and_warning_follow_the_due_time(fixture_store) -> None:
    engine, ids = fixture_store

    # "late" waits since T0 and is due at T0 + 4 h under the default policy: warning from T0 + 3 h.
    def sla(state: str, hours: float) -> list[int]:
        return search_conversation_ids(
            engine, parse_query(f"sla:{state} tag:complaint"), now=T0 + timedelta(hours=hours)
        )

    assert (sla("warning", 2.9), sla("warning", 3.1), sla("breached", 3.9), sla("breached", 4.1)) == (
        [],
        [ids["late"]],
        [],
        [ids["late"]],
    )


def test_hits_carry_a_highlighted_snippet_newest_first(fixture_store) -> None:
    engine, _ = fixture_store
    hits = search_messages(engine, parse_query("refund*"), now=T0)
    assert [h.author_handle for h in hits] == ["@maria", "@maria"]
    assert "[Refunds]" in hits[0].snippet and "[refund]" in hits[1].snippet
