"""Triage, undo, rules with their dry run, views and notes on PostgreSQL: the same Core SQL as on SQLite."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from app.domain.models import ConversationStatus, Platform
from app.domain.rules import Rule, RuleActions, RuleConditions, split_list
from app.domain.search_syntax import parse_query
from app.domain.triage import Priority
from app.store import accounts, inbox, notes, rules, triage
from app.store.inbox_query import combine, counts, ordered_ids
from app.store.ingest import store_page
from tests.factories import T0, message, page


def test_triage_rules_views_and_notes_run_unchanged_on_postgresql(pg_engine: Engine) -> None:
    engine = pg_engine
    assert triage.list_tags(engine)[:3] == ["pre-purchase", "post-purchase", "complaint"]  # seeded by the migration
    brand = accounts.add_account(engine, platform=Platform.MASTODON, name="pg-brand", base_url="https://m", now=T0)
    rules.add_rule(
        engine,
        Rule("Refunds", RuleConditions(keywords=split_list("refund|late")),
             RuleActions(tags=("complaint",), assignee="Customer Service", priority=Priority.HIGH)),
    )  # fmt: skip
    store_page(
        engine,
        brand.id,
        page(
            message("p1", key="p1", text="I want a refund", author="ann"),
            message("p2", key="p2", minutes=5, text="Loved the chocolate", author="bo"),
            message("p3", key="p3", minutes=10, text="This is awful, terrible, I am furious", author="cy"),
        ),
        now=T0,
    )
    with engine.connect() as connection:
        ids = {r.conversation_key: r.id for r in connection.exec_driver_sql(
            "SELECT conversation_key, id FROM conversations")}  # fmt: skip
    refund = inbox.summaries(engine, [ids["p1"]])[ids["p1"]]
    assert (refund.tags, refund.assignee, refund.priority) == (("complaint",), "Customer Service", 1)
    assert inbox.summaries(engine, [ids["p3"]])[ids["p3"]].priority == Priority.HIGH  # raised by its tone
    assert sorted(rules.dry_run(engine, rules.list_rules(engine)[0]).conversation_ids) == [ids["p1"]]

    now = T0 + timedelta(hours=2)
    change = triage.set_status(engine, [ids["p2"]], ConversationStatus.CLOSED, now=now)
    tags = triage.toggle_tag(engine, [ids["p1"], ids["p2"]], "praise")
    assert triage.tags_of(engine, [ids["p2"]])[ids["p2"]] == {"praise"}
    assert ordered_ids(engine, combine(parse_query("is:open")), now=now) == [ids["p1"], ids["p3"]]
    found = counts(engine, {"closed": combine(parse_query("closed:today")), "mine": combine(
        parse_query("is:mine"), me="Customer Service")}, now=now)  # fmt: skip
    assert found == {"closed": 1, "mine": 1}
    triage.undo(engine, tags)
    triage.undo(engine, change)
    assert triage.conversation_state(engine, [ids["p2"]])[ids["p2"]]["status"] == "open"
    assert triage.tags_of(engine, [ids["p2"]])[ids["p2"]] == set()

    notes.add_note(engine, ids["p1"], "Refund approved", author="Kim", now=now)
    assert [n.body for n in notes.notes_of(engine, ids["p1"])] == ["Refund approved"]
