"""The Reports window: a period and a grouping in, the summary table, heatmap and daily trend out.

The report is read and computed by a worker job (app.store.reports over a read transaction); the window
only shows the frozen Report it gets back. A newer request cancels the older one, whose result is dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.domain.reports import GroupBy, GroupStats, Report, ReportPeriod, report_tables
from app.errors import KnownError
from app.store.report_csv import write_csv_tables
from app.store.reports import ReportCancelled, build_report
from app.ui.dialogs.job_runner import JobRunner, error_text
from app.ui.reports.charts import HeatmapChart, TrendChart
from app.ui.timefmt import display_zone

DEFAULT_DAYS = 30
SUMMARY_COLUMNS = (
    "Group", "In", "Replies", "Response rate", "First response (median)", "First response (p90)",
    "Next response (median)", "Resolution (median)", "Breaches",
)  # fmt: skip
COLUMN_HINTS = {
    "In": "Customer messages received in the period",
    "Replies": "Replies sent in the period",
    "Response rate": "First responses answered by their due time, of those with a verdict (answered, or overdue)",
    "First response (median)": "Answered − started − time pending; nearest-rank median of first responses",
    "First response (p90)": "Nine in ten first responses were at least this fast (nearest rank)",
    "Next response (median)": "The same for the replies after a customer wrote again",
    "Resolution (median)": "Opened → closed, for conversations closed in the period",
    "Breaches": "Clocks started in the period that missed the due time of the policy they started under",
}
TREND_COLUMNS = ("Day", "In", "Replies", "First response (median)", "Breaches")
GROUP_LABELS = {GroupBy.PLATFORM: "Platform", GroupBy.ACCOUNT: "Account", GroupBy.DEPARTMENT: "Department",
                GroupBy.TAG: "Tag"}  # fmt: skip


def duration_text(delta: timedelta | None) -> str:
    """'45s', '20m', '1h 05m', '2d 3h'; '—' when there is nothing to measure."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def rate_text(stats: GroupStats) -> str:
    if stats.response_rate is None:
        return "—"
    return f"{stats.response_rate:.0%} ({stats.answered_in_target}/{stats.first_responses})"


def _choose_folder(parent: QWidget) -> str:
    return QFileDialog.getExistingDirectory(parent, "Export the report's tables as CSV into…")


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


class ReportsWindow(QWidget):
    """Signals: report_shown(object) with the Report now on screen; report_failed(str); exported(list)."""

    report_shown = Signal(object)
    report_failed = Signal(str)
    exported = Signal(list)

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        choose_folder: Callable[[QWidget], str] = _choose_folder,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.ctx = ctx
        self.choose_folder = choose_folder  # the folder dialog; tests hand in a path
        self.report: Report | None = None
        self.setWindowTitle("Reports")
        self.setObjectName("reportsWindow")
        self._cancel: threading.Event | None = None
        self._started = 0.0
        self.jobs = JobRunner(self._update_busy, self._on_job_error)

        today = ctx.clock.now().astimezone(self.zone()).date()
        self.first_day = self._date_edit(today - timedelta(days=DEFAULT_DAYS - 1), "From")
        self.last_day = self._date_edit(today, "To")
        self.group_by = QComboBox()
        self.group_by.setAccessibleName("Group by")
        for group, label in GROUP_LABELS.items():
            self.group_by.addItem(label, group.value)
        self.refresh_button = QPushButton("&Refresh")
        self.export_button = QPushButton("Export &CSV…")
        self.export_button.setEnabled(False)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # a moving bar: the time a report takes is not known up front
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.status = QLabel()
        self.status.setObjectName("reportStatus")
        self.status.setStyleSheet("color: #687083;")

        controls = QHBoxLayout()
        for label, widget in (("From", self.first_day), ("To", self.last_day), ("Group by", self.group_by)):
            caption = QLabel(label)
            caption.setBuddy(widget)
            controls.addWidget(caption)
            controls.addWidget(widget)
        controls.addWidget(self.refresh_button)
        controls.addWidget(self.busy)
        controls.addStretch(1)
        controls.addWidget(self.export_button)

        self.summary = self._table(SUMMARY_COLUMNS, "Summary per group")
        self.trend_table = self._table(TREND_COLUMNS, "Daily trend")
        self.heatmap = HeatmapChart()
        self.trend_chart = TrendChart()
        trend_tabs = QTabWidget()
        trend_tabs.addTab(self.trend_chart, "Daily trend")
        trend_tabs.addTab(self.trend_table, "Per day")
        heat_tabs = QTabWidget()
        heat_tabs.addTab(self.heatmap, "Incoming by weekday and hour")
        charts = QSplitter(Qt.Orientation.Horizontal)
        charts.addWidget(heat_tabs)
        charts.addWidget(trend_tabs)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.summary)
        body.addWidget(charts)
        body.setSizes([220, 330])

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(body, 1)
        layout.addWidget(self.status)
        self.resize(1180, 720)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)  # typing a date changes it once per key: compute once it settles
        self._debounce.timeout.connect(self.refresh)
        self.first_day.dateChanged.connect(self._on_inputs_changed)
        self.last_day.dateChanged.connect(self._on_inputs_changed)
        self.group_by.currentIndexChanged.connect(self._on_inputs_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.export_csv)
        QShortcut(QKeySequence.StandardKey.Refresh, self, self.refresh)
        QShortcut(QKeySequence.StandardKey.Close, self, self.close)

    # --- construction --------------------------------------------------------------------------------
    @staticmethod
    def _date_edit(day: date, name: str) -> QDateEdit:
        edit = QDateEdit(_qdate(day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setAccessibleName(name)
        return edit

    @staticmethod
    def _table(columns: tuple[str, ...], name: str) -> QTableWidget:
        table = QTableWidget(0, len(columns))
        table.setAccessibleName(name)
        table.setHorizontalHeaderLabels(list(columns))
        for index, column in enumerate(columns):
            header_item = table.horizontalHeaderItem(index)
            if header_item is not None and column in COLUMN_HINTS:
                header_item.setToolTip(COLUMN_HINTS[column])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the names take the spare width
        return table

    def zone(self):  # type: ignore[no-untyped-def]
        return display_zone(self.ctx.preferences.display_time_zone)

    # --- computing -----------------------------------------------------------------------------------
    def set_period(self, first: date, last: date) -> None:
        self.first_day.setDate(_qdate(first))
        self.last_day.setDate(_qdate(last))

    def set_group_by(self, group: GroupBy) -> None:
        self.group_by.setCurrentIndex(self.group_by.findData(group.value))

    @Slot()
    def _on_inputs_changed(self) -> None:
        self._debounce.start()

    @Slot()
    def refresh(self) -> None:
        """Compute the report for the chosen period and grouping in the background."""
        self._debounce.stop()
        first, last = _pydate(self.first_day.date()), _pydate(self.last_day.date())
        if last < first:
            self._show_status(f"The period ends ({last}) before it starts ({first}).", error=True)
            return
        if self._cancel is not None:
            self._cancel.set()
        cancel = self._cancel = threading.Event()
        period = ReportPeriod.for_dates(first, last, self.zone())
        group = GroupBy(self.group_by.currentData())
        engine, now = self.ctx.engine, self.ctx.clock.now()
        self._started = time.monotonic()
        self.jobs.run(
            lambda: build_report(engine, period, group, now=now, cancelled=cancel.is_set),
            "computing a report",
            lambda report: self._on_report_built(report, cancel),
            on_failed=lambda error: self._on_report_failed(error, cancel),
        )
        self._show_status("Computing…")

    def _on_report_built(self, report: Report, cancel: threading.Event) -> None:
        if cancel.is_set():
            return  # a newer request replaced this one
        self._cancel = None
        self.show_report(report)
        seconds = time.monotonic() - self._started
        period = report.period
        self._show_status(
            f"{period.first_day:%Y-%m-%d} to {period.last_day:%Y-%m-%d} ({period.zone_name}), computed in "
            f"{seconds:.1f} s. Times exclude pauses while a conversation was pending."
        )
        self.report_shown.emit(report)

    def _on_report_failed(self, error: object, cancel: threading.Event) -> None:
        if cancel.is_set() or isinstance(error, ReportCancelled):
            return
        self._cancel = None
        self._on_job_error(error)

    def _on_job_error(self, error: object) -> None:
        text = f"The report could not be computed: {error_text(error)}"
        self._show_status(text, error=True)
        self.report_failed.emit(text)

    def _update_busy(self) -> None:
        busy = self.jobs.busy
        self.busy.setVisible(busy)
        self.refresh_button.setEnabled(not busy)
        self.export_button.setEnabled(not busy and self.report is not None)

    def _show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {'#C92A2A' if error else '#687083'};")

    # --- showing -------------------------------------------------------------------------------------
    def show_report(self, report: Report) -> None:
        self.report = report
        group_header = self.summary.horizontalHeaderItem(0)
        if group_header is not None:
            group_header.setText(GROUP_LABELS[report.group_by])
        rows = [*report.groups, report.total]
        self.summary.setRowCount(len(rows))
        for row, stats in enumerate(rows):
            cells = (
                stats.group, str(stats.volume_in), str(stats.replies_out), rate_text(stats),
                duration_text(stats.first_response_median), duration_text(stats.first_response_p90),
                duration_text(stats.next_response_median), duration_text(stats.resolution_median), str(stats.breaches),
            )  # fmt: skip
            self._fill_row(self.summary, row, cells, bold=stats is report.total)
        self.trend_table.setRowCount(len(report.days))
        for row, day in enumerate(report.days):
            cells = (
                f"{day.day:%a %Y-%m-%d}", str(day.volume_in), str(day.replies_out),
                duration_text(day.first_response_median), str(day.breaches),
            )  # fmt: skip
            self._fill_row(self.trend_table, row, cells)
        self.heatmap.set_counts(report.heatmap)
        self.trend_chart.set_days(report.days)
        self._update_busy()

    @staticmethod
    def _fill_row(table: QTableWidget, row: int, cells: tuple[str, ...], *, bold: bool = False) -> None:
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if bold:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            table.setItem(row, column, item)

    def cell_text(self, table: QTableWidget, row: int, column: int) -> str:
        item = table.item(row, column)
        return item.text() if item is not None else ""

    # --- export --------------------------------------------------------------------------------------
    @Slot()
    def export_csv(self) -> None:
        """Every table of the report on screen (summary, heatmap, trend) as CSV files in a chosen folder."""
        if self.report is None:
            return
        folder = self.choose_folder(self)
        if not folder:
            return
        try:
            written = write_csv_tables(Path(folder), report_tables(self.report))
        except KnownError as exc:
            self._show_status(exc.user_message().replace("\n", " "), error=True)
            return
        self._show_status(f"Exported {', '.join(p.name for p in written)} to {folder}.")
        self.exported.emit(written)

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        QTimer.singleShot(0, self._first_refresh)

    @Slot()
    def _first_refresh(self) -> None:
        if self.report is None and not self.jobs.busy:
            self.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._cancel is not None:
            self._cancel.set()
        self.jobs.close()
        super().closeEvent(event)
