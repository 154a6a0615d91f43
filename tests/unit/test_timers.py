"""Response-time arithmetic on a controllable calendar: 24/7, business hours, weekends, holidays, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.domain.models import MessageKind, Platform
from app.domain.timers import (
    DEFAULT_POLICIES,
    BusinessCalendar,
    ResponsePolicy,
    TimerState,
    add_business_time,
    business_time_between,
    choose_policy,
    format_duration,
    format_remaining,
    timer_state,
)

NINE_TO_FIVE = tuple((time(9), time(17)) for _ in range(1))
OFFICE = BusinessCalendar("Europe/Berlin", {day: NINE_TO_FIVE for day in range(5)})


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def test_round_the_clock_policy_counts_nights_and_weekends() -> None:
    friday_night = datetime(2026, 3, 6, 22, 0, tzinfo=UTC)
    assert add_business_time(None, friday_night, timedelta(hours=4)) == datetime(2026, 3, 7, 2, 0, tzinfo=UTC)


def test_business_hours_skip_the_weekend() -> None:
    friday_4pm = berlin(2026, 3, 6, 16)
    assert add_business_time(OFFICE, friday_4pm, timedelta(hours=2)) == berlin(2026, 3, 9, 10)


def test_a_message_outside_hours_waits_for_opening_time() -> None:
    sunday = berlin(2026, 3, 8, 11)
    assert add_business_time(OFFICE, sunday, timedelta(minutes=30)) == berlin(2026, 3, 9, 9, 30)


def test_holidays_are_closed() -> None:
    calendar = BusinessCalendar("Europe/Berlin", OFFICE.hours, frozenset({date(2026, 4, 3), date(2026, 4, 6)}))
    thursday_4pm = berlin(2026, 4, 2, 16)  # Good Friday and Easter Monday are holidays
    assert add_business_time(calendar, thursday_4pm, timedelta(hours=2)) == berlin(2026, 4, 7, 10)


def test_opening_hours_follow_the_wall_clock_across_daylight_saving() -> None:
    # Clocks go forward on Sunday 29 March 2026 in Berlin: opening time moves from 08:00 to 07:00 UTC.
    friday_4pm = berlin(2026, 3, 27, 16)
    due = add_business_time(OFFICE, friday_4pm, timedelta(hours=2))
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC) == berlin(2026, 3, 30, 10)


def test_elapsed_business_time_is_the_inverse_of_adding_it() -> None:
    start = berlin(2026, 3, 5, 15)
    due = add_business_time(OFFICE, start, timedelta(hours=11))
    assert business_time_between(OFFICE, start, due) == timedelta(hours=11)


def test_policy_states_move_from_ok_to_warning_to_breached() -> None:
    policy = ResponsePolicy("DMs", timedelta(hours=1), timedelta(hours=2), warning_ratio=0.75)
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    first = [policy.state(start + timedelta(minutes=m), start, first_response=True) for m in (0, 44, 45, 59, 60)]
    assert first == [TimerState.OK, TimerState.OK, TimerState.WARNING, TimerState.WARNING, TimerState.BREACHED]
    assert policy.state(start + timedelta(minutes=90), start, first_response=False) is TimerState.WARNING
    assert policy.state(start, None, first_response=True) is TimerState.NONE


def test_time_spent_pending_does_not_count() -> None:
    policy = ResponsePolicy("DMs", timedelta(hours=1), timedelta(hours=1))
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert policy.due_at(start, first_response=True, paused=timedelta(minutes=40)) == start + timedelta(minutes=100)


@pytest.mark.parametrize(
    ("kind", "tags", "expected"),
    [
        (MessageKind.MENTION, ["complaint"], "Public complaints"),
        (MessageKind.DM, ["complaint"], "Direct messages"),
        (MessageKind.DM, [], "Direct messages"),
        (MessageKind.COMMENT, ["praise"], "Everything else"),
    ],
)
def test_first_matching_policy_wins(kind: MessageKind, tags: list[str], expected: str) -> None:
    chosen = choose_policy(DEFAULT_POLICIES, platform=Platform.MASTODON, account="brand", kind=kind, tags=tags)
    assert chosen.name == expected


def test_remaining_time_reads_well() -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert format_remaining(now, now + timedelta(minutes=45)) == "45m left"
    assert format_remaining(now, now + timedelta(hours=2, minutes=5)) == "2h 05m left"
    assert format_remaining(now, now - timedelta(minutes=12)) == "12m overdue"
    assert format_remaining(now, now + timedelta(days=1, hours=3)) == "1d 3h left"


def test_pending_time_over_a_weekend_pauses_only_the_working_hours_it_covered() -> None:
    policy = ResponsePolicy("Office", timedelta(hours=2), timedelta(hours=2), calendar=OFFICE)
    waiting = berlin(2026, 3, 6, 16)  # Friday 16:00
    paused = business_time_between(OFFICE, berlin(2026, 3, 6, 16, 30), berlin(2026, 3, 9, 10))  # pending till Monday
    assert paused == timedelta(minutes=90)  # Friday 16:30-17:00 and Monday 09:00-10:00
    # Unpaused the answer was due Monday 10:00; the 90 working minutes spent pending push it to 11:30.
    assert policy.due_at(waiting, first_response=True) == berlin(2026, 3, 9, 10)
    assert policy.due_at(waiting, first_response=True, paused=paused) == berlin(2026, 3, 9, 11, 30)


def test_warning_threshold_follows_business_hours_across_daylight_saving() -> None:
    policy = ResponsePolicy("Office", timedelta(hours=4), timedelta(hours=4), warning_ratio=0.75, calendar=OFFICE)
    friday_3pm = berlin(2026, 3, 27, 15)  # clocks go forward on Sunday 29 March
    assert policy.warning_at(friday_3pm, first_response=True) == berlin(2026, 3, 30, 10)  # 2 h Fri + 1 h Mon
    assert policy.due_at(friday_3pm, first_response=True) == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # 11:00 CEST


def test_the_state_of_a_stored_clock_reads_its_warning_and_due_times() -> None:
    due = datetime(2026, 3, 2, 10, tzinfo=UTC)
    warn = due - timedelta(minutes=15)
    assert timer_state(warn - timedelta(seconds=1), warn, due) is TimerState.OK
    assert timer_state(warn, warn, due) is TimerState.WARNING
    assert timer_state(due, warn, due) is TimerState.BREACHED
    assert timer_state(due, None, None) is TimerState.NONE


def test_policy_targets_read_as_people_say_them() -> None:
    assert [format_duration(timedelta(minutes=m)) for m in (30, 60, 125, 1440, 1500)] == [
        "30m", "1h 00m", "2h 05m", "1d", "1d 1h",
    ]  # fmt: skip
    office = ResponsePolicy("Office", timedelta(hours=2), timedelta(hours=4), calendar=OFFICE)
    assert office.describe() == (
        "Office: first reply within 2h 00m, next within 4h 00m, business hours (Europe/Berlin)"
    )
