"""Words for an account's sync health: last sync, rate-limit budget, planned retry, sign-in expiry, gaps.

Shared by the Accounts dialog and the status bar. Rows come either from the store
(`app.store.accounts.account_status_rows`: datetimes, flat columns) or from the account service
(`describe_accounts`: ISO strings, nested rate limit); `health_of` reads both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from app.store.gaps import gap_note
from app.ui.timefmt import clock_time, relative

EXPIRY_WARNING = timedelta(days=7)


@dataclass(frozen=True)
class GapView:
    id: int | None
    start: datetime | None
    end: datetime | None
    fillable: bool
    note: str
    fill_note: str


@dataclass(frozen=True)
class AccountHealth:
    last_synced_at: datetime | None
    retry_at: datetime | None
    rate_limited_until: datetime | None
    token_expires_at: datetime | None
    limit: int | None
    remaining: int | None
    reset_at: datetime | None
    gaps: tuple[GapView, ...]


def when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def health_of(row: dict[str, Any]) -> AccountHealth:
    nested = row.get("rate_limit")
    budget: dict[str, Any] = nested if isinstance(nested, dict) else {}
    gaps = []
    for gap in row.get("open_gaps") or ():
        detail = str(gap.get("detail") or "")
        gaps.append(
            GapView(
                id=_int(gap.get("id")),
                start=when(gap.get("start", gap.get("start_at"))),
                end=when(gap.get("end", gap.get("end_at"))),
                fillable=bool(gap.get("fillable", True)),
                note=gap_note(detail),
                fill_note=str(gap.get("fill_note") or ""),
            )
        )
    return AccountHealth(
        last_synced_at=when(row.get("last_synced_at")),
        retry_at=when(row.get("retry_at")),
        rate_limited_until=when(row.get("rate_limited_until")),
        token_expires_at=when(row.get("token_expires_at")),
        limit=_int(budget.get("limit", row.get("rate_limit_limit"))),
        remaining=_int(budget.get("remaining", row.get("rate_limit_remaining"))),
        reset_at=when(budget.get("reset_at", row.get("rate_limit_reset_at"))),
        gaps=tuple(gaps),
    )


def sync_line(health: AccountHealth, now: datetime) -> str:
    return f"Last synced {relative(health.last_synced_at, now)}" if health.last_synced_at else "Not synced yet"


def budget_line(health: AccountHealth, now: datetime, zone: tzinfo | None) -> str:
    if health.remaining is None:
        return ""
    text = f"Rate limit: {health.remaining}" + (f" of {health.limit}" if health.limit is not None else "")
    text += " requests left"
    if health.reset_at is not None and health.reset_at > now:
        text += f", renews at {clock_time(health.reset_at, now, zone)}"
    return text


def retry_line(health: AccountHealth, now: datetime, zone: tzinfo | None) -> str:
    if health.retry_at is not None and health.retry_at > now:
        return f"Retrying at {clock_time(health.retry_at, now, zone)}"
    if health.rate_limited_until is not None and health.rate_limited_until > now:
        return f"Rate-limited until {clock_time(health.rate_limited_until, now, zone)}"
    return ""


def _span(left: timedelta) -> str:
    seconds = int(left.total_seconds())
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{max(1, minutes)} min"


def expiry_line(health: AccountHealth, now: datetime, zone: tzinfo | None) -> str:
    expires = health.token_expires_at
    if expires is None:
        return "Sign-in does not expire"
    if expires <= now:
        return "Sign-in expired: sign in again"
    return f"Sign-in expires in {_span(expires - now)} ({clock_time(expires, now, zone)})"


def expiry_warning(health: AccountHealth, now: datetime) -> str:
    """'expires in 3 days 2 h' within the warning window (or 'expired'); '' otherwise."""
    expires = health.token_expires_at
    if expires is None or expires - now > EXPIRY_WARNING:
        return ""
    return "sign-in expired" if expires <= now else f"sign-in expires in {_span(expires - now)}"


def gap_line(gap: GapView, now: datetime, zone: tzinfo | None) -> str:
    start = clock_time(gap.start, now, zone) if gap.start else "?"
    end = clock_time(gap.end, now, zone) if gap.end else "?"
    day, _, time = end.rpartition(" ")
    if day and start.rpartition(" ")[0] == day:
        end = time  # "Tue 10:02–10:40", not "Tue 10:02–Tue 10:40"
    text = f"Possible missed messages {start}–{end}"
    if not gap.fillable:
        return f"{text} (cannot be filled: {gap.fill_note or 'not on this platform'})"
    if gap.fill_note:
        return f"{text} (last try: {gap.fill_note})"
    return text


def detail_lines(row: dict[str, Any], now: datetime, zone: tzinfo | None) -> list[str]:
    """Everything the Accounts dialog says about one account, one fact a line."""
    health = health_of(row)
    lines = [sync_line(health, now), retry_line(health, now, zone), budget_line(health, now, zone)]
    lines.append(expiry_line(health, now, zone))
    lines += [gap_line(gap, now, zone) for gap in health.gaps]
    return [line for line in lines if line]
