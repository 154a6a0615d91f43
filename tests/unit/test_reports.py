"""Reports over a real SQLite store with known answers (tests/report_fixture.py), and their arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.domain.reports import (
    GroupBy,
    GroupStats,
    Report,
    ReportPeriod,
    median,
    percentile,
    report_json,
    report_tables,
)
from app.domain.timers import ResponseKind, ResponseRecord
from app.store.database import open_store
from app.store.report_csv import read_csv_table, write_csv_tables
from app.store.reports import build_report
from tests import report_fixture as fx
from tests.report_fixture import MIN


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = open_store(tmp_path / "cache.sqlite3", backups=tmp_path / "backups")
    fx.build(engine)
    yield engine
    engine.dispose()


def period() -> ReportPeriod:
    return ReportPeriod.for_dates(fx.FIRST_DAY, fx.LAST_DAY, fx.ZONE)


def report(engine, by: GroupBy) -> Report:  # type: ignore[no-untyped-def]
    return build_report(engine, period(), by, now=fx.NOW)


def groups(result: Report) -> dict[str, GroupStats]:
    return {g.group: g for g in result.groups}


def test_nearest_rank_percentiles() -> None:
    """Rank ⌈p/100·n⌉: of [10, 20, 45, 60] the median is rank 2 (20, the lower middle), p90 rank 4 (60);
    of one value every percentile is that value; of none, None."""
    assert median([60, 10, 45, 20]) == 20 and percentile([60, 10, 45, 20], 90) == 60
    assert percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90) == 90
    assert percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 25) == 30  # rank ⌈2.5⌉ = 3
    assert median([5, 1, 4, 2, 3]) == 3 and percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90) == 10
    assert median([7]) == percentile([7], 90) == 7 and median([]) is None
    with pytest.raises(ValueError):
        percentile([1], 0)


def test_period_of_local_days_spans_local_midnights_across_a_daylight_saving_change() -> None:
    """Berlin moves to summer time on 2026-03-29: that day is 23 hours long, its midnight after is 22:00Z."""
    berlin = ZoneInfo("Europe/Berlin")
    span = ReportPeriod.for_dates(date(2026, 3, 29), date(2026, 3, 29), berlin)
    assert (span.start, span.end) == (datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 22, tzinfo=UTC))
    assert span.days() == [date(2026, 3, 29)]
    with pytest.raises(ValueError):
        ReportPeriod.for_dates(date(2026, 3, 2), date(2026, 3, 1), berlin)


def test_totals_first_response_median_p90_rate_and_breaches_equal_the_hand_computed_values(engine) -> None:  # type: ignore[no-untyped-def]
    """In the period: first clocks R1 20m ok, R2 60m ok (answered at its due time), R3 45m breach, R4 10m ok,
    R6 unanswered breach, R7 closed before due (no verdict) → rate = 3 in target / 5 with a verdict = 0.6.
    FRT samples [10, 20, 45, 60]: median rank ⌈2⌉ = 20m, p90 rank ⌈3.6⌉ = 4 → 60m. Next clocks answered:
    R8 40m, R9 40m, R10 5m → median rank 2 of [5, 40, 40] = 40m. Breaches R3, R5, R6, R8 = 4 (R11, R12 lie
    outside the period). Messages in: a1 a3 a4 b1 b3 c1 c3 = 7, out: a2 b2 c2 = 3. Resolution [5, 60, 260]
    → median 60m."""
    total = report(engine, GroupBy.PLATFORM).total
    assert (total.volume_in, total.replies_out) == (7, 3)
    assert (total.first_responses, total.answered_in_target, total.response_rate) == (5, 3, 0.6)
    assert (total.first_response_median, total.first_response_p90) == (20 * MIN, 60 * MIN)
    assert total.next_response_median == 40 * MIN
    assert total.breaches == 4
    assert total.resolution_median == 60 * MIN


def test_grouped_per_platform(engine) -> None:  # type: ignore[no-untyped-def]
    """mastodon (brand + shop): firsts R1 ok, R3 breach, R4 ok (R7 no verdict) → 2/3; FRT [10, 20, 45] →
    median 20, p90 rank ⌈2.7⌉ = 45; NRT [40, 40] → 40; breaches R3 R5 R8 = 3; in 5 out 2; resolution
    [5, 60] → 5. matrix (room): R2 ok, R6 breach → 1/2; FRT [60]; NRT [5]; breaches 1; in 2 out 1;
    resolution [260]."""
    by = groups(report(engine, GroupBy.PLATFORM))
    assert list(by) == ["mastodon", "matrix"]
    mastodon, matrix = by["mastodon"], by["matrix"]
    assert (mastodon.volume_in, mastodon.replies_out, matrix.volume_in, matrix.replies_out) == (5, 2, 2, 1)
    assert (mastodon.first_responses, mastodon.answered_in_target) == (3, 2)
    assert (mastodon.first_response_median, mastodon.first_response_p90) == (20 * MIN, 45 * MIN)
    assert (mastodon.next_response_median, mastodon.breaches, mastodon.resolution_median) == (40 * MIN, 3, 5 * MIN)
    assert (matrix.first_responses, matrix.answered_in_target, matrix.response_rate) == (2, 1, 0.5)
    assert (matrix.first_response_median, matrix.first_response_p90) == (60 * MIN, 60 * MIN)
    assert (matrix.next_response_median, matrix.breaches, matrix.resolution_median) == (5 * MIN, 1, 260 * MIN)


def test_grouped_per_account_keeps_each_records_own_policy_verdict(engine) -> None:  # type: ignore[no-untyped-def]
    """R8 (brand) and R9 (shop) were both answered in 40 minutes; R8 was measured under "Old strict"
    (30 min target, due 12:30) and is a breach, R9 under "Relaxed" (60 min) is not — even though the
    policy in force now ("Now", 1 min) would breach both. brand: firsts R1 ok, R3 breach → 1/2, FRT
    [20, 45] → median 20, p90 45; breaches R3 R5 R8 = 3. shop: R4 ok → 1/1, FRT [10]; breaches 0."""
    by = groups(report(engine, GroupBy.ACCOUNT))
    assert list(by) == ["brand", "room", "shop"]
    brand, shop = by["brand"], by["shop"]
    assert brand.next_response_median == shop.next_response_median == 40 * MIN
    assert (brand.breaches, shop.breaches) == (3, 0)
    assert (brand.first_responses, brand.answered_in_target, shop.first_responses, shop.answered_in_target) == (
        2, 1, 1, 1
    )  # fmt: skip
    assert (brand.first_response_median, brand.first_response_p90, shop.first_response_median) == (
        20 * MIN, 45 * MIN, 10 * MIN
    )  # fmt: skip
    assert (brand.volume_in, brand.replies_out, shop.volume_in, shop.replies_out) == (3, 1, 2, 1)


def test_grouped_per_department_with_unset_as_dash(engine) -> None:  # type: ignore[no-untyped-def]
    """Support = brand, Sales = shop, "—" = room (no department), listed last."""
    by = groups(report(engine, GroupBy.DEPARTMENT))
    assert list(by) == ["Sales", "Support", "—"]
    assert (by["Support"].breaches, by["Sales"].breaches, by["—"].breaches) == (3, 0, 1)
    assert (by["Support"].volume_in, by["Sales"].volume_in, by["—"].volume_in) == (3, 2, 2)


def test_grouped_per_tag_counts_a_conversation_in_each_of_its_tags(engine) -> None:  # type: ignore[no-untyped-def]
    """refund = a-1 + c-1: firsts R1, R4 ok → 2/2, FRT [10, 20] → median 10, p90 20; NRT [40, 40]; breach
    R8; in a1 c1 = 2, out a2 c2 = 2; resolution [60]. vip = a-1: 1/1, FRT 20, breach R8; in 1 out 1.
    — = the rest: firsts R2 ok, R3 breach, R6 breach → 1/3, FRT [45, 60] → 45 / 60; breaches R3 R5 R6 = 3;
    in a3 a4 b1 b3 c3 = 5, out b2 = 1; resolution [5, 260] → 5. The total still counts a-1 once."""
    result = report(engine, GroupBy.TAG)
    by = groups(result)
    assert list(by) == ["refund", "vip", "—"]
    refund, vip, none = by["refund"], by["vip"], by["—"]
    assert (refund.first_responses, refund.answered_in_target, refund.breaches) == (2, 2, 1)
    assert (refund.first_response_median, refund.first_response_p90, refund.next_response_median) == (
        10 * MIN, 20 * MIN, 40 * MIN
    )  # fmt: skip
    assert (refund.volume_in, refund.replies_out, refund.resolution_median) == (2, 2, 60 * MIN)
    assert (vip.first_responses, vip.answered_in_target, vip.first_response_median, vip.breaches) == (1, 1, 20 * MIN, 1)
    assert (vip.volume_in, vip.replies_out) == (1, 1)
    assert (none.first_responses, none.answered_in_target, none.breaches) == (3, 1, 3)
    assert (none.first_response_median, none.first_response_p90) == (45 * MIN, 60 * MIN)
    assert (none.volume_in, none.replies_out, none.resolution_median) == (5, 1, 5 * MIN)
    assert (result.total.volume_in, result.total.breaches) == (7, 4)


def test_heatmap_counts_inbound_messages_by_local_weekday_and_hour(engine) -> None:  # type: ignore[no-untyped-def]
    """Berlin local: Mon 0h a4; Mon 10h a1 b1; Tue 15h a3 c1; Tue 21h c3; Wed 23h b3. a5 (Sunday local) and
    b4 (Thursday local) fall outside; replies are not counted."""
    heat = report(engine, GroupBy.PLATFORM).heatmap
    cells = {(w, h): n for w, row in enumerate(heat) for h, n in enumerate(row) if n}
    assert cells == {(0, 0): 1, (0, 10): 2, (1, 15): 2, (1, 21): 1, (2, 23): 1}
    assert len(heat) == 7 and all(len(row) == 24 for row in heat)


def test_daily_trend_in_local_days(engine) -> None:  # type: ignore[no-untyped-def]
    """Mon 03-02: in a4 a1 b1 = 3, out a2 b2 = 2, FRT of R1 20 and R2 60 → median 20, breaches R5 R8 = 2.
    Tue 03-03: in a3 c1 c3 = 3, out c2 = 1, FRT R3 45, R4 10 → median 10, breach R3. Wed 03-04: in b3 = 1,
    no reply, no answered first clock, breach R6."""
    days = [(d.day, d.volume_in, d.replies_out, d.first_response_median, d.breaches) for d in report(
        engine, GroupBy.ACCOUNT).days]  # fmt: skip
    assert days == [
        (date(2026, 3, 2), 3, 2, 20 * MIN, 2),
        (date(2026, 3, 3), 3, 1, 10 * MIN, 1),
        (date(2026, 3, 4), 1, 0, None, 1),
    ]


def test_a_running_clock_inside_its_target_has_no_verdict_until_it_is_due() -> None:
    """Before the due time a waiting first clock counts on neither side of the rate; after it, as a breach."""
    from app.domain.reports import ReportBuilder

    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    record = ResponseRecord(1, 1, ResponseKind.FIRST, start, due_at=start + timedelta(hours=1))
    span = ReportPeriod(start, start + timedelta(days=1), UTC)
    for now, expected in ((start + 30 * MIN, (0, 0, None)), (start + 90 * MIN, (1, 1, 0.0))):
        builder = ReportBuilder(span, GroupBy.ACCOUNT, now)
        builder.add_record(record, ["x"])
        total = builder.build().total
        assert (total.first_responses, total.breaches, total.response_rate) == expected


def test_csv_export_round_trips_every_table(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each table written as CSV reads back equal, cell for cell; the JSON and CSV carry the same numbers."""
    result = report(engine, GroupBy.TAG)
    tables = report_tables(result)
    written = write_csv_tables(tmp_path / "out", tables)
    assert sorted(p.name for p in written) == ["heatmap.csv", "summary.csv", "trend.csv"]
    for name, rows in tables.items():
        assert read_csv_table(tmp_path / "out" / f"{name}.csv") == rows
    summary = read_csv_table(tmp_path / "out" / "summary.csv")
    header, total = summary[0], summary[-1]
    assert total[header.index("breaches")] == "4"
    assert float(total[header.index("first_response_p90_s")]) == report_json(result)["total"]["first_response_p90_s"]
    assert [row[0] for row in summary[1:]] == ["refund", "vip", "—", "Total"]


def test_reading_a_csv_that_is_not_a_report_table_fails_clearly(tmp_path: Path) -> None:
    """Bad input: a ragged CSV (rows of differing widths) is refused with a message naming the file."""
    from app.errors import KnownError

    bad = tmp_path / "summary.csv"
    bad.write_text("group,volume_in\nbrand,3,extra\n", encoding="utf-8")
    with pytest.raises(KnownError, match="summary.csv"):
        read_csv_table(bad)
