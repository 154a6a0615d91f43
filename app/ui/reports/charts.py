"""Two small painted charts for the Reports window: the weekly heatmap and the daily trend (no chart library)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from app.domain.reports import WEEKDAYS, DayStats
from app.ui.theme import BRAND, DANGER, LINE, SUCCESS, SURFACE, TEXT_FAINT, TEXT_MUTED

EMPTY_CELL = QColor("#F1F3F8")


def _mix(low: QColor, high: QColor, share: float) -> QColor:
    share = max(0.0, min(1.0, share))
    return QColor(
        round(low.red() + (high.red() - low.red()) * share),
        round(low.green() + (high.green() - low.green()) * share),
        round(low.blue() + (high.blue() - low.blue()) * share),
    )


class HeatmapChart(QWidget):
    """Inbound messages per local weekday (rows, Monday first) and hour (columns); darker is busier."""

    LEFT, TOP, BOTTOM = 40, 20, 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Heatmap of incoming messages by weekday and hour")
        self.counts: tuple[tuple[int, ...], ...] = tuple((0,) * 24 for _ in WEEKDAYS)
        self.setMinimumSize(360, 170)

    def sizeHint(self) -> QSize:
        return QSize(560, 220)

    def set_counts(self, counts: Sequence[Sequence[int]]) -> None:
        self.counts = tuple(tuple(row) for row in counts)
        self.update()

    def _cell(self, weekday: int, hour: int) -> QRectF:
        width = (self.width() - self.LEFT - 4) / 24
        height = (self.height() - self.TOP - self.BOTTOM) / 7
        return QRectF(self.LEFT + hour * width, self.TOP + weekday * height, width, height)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), SURFACE)
        busiest = max((n for row in self.counts for n in row), default=0)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        painter.setFont(small)
        painter.setPen(TEXT_MUTED)
        for hour in range(0, 24, 3):
            cell = self._cell(0, hour)
            painter.drawText(QRectF(cell.left(), 0, cell.width() * 3, self.TOP - 2), Qt.AlignmentFlag.AlignLeft
                             | Qt.AlignmentFlag.AlignBottom, f"{hour:02d}")  # fmt: skip
        for weekday, name in enumerate(WEEKDAYS):
            cell = self._cell(weekday, 0)
            painter.setPen(TEXT_MUTED)
            painter.drawText(QRectF(0, cell.top(), self.LEFT - 6, cell.height()), Qt.AlignmentFlag.AlignRight
                             | Qt.AlignmentFlag.AlignVCenter, name)  # fmt: skip
            for hour in range(24):
                count = self.counts[weekday][hour]
                colour = _mix(EMPTY_CELL, BRAND, count / busiest) if count and busiest else EMPTY_CELL
                painter.fillRect(self._cell(weekday, hour).adjusted(1, 1, -1, -1), colour)
                rect = self._cell(weekday, hour)
                if count and rect.width() >= 18 and rect.height() >= 14:
                    painter.setPen(SURFACE if count / busiest > 0.55 else TEXT_MUTED)
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
        painter.end()

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        for weekday in range(7):
            for hour in range(24):
                if self._cell(weekday, hour).contains(QPointF(x, y)):
                    return weekday, hour
        return None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            found = self.cell_at(event.position().x(), event.position().y())
            if found is None:
                QToolTip.hideText()
            else:
                weekday, hour = found
                count = self.counts[weekday][hour]
                QToolTip.showText(
                    event.globalPos(), f"{WEEKDAYS[weekday]} {hour:02d}:00–{hour + 1:02d}:00: {count} incoming", self
                )
            return True
        return super().event(event)


class TrendChart(QWidget):
    """Per day: messages in and replies out as bars, breaches as a red line with points."""

    LEFT, RIGHT, TOP, BOTTOM = 36, 10, 24, 22
    SERIES = (("In", BRAND), ("Replies", SUCCESS), ("Breaches", DANGER))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Daily trend of incoming messages, replies and breaches")
        self.days: tuple[DayStats, ...] = ()
        self.setMinimumSize(360, 170)

    def sizeHint(self) -> QSize:
        return QSize(560, 220)

    def set_days(self, days: Sequence[DayStats]) -> None:
        self.days = tuple(days)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), SURFACE)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        painter.setFont(small)
        plot = QRectF(
            self.LEFT, self.TOP, self.width() - self.LEFT - self.RIGHT, self.height() - self.TOP - self.BOTTOM
        )
        x = float(self.LEFT)
        for name, colour in self.SERIES:  # legend
            painter.fillRect(QRectF(x, 7, 10, 10), colour)
            painter.setPen(TEXT_MUTED)
            painter.drawText(QRectF(x + 14, 2, 80, 20), Qt.AlignmentFlag.AlignVCenter, name)
            x += 24 + painter.fontMetrics().horizontalAdvance(name)
        top = max((max(d.volume_in, d.replies_out, d.breaches) for d in self.days), default=0)
        step, steps = axis_steps(top)
        scale = step * steps
        for index in range(steps + 1):  # grid and its labels
            value = step * index
            y = plot.bottom() - plot.height() * index / steps
            painter.setPen(QPen(LINE, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(TEXT_FAINT)
            label = f"{value:g}"
            painter.drawText(QRectF(0, y - 8, self.LEFT - 6, 16), Qt.AlignmentFlag.AlignRight
                             | Qt.AlignmentFlag.AlignVCenter, label)  # fmt: skip
        if not self.days:
            painter.end()
            return
        slot = plot.width() / len(self.days)
        bar = max(1.0, min(14.0, slot * 0.36))
        label_every = max(1, round(60 / slot)) if slot < 60 else 1
        points: list[QPointF] = []
        for index, day in enumerate(self.days):
            centre = plot.left() + slot * (index + 0.5)
            for offset, value, colour in ((-bar, day.volume_in, BRAND), (0.0, day.replies_out, SUCCESS)):
                height = plot.height() * value / scale
                painter.fillRect(QRectF(centre + offset, plot.bottom() - height, bar, height), colour)
            points.append(QPointF(centre, plot.bottom() - plot.height() * day.breaches / scale))
            if index % label_every == 0:
                painter.setPen(TEXT_MUTED)
                painter.drawText(QRectF(centre - 30, plot.bottom() + 3, 60, self.BOTTOM - 3),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                                 day.day.strftime("%b %d"))  # fmt: skip
        painter.setPen(QPen(DANGER, 2))
        painter.drawPolyline(points)
        painter.setBrush(DANGER)
        for point in points:
            painter.drawEllipse(point, 2.5, 2.5)
        painter.end()


def axis_steps(value: float) -> tuple[float, int]:
    """A round grid step (1, 2 or 5 times a power of ten) and how many steps (at most 5) reach `value`."""
    if value <= 5:  # counts: whole numbers on the axis
        return 1.0, max(1, math.ceil(value))
    magnitude = 10 ** math.floor(math.log10(value / 5))
    for factor in (1, 2, 5, 10):
        step = factor * magnitude
        if value / step <= 5:
            return float(step), max(1, math.ceil(value / step))
    return float(10 * magnitude), 5
