"""Time, injectable: everything with a deadline asks a Clock, so tests can move time by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


# Platform timestamps outside these bounds are broken or hostile; refusing them keeps every later piece of
# time arithmetic (due times, "in 3 h", epoch milliseconds) away from datetime's year-1 and year-9999 edges.
PLAUSIBLE_FROM = datetime(1970, 1, 1, tzinfo=UTC)
PLAUSIBLE_UNTIL = datetime(2200, 1, 1, tzinfo=UTC)


def is_plausible(moment: datetime) -> bool:
    """Whether a timestamp from a platform can be a real message's time."""
    return PLAUSIBLE_FROM <= moment < PLAUSIBLE_UNTIL
