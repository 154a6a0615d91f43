"""The same store code on PostgreSQL: migrations, ingest without duplicates, inbox, search, outbox, triage."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from app.domain.models import ConversationStatus, Direction, Platform
from app.domain.outbox import OutboxState
from app.domain.search_syntax import parse_query
from app.store import accounts, inbox, outbox
from app.store.database import head_revision
from app.store.ingest import store_page
from app.store.search import search_conversation_ids
from tests.factories import T0, message, page


def test_the_store_runs_unchanged_on_postgresql(pg_engine: Engine) -> None:
    from app.store.database import current_revision

    assert pg_engine.dialect.name == "postgresql" and current_revision(pg_engine) == head_revision()
    brand = accounts.add_account(pg_engine, platform=Platform.MASTODON, name="brand", base_url="https://m", now=T0)
    first = store_page(
        pg_engine,
        brand.id,
        page(
            message("1", key="late", text="my parcel never arrived, refund please", author="maria"),
            message("2", key="late", text="still waiting", minutes=5, author="maria"),
            message("3", key="praise", text="great jacket", minutes=7, author="tom"),
            cursor="3",
        ),
        now=T0,
    )
    again = store_page(pg_engine, brand.id, page(message("3", key="praise", text="great jacket", minutes=7)), now=T0)
    assert (first.stored, again.stored, again.duplicates) == (3, 0, 1)
    assert accounts.get_cursor(pg_engine, brand.id, "mentions") == "3"

    rows = inbox.inbox_page(pg_engine)
    assert [r.contact_handle for r in rows] == ["@tom", "@maria"]
    late = rows[1]
    assert late.message_count == 2 and late.waiting_since == T0
    assert inbox.inbox_page(pg_engine, after=(rows[0].last_message_at, rows[0].id)) == [late]

    found = search_conversation_ids(pg_engine, parse_query("refund from:maria"), now=T0 + timedelta(hours=1))
    assert found == [late.id]

    item = outbox.queue_reply(pg_engine, late.id, "So sorry! Checking.", now=T0, state=OutboxState.APPROVED)
    assert [i.id for i in outbox.ready_to_send(pg_engine, now=T0)] == [item.id]
    store_page(
        pg_engine,
        brand.id,
        page(message("4", key="late", text="thanks", minutes=20, direction=Direction.OUTBOUND, author="brand")),
        now=T0,
    )
    inbox.set_status(pg_engine, [late.id], ConversationStatus.CLOSED)
    (closed,) = [r for r in inbox.inbox_page(pg_engine) if r.id == late.id]
    assert closed.status is ConversationStatus.CLOSED and closed.waiting_since is None
