"""Paints the playbook list: section headers, and answers with title, chips, shortcut and the start of the text."""

from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.ui import theme

BODY_ROLE = int(Qt.ItemDataRole.UserRole) + 1
CATEGORY_ROLE = int(Qt.ItemDataRole.UserRole) + 2
SHORTCUT_ROLE = int(Qt.ItemDataRole.UserRole) + 3
HEADER_ROLE = int(Qt.ItemDataRole.UserRole) + 4
ENTRY_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 5
LANGUAGE_ROLE = int(Qt.ItemDataRole.UserRole) + 6
SUGGESTED_ROLE = int(Qt.ItemDataRole.UserRole) + 7
ROW_HEIGHT = 54
HEADER_HEIGHT = 30
_TEMPLATE_CODE = re.compile(r"\{\{\s*(.*?)\s*\}\}|\{%.*?%\}", re.S)


def plain_start(body: str) -> str:
    """The body as one line, `{{ contact.name }}` shown as ‹contact.name›, tags of logic left out."""

    def show(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression is None:
            return ""
        return "‹" + expression.split("|")[0].strip() + "›"

    return " ".join(_TEMPLATE_CODE.sub(show, body).split())


class PlaybookDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(200, HEADER_HEIGHT if index.data(HEADER_ROLE) else ROW_HEIGHT)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if index.data(HEADER_ROLE):
            self._paint_header(painter, option, index)
        else:
            self._paint_entry(painter, option, index)
        painter.restore()

    def _paint_header(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        rect = QRect(option.rect)
        font = QFont(option.font)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.82))
        font.setWeight(QFont.Weight.DemiBold)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 104)
        painter.setFont(font)
        painter.setPen(theme.BRAND if index.data(SUGGESTED_ROLE) else theme.TEXT_FAINT)
        text = str(index.data() or "").upper()
        painter.drawText(
            rect.adjusted(12, 10, -12, -2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
        )

    def _paint_entry(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        rect = QRect(option.rect)
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, theme.BRAND_TINT)
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, theme.BRAND_SOFT)
        if index.data(SUGGESTED_ROLE):
            painter.fillRect(QRect(rect.left(), rect.top() + 6, 3, rect.height() - 12), theme.BRAND)
        painter.setPen(QPen(theme.LINE, 1))
        painter.drawLine(rect.left() + 12, rect.bottom(), rect.right() - 12, rect.bottom())

        base = QFont(option.font)
        left, right = rect.left() + 12, rect.right() - 12
        chip_font = QFont(base)
        chip_font.setPointSizeF(max(6.0, base.pointSizeF() * 0.8))
        chips = [str(index.data(LANGUAGE_ROLE) or "").upper(), str(index.data(CATEGORY_ROLE) or "").split("/")[-1]]
        for text in (chip for chip in chips if chip):
            width = QFontMetrics(chip_font).horizontalAdvance(text) + 12
            if right - width < left + 60:
                break
            chip = QRect(right - width, rect.top() + 9, width, 16)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#F1F3F5"))
            painter.drawRoundedRect(chip, 4, 4)
            painter.setFont(chip_font)
            painter.setPen(theme.TEXT_MUTED)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
            right -= width + 4

        title_font = QFont(base)
        title_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(title_font)
        painter.setPen(theme.TEXT)
        title_room = max(10, right - left - 4)
        title = QFontMetrics(title_font).elidedText(str(index.data() or ""), Qt.TextElideMode.ElideRight, title_room)
        painter.drawText(QRect(left, rect.top() + 8, title_room, 18), Qt.AlignmentFlag.AlignVCenter, title)

        second = QRect(left, rect.top() + 29, rect.right() - 12 - left, 18)
        shortcut = str(index.data(SHORTCUT_ROLE) or "")
        if shortcut:
            mono = QFont(base)
            mono.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"])
            mono.setPointSizeF(max(6.0, base.pointSizeF() * 0.9))
            painter.setFont(mono)
            painter.setPen(theme.BRAND)
            width = QFontMetrics(mono).horizontalAdvance(shortcut)
            painter.drawText(
                QRect(second.left(), second.top(), width, second.height()), Qt.AlignmentFlag.AlignVCenter, shortcut
            )
            second.setLeft(second.left() + width + 8)
        painter.setFont(base)
        painter.setPen(theme.TEXT_MUTED)
        body = plain_start(str(index.data(BODY_ROLE) or ""))
        painter.drawText(
            second,
            Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(base).elidedText(body, Qt.TextElideMode.ElideRight, max(0, second.width())),
        )
