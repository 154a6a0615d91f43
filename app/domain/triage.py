"""Triage vocabulary: priorities, the starting tag and team lists, and snooze times (pure, clock passed in)."""

from __future__ import annotations

import enum
import re
from datetime import datetime, time, timedelta, tzinfo

DEFAULT_TAGS = ("pre-purchase", "post-purchase", "complaint", "praise", "bug", "feature request")
DEFAULT_ASSIGNEES = ("Customer Service", "Corporate Comms", "Product Marketing", "HR", "R&D")
MORNING = time(9, 0)


class Priority(enum.IntEnum):
    LOW = -1
    NORMAL = 0
    HIGH = 1
    URGENT = 2

    @property
    def label(self) -> str:
        return self.name.title()

    @classmethod
    def parse(cls, text: str) -> Priority:
        """ "high", "High", "1" → Priority.HIGH; ValueError for anything else."""
        cleaned = text.strip().lower()
        for member in cls:
            if cleaned in (member.name.lower(), str(int(member))):
                return member
        raise ValueError(f"Unknown priority '{text}'. Try: {', '.join(m.name.lower() for m in cls)}")


def clamp_priority(value: int) -> Priority:
    return Priority(max(Priority.LOW, min(Priority.URGENT, value)))


_DURATION = re.compile(r"^\s*(\d{1,4})\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)\s*$", re.IGNORECASE)


def snooze_presets(now: datetime, zone: tzinfo | None) -> list[tuple[str, datetime]]:
    """The snooze choices offered, each with its wake-up moment (aware, UTC-comparable)."""
    local_now = now.astimezone(zone) if zone is not None else now.astimezone()
    tomorrow = datetime.combine(local_now.date() + timedelta(days=1), MORNING, local_now.tzinfo)
    days_to_monday = (7 - local_now.weekday()) % 7 or 7
    monday = datetime.combine(local_now.date() + timedelta(days=days_to_monday), MORNING, local_now.tzinfo)
    return [
        ("1 hour", now + timedelta(hours=1)),
        ("3 hours", now + timedelta(hours=3)),
        ("Tomorrow 9:00", tomorrow),
        ("Monday 9:00", monday),
        ("1 week", now + timedelta(days=7)),
    ]


def parse_snooze(text: str, now: datetime) -> datetime:
    """A typed snooze length such as "45m", "2h", "3 days" or "1w"; ValueError with a hint otherwise."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError("Type a length such as 45m, 2h, 3d or 1w")
    amount, unit = int(match.group(1)), match.group(2).lower()[0]
    if amount <= 0:
        raise ValueError("A snooze must last at least a minute")
    step = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
    return now + amount * step[unit]
