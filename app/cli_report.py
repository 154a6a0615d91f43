"""`parley report [--json] [--from DATE] [--to DATE] [--by GROUP] [--csv DIR]`: the Reports window's numbers."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.context import AppContext
from app.domain.reports import GroupBy, ReportPeriod, report_json, report_tables
from app.errors import KnownError

DEFAULT_DAYS = 30


class ReportArgumentError(KnownError):
    """A date or time zone on the command line that cannot be read."""


def add_parser(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="response times, volumes and breaches over a period",
        description="Volumes, response rate, first/next response times, resolution time and breaches per "
        f"group, with the weekly heatmap and the daily trend. Without dates: the last {DEFAULT_DAYS} days.",
    )
    report.add_argument("--json", action="store_true", help="print the whole report as JSON")
    report.add_argument("--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD (local, included)")
    report.add_argument(
        "--to", dest="last", metavar="DATE", help="last day, YYYY-MM-DD (local, included; default today)"
    )
    report.add_argument(
        "--by", choices=[g.value for g in GroupBy], default=GroupBy.PLATFORM.value, help="group rows by"
    )
    report.add_argument("--csv", metavar="DIR", help="also write summary.csv, heatmap.csv and trend.csv into DIR")
    report.add_argument("--time-zone", metavar="ZONE", help="IANA zone for days and hours (default: the preference)")


def _zone(name: str) -> tzinfo | None:
    if not name:
        return None  # the system's zone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportArgumentError(
            f"Unknown time zone {name!r}.", hint="Use an IANA name such as Europe/Berlin."
        ) from exc


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ReportArgumentError(f"{option} {text!r} is not a date.", hint="Write it as YYYY-MM-DD.") from exc


def period_from_args(ctx: AppContext, args: argparse.Namespace) -> ReportPeriod:
    zone = _zone(args.time_zone if args.time_zone is not None else ctx.preferences.display_time_zone)
    last = _day(args.last, "--to") or ctx.clock.now().astimezone(zone).date()
    first = _day(args.first, "--from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise ReportArgumentError(f"--to {last} is before --from {first}.")
    return ReportPeriod.for_dates(first, last, zone)


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    from app.store.report_csv import write_csv_tables
    from app.store.reports import build_report

    report = build_report(ctx.engine, period_from_args(ctx, args), GroupBy(args.by), now=ctx.clock.now())
    if args.csv:
        written = write_csv_tables(Path(args.csv), report_tables(report))
        print(f"Wrote {', '.join(p.name for p in written)} to {args.csv}.", file=sys.stderr)
    if args.json:
        print(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    else:
        _print_summary(report_tables(report)["summary"])
    return 0


def _print_summary(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
