"""The playbook in a real SQLite store: entries, their rules, usage, conversation facts, merging a file."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from app.domain.models import Direction, Platform
from app.domain.playbook import EntryContent, PlaybookError
from app.store import accounts
from app.store import playbook as store
from app.store.database import open_store
from app.store.ingest import store_page
from app.store.playbook import Choice
from app.store.schema import conversation_tags, conversations, tags
from tests.factories import T0, message, page

REFUND = EntryContent(
    title="Refund policy",
    body='Hi {{ contact.first_name | default("there") }}, refunds take 5 days.',
    category=" Billing / Refunds ",
    tags=("Refund", "billing", "refund", ""),
    platforms=("Mastodon",),
    language="EN",
    shortcut=";refund",
    notes="  Standard answer. ",
    author="Sam",
)


@pytest.fixture
def engine(tmp_path: Path):
    engine = open_store(tmp_path / "cache.sqlite3", backups=tmp_path / "backups")
    yield engine
    engine.dispose()


def test_entries_are_created_read_updated_and_deleted_with_every_field(engine) -> None:
    created = store.create_entry(engine, REFUND)
    assert created.uid and created.usage_count == 0 and created.last_used_at is None
    assert created.content == EntryContent(  # trimmed, de-duplicated, lower-cased where it is a keyword
        title="Refund policy",
        body=REFUND.body,
        category="Billing/Refunds",
        tags=("refund", "billing"),
        platforms=("mastodon",),
        language="en",
        shortcut=";refund",
        notes="Standard answer.",
        author="Sam",
    )
    assert store.get_entry(engine, created.id) == created

    updated = store.update_entry(engine, created.id, replace(created.content, title="Refunds", tags=("money",)))
    assert (updated.uid, updated.title, updated.content.tags) == (created.uid, "Refunds", ("money",))
    assert store.categories(engine) == ["Billing/Refunds"]

    store.delete_entry(engine, created.id)
    assert store.list_entries(engine) == [] and store.is_empty(engine)
    with pytest.raises(PlaybookError, match="no longer in the playbook"):
        store.update_entry(engine, created.id, REFUND)


def test_entries_list_by_folder_then_title_with_top_level_answers_first(engine) -> None:
    for title, category in [("Zeta", "Billing"), ("Alpha", "Billing/Refunds"), ("Loose", ""), ("Beta", "Billing")]:
        store.create_entry(engine, EntryContent(title=title, body="text", category=category))
    assert [(e.category, e.title) for e in store.list_entries(engine)] == [
        ("", "Loose"),
        ("Billing", "Beta"),
        ("Billing", "Zeta"),
        ("Billing/Refunds", "Alpha"),
    ]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (EntryContent(title="  ", body="x"), "needs a title"),
        (EntryContent(title="T", body=" \n "), "has no text"),
        (EntryContent(title="T", body="x", shortcut=";two words"), "cannot be typed as one word"),
        (EntryContent(title="T", body="x", category="A/B/C"), "nested too deep"),
        (EntryContent(title="T", body="x", platforms=("myspace",)), "unknown platform: myspace"),
        (EntryContent(title="T", body="Hi\n{{ contact.nmae }}"), "Line 2: Unknown variable “contact.nmae”"),
        (EntryContent(title="T", body="{{ ''.__class__.__mro__ }}"), "cannot reach Python internals"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_stored(engine, content: EntryContent, words: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        store.create_entry(engine, content)
    assert words in caught.value.user_message()
    assert store.is_empty(engine)


def test_one_shortcut_opens_one_answer_whatever_its_case(engine) -> None:
    first = store.create_entry(engine, REFUND)
    with pytest.raises(PlaybookError, match="already belongs to “Refund policy”"):
        store.create_entry(engine, EntryContent(title="Other", body="x", shortcut=";REFUND"))
    assert store.update_entry(engine, first.id, replace(REFUND, title="Renamed")).shortcut == ";refund"
    assert store.find_by_shortcut(engine, ";Refund") == store.get_entry(engine, first.id)
    assert store.find_by_shortcut(engine, ";refun") is None
    assert store.shortcuts(engine) == {";refund"}


def test_using_an_answer_counts_it_and_stamps_the_time(engine) -> None:
    entry = store.create_entry(engine, REFUND)
    store.record_use(engine, entry.id, T0)
    store.record_use(engine, entry.id, T0 + timedelta(hours=1))
    used = store.get_entry(engine, entry.id)
    assert (used.usage_count, used.last_used_at) == (2, T0 + timedelta(hours=1))


def test_conversation_facts_come_from_the_contact_account_tags_and_last_inbound_message(engine) -> None:
    account = accounts.add_account(
        engine, platform=Platform.MASTODON, name="brand", base_url="https://m.example", now=T0, handle="@brand"
    )
    store_page(
        engine,
        account.id,
        page(
            message("m1", text="Where is my parcel?", author="maya"),
            message("r1", minutes=1, text="Looking into it", author="brand", direction=Direction.OUTBOUND),
            message("m2", minutes=2, text="It is two weeks late now", author="maya"),
            message("r2", minutes=3, text="Sorry!", author="brand", direction=Direction.OUTBOUND),
        ),
        now=T0,
    )
    with engine.begin() as connection:
        conversation_id = connection.execute(select(conversations.c.id)).scalar_one()
        tag_id = connection.execute(insert(tags).values(name="shipping")).inserted_primary_key[0]
        connection.execute(insert(conversation_tags).values(conversation_id=conversation_id, tag_id=tag_id))

    facts = store.conversation_facts(engine, conversation_id)
    assert facts is not None
    assert (facts.platform, facts.contact_name, facts.contact_handle) == (Platform.MASTODON, "Maya", "@maya")
    assert facts.account_name == "brand" and facts.opened_at == T0 and facts.tags == ("shipping",)
    assert facts.last_inbound_text == "It is two weeks late now"  # the customer's, not our own last reply
    assert store.conversation_facts(engine, conversation_id + 99) is None


# --- merging ---------------------------------------------------------------------------------------


def test_import_adds_new_uids_leaves_identical_ones_and_reports_conflicts_without_writing(engine) -> None:
    mine = store.create_entry(engine, REFUND, uid="refund")
    same = store.create_entry(engine, EntryContent(title="Thanks", body="Thank you!"), uid="thanks")
    theirs = replace(mine.content, body="Refunds take 14 days now.")
    incoming = [("refund", theirs), ("thanks", same.content), ("delay", EntryContent(title="Delay", body="Sorry"))]

    plan = store.plan_import(engine, incoming)
    assert [uid for uid, _ in plan.added] == ["delay"]
    assert plan.unchanged == ("thanks",)
    assert [(c.uid, c.fields) for c in plan.conflicts] == [("refund", ["body"])]
    assert len(store.list_entries(engine)) == 2  # planning writes nothing

    with pytest.raises(PlaybookError, match="1 conflicting answers need a choice"):
        store.apply_import(engine, plan)
    assert [e.uid for e in store.list_entries(engine)] == ["thanks", "refund"]  # still nothing written
    assert store.get_entry(engine, mine.id).body == REFUND.body


@pytest.mark.parametrize(("choice", "body"), [(Choice.MINE, REFUND.body), (Choice.THEIRS, "Refunds take 14 days now.")])
def test_each_conflict_is_settled_as_chosen_without_duplicates(engine, choice: Choice, body: str) -> None:
    mine = store.create_entry(engine, REFUND, uid="refund")
    store.record_use(engine, mine.id, T0)
    plan = store.plan_import(engine, [("refund", replace(mine.content, body="Refunds take 14 days now."))])
    result = store.apply_import(engine, plan, {"refund": choice})
    assert (result.replaced, result.kept) == ((1, 0) if choice is Choice.THEIRS else (0, 1))
    (entry,) = store.list_entries(engine)
    assert (entry.id, entry.uid, entry.body, entry.usage_count) == (mine.id, "refund", body, 1)  # usage kept


def test_import_refuses_a_file_listing_one_uid_twice(engine) -> None:
    content = EntryContent(title="A", body="a")
    with pytest.raises(PlaybookError, match="lists the id x twice"):
        store.plan_import(engine, [("x", content), ("x", replace(content, title="B"))])


def test_import_refuses_a_plan_the_profile_has_moved_past(engine) -> None:
    mine = store.create_entry(engine, REFUND, uid="refund")
    plan = store.plan_import(engine, [("refund", replace(mine.content, body="Theirs"))])
    store.update_entry(engine, mine.id, replace(mine.content, body="Edited meanwhile"))
    with pytest.raises(PlaybookError, match="changed while importing"):
        store.apply_import(engine, plan, {"refund": Choice.THEIRS})
    assert store.get_entry(engine, mine.id).body == "Edited meanwhile"


def test_import_refuses_to_give_one_shortcut_to_two_answers_and_writes_nothing(engine) -> None:
    store.create_entry(engine, REFUND, uid="refund")
    clash = EntryContent(title="Money back", body="x", shortcut=";Refund")
    plan = store.plan_import(engine, [("money", clash), ("new", EntryContent(title="New", body="y"))])
    with pytest.raises(PlaybookError, match=r"one shortcut would open several answers: ;refund → Money back, Refund"):
        store.apply_import(engine, plan)
    assert [e.uid for e in store.list_entries(engine)] == ["refund"]
