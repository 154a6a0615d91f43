"""Time labels for the interface: compact inbox ages, relative phrases and exact stamps in the chosen zone."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def display_zone(name: str) -> tzinfo | None:
    """The preference's IANA zone, or None for the system's local zone (also when the name is unknown)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local(moment: datetime, zone: tzinfo | None) -> datetime:
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def compact_age(moment: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """Inbox column: "now", "5m", "3h", "2d", then the date."""
    seconds = max(0.0, (now - moment).total_seconds())
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)}d"
    shown = local(moment, zone)
    if shown.year == local(now, zone).year:
        return f"{shown:%b} {shown.day}"
    return f"{shown:%Y-%m-%d}"


def relative(moment: datetime, now: datetime) -> str:
    """A phrase: "just now", "2 min ago", "3 h ago", "yesterday", "5 days ago"; future times "in 4 min"."""
    delta = now - moment
    future = delta < timedelta(0)
    seconds = abs(delta.total_seconds())
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        text = f"{max(1, round(seconds / 60))} min"
    elif seconds < 86400:
        text = f"{int(seconds // 3600)} h"
    elif seconds < 2 * 86400 and not future:
        return "yesterday"
    else:
        days = int(seconds // 86400)
        text = f"{days} days"
    return f"in {text}" if future else f"{text} ago"


def exact(moment: datetime, zone: tzinfo | None = None) -> str:
    shown = local(moment, zone)
    return f"{shown:%a} {shown.day} {shown:%b %Y, %H:%M}"


def clock_time(moment: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """ "14:05" today, "Tue 14:05" within the week, else the date and time."""
    shown = local(moment, zone)
    today = local(now, zone).date()
    if shown.date() == today:
        return f"{shown:%H:%M}"
    if abs((shown.date() - today).days) < 7:
        return f"{shown:%a %H:%M}"
    return f"{shown:%Y-%m-%d %H:%M}"
