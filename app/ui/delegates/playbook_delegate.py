"""Paints one playbook answer: its title, its category as a chip, and the start of its text."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.ui import theme

BODY_ROLE = int(Qt.ItemDataRole.UserRole) + 1
CATEGORY_ROLE = int(Qt.ItemDataRole.UserRole) + 2
ROW_HEIGHT = 54


class PlaybookDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(200, ROW_HEIGHT)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = QRect(option.rect)
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, theme.BRAND_TINT)
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, theme.BRAND_SOFT)
        painter.setPen(QPen(theme.LINE, 1))
        painter.drawLine(rect.left() + 12, rect.bottom(), rect.right() - 12, rect.bottom())

        base = QFont(option.font)
        left, width = rect.left() + 12, rect.width() - 24
        category = str(index.data(CATEGORY_ROLE) or "")
        chip_font = QFont(base)
        chip_font.setPointSizeF(max(6.0, base.pointSizeF() * 0.8))
        chip_metrics = QFontMetrics(chip_font)
        chip_width = chip_metrics.horizontalAdvance(category) + 12 if category else 0

        title_font = QFont(base)
        title_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(title_font)
        painter.setPen(theme.TEXT)
        title_room = max(10, width - chip_width - 8)
        title = QFontMetrics(title_font).elidedText(str(index.data() or ""), Qt.TextElideMode.ElideRight, title_room)
        painter.drawText(QRect(left, rect.top() + 8, title_room, 18), Qt.AlignmentFlag.AlignVCenter, title)

        if category:
            chip = QRect(rect.right() - 12 - chip_width, rect.top() + 9, chip_width, 16)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#F1F3F5"))
            painter.drawRoundedRect(chip, 4, 4)
            painter.setFont(chip_font)
            painter.setPen(theme.TEXT_MUTED)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, category)

        painter.setFont(base)
        painter.setPen(theme.TEXT_MUTED)
        body = " ".join(str(index.data(BODY_ROLE) or "").split())
        painter.drawText(
            QRect(left, rect.top() + 29, width, 18),
            Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(base).elidedText(body, Qt.TextElideMode.ElideRight, width),
        )
        painter.restore()
