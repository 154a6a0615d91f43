"""Response clocks on PostgreSQL: the same ingest, triage and policy code writes the same response_records."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from app.domain.models import ConversationStatus, Direction, MessageKind, Platform
from app.domain.timers import PolicyConditions, ResponsePolicy
from app.store import accounts, clocks, policies, triage
from app.store.database import open_store
from app.store.ingest import store_page
from app.store.schema import conversations, response_records
from tests.factories import T0, message, page
from tests.peers.postgres import private_postgres, server_binaries


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    if server_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL must be installed in CI (make test installs it)")
        pytest.skip("PostgreSQL server binaries are not installed")
    with private_postgres() as url:
        engine = open_store(url=url)
        yield engine
        engine.dispose()


def test_clocks_start_pause_stop_and_follow_a_policy_edit_on_postgresql(pg_engine: Engine) -> None:
    engine = pg_engine
    account = accounts.add_account(engine, platform=Platform.MASTODON, name="pg-clocks", base_url="https://m", now=T0)

    def dm(pid: str, minutes: int, ours: bool = False):  # type: ignore[no-untyped-def]
        return message(pid, key="pg-dm", minutes=minutes, kind=MessageKind.DM, author="brand" if ours else "ann",
                       direction=Direction.OUTBOUND if ours else Direction.INBOUND)  # fmt: skip

    store_page(engine, account.id, page(dm("p1", 0), dm("p1-re", 10, ours=True), dm("p2", 20)), now=T0)
    with engine.connect() as connection:
        cid = connection.execute(
            select(conversations.c.id).where(conversations.c.conversation_key == "pg-dm")
        ).scalar_one()
    triage.set_status(engine, [cid], ConversationStatus.PENDING, now=T0 + timedelta(minutes=30))
    store_page(engine, account.id, page(dm("p3", 50)), now=T0)  # resumes after 20 minutes pending
    vip = ResponsePolicy(
        "VIP", timedelta(minutes=5), timedelta(minutes=5), conditions=PolicyConditions(tags=frozenset({"vip"}))
    )
    policies.save_policies(engine, [vip, *policies.list_policies(engine)])
    triage.set_tag(engine, [cid], "vip", present=True)
    assert clocks.reapply_policies(engine) >= 1
    triage.set_status(engine, [cid], ConversationStatus.CLOSED, now=T0 + timedelta(minutes=60))

    with engine.connect() as connection:
        rows = connection.execute(
            select(response_records).where(response_records.c.conversation_id == cid).order_by(response_records.c.id)
        ).all()
    assert [(r.kind, r.answered_at, r.ended_at, r.paused_s) for r in rows] == [
        ("first", T0 + timedelta(minutes=10), None, 0),
        ("next", None, T0 + timedelta(minutes=60), 20 * 60),
    ]
    assert rows[1].due_at == T0 + timedelta(minutes=100)  # 20 + 60 + 20 paused, under "Direct messages"
