"""The Reports window on a real profile with known answers (tests/report_fixture.py): opened from the menu,
computed by a worker job, shown in its tables and charts, exported as CSV through the button."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.context import AppContext, open_context
from app.domain.clock import ManualClock
from app.domain.reports import GroupBy
from app.paths import ProfilePaths
from app.store.report_csv import read_csv_table
from app.ui.launch import application, build_main_window
from app.ui.main_window import MainWindow
from app.ui.reports.window import ReportsWindow
from tests import report_fixture as fx
from tests.ui.helpers import show_window


@pytest.fixture
def report_ctx(profile: ProfilePaths, secret_service: dict[str, str]) -> Iterator[AppContext]:
    application()
    ctx = open_context(profile, clock=ManualClock(fx.NOW))
    ctx.preferences.display_time_zone = "Europe/Berlin"
    fx.build(ctx.engine)
    yield ctx
    ctx.close()


@pytest.fixture
def window(qtbot, report_ctx: AppContext) -> MainWindow:  # type: ignore[no-untyped-def]
    return show_window(qtbot, build_main_window(report_ctx))


def open_reports(qtbot, window: MainWindow, *, by_keys: bool = False) -> ReportsWindow:  # type: ignore[no-untyped-def]
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    action = next(a for a in view_menu.actions() if a.text() == "&Reports…")
    assert action.shortcut().toString() == "Ctrl+Alt+R"
    if by_keys:
        modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        qtbot.keyClick(window.inbox_view, Qt.Key.Key_R, modifiers)
    else:
        action.trigger()
    reports = window.reports_window
    assert isinstance(reports, ReportsWindow)
    qtbot.waitExposed(reports)
    return reports


def summary_rows(reports: ReportsWindow) -> dict[str, list[str]]:
    table = reports.summary
    return {
        reports.cell_text(table, row, 0): [reports.cell_text(table, row, c) for c in range(table.columnCount())]
        for row in range(table.rowCount())
    }


def show_fixture_period(qtbot, reports: ReportsWindow, group: GroupBy) -> None:  # type: ignore[no-untyped-def]
    reports.set_period(fx.FIRST_DAY, fx.LAST_DAY)
    reports.set_group_by(group)
    with qtbot.waitSignal(reports.report_shown, timeout=10000) as shown:
        qtbot.mouseClick(reports.refresh_button, Qt.MouseButton.LeftButton)
        # The job's result can only arrive through the event loop: until then the window shows it is busy.
        assert reports.busy.isVisible() and not reports.refresh_button.isEnabled() and reports.jobs.busy
    assert shown.args[0].period.first_day == fx.FIRST_DAY and shown.args[0].group_by is group
    qtbot.waitUntil(lambda: not reports.busy.isVisible())


def test_reports_open_from_the_menu_compute_in_the_background_and_show_the_numbers(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """Per account (hand computation in tests/unit/test_reports.py): brand 50% (1/2), FRT 20m / p90 45m,
    next 40m, 3 breaches; shop 100% (1/1), 0 breaches; Total 60% (3/5), FRT 20m / 1h 00m, 4 breaches.
    The heatmap's Monday 10h cell holds 2 messages; the trend has the three local days."""
    reports = open_reports(qtbot, window, by_keys=True)
    qtbot.waitUntil(lambda: reports.report is not None, timeout=10000)
    assert reports.report is not None  # on opening it computes the last 30 days up to today (Berlin) by itself
    assert (reports.report.period.first_day, reports.report.period.last_day) == (date(2026, 2, 4), date(2026, 3, 5))
    show_fixture_period(qtbot, reports, GroupBy.ACCOUNT)
    rows = summary_rows(reports)
    assert list(rows) == ["brand", "room", "shop", "Total"]
    assert rows["brand"][1:] == ["3", "1", "50% (1/2)", "20m", "45m", "40m", "1h 00m", "3"]
    assert rows["shop"][3] == "100% (1/1)" and rows["shop"][-1] == "0"
    assert rows["Total"][1:] == ["7", "3", "60% (3/5)", "20m", "1h 00m", "40m", "1h 00m", "4"]
    assert reports.summary.horizontalHeaderItem(0).text() == "Account"
    assert reports.heatmap.counts[0][10] == 2 and sum(map(sum, reports.heatmap.counts)) == 7
    assert [reports.cell_text(reports.trend_table, r, 1) for r in range(reports.trend_table.rowCount())] == [
        "3", "3", "1"
    ]  # fmt: skip
    assert len(reports.trend_chart.days) == 3

    with qtbot.waitSignal(reports.report_shown, timeout=10000):
        reports.set_group_by(GroupBy.TAG)  # a new grouping recomputes on its own
    assert list(summary_rows(reports)) == ["refund", "vip", "—", "Total"]


def test_export_button_writes_every_table_as_csv_into_the_chosen_folder(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The folder dialog is replaced by a chosen path (the dialog itself is the platform's); the button
    writes summary, heatmap and trend, and the summary file holds what the table shows."""
    reports = open_reports(qtbot, window)
    target = tmp_path / "export"
    reports.choose_folder = lambda _parent: str(target)
    show_fixture_period(qtbot, reports, GroupBy.PLATFORM)
    assert reports.export_button.isEnabled()
    with qtbot.waitSignal(reports.exported) as done:
        qtbot.mouseClick(reports.export_button, Qt.MouseButton.LeftButton)
    assert sorted(p.name for p in done.args[0]) == ["heatmap.csv", "summary.csv", "trend.csv"]
    summary = read_csv_table(target / "summary.csv")
    assert [(row[0], row[summary[0].index("breaches")]) for row in summary[1:]] == [
        ("mastodon", "3"), ("matrix", "1"), ("Total", "4")
    ]  # fmt: skip
    heatmap = read_csv_table(target / "heatmap.csv")
    assert heatmap[1][0] == "Mon" and heatmap[1][1 + 10] == "2"
    assert "Exported" in reports.status.text()


def test_a_period_that_ends_before_it_starts_is_refused_without_computing(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """Bad input: To before From says so in the status line and starts no job; the last report stays."""
    reports = open_reports(qtbot, window)
    show_fixture_period(qtbot, reports, GroupBy.PLATFORM)
    shown = reports.report
    reports.set_period(fx.LAST_DAY, fx.FIRST_DAY)
    with qtbot.assertNotEmitted(reports.report_shown, wait=400):
        qtbot.mouseClick(reports.refresh_button, Qt.MouseButton.LeftButton)
    assert "ends" in reports.status.text() and not reports.jobs.busy and reports.report is shown


def test_reports_screenshot(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A picture of the window on the fixture (looked at by a person; asserts only that it painted)."""
    reports = open_reports(qtbot, window)
    show_fixture_period(qtbot, reports, GroupBy.ACCOUNT)
    QApplication.processEvents()
    image = reports.grab()
    assert not image.isNull() and image.width() > 600
    image.save(str(tmp_path / "reports_window.png"))


def test_department_chosen_in_the_accounts_dialog_becomes_a_report_group(qtbot, window, report_ctx) -> None:  # type: ignore[no-untyped-def]
    """Accounts › Department… on "room" (the text prompt answered by the test) stores the option; the
    Reports window grouped by department then lists Community instead of "—"."""
    from app.store import accounts

    dialog = window.open_accounts()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3 and not dialog.busy)
    names = [dialog.table.item(row, 0).text() for row in range(3)]
    dialog.table.selectRow(names.index("room"))
    asked: list[tuple[str, str]] = []
    dialog.ask_department = lambda name, current: asked.append((name, current)) or " Community "
    qtbot.mouseClick(dialog.department_button, Qt.MouseButton.LeftButton)
    assert asked == [("room", "")]
    assert accounts.find_account(report_ctx.engine, "room").options["department"] == "Community"
    assert "room: department Community." in dialog.message.text()
    qtbot.waitUntil(lambda: not dialog.busy)
    dialog.reject()

    reports = open_reports(qtbot, window)
    show_fixture_period(qtbot, reports, GroupBy.DEPARTMENT)
    assert list(summary_rows(reports)) == ["Community", "Sales", "Support", "Total"]


def test_trend_axis_uses_round_steps_and_whole_counts() -> None:
    """50 → five steps of 10 (not 12.5); 7 → four steps of 2; 3 → three steps of 1; nothing → one step."""
    from app.ui.reports.charts import axis_steps

    assert [axis_steps(v) for v in (50, 7, 3, 0, 1234)] == [(10.0, 5), (2.0, 4), (1.0, 3), (1.0, 1), (500.0, 3)]
