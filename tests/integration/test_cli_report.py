"""`parley report` on a real profile (a database file in a data folder), run as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from app.context import open_context
from app.domain.reports import GroupBy, ReportPeriod, report_json
from app.paths import ProfilePaths
from app.store.report_csv import read_csv_table
from app.store.reports import build_report
from tests import report_fixture as fx
from tests.reliability.helpers import parley

PERIOD_ARGS = ("--from", "2026-03-02", "--to", "2026-03-04", "--time-zone", "Europe/Berlin")


def make_profile(tmp_path: Path) -> Path:
    data_dir = tmp_path / "profile"
    ctx = open_context(ProfilePaths(data_dir))
    try:
        fx.build(ctx.engine)
    finally:
        ctx.close()
    return data_dir


def test_report_json_gives_the_numbers_of_the_fixture(tmp_path: Path, secret_service: dict[str, str]) -> None:
    """Per account: brand 1 of 2 first responses in target, FRT median 20 min / p90 45 min, 3 breaches; shop
    0 breaches (its 40-minute next response met the 60-minute target it was measured under); the total
    has 7 messages in, 3 replies, rate 0.6, 4 breaches — equal to the in-process report, field by field."""
    data_dir = make_profile(tmp_path)
    done = parley(data_dir, "report", "--json", "--by", "account", *PERIOD_ARGS)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    by = {g["group"]: g for g in printed["groups"]}
    assert (by["brand"]["first_responses"], by["brand"]["answered_in_target"], by["brand"]["breaches"]) == (2, 1, 3)
    assert (by["brand"]["first_response_median_s"], by["brand"]["first_response_p90_s"]) == (1200, 2700)
    assert by["shop"]["breaches"] == 0 and by["shop"]["next_response_median_s"] == 2400
    total = printed["total"]
    assert (total["volume_in"], total["replies_out"], total["response_rate"], total["breaches"]) == (7, 3, 0.6, 4)
    assert [d["date"] for d in printed["days"]] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert (printed["time_zone"], printed["from"], printed["to"]) == ("Europe/Berlin", "2026-03-02", "2026-03-04")

    ctx = open_context(ProfilePaths(data_dir))
    try:
        span = ReportPeriod.for_dates(fx.FIRST_DAY, fx.LAST_DAY, fx.ZONE)
        expected = report_json(build_report(ctx.engine, span, GroupBy.ACCOUNT, now=ctx.clock.now()))
    finally:
        ctx.close()
    assert {k: v for k, v in printed.items() if k != "generated_at"} == {
        k: v for k, v in expected.items() if k != "generated_at"
    }


def test_department_set_on_the_command_line_groups_the_report_and_csv_holds_the_same_rows(
    tmp_path: Path, secret_service: dict[str, str]
) -> None:
    """`parley accounts set room --department Community` moves room's numbers from "—" to Community; the CSV
    summary written by --csv has the JSON's rows."""
    data_dir = make_profile(tmp_path)
    changed = parley(data_dir, "accounts", "set", "room", "--department", "Community")
    assert changed.returncode == 0, changed.stderr
    listed = {a["name"]: a["department"] for a in json.loads(parley(data_dir, "accounts", "list", "--json").stdout)}
    assert listed == {"brand": "Support", "room": "Community", "shop": "Sales"}
    out = tmp_path / "csv"
    done = parley(data_dir, "report", "--json", "--by", "department", "--csv", str(out), *PERIOD_ARGS)
    assert done.returncode == 0, done.stderr
    groups = json.loads(done.stdout)["groups"]
    assert [(g["group"], g["breaches"], g["volume_in"]) for g in groups] == [
        ("Community", 1, 2), ("Sales", 0, 2), ("Support", 3, 3)
    ]  # fmt: skip
    summary = read_csv_table(out / "summary.csv")
    assert [row[0] for row in summary[1:]] == ["Community", "Sales", "Support", "Total"]
    assert [row[summary[0].index("breaches")] for row in summary[1:]] == ["1", "0", "3", "4"]


def test_a_date_that_cannot_be_read_is_refused_with_a_clear_message(
    tmp_path: Path, secret_service: dict[str, str]
) -> None:
    """Bad input: --from 2026-13-40 exits 2 and says which option and how to write it; nothing is printed."""
    data_dir = make_profile(tmp_path)
    done = parley(data_dir, "report", "--json", "--from", "2026-13-40")
    assert done.returncode == 2 and done.stdout == ""
    assert "--from '2026-13-40' is not a date" in done.stderr and "YYYY-MM-DD" in done.stderr
