"""Rules: applied to inbound messages as they are stored, in order, and a dry run that finds exactly the same."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.domain.models import ConversationStatus, Direction, Identity, MessageKind, Platform
from app.domain.rules import (
    MatchMode,
    MessageFacts,
    Rule,
    RuleActions,
    RuleConditions,
    conditions_hold,
    rule_problems,
    split_list,
)
from app.domain.triage import Priority
from app.store import accounts, inbox, rules, triage
from app.store.database import open_store
from app.store.ingest import store_page
from tests.factories import T0, message, page

REFUND_RULE = Rule(
    name="Refunds and late parcels",
    conditions=RuleConditions(keywords=split_list("refund|late")),
    actions=RuleActions(tags=("complaint",), assignee="Customer Service", priority=Priority.HIGH),
)


@pytest.fixture
def engine(tmp_path: Path):
    engine = open_store(tmp_path / "r.sqlite3")
    yield engine
    engine.dispose()


def brand(engine: Engine, name: str = "brand", platform: Platform = Platform.MASTODON) -> int:
    return accounts.add_account(engine, platform=platform, name=name, base_url="https://m", now=T0).id


def by_key(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {row.conversation_key: row.id for row in connection.exec_driver_sql(
            "SELECT conversation_key, id FROM conversations")}  # fmt: skip


def triage_state(engine: Engine, cid: int) -> tuple[set[str], str, int]:
    summary = inbox.summaries(engine, [cid])[cid]
    return set(summary.tags), summary.assignee, summary.priority


# Bad input tried: the keyword inside another word, in another case, in an outbound message, and a
# stored message that predates the rule.
TEXTS = {
    "refund": "I want a REFUND for order 1234",
    "late": "Parcel is late again.",
    "chocolate": "Loved the chocolate, thanks",  # "late" inside a word: not a match
    "ours": "We are sorry it is late",  # outbound: rules look at customer messages only
    "plain": "Where is the size guide?",
}


def store_fixture(engine: Engine, account: int) -> None:
    fetched = [message(f"m-{key}", key=key, text=text, author=key) for key, text in TEXTS.items() if key != "ours"]
    fetched.append(message("m-ours", key="ours", text=TEXTS["ours"], author="brand", direction=Direction.OUTBOUND))
    store_page(engine, account, page(*fetched), now=T0)


def test_keyword_rule_applies_at_ingest_to_matching_messages_only(engine) -> None:
    account = brand(engine)
    rules.add_rule(engine, REFUND_RULE)
    store_fixture(engine, account)
    ids = by_key(engine)
    for key in ("refund", "late"):
        assert triage_state(engine, ids[key]) == ({"complaint"}, "Customer Service", int(Priority.HIGH)), key
    for key in ("chocolate", "ours", "plain"):
        assert triage_state(engine, ids[key]) == (set(), "", 0), key


def test_dry_run_lists_exactly_the_conversations_the_rule_matches(engine) -> None:
    account = brand(engine)
    store_fixture(engine, account)  # stored before the rule existed: nothing applied
    ids = by_key(engine)
    assert all(triage_state(engine, cid) == (set(), "", 0) for cid in ids.values())
    result = rules.dry_run(engine, REFUND_RULE)
    assert sorted(result.conversation_ids) == sorted([ids["refund"], ids["late"]])
    assert result.matching_messages == 2
    assert all(triage_state(engine, cid) == (set(), "", 0) for cid in ids.values())  # nothing written


def test_dry_run_and_ingest_agree_on_every_condition(engine) -> None:
    mastodon, matrix = brand(engine), brand(engine, "support", Platform.MATRIX)
    angry = "This is the worst service ever, I am furious and disgusted"
    fetched = [
        replace(message("a1", key="angry", text=angry, author="maria"), language="en"),
        replace(message("a2", key="calm", text="Thanks, lovely jacket", author="maria"), language="en"),
        replace(message("a3", key="german", text="Das ist schrecklich", author="jonas"), language="de-AT"),
        message("a4", key="dm", text="worst delivery ever, furious", author="ola", kind=MessageKind.DM),
    ]
    store_page(engine, mastodon, page(*fetched[:3]), now=T0)
    store_page(engine, matrix, page(fetched[3]), now=T0)
    ids = by_key(engine)
    cases = {
        RuleConditions(sentiment="negative"): {"angry", "dm"},
        RuleConditions(sentiment="positive"): {"calm"},
        RuleConditions(languages=("de",)): {"german"},
        RuleConditions(platforms=("matrix",)): {"dm"},
        RuleConditions(accounts=("Brand",)): {"angry", "calm", "german"},
        RuleConditions(kinds=("dm",), sentiment="negative"): {"dm"},
        RuleConditions(authors=("@maria",), keywords=("jacket",)): {"calm"},
    }
    for conditions, expected in cases.items():
        rule = Rule(name="r", conditions=conditions, actions=RuleActions(tags=("x",)))
        assert set(rules.dry_run(engine, rule).conversation_ids) == {ids[k] for k in expected}, conditions


def test_first_match_wins_stops_later_rules_and_all_matches_does_not(engine) -> None:
    account = brand(engine)
    rules.save_rules(
        engine,
        [
            Rule("Refunds", RuleConditions(keywords=("refund",)), RuleActions(tags=("complaint",)), MatchMode.FIRST),
            Rule("Everything late", RuleConditions(keywords=("late", "refund")), RuleActions(tags=("bug",))),
            Rule("Late to R&D", RuleConditions(keywords=("late",)), RuleActions(assignee="R&D"), MatchMode.ALL),
            Rule("Disabled", RuleConditions(keywords=("late",)), RuleActions(tags=("praise",)), enabled=False),
        ],
    )
    store_fixture(engine, account)
    ids = by_key(engine)
    assert triage_state(engine, ids["refund"])[:2] == ({"complaint"}, "")  # the first rule stopped the rest
    assert triage_state(engine, ids["late"])[:2] == ({"bug"}, "R&D")  # both "all matches" rules applied


def test_rules_can_close_or_mark_pending_but_never_override_a_chosen_priority(engine) -> None:
    account = brand(engine)
    rules.save_rules(
        engine,
        [
            Rule("Spam", RuleConditions(keywords=("casino",)), RuleActions(status=ConversationStatus.CLOSED)),
            Rule("Urgent", RuleConditions(keywords=("lawyer",)), RuleActions(priority=Priority.URGENT)),
        ],
    )
    store_page(engine, account, page(message("s1", key="spam", text="best casino bonus")), now=T0)
    store_page(engine, account, page(message("l1", key="legal", text="hello")), now=T0)
    ids = by_key(engine)
    assert inbox.summaries(engine, [ids["spam"]])[ids["spam"]].status is ConversationStatus.CLOSED
    triage.set_priority(engine, [ids["legal"]], Priority.LOW)  # a person decided
    store_page(engine, account, page(message("l2", key="legal", text="my lawyer will call", minutes=5)), now=T0)
    assert inbox.summaries(engine, [ids["legal"]])[ids["legal"]].priority == int(Priority.LOW)


def test_stored_order_survives_a_reload_and_bad_rules_are_explained(engine) -> None:
    stored = rules.save_rules(engine, [replace(REFUND_RULE, name="B"), replace(REFUND_RULE, name="A")])
    assert [r.name for r in rules.list_rules(engine)] == ["B", "A"]
    rules.save_rules(engine, list(reversed(stored)))
    assert [(r.name, r.position) for r in rules.list_rules(engine)] == [("A", 0), ("B", 1)]
    assert rules.list_rules(engine)[0].conditions.keywords == ("refund", "late")
    empty = Rule(name="", conditions=RuleConditions(), actions=RuleActions())
    assert rule_problems(empty) == [
        "Give the rule a name.",
        "Add at least one condition, or the rule would touch every message.",
        "Choose at least one action.",
    ]
    assert rule_problems(replace(REFUND_RULE, conditions=RuleConditions(platforms=("myspace",)))) == [
        "Unknown platform 'myspace'."
    ]


def test_keyword_matching_is_whole_words_and_phrases_in_any_case() -> None:
    def holds(keywords: str, text: str) -> bool:
        facts = MessageFacts("mastodon", "brand", "mention", text, author_handle="@a@x")
        return conditions_hold(RuleConditions(keywords=split_list(keywords)), facts)

    assert holds("refund|late", "Refund please") and holds("refund|late", "so LATE!")
    assert not holds("refund|late", "chocolate refunds")  # neither a whole word
    assert holds("lost parcel", "my lost   parcel") and not holds("lost parcel", "parcel lost")
    assert holds("c++", "I love C++ a lot")  # regex characters are plain text
    facts = MessageFacts("mastodon", "brand", "mention", "hi", author_handle="@maria@social.example")
    assert conditions_hold(RuleConditions(authors=("maria",)), facts)
    assert conditions_hold(RuleConditions(authors=("@Maria@social.example",)), facts)
    assert not conditions_hold(RuleConditions(authors=("mari",)), facts)


def test_a_likely_complaint_raises_priority_and_marks_the_conversation_unless_locked(engine) -> None:
    account = brand(engine)
    angry = message("n1", key="angry", text="Absolutely furious. Worst service ever, totally unacceptable!")
    store_page(engine, account, page(angry, message("n2", key="calm", text="Is the shop open on Sunday?")), now=T0)
    ids = by_key(engine)
    angry_summary, calm = inbox.summaries(engine, [ids["angry"], ids["calm"]]).values()
    assert angry_summary.priority == int(Priority.HIGH) and angry_summary.sentiment is not None
    assert angry_summary.sentiment <= -40
    assert calm.priority == 0 and calm.sentiment is not None and calm.sentiment > -40
    triage.set_priority(engine, [ids["calm"]], Priority.NORMAL)  # the user overrides: never raised again
    store_page(engine, account, page(message("n3", key="calm", text="Terrible. Awful. I hate this.", minutes=3)),
               now=T0)  # fmt: skip
    calm_after = inbox.summaries(engine, [ids["calm"]])[ids["calm"]]
    assert calm_after.priority == 0 and calm_after.sentiment is not None and calm_after.sentiment <= -40
    outbound = message("n4", key="ours", text="Terrible news, sorry!", direction=Direction.OUTBOUND,
                       author="brand")  # fmt: skip
    store_page(engine, account, page(outbound), now=T0)
    ours = inbox.summaries(engine, [by_key(engine)["ours"]])
    assert next(iter(ours.values())).sentiment is None  # our own messages are not scored


def test_message_language_from_the_platform_is_stored_for_rules(engine) -> None:
    account = brand(engine)
    fetched = replace(message("g1", key="g", text="Hallo"), author=Identity("u", "@u", "U"), language="de")
    store_page(engine, account, page(fetched), now=T0)
    rule = Rule("German", RuleConditions(languages=("de",)), RuleActions(assignee="HR"))
    assert rules.dry_run(engine, rule).conversation_ids == [by_key(engine)["g"]]
