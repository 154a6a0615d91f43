"""Inbox rules: conditions on an inbound message → triage actions, evaluated in order (pure; no storage)."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.domain.models import ConversationStatus, MessageKind, Platform
from app.domain.sentiment import SENTIMENT_LABELS, label
from app.domain.triage import Priority

RULE_STATUSES = (ConversationStatus.PENDING, ConversationStatus.CLOSED)


class MatchMode(enum.StrEnum):
    FIRST = "first"  # when this rule matches, later rules are not looked at for the message
    ALL = "all"  # later rules are still looked at


@dataclass(frozen=True)
class RuleConditions:
    """Every non-empty field must hold (AND); a field with several values holds when any of them does (OR)."""

    platforms: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sentiment: str = ""
    authors: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self == RuleConditions()


@dataclass(frozen=True)
class RuleActions:
    tags: tuple[str, ...] = ()
    assignee: str = ""
    priority: Priority | None = None
    status: ConversationStatus | None = None

    @property
    def is_empty(self) -> bool:
        return self == RuleActions()


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: RuleConditions
    actions: RuleActions
    mode: MatchMode = MatchMode.ALL
    enabled: bool = True
    id: int | None = None
    position: int = 0


@dataclass(frozen=True)
class MessageFacts:
    """What a rule can look at in one inbound message."""

    platform: str
    account: str
    kind: str
    text: str
    language: str = ""
    sentiment: int | None = None
    author_handle: str = ""


@dataclass
class Outcome:
    """The combined effect of the rules that applied to one conversation, in rule order."""

    tags: list[str] = field(default_factory=list)
    assignee: str | None = None
    priority: Priority | None = None
    status: ConversationStatus | None = None
    rule_ids: list[int] = field(default_factory=list)

    def add(self, rule: Rule) -> None:
        actions = rule.actions
        self.tags.extend(t for t in actions.tags if t not in self.tags)
        if actions.assignee:
            self.assignee = actions.assignee
        if actions.priority is not None:
            self.priority = actions.priority
        if actions.status is not None:
            self.status = actions.status
        if rule.id is not None and rule.id not in self.rule_ids:
            self.rule_ids.append(rule.id)


def split_list(text: str) -> tuple[str, ...]:
    """ "refund|late, lost parcel" → ("refund", "late", "lost parcel"): the editor's list fields."""
    return tuple(dict.fromkeys(part.strip() for part in re.split(r"[|,\n]", text) if part.strip()))


@functools.lru_cache(maxsize=256)
def keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words or phrases, any case: "late" must not match "chocolate"; spaces in a phrase match any run
    # of spaces, as the text index sees them.
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in k.split()) for k in keywords if k.split())
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _handle_forms(handle: str) -> set[str]:
    bare = handle.strip().lstrip("@").lower()
    return {bare, bare.split("@", 1)[0]} if bare else set()


def conditions_hold(conditions: RuleConditions, facts: MessageFacts) -> bool:
    if conditions.platforms and facts.platform.lower() not in {p.lower() for p in conditions.platforms}:
        return False
    if conditions.accounts and facts.account.lower() not in {a.lower() for a in conditions.accounts}:
        return False
    if conditions.kinds and facts.kind.lower() not in {k.lower() for k in conditions.kinds}:
        return False
    if conditions.languages:
        language = facts.language.lower()
        if not language or not any(
            language == wanted.lower() or language.startswith(wanted.lower() + "-") for wanted in conditions.languages
        ):
            return False
    if conditions.sentiment and label(facts.sentiment) != conditions.sentiment:
        return False
    if conditions.authors:
        forms = _handle_forms(facts.author_handle)
        if not any(a.strip().lstrip("@").lower() in forms for a in conditions.authors):
            return False
    if conditions.keywords and keyword_pattern(tuple(conditions.keywords)).search(facts.text) is None:
        return False
    return True


def applicable_rules(rules: Sequence[Rule], facts: MessageFacts) -> list[Rule]:
    """The enabled rules (in order) whose conditions hold, stopping after a matching "first match wins" rule."""
    applied = []
    for rule in rules:
        if not rule.enabled or rule.conditions.is_empty or not conditions_hold(rule.conditions, facts):
            continue
        applied.append(rule)
        if rule.mode is MatchMode.FIRST:
            break
    return applied


def rule_problems(rule: Rule) -> list[str]:
    """Why a rule cannot be saved (empty when it can)."""
    problems = []
    if not rule.name.strip():
        problems.append("Give the rule a name.")
    if rule.conditions.is_empty:
        problems.append("Add at least one condition, or the rule would touch every message.")
    if rule.actions.is_empty:
        problems.append("Choose at least one action.")
    if rule.conditions.sentiment and rule.conditions.sentiment not in SENTIMENT_LABELS:
        problems.append(f"Sentiment is one of: {', '.join(SENTIMENT_LABELS)}.")
    known_platforms = {p.value for p in Platform}
    problems += [f"Unknown platform '{p}'." for p in rule.conditions.platforms if p.lower() not in known_platforms]
    known_kinds = {k.value for k in MessageKind}
    problems += [f"Unknown message kind '{k}'." for k in rule.conditions.kinds if k.lower() not in known_kinds]
    if rule.actions.status is not None and rule.actions.status not in RULE_STATUSES:
        problems.append("A rule can mark a conversation pending or closed.")
    return problems


# --- storage form --------------------------------------------------------------------------------------------
def conditions_to_json(conditions: RuleConditions) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in conditions.__dict__.items() if v}


def conditions_from_json(data: Mapping[str, Any]) -> RuleConditions:
    def strings(name: str) -> tuple[str, ...]:
        value = data.get(name) or ()
        return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()

    sentiment = data.get("sentiment")
    return RuleConditions(
        platforms=strings("platforms"),
        accounts=strings("accounts"),
        kinds=strings("kinds"),
        keywords=strings("keywords"),
        languages=strings("languages"),
        sentiment=sentiment if isinstance(sentiment, str) and sentiment in SENTIMENT_LABELS else "",
        authors=strings("authors"),
    )


def actions_to_json(actions: RuleActions) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if actions.tags:
        data["tags"] = list(actions.tags)
    if actions.assignee:
        data["assignee"] = actions.assignee
    if actions.priority is not None:
        data["priority"] = int(actions.priority)
    if actions.status is not None:
        data["status"] = actions.status.value
    return data


def actions_from_json(data: Mapping[str, Any]) -> RuleActions:
    tags = data.get("tags") or ()
    priority = data.get("priority")
    status = data.get("status")
    return RuleActions(
        tags=tuple(str(t) for t in tags) if isinstance(tags, list | tuple) else (),
        assignee=str(data.get("assignee") or ""),
        priority=Priority(priority) if isinstance(priority, int) and priority in set(Priority) else None,
        status=ConversationStatus(status) if status in {s.value for s in RULE_STATUSES} else None,
    )


def reordered(rules: Iterable[Rule]) -> list[Rule]:
    """The rules with positions 0..n-1 in the given order."""
    return [replace(rule, position=index) for index, rule in enumerate(rules)]
