"""Report arithmetic: volumes, response rate, response-time percentiles, breaches, heatmap and daily trend.

Definitions (the README's "Reports" section says the same):
- A period is a half-open span of UTC instants [start, end); days, hours and weekdays are read in the
  user's time zone (None: the system's zone, daylight-saving aware).
- Response time of one clock = answered_at − started_at − paused (wall clock, never below zero).
- Percentiles are nearest-rank: the p-th percentile of n sorted values is the value at rank ⌈p/100 · n⌉
  (1-based). The median is the 50th percentile, so with an even count it is the lower middle value.
- Breach: the clock's own verdict (`ResponseRecord.breached`): answered, closed or still waiting past the
  due time copied in when it started — a later policy change never alters it.
- Response rate = first-response clocks answered by their due time ÷ first-response clocks that have a
  verdict (answered, or breached). A clock still inside its target, or closed unanswered before it was due,
  has no verdict yet and counts on neither side.
- Clocks, and their response times and breaches, belong to the day (and period) they started in; messages
  to the moment they were created; resolution (opened → closed) to the day the conversation was closed.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from app.domain.models import Direction
from app.domain.timers import ResponseKind, ResponseRecord

NO_GROUP = "—"  # the row of what has no department or no tag
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BUCKET_S = 15 * 60  # volumes are counted per quarter hour in SQL: every time zone's offset is a multiple of it


class GroupBy(enum.StrEnum):
    PLATFORM = "platform"
    ACCOUNT = "account"
    DEPARTMENT = "department"
    TAG = "tag"


@dataclass(frozen=True)
class AccountFacts:
    """What grouping needs to know about an account."""

    id: int
    name: str
    platform: str
    department: str = ""

    def group(self, by: GroupBy) -> str:
        if by is GroupBy.PLATFORM:
            return self.platform
        if by is GroupBy.ACCOUNT:
            return self.name
        if by is GroupBy.DEPARTMENT:
            return self.department.strip() or NO_GROUP
        raise ValueError("tags belong to conversations, not accounts")


@dataclass(frozen=True)
class ReportPeriod:
    start: datetime
    end: datetime
    zone: tzinfo | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("report periods are aware UTC instants")
        if self.end <= self.start:
            raise ValueError("the period ends before it starts")

    @classmethod
    def for_dates(cls, first: date, last: date, zone: tzinfo | None = None) -> ReportPeriod:
        """Local days `first` to `last`, both included: local midnight to the midnight after `last`."""
        if last < first:
            raise ValueError(f"the period ends ({last}) before it starts ({first})")
        return cls(_local_midnight(first, zone), _local_midnight(last + timedelta(days=1), zone), zone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    @property
    def first_day(self) -> date:
        return self.local(self.start).date()

    @property
    def last_day(self) -> date:
        return self.local(self.end - timedelta(microseconds=1)).date()

    def days(self) -> list[date]:
        first, last = self.first_day, self.last_day
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    @property
    def zone_name(self) -> str:
        key = getattr(self.zone, "key", None)
        return str(key) if key else "local" if self.zone is None else str(self.zone)


def _local_midnight(day: date, zone: tzinfo | None) -> datetime:
    if zone is None:  # a naive time read as the system's local time, daylight saving included
        return datetime.combine(day, time()).astimezone().astimezone(UTC)
    return datetime.combine(day, time(), zone).astimezone(UTC)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (0 < p ≤ 100) of `values`; None when there are none."""
    if not 0 < p <= 100:
        raise ValueError("percentiles run from just above 0 to 100")
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def response_time(record: ResponseRecord) -> timedelta | None:
    """answered − started − paused, for an answered clock."""
    if record.answered_at is None:
        return None
    return max(timedelta(0), record.answered_at - record.started_at - record.paused)


@dataclass
class _Tally:
    volume_in: int = 0
    replies_out: int = 0
    first_decided: int = 0
    first_in_target: int = 0
    breaches: int = 0
    first_ms: list[int] = field(default_factory=list)
    next_ms: list[int] = field(default_factory=list)
    resolution_ms: list[int] = field(default_factory=list)

    def add_volume(self, direction: Direction, count: int) -> None:
        if direction is Direction.INBOUND:
            self.volume_in += count
        else:
            self.replies_out += count

    def add_clock(self, kind: ResponseKind, breached: bool, took_ms: int | None) -> None:
        self.breaches += breached
        if kind is ResponseKind.FIRST:
            if took_ms is not None or breached:
                self.first_decided += 1
                self.first_in_target += took_ms is not None and not breached
            if took_ms is not None:
                self.first_ms.append(took_ms)
        elif took_ms is not None:
            self.next_ms.append(took_ms)


def _ms(delta: timedelta) -> int:
    return round(delta.total_seconds() * 1000)


def _duration(ms: float | None) -> timedelta | None:
    return None if ms is None else timedelta(milliseconds=ms)


@dataclass(frozen=True)
class GroupStats:
    group: str
    volume_in: int
    replies_out: int
    first_responses: int  # first-response clocks with a verdict
    answered_in_target: int
    breaches: int
    first_response_median: timedelta | None
    first_response_p90: timedelta | None
    next_response_median: timedelta | None
    resolution_median: timedelta | None

    @property
    def response_rate(self) -> float | None:
        return self.answered_in_target / self.first_responses if self.first_responses else None

    @classmethod
    def of(cls, group: str, tally: _Tally) -> GroupStats:
        return cls(
            group,
            tally.volume_in,
            tally.replies_out,
            tally.first_decided,
            tally.first_in_target,
            tally.breaches,
            _duration(median(tally.first_ms)),
            _duration(percentile(tally.first_ms, 90)),
            _duration(median(tally.next_ms)),
            _duration(median(tally.resolution_ms)),
        )


@dataclass(frozen=True)
class DayStats:
    day: date
    volume_in: int
    replies_out: int
    first_response_median: timedelta | None
    breaches: int


@dataclass(frozen=True)
class Report:
    period: ReportPeriod
    group_by: GroupBy
    generated_at: datetime
    groups: tuple[GroupStats, ...]
    total: GroupStats
    heatmap: tuple[tuple[int, ...], ...]  # [weekday, Monday first][hour]: inbound messages
    days: tuple[DayStats, ...]


class ReportBuilder:
    """Folds what the store streams (volume counts, response records, resolutions) into a Report.

    With grouping by tag a conversation can sit in several groups; it then counts once in each of them and
    once in the total, heatmap and trend.
    """

    def __init__(self, period: ReportPeriod, group_by: GroupBy, now: datetime) -> None:
        self.period = period
        self.group_by = group_by
        self.now = now
        self._groups: dict[str, _Tally] = {}
        self._total = _Tally()
        self._days = {day: _Tally() for day in period.days()}
        self._heatmap = [[0] * 24 for _ in WEEKDAYS]
        self._bucket_days: dict[int, tuple[date, int, int]] = {}

    def _group(self, name: str) -> _Tally:
        return self._groups.setdefault(name, _Tally())

    def _day(self, moment: datetime) -> _Tally:
        day = self.period.local(moment).date()
        tally = self._days.get(day)
        return tally if tally is not None else self._days.setdefault(day, _Tally())

    def add_group_volume(self, group: str, direction: Direction, count: int) -> None:
        """Messages of one group (a message in several tag groups is given to each)."""
        self._group(group).add_volume(direction, count)

    def add_traffic(self, bucket: int, direction: Direction, count: int) -> None:
        """Messages created in quarter hour `bucket` (epoch seconds ÷ BUCKET_S): total, trend and heatmap."""
        where = self._bucket_days.get(bucket)
        if where is None:
            local = self.period.local(datetime.fromtimestamp(bucket * BUCKET_S, UTC))
            where = self._bucket_days[bucket] = (local.date(), local.weekday(), local.hour)
        day, weekday, hour = where
        self._total.add_volume(direction, count)
        self._days.setdefault(day, _Tally()).add_volume(direction, count)
        if direction is Direction.INBOUND:
            self._heatmap[weekday][hour] += count

    def add_record(self, record: ResponseRecord, groups: Iterable[str]) -> None:
        breached = record.breached(self.now)  # judged once, then counted in each place it belongs
        took = response_time(record)
        took_ms = None if took is None else _ms(took)
        for name in groups:
            self._group(name).add_clock(record.kind, breached, took_ms)
        self._total.add_clock(record.kind, breached, took_ms)
        self._day(record.started_at).add_clock(record.kind, breached, took_ms)

    def add_resolution(self, opened_at: datetime, closed_at: datetime, groups: Iterable[str]) -> None:
        took = _ms(max(timedelta(0), closed_at - opened_at))
        for name in groups:
            self._group(name).resolution_ms.append(took)
        self._total.resolution_ms.append(took)

    def build(self) -> Report:
        groups = tuple(GroupStats.of(name, self._groups[name]) for name in sorted(self._groups, key=_group_order))
        days = tuple(
            DayStats(day, t.volume_in, t.replies_out, _duration(median(t.first_ms)), t.breaches)
            for day, t in sorted(self._days.items())
        )
        return Report(
            self.period,
            self.group_by,
            self.now,
            groups,
            GroupStats.of("Total", self._total),
            tuple(tuple(row) for row in self._heatmap),
            days,
        )


def _group_order(name: str) -> tuple[bool, str]:
    return (name == NO_GROUP, name.casefold())


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds(), 3)


def group_json(stats: GroupStats) -> dict[str, Any]:
    return {
        "group": stats.group,
        "volume_in": stats.volume_in,
        "replies_out": stats.replies_out,
        "first_responses": stats.first_responses,
        "answered_in_target": stats.answered_in_target,
        "response_rate": None if stats.response_rate is None else round(stats.response_rate, 4),
        "first_response_median_s": _seconds(stats.first_response_median),
        "first_response_p90_s": _seconds(stats.first_response_p90),
        "next_response_median_s": _seconds(stats.next_response_median),
        "resolution_median_s": _seconds(stats.resolution_median),
        "breaches": stats.breaches,
    }


def report_json(report: Report) -> dict[str, Any]:
    period = report.period
    return {
        "from": period.first_day.isoformat(),
        "to": period.last_day.isoformat(),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "time_zone": period.zone_name,
        "group_by": report.group_by.value,
        "generated_at": report.generated_at.isoformat(),
        "groups": [group_json(g) for g in report.groups],
        "total": group_json(report.total),
        "heatmap": {"weekdays": list(WEEKDAYS), "hours": list(range(24)), "inbound": [list(r) for r in report.heatmap]},
        "days": [
            {
                "date": d.day.isoformat(),
                "volume_in": d.volume_in,
                "replies_out": d.replies_out,
                "first_response_median_s": _seconds(d.first_response_median),
                "breaches": d.breaches,
            }
            for d in report.days
        ],
    }


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def report_tables(report: Report) -> dict[str, list[list[str]]]:
    """Every table of the report as rows of text, header first: what CSV export writes."""
    columns = list(group_json(report.total))
    summary = [columns] + [[_cell(group_json(g)[c]) for c in columns] for g in (*report.groups, report.total)]
    heatmap = [["weekday", *(f"{h:02d}" for h in range(24))]] + [
        [name, *(str(n) for n in row)] for name, row in zip(WEEKDAYS, report.heatmap, strict=True)
    ]
    day_rows = report_json(report)["days"]
    trend = [list(day_rows[0]) if day_rows else ["date"]] + [[_cell(v) for v in d.values()] for d in day_rows]
    return {"summary": summary, "heatmap": heatmap, "trend": trend}
