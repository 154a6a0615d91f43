"""Stored response-time policies: the ordered list, its JSON form, and a per-engine cache that edits invalidate.

Ingest asks for the policies on every page; they change only when a person edits them, so they are read once
per engine and kept until `save_policies` replaces them. An empty table means the built-in defaults.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, delete, insert, select, update

from app.domain.models import MessageKind, Platform
from app.domain.timers import DEFAULT_POLICIES, BusinessCalendar, PolicyConditions, ResponsePolicy
from app.errors import KnownError
from app.store.schema import response_policies

_cache: weakref.WeakKeyDictionary[Engine, tuple[ResponsePolicy, ...]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


class PolicyError(KnownError):
    """A policy the store refuses (no name, a target of zero, an unknown time zone, hours that close before
    they open)."""


# --- JSON form -----------------------------------------------------------------------------------------------
def conditions_to_json(conditions: PolicyConditions) -> dict[str, Any]:
    return {
        "platforms": sorted(p.value for p in conditions.platforms),
        "accounts": sorted(conditions.accounts),
        "kinds": sorted(k.value for k in conditions.kinds),
        "min_priority": conditions.min_priority,
        "tags": sorted(conditions.tags),
    }


def conditions_from_json(data: dict[str, Any]) -> PolicyConditions:
    platforms = {p.value for p in Platform}
    kinds = {k.value for k in MessageKind}
    priority = data.get("min_priority")
    return PolicyConditions(
        platforms=frozenset(Platform(p) for p in data.get("platforms", ()) if p in platforms),
        accounts=frozenset(str(a) for a in data.get("accounts", ())),
        kinds=frozenset(MessageKind(k) for k in data.get("kinds", ()) if k in kinds),
        min_priority=int(priority) if isinstance(priority, int) else None,
        tags=frozenset(str(t).lower() for t in data.get("tags", ())),
    )


def calendar_to_json(calendar: BusinessCalendar | None) -> dict[str, Any] | None:
    if calendar is None:
        return None
    return {
        "time_zone": calendar.time_zone,
        "hours": {
            str(day): [[o.strftime("%H:%M"), c.strftime("%H:%M")] for o, c in spans]
            for day, spans in sorted(calendar.hours.items())
        },
        "holidays": sorted(d.isoformat() for d in calendar.holidays),
    }


def calendar_from_json(data: dict[str, Any] | None) -> BusinessCalendar | None:
    if not data:
        return None
    hours = {
        int(day): tuple((time.fromisoformat(o), time.fromisoformat(c)) for o, c in spans)
        for day, spans in data.get("hours", {}).items()
    }
    holidays = frozenset(date.fromisoformat(d) for d in data.get("holidays", ()))
    return BusinessCalendar(str(data.get("time_zone", "UTC")), hours, holidays)


def _policy(row: Any) -> ResponsePolicy:
    return ResponsePolicy(
        name=row.name,
        first_response=timedelta(seconds=row.first_response_s),
        next_response=timedelta(seconds=row.next_response_s),
        warning_ratio=row.warning_ratio / 100,
        calendar=calendar_from_json(row.calendar),
        conditions=conditions_from_json(row.conditions or {}),
        id=row.id,
    )


# --- reading and writing -------------------------------------------------------------------------------------
def read_policies(connection: Connection) -> tuple[ResponsePolicy, ...]:
    """The stored list in order, read now (the built-in defaults when none are stored)."""
    rows = connection.execute(select(response_policies).order_by(response_policies.c.position, response_policies.c.id))
    stored = tuple(_policy(row) for row in rows)
    return stored or DEFAULT_POLICIES


def load_policies(connection: Connection) -> tuple[ResponsePolicy, ...]:
    """The list in order, from the engine's cache when it has been read before."""
    engine = connection.engine
    with _cache_lock:
        cached = _cache.get(engine)
    if cached is None:
        cached = read_policies(connection)
        with _cache_lock:
            _cache[engine] = cached
    return cached


def forget_policies(engine: Engine) -> None:
    with _cache_lock:
        _cache.pop(engine, None)


def list_policies(engine: Engine) -> list[ResponsePolicy]:
    with engine.connect() as connection:
        return list(load_policies(connection))


def validate(policy: ResponsePolicy) -> None:
    if not policy.name.strip():
        raise PolicyError("A policy needs a name.")
    if policy.first_response <= timedelta(0) or policy.next_response <= timedelta(0):
        raise PolicyError(f"'{policy.name}': the response targets must be longer than zero.")
    if not 0 < policy.warning_ratio < 1:
        raise PolicyError(f"'{policy.name}': the warning must come before the target (1–99 %).")
    calendar = policy.calendar
    if calendar is None:
        return
    try:
        ZoneInfo(calendar.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(f"'{policy.name}': unknown time zone '{calendar.time_zone}'.") from exc
    if not any(calendar.hours.values()):
        raise PolicyError(f"'{policy.name}': business hours need at least one open day.")
    for spans in calendar.hours.values():
        for opens, closes in spans:
            if closes <= opens:
                raise PolicyError(f"'{policy.name}': hours must close after they open ({opens:%H:%M}–{closes:%H:%M}).")


def save_policies(engine: Engine, ordered: Sequence[ResponsePolicy]) -> list[ResponsePolicy]:
    """Replace the whole list with `ordered` (its order is the matching order); the stored list back.

    Open conversations keep their old due times until `app.store.clocks.reapply_policies` runs (on the writer).
    """
    for policy in ordered:
        validate(policy)
    with engine.begin() as connection:
        keep = [p.id for p in ordered if p.id is not None]
        table = response_policies
        connection.execute(delete(table).where(table.c.id.not_in(keep)) if keep else delete(table))
        for position, policy in enumerate(ordered):
            values = {
                "name": policy.name.strip(),
                "position": position,
                "conditions": conditions_to_json(policy.conditions),
                "first_response_s": int(policy.first_response.total_seconds()),
                "next_response_s": int(policy.next_response.total_seconds()),
                "warning_ratio": round(policy.warning_ratio * 100),
                "calendar": calendar_to_json(policy.calendar),
            }
            if policy.id is None:
                connection.execute(insert(table).values(**values))
            else:
                connection.execute(update(table).where(table.c.id == policy.id).values(**values))
        forget_policies(engine)
        stored = read_policies(connection)
    forget_policies(engine)  # a reader between the write and the commit may have cached the old list
    return list(stored)
