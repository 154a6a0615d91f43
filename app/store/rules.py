"""Stored inbox rules: the ordered list, applying them to inbound messages at ingest, and the dry run.

Rules are applied inside the ingest transaction of the page that brought the messages, so a page and what
the rules did to it are stored together or not at all. The dry run reads the cache (text index first, so a
keyword rule over a million messages reads only the messages that contain a keyword) and reports exactly
the conversations whose stored messages the same matcher accepts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, literal_column, or_, select, text, update

from app.domain.models import ConversationStatus, Direction, FetchedMessage
from app.domain.rules import (
    MatchMode,
    MessageFacts,
    Outcome,
    Rule,
    actions_from_json,
    actions_to_json,
    applicable_rules,
    conditions_from_json,
    conditions_hold,
    conditions_to_json,
)
from app.domain.sentiment import NEGATIVE, POSITIVE
from app.store.schema import accounts, conversations, messages, rules
from app.store.triage import attach_tags, tag_ids

DRY_RUN_BATCH = 2000


# --- the ordered list ----------------------------------------------------------------------------------------
def _rule(row: Any) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        position=row.position,
        enabled=bool(row.enabled),
        mode=MatchMode(row.mode) if row.mode in {m.value for m in MatchMode} else MatchMode.ALL,
        conditions=conditions_from_json(row.conditions or {}),
        actions=actions_from_json(row.actions or {}),
    )


def load_rules(connection: Connection, *, enabled_only: bool = False) -> list[Rule]:
    statement = select(rules).order_by(rules.c.position, rules.c.id)
    if enabled_only:
        statement = statement.where(rules.c.enabled == 1)
    return [_rule(row) for row in connection.execute(statement)]


def list_rules(engine: Engine) -> list[Rule]:
    with engine.connect() as connection:
        return load_rules(connection)


def save_rules(engine: Engine, ordered: Sequence[Rule]) -> list[Rule]:
    """Replace the whole list with `ordered` (its order is the evaluation order); the stored rules back."""
    with engine.begin() as connection:
        keep = [r.id for r in ordered if r.id is not None]
        connection.execute(delete(rules).where(rules.c.id.not_in(keep)) if keep else delete(rules))
        for position, rule in enumerate(ordered):
            values = {
                "name": rule.name.strip(),
                "position": position,
                "enabled": 1 if rule.enabled else 0,
                "mode": rule.mode.value,
                "conditions": conditions_to_json(rule.conditions),
                "actions": actions_to_json(rule.actions),
            }
            if rule.id is None:
                connection.execute(insert(rules).values(**values))
            else:
                connection.execute(update(rules).where(rules.c.id == rule.id).values(**values))
        return load_rules(connection)


def add_rule(engine: Engine, rule: Rule) -> Rule:
    """Append one rule at the end of the list."""
    stored = save_rules(engine, [*list_rules(engine), rule])
    return stored[-1]


# --- at ingest -----------------------------------------------------------------------------------------------
@dataclass
class _Pending:
    outcome: Outcome = field(default_factory=Outcome)
    at: datetime | None = None


def apply_rules(
    connection: Connection,
    account_id: int,
    fresh: Iterable[FetchedMessage],
    conversation_of: dict[str, int],
    scores: dict[str, int | None],
) -> dict[int, Outcome]:
    """Run the enabled rules over the page's new inbound messages and apply what they decide; per conversation."""
    enabled = load_rules(connection, enabled_only=True)
    if not enabled:
        return {}
    account = connection.execute(select(accounts.c.name, accounts.c.platform).where(accounts.c.id == account_id)).one()
    pending: dict[int, _Pending] = {}
    for message in fresh:
        if message.direction is not Direction.INBOUND:
            continue
        facts = MessageFacts(
            platform=account.platform,
            account=account.name,
            kind=message.kind.value,
            text=message.text,
            language=message.language,
            sentiment=scores.get(message.platform_message_id),
            author_handle=message.author.handle,
        )
        applied = applicable_rules(enabled, facts)
        if not applied:
            continue
        slot = pending.setdefault(conversation_of[message.platform_message_id], _Pending())
        for rule in applied:
            slot.outcome.add(rule)
        slot.at = message.created_at if slot.at is None else max(slot.at, message.created_at)
    for conversation_id, slot in pending.items():
        _apply(connection, conversation_id, slot.outcome, slot.at)
    return {cid: slot.outcome for cid, slot in pending.items()}


def _apply(connection: Connection, conversation_id: int, outcome: Outcome, at: datetime | None) -> None:
    if outcome.tags:
        attach_tags(connection, [conversation_id], tag_ids(connection, outcome.tags, create=True).values())
    c = conversations.c
    values: dict[str, Any] = {}
    if outcome.assignee is not None:
        values["assignee"] = outcome.assignee
    if outcome.status is not None:
        values["status"] = outcome.status.value
        values["snoozed_until"] = None
        if outcome.status is ConversationStatus.CLOSED:
            values["closed_at"] = at
    if values:
        connection.execute(update(conversations).where(c.id == conversation_id).values(**values))
    if outcome.priority is not None:
        # A priority a person chose stands: rules, like sentiment, only set unlocked ones.
        connection.execute(
            update(conversations)
            .where(c.id == conversation_id, c.priority_locked == 0)
            .values(priority=int(outcome.priority))
        )


# --- dry run -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DryRunResult:
    """The conversations a rule would change (newest matching message first) and how many messages match."""

    conversation_ids: list[int]
    matching_messages: int
    cancelled: bool = False


def dry_run(engine: Engine, rule: Rule, *, cancel: threading.Event | None = None) -> DryRunResult:
    """Every conversation with a stored inbound message the rule's conditions accept; nothing is written."""
    if rule.conditions.is_empty:
        return DryRunResult([], 0)
    statement = _candidates(rule, engine.dialect.name == "sqlite")
    found: dict[int, None] = {}
    count = 0
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=DRY_RUN_BATCH).execute(statement)
        for batch in result.partitions(DRY_RUN_BATCH):
            if cancel is not None and cancel.is_set():
                return DryRunResult(list(found), count, cancelled=True)
            for row in batch:
                facts = MessageFacts(
                    platform=row.platform,
                    account=row.account_name,
                    kind=row.kind,
                    text=row.body_text,
                    language=row.language,
                    sentiment=row.sentiment,
                    author_handle=row.author_handle,
                )
                if conditions_hold(rule.conditions, facts):
                    count += 1
                    found.setdefault(row.conversation_id, None)
    return DryRunResult(list(found), count)


def _candidates(rule: Rule, sqlite: bool) -> Any:
    """Inbound messages that may match, narrowed in SQL; the Python matcher has the final word."""
    m, conditions = messages.c, rule.conditions
    statement = (
        select(
            m.id,
            m.conversation_id,
            m.kind,
            m.body_text,
            m.language,
            m.sentiment,
            m.author_handle,
            accounts.c.name.label("account_name"),
            accounts.c.platform,
        )
        .join(accounts, accounts.c.id == m.account_id)
        .where(m.direction == Direction.INBOUND.value)
        .order_by(m.created_at.desc(), m.id.desc())
    )
    if conditions.platforms:
        statement = statement.where(accounts.c.platform.in_([p.lower() for p in conditions.platforms]))
    if conditions.kinds:
        statement = statement.where(m.kind.in_([k.lower() for k in conditions.kinds]))
    if conditions.sentiment == "negative":
        statement = statement.where(m.sentiment <= NEGATIVE)
    elif conditions.sentiment == "positive":
        statement = statement.where(m.sentiment >= POSITIVE)
    elif conditions.sentiment == "neutral":
        statement = statement.where(or_(m.sentiment.is_(None), m.sentiment.between(NEGATIVE + 1, POSITIVE - 1)))
    words = [k for k in conditions.keywords if k.split()]
    if words and sqlite:
        # The text index finds messages holding any keyword (a superset: it also folds accents and splits
        # on underscores); the matcher then keeps the exact ones.
        match = " OR ".join('"' + " ".join(k.split()).replace('"', '""') + '"' for k in words)
        hits: Any = (
            select(literal_column("rowid"))
            .select_from(text("messages_fts"))
            .where(text("messages_fts MATCH :keywords").bindparams(keywords=match))
        )
        statement = statement.where(m.id.in_(hits))
    elif words:
        statement = statement.where(or_(*(m.body_text.ilike(f"%{w.split()[0]}%") for w in words)))
    return statement
