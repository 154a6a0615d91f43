"""The business-hours editor of a response policy: a time zone, opening hours per weekday, and holidays."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import available_timezones

from PySide6.QtCore import QDate, Qt, QTime, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.timers import BusinessCalendar

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_OPEN, DEFAULT_CLOSE = time(9), time(17)


class CalendarEditor(QWidget):
    """Signals: changed() whenever the user edits the zone, the hours or the holidays."""

    changed = Signal()

    def __init__(self, default_zone: str = "UTC", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        self.zone = QComboBox()
        self.zone.setObjectName("calendarZone")
        self.zone.setEditable(True)
        self.zone.addItems(sorted(available_timezones()))
        self.zone.setCurrentText(default_zone)
        grid = QGridLayout()
        grid.addWidget(QLabel("Time zone"), 0, 0)
        grid.addWidget(self.zone, 0, 1, 1, 4)
        self.days: list[tuple[QCheckBox, QTimeEdit, QTimeEdit]] = []
        for day, name in enumerate(WEEKDAYS):
            open_box = QCheckBox(name)
            open_box.setObjectName(f"day{day}")
            opens, closes = QTimeEdit(QTime(9, 0)), QTimeEdit(QTime(17, 0))
            for edit, what in ((opens, "opens"), (closes, "closes")):
                edit.setDisplayFormat("HH:mm")
                edit.setMaximumWidth(90)
                edit.setObjectName(f"day{day}{what.title()}")
                edit.timeChanged.connect(self._on_edited)
            open_box.toggled.connect(self._on_edited)
            grid.addWidget(open_box, day + 1, 0)
            grid.addWidget(opens, day + 1, 1)
            grid.addWidget(QLabel("to"), day + 1, 2)
            grid.addWidget(closes, day + 1, 3)
            self.days.append((open_box, opens, closes))
        self.holidays = QListWidget()
        self.holidays.setObjectName("holidays")
        self.holidays.setMaximumHeight(90)
        self.holiday_date = QDateEdit(QDate.currentDate())
        self.holiday_date.setObjectName("holidayDate")
        self.holiday_date.setCalendarPopup(True)
        self.holiday_date.setDisplayFormat("yyyy-MM-dd")
        add, remove = QPushButton("Add holiday"), QPushButton("Remove")
        add.setObjectName("addHoliday")
        for button in (add, remove):
            button.setAutoDefault(False)
        holiday_row = QHBoxLayout()
        holiday_row.addWidget(self.holiday_date)
        holiday_row.addWidget(add)
        holiday_row.addWidget(remove)
        grid.setColumnStretch(4, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addWidget(QLabel("Holidays (closed all day, local dates)"))
        layout.addWidget(self.holidays)
        layout.addLayout(holiday_row)
        add.clicked.connect(self._on_add_clicked)
        remove.clicked.connect(self._on_remove_clicked)
        self.zone.currentTextChanged.connect(self._on_edited)

    def show_calendar(self, calendar: BusinessCalendar | None) -> None:
        """Fill the editor; with no calendar, office hours Monday to Friday as a starting point."""
        self._loading = True
        try:
            if calendar is not None:
                self.zone.setCurrentText(calendar.time_zone)
            for day, (open_box, opens, closes) in enumerate(self.days):
                spans = calendar.hours.get(day, ()) if calendar is not None else ()
                open_box.setChecked(bool(spans) if calendar is not None else day < 5)
                first = spans[0] if spans else (DEFAULT_OPEN, DEFAULT_CLOSE)
                opens.setTime(QTime(first[0].hour, first[0].minute))
                closes.setTime(QTime(first[1].hour, first[1].minute))
            self.holidays.clear()
            for holiday in sorted(calendar.holidays) if calendar is not None else ():
                self.holidays.addItem(holiday.isoformat())
        finally:
            self._loading = False

    def calendar(self) -> BusinessCalendar:
        hours: dict[int, tuple[tuple[time, time], ...]] = {}
        for day, (open_box, opens, closes) in enumerate(self.days):
            if open_box.isChecked():
                start, end = opens.time(), closes.time()
                hours[day] = ((time(start.hour(), start.minute()), time(end.hour(), end.minute())),)
        holidays = frozenset(date.fromisoformat(self.holidays.item(i).text()) for i in range(self.holidays.count()))
        return BusinessCalendar(self.zone.currentText().strip(), hours, holidays)

    @Slot()
    def _on_add_clicked(self) -> None:
        text = self.holiday_date.date().toString(Qt.DateFormat.ISODate)
        existing = {self.holidays.item(i).text() for i in range(self.holidays.count())}
        if text not in existing:
            self.holidays.addItem(text)
            self.holidays.sortItems()
            self._on_edited()

    @Slot()
    def _on_remove_clicked(self) -> None:
        row = self.holidays.currentRow()
        if row >= 0:
            self.holidays.takeItem(row)
            self._on_edited()

    @Slot()
    def _on_edited(self, *_args: object) -> None:
        if not self._loading:
            self.changed.emit()
