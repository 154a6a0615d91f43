"""The words the Accounts dialog and the status bar use for sync health: countdowns, budgets, retries, gaps."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from app.ui.account_health import (
    budget_line,
    detail_lines,
    expiry_line,
    expiry_warning,
    gap_line,
    health_of,
    retry_line,
)
from tests.factories import T0


def row(**values: object) -> dict[str, object]:
    return {"name": "brand", "state": "ok", "open_gaps": [], **values}


def test_a_token_without_an_expiry_does_not_expire_and_never_warns() -> None:
    health = health_of(row(token_expires_at=None))
    assert expiry_line(health, T0, UTC) == "Sign-in does not expire"
    assert expiry_warning(health, T0) == ""


def test_the_countdown_warns_from_seven_days_ahead_and_says_when_it_expired() -> None:
    expires = T0 + timedelta(days=7, hours=1)
    health = health_of(row(token_expires_at=expires.isoformat()))  # as the account service gives it
    assert expiry_line(health, T0, UTC) == "Sign-in expires in 7 days 1 h (2026-03-09 10:00)"
    assert expiry_warning(health, T0) == "", "more than seven days ahead: no warning yet"
    assert expiry_warning(health, T0 + timedelta(hours=2)) == "sign-in expires in 6 days 23 h"
    assert expiry_warning(health, expires - timedelta(minutes=30)) == "sign-in expires in 30 min"
    assert expiry_line(health, expires, UTC) == "Sign-in expired: sign in again"
    assert expiry_warning(health, expires + timedelta(days=1)) == "sign-in expired"


def test_budget_and_retry_read_the_stores_flat_columns_and_the_services_nested_ones() -> None:
    reset = T0 + timedelta(minutes=5)
    from_store = health_of(
        row(rate_limit_limit=300, rate_limit_remaining=12, rate_limit_reset_at=reset, retry_at=reset)
    )
    from_service = health_of(
        row(rate_limit={"limit": 300, "remaining": 12, "reset_at": reset.isoformat()}, retry_at=reset.isoformat())
    )
    for health in (from_store, from_service):
        assert budget_line(health, T0, UTC) == "Rate limit: 12 of 300 requests left, renews at 09:05"
        assert retry_line(health, T0, UTC) == "Retrying at 09:05"
        assert retry_line(health, reset + timedelta(seconds=1), UTC) == "", "a retry in the past is not news"
    assert budget_line(health_of(row()), T0, UTC) == "", "a platform that reports no budget shows none"


def test_a_gap_shows_its_span_once_per_day_and_why_it_cannot_be_filled() -> None:
    detail = json.dumps({"kind": "matrix-room", "room_id": "!r:x", "from": "t1", "to": "s1", "note": "too many"})
    gap = {"id": 4, "start_at": T0 + timedelta(minutes=2), "end_at": T0 + timedelta(minutes=40), "detail": detail,
           "fillable": True, "fill_note": ""}  # fmt: skip
    [view] = health_of(row(open_gaps=[gap])).gaps
    assert view.note == "too many", "the connector's resume data never reaches the screen"
    assert gap_line(view, T0, UTC) == "Possible missed messages 09:02–09:40"
    week_later = T0 + timedelta(days=3)
    assert gap_line(view, week_later, UTC) == "Possible missed messages Mon 09:02–09:40"

    stuck = dict(gap, fillable=False, fill_note="Missed messages cannot be fetched again on this platform.")
    [view] = health_of(row(open_gaps=[stuck])).gaps
    assert "(cannot be filled: Missed messages cannot be fetched again on this platform.)" in gap_line(view, T0, UTC)


def test_detail_lines_list_every_fact_and_skip_the_ones_that_do_not_apply() -> None:
    lines = detail_lines(row(last_synced_at=T0 - timedelta(minutes=2)), T0, UTC)
    assert lines == ["Last synced 2 min ago", "Sign-in does not expire"]
    assert detail_lines(row(), T0, UTC)[0] == "Not synced yet"
