"""Paints one inbox row: avatar with platform badge, contact, snippet, age, unread dot, timer slot, chips."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QRegion
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.domain.models import ConversationStatus, ConversationSummary, MessageKind
from app.domain.sentiment import is_likely_complaint
from app.domain.timers import TimerState, format_remaining, timer_state
from app.domain.triage import Priority
from app.ui import theme
from app.ui.models.inbox_model import SUMMARY_ROLE
from app.ui.timefmt import compact_age

ROW_HEIGHT = 76
_HOT_FILL = QColor("#FFE3E3")
TIMER_WIDTH = 58  # the age and unread count column
TIMER_PILL = 100  # the response timer, right-aligned on the chips' line
FACES_KEPT = 1_000  # painted rows remembered for the tick: many screens' worth, bounded while scrolling
_TIMED = (ConversationStatus.OPEN, ConversationStatus.SNOOZED)
TIMER_COLOURS = {
    TimerState.NONE: (QColor("#F1F3F5"), theme.TEXT_MUTED),
    TimerState.OK: (QColor("#EBFBEE"), theme.SUCCESS),
    TimerState.WARNING: (theme.WARNING_BG, theme.WARNING_TEXT),
    TimerState.BREACHED: (theme.DANGER, QColor("#FFFFFF")),
}
_KIND_LABELS = {
    MessageKind.DM: "Direct",
    MessageKind.MENTION: "Mention",
    MessageKind.COMMENT: "Comment",
    MessageKind.REPLY: "Reply",
}


class ConversationDelegate(QStyledItemDelegate):
    """Fixed-height rows so the view can lay out 200k rows without asking for each size."""

    def __init__(
        self, now: Callable[[], datetime], zone: Callable[[], tzinfo | None], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._now = now
        self._zone = zone
        # What each conversation's time-dependent parts showed when last painted, so a tick can repaint
        # only the rows whose age or response timer actually changed.
        self.painted_faces: dict[int, tuple[object, ...]] = {}

    @staticmethod
    def time_region(rect: QRect) -> QRegion:
        """Where a row shows what changes with time alone: its age (top right) and its response timer pill."""
        age = QRect(rect.right() - TIMER_WIDTH - 6, rect.top() + 9, TIMER_WIDTH, 18)
        pill = QRect(rect.right() - 6 - TIMER_PILL, rect.top() + 51, TIMER_PILL, 18)
        return QRegion(age).united(QRegion(pill))

    def clock_face(self, summary: ConversationSummary, now: datetime) -> tuple[object, ...]:
        """The parts of a row that change with time alone: its response timer (text, state) and its age."""
        return (*timer_text(summary, now), compact_age(summary.last_message_at, now, self._zone()))

    def now(self) -> datetime:
        return self._now()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(320, ROW_HEIGHT)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = QRect(option.rect)
        state = option.state
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hovered = bool(state & QStyle.StateFlag.State_MouseOver)
        background = theme.BRAND_TINT if selected else (theme.BRAND_SOFT if hovered else theme.SURFACE)
        painter.fillRect(rect, background)
        if selected:
            painter.fillRect(QRect(rect.left(), rect.top(), 3, rect.height()), theme.BRAND)
        painter.setPen(QPen(theme.LINE, 1))
        painter.drawLine(rect.left() + 64, rect.bottom(), rect.right(), rect.bottom())
        summary = index.data(SUMMARY_ROLE)
        if isinstance(summary, ConversationSummary):
            if self._only_time_exposed(option, rect):
                # A tick repaints just the age and the timer (drawing is clipped to them): the rest of the row
                # on screen is unchanged, so laying out its name, snippet and chips again would be wasted.
                self._paint_timer_column(painter, rect, summary, QFont(option.font), summary.unread_count > 0)
            else:
                self._paint_summary(painter, option, rect, summary)
            if len(self.painted_faces) >= FACES_KEPT:
                self.painted_faces.clear()  # scrolling through many rows: the next tick repaints the screen once
            self.painted_faces[summary.id] = self.clock_face(summary, self._now())
        painter.restore()

    def _only_time_exposed(self, option: QStyleOptionViewItem, rect: QRect) -> bool:
        exposed = getattr(option.widget, "exposed_region", None)
        if not isinstance(exposed, QRegion):
            return False
        return exposed.intersected(rect).subtracted(self.time_region(rect)).isEmpty()

    def _paint_summary(
        self, painter: QPainter, option: QStyleOptionViewItem, rect: QRect, summary: ConversationSummary
    ) -> None:
        base_font = QFont(option.font)
        unread = summary.unread_count > 0
        closed = summary.status is ConversationStatus.CLOSED
        name = summary.contact_name or summary.contact_handle or summary.account_name

        if unread:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.BRAND)
            painter.drawEllipse(QRectF(rect.left() + 6, rect.top() + 33, 7, 7))
        self._paint_avatar(painter, QRect(rect.left() + 18, rect.top() + 14, 36, 36), summary, name, base_font)

        left = rect.left() + 64
        right = rect.right() - TIMER_WIDTH - 10
        width = max(10, right - left)

        name_font = QFont(base_font)
        name_font.setWeight(QFont.Weight.Bold if unread else QFont.Weight.DemiBold)
        name_metrics = QFontMetrics(name_font)
        painter.setFont(name_font)
        painter.setPen(theme.TEXT_MUTED if closed else theme.TEXT)
        name_text = name_metrics.elidedText(name, Qt.TextElideMode.ElideRight, width)
        line1 = QRect(left, rect.top() + 9, width, name_metrics.height())
        painter.drawText(line1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name_text)
        used = name_metrics.horizontalAdvance(name_text) + 6
        if summary.contact_handle and summary.contact_handle != name and used < width - 20:
            painter.setFont(base_font)
            painter.setPen(theme.TEXT_FAINT)
            handle = QFontMetrics(base_font).elidedText(
                summary.contact_handle, Qt.TextElideMode.ElideRight, width - used
            )
            painter.drawText(
                QRect(left + used, line1.top(), width - used, line1.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                handle,
            )

        painter.setFont(base_font)
        metrics = QFontMetrics(base_font)
        painter.setPen(theme.TEXT if unread and not closed else theme.TEXT_MUTED)
        snippet = " ".join(summary.snippet.split())
        # The snippet may run under the timer column, except where the unread count sits.
        snippet_width = max(10, rect.right() - 10 - left - (30 if summary.unread_count > 1 else 0))
        line2 = QRect(left, rect.top() + 30, snippet_width, metrics.height())
        painter.drawText(
            line2,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(snippet, Qt.TextElideMode.ElideRight, snippet_width),
        )

        chips_width = rect.right() - 12 - TIMER_PILL - left if timer_text(summary, self._now())[0] else width
        self._paint_chips(painter, QRect(left, rect.top() + 52, max(10, chips_width), 16), summary, base_font)
        self._paint_timer_column(painter, rect, summary, base_font, unread)

    def _paint_avatar(
        self, painter: QPainter, box: QRect, summary: ConversationSummary, name: str, font: QFont
    ) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.avatar_colour(summary.contact_handle or name))
        painter.drawEllipse(box)
        initial_font = QFont(font)
        initial_font.setWeight(QFont.Weight.DemiBold)
        initial_font.setPointSizeF(max(7.0, font.pointSizeF() * 1.1))
        painter.setFont(initial_font)
        painter.setPen(QColor("#FFFFFF"))
        initial = next((ch for ch in name if ch.isalnum()), "?").upper()
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, initial)
        colour, letter = theme.platform_badge(summary.platform)
        badge = QRect(box.right() - 12, box.bottom() - 12, 16, 16)
        painter.setBrush(colour)
        painter.setPen(QPen(theme.SURFACE, 2))
        painter.drawRoundedRect(badge, 5, 5)
        badge_font = QFont(font)
        badge_font.setPointSizeF(max(5.5, font.pointSizeF() * 0.62))
        badge_font.setWeight(QFont.Weight.Bold)
        painter.setFont(badge_font)
        painter.setPen(QColor("#FFFFFF"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, letter)

    def _paint_chips(self, painter: QPainter, line: QRect, summary: ConversationSummary, font: QFont) -> None:
        chip_font = QFont(font)
        chip_font.setPointSizeF(max(6.0, font.pointSizeF() * 0.82))
        painter.setFont(chip_font)
        metrics = QFontMetrics(chip_font)
        chips: list[tuple[str, QColor, QColor]] = []
        # What needs attention first: priority and a likely complaint, then state, tags and owner.
        if summary.priority >= Priority.HIGH:
            chips.append(("Urgent" if summary.priority >= Priority.URGENT else "High", _HOT_FILL, theme.DANGER))
        if is_likely_complaint(summary.sentiment):
            chips.append(("▼ negative", _HOT_FILL, theme.DANGER))
        if summary.status is not ConversationStatus.OPEN:
            chips.append((summary.status.value.title(), QColor("#FFF0E0"), QColor("#A35200")))
        chips.extend((f"#{tag}", theme.BRAND_TINT, theme.BRAND) for tag in summary.tags)
        if summary.assignee:
            chips.append((f"→ {summary.assignee}", QColor("#E6FCF5"), QColor("#0B7285")))
        chips.append((_KIND_LABELS.get(summary.kind, summary.kind.value), QColor("#F1F3F5"), theme.TEXT_MUTED))
        chips.append((summary.account_name, QColor("#F1F3F5"), theme.TEXT_MUTED))
        x = line.left()
        for text, fill, ink in chips:
            room = line.right() - x
            if room < 24:
                break
            label = metrics.elidedText(text, Qt.TextElideMode.ElideRight, min(room - 12, 140))
            chip = QRect(x, line.top(), metrics.horizontalAdvance(label) + 12, line.height())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(chip, 4, 4)
            painter.setPen(ink)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, label)
            x = chip.right() + 6

    def _paint_timer_column(
        self, painter: QPainter, rect: QRect, summary: ConversationSummary, font: QFont, unread: bool
    ) -> None:
        now = self._now()
        column = QRect(rect.right() - TIMER_WIDTH - 6, rect.top(), TIMER_WIDTH, rect.height())
        age_font = QFont(font)
        age_font.setPointSizeF(max(6.0, font.pointSizeF() * 0.9))
        if unread:
            age_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(age_font)
        painter.setPen(theme.BRAND if unread else theme.TEXT_FAINT)
        age = compact_age(summary.last_message_at, now, self._zone())
        painter.drawText(
            QRect(column.left(), rect.top() + 9, column.width(), 18),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            age,
        )
        if summary.unread_count > 1:
            count = str(min(summary.unread_count, 99))
            pill_w = max(18, QFontMetrics(age_font).horizontalAdvance(count) + 10)
            pill = QRect(column.right() - pill_w + 1, rect.top() + 31, pill_w, 16)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.BRAND)
            painter.drawRoundedRect(pill, 8, 8)
            painter.setPen(QColor("#FFFFFF"))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, count)
        self._paint_timer(
            painter, QRect(rect.right() - 6 - TIMER_PILL, rect.top() + 51, TIMER_PILL, 18), summary, now, font
        )

    def _paint_timer(
        self, painter: QPainter, pill: QRect, summary: ConversationSummary, now: datetime, base: QFont
    ) -> None:
        """Time left or overdue on the response clock, coloured by state (snoozed does not hide a breach)."""
        text, state = timer_text(summary, now)
        if not text:
            return
        fill, ink = TIMER_COLOURS[state]
        font = QFont(base)
        font.setPointSizeF(max(6.0, base.pointSizeF() * 0.85))
        font.setWeight(QFont.Weight.DemiBold if state is not TimerState.OK else QFont.Weight.Normal)
        painter.setFont(font)
        label = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, pill.width() - 8)
        width = QFontMetrics(font).horizontalAdvance(label) + 12
        box = QRect(pill.right() - width + 1, pill.top(), width, pill.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(box, 9, 9)
        painter.setPen(ink)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)


def timer_text(summary: ConversationSummary, now: datetime) -> tuple[str, TimerState]:
    """What a row's timer slot says, and in which state: '45m left', '12m overdue', 'paused'."""
    if summary.status is ConversationStatus.PENDING and summary.paused:
        return "paused", TimerState.NONE
    if summary.next_due_at is None or summary.status not in _TIMED:
        return "", TimerState.NONE
    state = timer_state(now, summary.next_warn_at, summary.next_due_at)
    return format_remaining(now, summary.next_due_at).replace(" overdue", " late"), state
