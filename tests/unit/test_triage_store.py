"""Triage writes in the store: each action lands, touches only what it names, and undo puts back the old state."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.domain.models import ConversationStatus, Platform
from app.domain.triage import DEFAULT_ASSIGNEES, DEFAULT_TAGS, Priority, parse_snooze, snooze_presets
from app.store import accounts, inbox, triage
from app.store.database import open_store
from app.store.ingest import store_page
from tests.factories import T0, message, page


@pytest.fixture
def store(tmp_path: Path):
    engine = open_store(tmp_path / "t.sqlite3")
    account = accounts.add_account(engine, platform=Platform.MASTODON, name="brand", base_url="https://m", now=T0)
    store_page(
        engine,
        account.id,
        page(*(message(f"m{i}", key=f"k{i}", minutes=i, text=f"question {i}", author=f"c{i}") for i in range(4))),
        now=T0,
    )
    yield engine, inbox.conversation_ids(engine)
    engine.dispose()


def state(engine: Engine, cid: int) -> dict[str, object]:
    return triage.conversation_state(engine, [cid])[cid]


def test_a_new_profile_starts_with_the_voice_of_customer_tags_and_the_team_list(store) -> None:
    engine, _ = store
    assert triage.list_tags(engine) == list(DEFAULT_TAGS)
    assert triage.list_assignees(engine) == list(DEFAULT_ASSIGNEES)
    assert triage.save_assignees(engine, ["HR", " Sam ", "", "HR"]) == ["HR", "Sam"]
    assert triage.list_assignees(engine) == ["HR", "Sam"]


def test_status_changes_stamp_closing_and_undo_restores_every_column(store) -> None:
    engine, ids = store
    first, second = ids[0], ids[1]
    change = triage.set_status(engine, [first, second], ConversationStatus.CLOSED, now=T0 + timedelta(hours=1))
    assert change.description == "Closed 2 conversations"
    assert state(engine, first)["status"] == "closed" and state(engine, first)["closed_at"] == T0 + timedelta(hours=1)
    assert state(engine, ids[2])["status"] == "open"  # untouched
    triage.undo(engine, change)
    assert state(engine, first)["status"] == "open" and state(engine, first)["closed_at"] is None


def test_snooze_needs_a_future_time_and_wakes_when_it_comes(store) -> None:
    engine, ids = store
    with pytest.raises(triage.TriageError, match="future"):
        triage.snooze(engine, [ids[0]], T0, now=T0)  # "now" is not in the future
    triage.snooze(engine, [ids[0]], T0 + timedelta(hours=3), now=T0)
    assert state(engine, ids[0])["snoozed_until"] == T0 + timedelta(hours=3)
    assert triage.wake_snoozed(engine, now=T0 + timedelta(hours=2)) == []
    assert triage.wake_snoozed(engine, now=T0 + timedelta(hours=3)) == [ids[0]]
    assert state(engine, ids[0])["status"] == "open" and state(engine, ids[0])["snoozed_until"] is None


def test_a_customer_reply_wakes_a_pending_or_snoozed_conversation(store) -> None:
    engine, ids = store
    account_id = accounts.find_account(engine, "brand").id
    triage.set_status(engine, [ids[0]], ConversationStatus.PENDING, now=T0)
    triage.snooze(engine, [ids[1]], T0 + timedelta(days=2), now=T0)
    keys = {ids[0]: "k3", ids[1]: "k2"}  # ids are newest first
    store_page(
        engine,
        account_id,
        page(*(message(f"again-{cid}", key=keys[cid], minutes=60, text="any news?", author="x") for cid in keys)),
        now=T0,
    )
    assert state(engine, ids[0])["status"] == "open"
    assert state(engine, ids[1])["status"] == "open" and state(engine, ids[1])["snoozed_until"] is None


def test_tags_toggle_on_a_selection_and_undo_puts_the_old_sets_back(store) -> None:
    engine, ids = store
    triage.set_tag(engine, [ids[0]], "praise", present=True)
    change = triage.toggle_tag(engine, ids[:2], "complaint")  # neither has it: both get it
    assert triage.tags_of(engine, ids[:2]) == {ids[0]: {"praise", "complaint"}, ids[1]: {"complaint"}}
    again = triage.toggle_tag(engine, ids[:2], "Complaint")  # both have it (any case): both lose it
    assert triage.tags_of(engine, ids[:2]) == {ids[0]: {"praise"}, ids[1]: set()}
    triage.undo(engine, again)
    assert triage.tags_of(engine, ids[:2]) == {ids[0]: {"praise", "complaint"}, ids[1]: {"complaint"}}
    triage.undo(engine, change)
    assert triage.tags_of(engine, ids[:2]) == {ids[0]: {"praise"}, ids[1]: set()}
    triage.set_tag(engine, [ids[2]], "shipping", present=True)  # a new name joins the list
    assert triage.list_tags(engine)[-1] == "shipping"


def test_tag_list_edits_refuse_empty_and_duplicate_names(store) -> None:
    engine, ids = store
    triage.set_tag(engine, [ids[0]], "bug", present=True)
    with pytest.raises(triage.TriageError, match="already"):
        triage.rename_tag(engine, "bug", "Praise")
    with pytest.raises(triage.TriageError, match="name"):
        triage.add_tag(engine, "   ")
    triage.rename_tag(engine, "bug", "defect")
    assert triage.tags_of(engine, [ids[0]]) == {ids[0]: {"defect"}}
    triage.remove_tag(engine, "defect")
    assert triage.tags_of(engine, [ids[0]]) == {ids[0]: set()} and "defect" not in triage.list_tags(engine)


def test_assign_read_state_and_priority_each_undo(store) -> None:
    engine, ids = store
    cid = ids[0]
    assign = triage.set_assignee(engine, [cid], "  R&D ")
    assert state(engine, cid)["assignee"] == "R&D" and assign.description == "Assigned 1 conversation to R&D"
    read = triage.set_read(engine, [cid], True)
    assert state(engine, cid)["unread_count"] == 0
    unread = triage.set_read(engine, [cid], False)
    assert state(engine, cid)["unread_count"] == 1
    prio = triage.set_priority(engine, [cid], Priority.URGENT)
    assert state(engine, cid)["priority"] == 2 and state(engine, cid)["priority_locked"] == 1
    for change in (prio, unread, read, assign):
        triage.undo(engine, change)
    assert state(engine, cid) == {
        "status": "open",
        "snoozed_until": None,
        "closed_at": None,
        "assignee": "",
        "unread_count": 1,
        "priority": 0,
        "priority_locked": 0,
    }


def test_snooze_choices_and_typed_lengths(clock) -> None:
    now = T0
    presets = dict(snooze_presets(now, T0.tzinfo))
    assert presets["1 hour"] == now + timedelta(hours=1)
    assert presets["Tomorrow 9:00"] == (now + timedelta(days=1)).replace(hour=9, minute=0)
    assert presets["Monday 9:00"].weekday() == 0 and presets["Monday 9:00"] > now
    assert parse_snooze("45m", now) == now + timedelta(minutes=45)
    assert parse_snooze(" 2 hours", now) == now + timedelta(hours=2)
    for bad in ("soon", "0h", "-1d", ""):
        with pytest.raises(ValueError):
            parse_snooze(bad, now)
