"""The demo workspace's starter rules, so its inbox arrives tagged, assigned and prioritised like a real team's."""

from __future__ import annotations

from sqlalchemy import Engine

from app.domain.rules import MatchMode, Rule, RuleActions, RuleConditions, split_list
from app.domain.triage import Priority
from app.store.rules import list_rules, save_rules

DEMO_RULES = (
    Rule(
        "Refunds and late parcels",
        RuleConditions(keywords=split_list("refund|late|still waiting|charged twice|hasn't shipped|cancelled")),
        RuleActions(tags=("complaint",), assignee="Customer Service", priority=Priority.HIGH),
        MatchMode.FIRST,
    ),
    Rule(
        "Broken or damaged",
        RuleConditions(keywords=split_list("broke|broken|torn|came off|warranty|replacement")),
        RuleActions(tags=("post-purchase",), assignee="Customer Service"),
    ),
    Rule(
        "Buying questions",
        RuleConditions(keywords=split_list("carry-on|run small|size guide|do you ship|ship to|available")),
        RuleActions(tags=("pre-purchase",), assignee="Product Marketing"),
    ),
    Rule(
        "App and checkout bugs",
        RuleConditions(keywords=split_list("app|crashes|error|404|checkout")),
        RuleActions(tags=("bug",), assignee="R&D"),
    ),
    Rule(
        "Happy customers",
        RuleConditions(sentiment="positive", keywords=split_list("thanks|thank you|worth|love|loved")),
        RuleActions(tags=("praise",), priority=Priority.LOW),
    ),
)


def install_demo_rules(engine: Engine) -> bool:
    """Store the starter rules unless the profile already has rules; True when they were stored."""
    if list_rules(engine):
        return False
    save_rules(engine, DEMO_RULES)
    return True
