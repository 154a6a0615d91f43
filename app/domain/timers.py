"""Response-time arithmetic: when an answer is due under a 24/7 or business-hours policy, and how late it is."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.models import MessageKind, Platform

MAX_DAYS_SEARCHED = 366 * 2  # a calendar with no open hours must not loop forever


class TimerState(enum.StrEnum):
    NONE = "none"
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (0 = Monday) in a time zone, minus holidays (local dates)."""

    time_zone: str
    hours: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def open_intervals(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Open periods in UTC from the local day containing `start` onwards, in order."""
        zone = self.zone
        day = start.astimezone(zone).date()
        for offset in range(MAX_DAYS_SEARCHED):
            current = day + timedelta(days=offset)
            if current in self.holidays:
                continue
            for opens, closes in self.hours.get(current.weekday(), ()):
                # Wall-clock times in the zone, so "9:00" stays 9:00 across a daylight-saving change.
                begin = datetime.combine(current, opens, zone).astimezone(UTC)
                end = datetime.combine(current, closes, zone).astimezone(UTC)
                if end > begin:
                    yield begin, end


def add_business_time(calendar: BusinessCalendar | None, start: datetime, duration: timedelta) -> datetime:
    """The moment `duration` of working time after `start` (24/7 when there is no calendar)."""
    if calendar is None:
        return start + duration
    remaining = duration
    for begin, end in calendar.open_intervals(start):
        if end <= start:
            continue
        begin = max(begin, start)
        if begin + remaining <= end:
            return begin + remaining
        remaining -= end - begin
    raise ValueError("the business-hours calendar has no open hours in the next two years")


def business_time_between(calendar: BusinessCalendar | None, start: datetime, end: datetime) -> timedelta:
    """Working time elapsed from `start` to `end` (wall time when there is no calendar)."""
    if end <= start:
        return timedelta(0)
    if calendar is None:
        return end - start
    total = timedelta(0)
    for begin, close in calendar.open_intervals(start):
        if begin >= end:
            break
        overlap = min(close, end) - max(begin, start)
        if overlap > timedelta(0):
            total += overlap
    return total


@dataclass(frozen=True)
class PolicyConditions:
    """Which conversations a policy covers; an empty field matches everything."""

    platforms: frozenset[Platform] = frozenset()
    accounts: frozenset[str] = frozenset()
    kinds: frozenset[MessageKind] = frozenset()
    min_priority: int | None = None
    tags: frozenset[str] = frozenset()

    def matches(
        self, *, platform: Platform, account: str, kind: MessageKind, priority: int, tags: Iterable[str]
    ) -> bool:
        return (
            (not self.platforms or platform in self.platforms)
            and (not self.accounts or account in self.accounts)
            and (not self.kinds or kind in self.kinds)
            and (self.min_priority is None or priority >= self.min_priority)
            and (not self.tags or bool(self.tags & {t.lower() for t in tags}))
        )


@dataclass(frozen=True)
class ResponsePolicy:
    name: str
    first_response: timedelta
    next_response: timedelta
    warning_ratio: float = 0.75
    calendar: BusinessCalendar | None = None
    conditions: PolicyConditions = field(default_factory=PolicyConditions)
    id: int | None = None  # the stored policy's id; None for the built-in defaults

    def target(self, *, first_response: bool) -> timedelta:
        return self.first_response if first_response else self.next_response

    def describe(self) -> str:
        """'Direct messages: first reply within 1h 00m, next within 1h 00m, business hours (Europe/Berlin)'."""
        hours = f"business hours ({self.calendar.time_zone})" if self.calendar else "24/7"
        return (
            f"{self.name}: first reply within {format_duration(self.first_response)}, "
            f"next within {format_duration(self.next_response)}, {hours}"
        )

    def due_at(self, waiting_since: datetime, *, first_response: bool, paused: timedelta = timedelta(0)) -> datetime:
        """When the answer is due; time spent pending (`paused`, in working time) does not count."""
        target = self.first_response if first_response else self.next_response
        return add_business_time(self.calendar, waiting_since, target + paused)

    def warning_at(
        self, waiting_since: datetime, *, first_response: bool, paused: timedelta = timedelta(0)
    ) -> datetime:
        target = self.first_response if first_response else self.next_response
        return add_business_time(self.calendar, waiting_since, target * self.warning_ratio + paused)

    def state(
        self, now: datetime, waiting_since: datetime | None, *, first_response: bool, paused: timedelta = timedelta(0)
    ) -> TimerState:
        if waiting_since is None:
            return TimerState.NONE
        if now >= self.due_at(waiting_since, first_response=first_response, paused=paused):
            return TimerState.BREACHED
        if now >= self.warning_at(waiting_since, first_response=first_response, paused=paused):
            return TimerState.WARNING
        return TimerState.OK


DEFAULT_POLICIES = (
    ResponsePolicy(
        "Public complaints",
        timedelta(minutes=30),
        timedelta(minutes=30),
        conditions=PolicyConditions(
            kinds=frozenset({MessageKind.MENTION, MessageKind.COMMENT, MessageKind.REPLY}),
            tags=frozenset({"complaint"}),
        ),
    ),
    ResponsePolicy(
        "Direct messages",
        timedelta(hours=1),
        timedelta(hours=1),
        conditions=PolicyConditions(kinds=frozenset({MessageKind.DM})),
    ),
    ResponsePolicy("Everything else", timedelta(hours=4), timedelta(hours=4)),
)


def choose_policy(
    policies: Iterable[ResponsePolicy],
    *,
    platform: Platform,
    account: str,
    kind: MessageKind,
    priority: int = 0,
    tags: Iterable[str] = (),
) -> ResponsePolicy:
    """The first policy, in order, whose conditions match; the last default when none does."""
    tag_list = list(tags)
    for policy in policies:
        if policy.conditions.matches(platform=platform, account=account, kind=kind, priority=priority, tags=tag_list):
            return policy
    return DEFAULT_POLICIES[-1]


def timer_state(now: datetime, warn_at: datetime | None, due_at: datetime | None) -> TimerState:
    """The state of a running clock from its stored warning and due times (NONE when no clock runs)."""
    if due_at is None:
        return TimerState.NONE
    if now >= due_at:
        return TimerState.BREACHED
    if warn_at is not None and now >= warn_at:
        return TimerState.WARNING
    return TimerState.OK


def format_duration(duration: timedelta) -> str:
    """'30m', '1h 00m', '2d 4h' — a policy target as people say it."""
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def format_remaining(now: datetime, due: datetime) -> str:
    """'45m left', '2h 05m left', '12m overdue' — compact for an inbox row."""
    delta = due - now
    overdue = delta < timedelta(0)
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text = f"{days}d {hours}h"
    elif hours:
        text = f"{hours}h {mins:02d}m"
    else:
        text = f"{mins}m"
    return f"{text} overdue" if overdue else f"{text} left"


class ResponseKind(enum.StrEnum):
    FIRST = "first"
    NEXT = "next"


@dataclass(frozen=True)
class ResponseRecord:
    """One measured response clock (a row of `response_records`), as reports read it.

    `answered_at` is the first reply after `started_at`; `ended_at` is set when the conversation was closed
    without a reply. `due_at`/`target_s`/`policy_name` are the policy in force when the clock started.
    """

    conversation_id: int
    account_id: int
    kind: ResponseKind
    started_at: datetime
    due_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    paused: timedelta = timedelta(0)
    policy_name: str = ""
    target: timedelta | None = None

    def breached(self, now: datetime) -> bool:
        """Answered after the due time, or still unanswered (and not closed) past it."""
        if self.due_at is None:
            return False
        stop = self.answered_at or self.ended_at or now
        return stop > self.due_at
