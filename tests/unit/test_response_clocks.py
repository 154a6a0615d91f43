"""Response clocks through the real ingest and triage paths on a SQLite file: response_records rows and due times."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.models import ConversationStatus, Direction, MessageKind, Platform
from app.domain.rules import Rule, RuleActions, RuleConditions
from app.domain.timers import BusinessCalendar, PolicyConditions, ResponsePolicy
from app.store import accounts, clocks, policies, rules, triage
from app.store.database import open_store
from app.store.ingest import store_page
from app.store.schema import conversations, response_records
from tests.factories import T0, message, page


@pytest.fixture
def store(tmp_path: Path):
    engine = open_store(tmp_path / "clocks.sqlite3")
    account = accounts.add_account(engine, platform=Platform.MASTODON, name="brand", base_url="https://m", now=T0)
    yield engine, account.id
    engine.dispose()


def records(engine) -> list:
    with engine.connect() as connection:
        return list(connection.execute(select(response_records).order_by(response_records.c.id)))


def conversation(engine):
    with engine.connect() as connection:
        return connection.execute(select(conversations)).one()


def dm(pid: str, minutes: int, *, ours: bool = False, parent: str | None = None):
    return message(
        pid,
        key="dm-1",
        minutes=minutes,
        kind=MessageKind.DM,
        direction=Direction.OUTBOUND if ours else Direction.INBOUND,
        author="brand" if ours else "ann",
        parent=parent,
    )


def test_first_inbound_starts_a_first_response_clock_under_the_matching_policy(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(dm("m1", 0), dm("m2", 5)), now=T0)
    (row,) = records(engine)
    assert (row.kind, row.started_at, row.answered_at, row.ended_at) == ("first", T0, None, None)
    assert (row.policy_name, row.target_s, row.due_at) == ("Direct messages", 3600, T0 + timedelta(hours=1))
    assert row.warn_at == T0 + timedelta(minutes=45)  # 75 % of the hour
    summary = conversation(engine)
    assert summary.waiting_since == T0  # the second message does not restart the clock
    assert (summary.next_due_at, summary.next_warn_at) == (row.due_at, row.warn_at)


def test_our_reply_seen_by_sync_stops_the_clock_and_a_new_inbound_starts_the_next_one(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(dm("m1", 0)), now=T0)
    store_page(engine, account_id, page(dm("r1", 20, ours=True, parent="m1")), now=T0)
    (first,) = records(engine)
    assert first.answered_at == T0 + timedelta(minutes=20)
    assert (conversation(engine).waiting_since, conversation(engine).next_due_at) == (None, None)

    store_page(engine, account_id, page(dm("m2", 90)), now=T0)
    first, second = records(engine)
    assert first.answered_at == T0 + timedelta(minutes=20)
    assert (second.kind, second.started_at, second.answered_at) == ("next", T0 + timedelta(minutes=90), None)
    assert conversation(engine).next_due_at == T0 + timedelta(minutes=150)


def test_a_page_holding_question_reply_question_records_both_clocks(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(dm("m1", 0), dm("r1", 10, ours=True), dm("m2", 30)), now=T0)
    first, second = records(engine)
    assert (first.kind, first.answered_at) == ("first", T0 + timedelta(minutes=10))
    assert (second.kind, second.started_at, second.answered_at) == ("next", T0 + timedelta(minutes=30), None)
    assert conversation(engine).waiting_since == T0 + timedelta(minutes=30)


def test_closing_ends_the_clock_and_a_new_inbound_reopens_with_a_next_response_clock(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(dm("m1", 0)), now=T0)
    cid = conversation(engine).id
    triage.set_status(engine, [cid], ConversationStatus.CLOSED, now=T0 + timedelta(minutes=15))
    (row,) = records(engine)
    assert (row.answered_at, row.ended_at) == (None, T0 + timedelta(minutes=15))
    assert (conversation(engine).waiting_since, conversation(engine).next_due_at) == (None, None)

    store_page(engine, account_id, page(dm("m2", 60)), now=T0)
    closed, reopened = records(engine)
    assert closed.ended_at == T0 + timedelta(minutes=15)
    assert (reopened.kind, reopened.started_at) == ("next", T0 + timedelta(minutes=60))
    assert conversation(engine).status == ConversationStatus.OPEN.value


def test_undoing_a_close_runs_the_same_clock_again(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(dm("m1", 0)), now=T0)
    cid = conversation(engine).id
    change = triage.set_status(engine, [cid], ConversationStatus.CLOSED, now=T0 + timedelta(minutes=15))
    triage.undo(engine, change)
    (row,) = records(engine)
    assert row.ended_at is None
    assert conversation(engine).next_due_at == T0 + timedelta(hours=1)


def test_pending_pauses_the_clock_and_the_customer_writing_resumes_it_later_due(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(dm("m1", 0)), now=T0)
    cid = conversation(engine).id
    triage.set_status(engine, [cid], ConversationStatus.PENDING, now=T0 + timedelta(minutes=10))
    assert conversation(engine).paused_at == T0 + timedelta(minutes=10)
    store_page(engine, account_id, page(dm("m2", 40)), now=T0)  # the customer answers: open again
    (row,) = records(engine)
    assert row.paused_s == 30 * 60
    assert row.due_at == T0 + timedelta(minutes=90)  # the hour, plus the half hour spent pending
    summary = conversation(engine)
    assert (summary.status, summary.paused_at) == (ConversationStatus.OPEN.value, None)
    assert summary.next_due_at == T0 + timedelta(minutes=90)


def test_reopening_a_pending_conversation_by_hand_resumes_the_clock(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(dm("m1", 0)), now=T0)
    cid = conversation(engine).id
    triage.set_status(engine, [cid], ConversationStatus.PENDING, now=T0 + timedelta(minutes=10))
    triage.set_status(engine, [cid], ConversationStatus.OPEN, now=T0 + timedelta(minutes=25))
    assert records(engine)[0].paused_s == 15 * 60
    assert conversation(engine).next_due_at == T0 + timedelta(minutes=75)


def test_a_policy_edit_moves_open_clocks_but_not_what_records_measured(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(dm("m1", 0)), now=T0)
    strict = ResponsePolicy(
        "VIP DMs",
        timedelta(minutes=10),
        timedelta(minutes=20),
        conditions=PolicyConditions(kinds=frozenset({MessageKind.DM})),
    )
    policies.save_policies(engine, [strict, *policies.list_policies(engine)])
    assert clocks.reapply_policies(engine) == 1
    assert conversation(engine).next_due_at == T0 + timedelta(minutes=10)
    (row,) = records(engine)
    assert (row.policy_name, row.target_s, row.due_at) == ("Direct messages", 3600, T0 + timedelta(hours=1))

    store_page(engine, account_id, page(dm("r1", 5, ours=True), dm("m2", 30)), now=T0)
    new = records(engine)[-1]
    assert (new.policy_name, new.target_s, new.policy_id) == ("VIP DMs", 1200, policies.list_policies(engine)[0].id)


def test_policies_round_trip_through_the_store_with_their_calendar(store) -> None:
    engine, _ = store
    calendar = BusinessCalendar(
        "Europe/Berlin", {d: ((time(9), time(17)),) for d in range(5)}, frozenset({date(2026, 12, 25)})
    )
    policy = ResponsePolicy(
        "Office",
        timedelta(hours=2),
        timedelta(hours=3),
        warning_ratio=0.5,
        calendar=calendar,
        conditions=PolicyConditions(platforms=frozenset({Platform.MATRIX}), tags=frozenset({"vip"}), min_priority=2),
    )
    (stored,) = policies.save_policies(engine, [policy])
    assert stored.id is not None
    assert stored == ResponsePolicy(**{**policy.__dict__, "id": stored.id})


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        (ResponsePolicy(" ", timedelta(hours=1), timedelta(hours=1)), "needs a name"),
        (ResponsePolicy("Zero", timedelta(0), timedelta(hours=1)), "longer than zero"),
        (ResponsePolicy("Late", timedelta(hours=1), timedelta(hours=1), warning_ratio=1.2), "before the target"),
        (
            ResponsePolicy(
                "Nowhere",
                timedelta(hours=1),
                timedelta(hours=1),
                calendar=BusinessCalendar("Mars/Base", {0: ((time(9), time(17)),)}),
            ),
            "unknown time zone",
        ),
        (
            ResponsePolicy(
                "Backwards",
                timedelta(hours=1),
                timedelta(hours=1),
                calendar=BusinessCalendar("UTC", {0: ((time(17), time(9)),)}),
            ),
            "close after they open",
        ),
    ],
)
def test_a_bad_policy_is_refused_and_the_stored_list_is_kept(store, bad: ResponsePolicy, complaint: str) -> None:
    engine, _ = store
    before = policies.list_policies(engine)
    with pytest.raises(policies.PolicyError, match=complaint):
        policies.save_policies(engine, [bad])
    assert policies.list_policies(engine) == before


def test_tagging_a_running_clock_chooses_the_complaint_policy_for_the_due_time(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(message("p1", key="post", minutes=0)), now=T0)  # a mention: 4 h
    cid = conversation(engine).id
    assert conversation(engine).next_due_at == T0 + timedelta(hours=4)
    triage.set_tag(engine, [cid], "complaint", present=True)
    assert conversation(engine).next_due_at == T0 + timedelta(minutes=30)
    assert records(engine)[0].target_s == 4 * 3600  # the record keeps what held when the clock started


def test_a_business_hours_policy_stores_a_due_time_after_the_weekend_and_a_holiday(store) -> None:
    engine, account_id = store
    office = BusinessCalendar(
        "Europe/Berlin", {d: ((time(9), time(17)),) for d in range(5)}, frozenset({date(2026, 3, 9)})
    )
    policies.save_policies(
        engine, [ResponsePolicy("Office DMs", timedelta(hours=2), timedelta(hours=2), calendar=office)]
    )
    friday_4pm_berlin = T0 + timedelta(days=4, hours=6)  # T0 is Monday 2 March 09:00 UTC = 10:00 in Berlin
    minutes = int((friday_4pm_berlin - T0).total_seconds() // 60)
    store_page(engine, account_id, page(dm("m1", minutes)), now=T0)
    (row,) = records(engine)
    # One working hour on Friday, Monday 9 March is a holiday, the second hour is Tuesday 09:00-10:00 (CET).
    assert row.due_at == T0 + timedelta(days=8)  # Tuesday 10 March, 09:00 UTC = 10:00 in Berlin
    assert (row.policy_name, conversation(engine).next_due_at) == ("Office DMs", row.due_at)


def test_the_alert_scan_counts_every_breach_and_lists_the_latest_ones(store) -> None:
    engine, account_id = store
    fetched = [
        message(f"c{i}", key=f"k{i}", minutes=i * 10, kind=MessageKind.DM, author=f"p{i}") for i in range(3)
    ]  # due at 60, 70 and 80 minutes; warning from 45, 55 and 65
    store_page(engine, account_id, page(*fetched), now=T0)
    scan = clocks.alerting(engine, T0 + timedelta(minutes=72), limit=2)
    assert scan.breached == 2
    assert [(a.name, a.breached) for a in scan.recent] == [("P2", False), ("P1", True)]
    assert clocks.alerting(engine, T0 + timedelta(minutes=40)).recent == []


def test_undoing_a_reopen_pauses_again_without_counting_the_pause_twice(store) -> None:
    engine, account_id = store
    store_page(engine, account_id, page(dm("m1", 0)), now=T0)
    cid = conversation(engine).id
    triage.set_status(engine, [cid], ConversationStatus.PENDING, now=T0 + timedelta(minutes=10))
    change = triage.set_status(engine, [cid], ConversationStatus.OPEN, now=T0 + timedelta(minutes=25))
    triage.undo(engine, change)
    assert conversation(engine).status == ConversationStatus.PENDING.value
    triage.set_status(engine, [cid], ConversationStatus.OPEN, now=T0 + timedelta(minutes=40))
    assert records(engine)[0].paused_s == 30 * 60  # 10→25 and 25→40, each once
    assert conversation(engine).next_due_at == T0 + timedelta(minutes=90)


def test_rules_at_ingest_choose_the_policy_a_new_clock_starts_under_and_can_close_it(store) -> None:
    engine, account_id = store
    rules.add_rule(engine, Rule("Refunds", RuleConditions(keywords=("refund",)), RuleActions(tags=("complaint",))))
    rules.add_rule(
        engine, Rule("Spam", RuleConditions(keywords=("casino",)), RuleActions(status=ConversationStatus.CLOSED))
    )
    store_page(
        engine,
        account_id,
        page(
            message("r", key="r", text="I want a refund", author="ann"),  # a mention: complaint policy once tagged
            message("s", key="s", minutes=1, text="Best casino bonus", author="bot"),
            message("z", key="z", minutes=7, text="hello", author="zed"),
        ),
        now=T0,
    )
    complaint, spam, _other = records(engine)
    assert (complaint.policy_name, complaint.target_s, complaint.due_at) == (
        "Public complaints",
        1800,
        T0 + timedelta(minutes=30),
    )
    assert spam.ended_at == T0 + timedelta(minutes=1)
    with engine.connect() as connection:
        due = dict(connection.execute(select(conversations.c.conversation_key, conversations.c.next_due_at)).all())
    assert due == {"r": T0 + timedelta(minutes=30), "s": None, "z": T0 + timedelta(hours=4, minutes=7)}
