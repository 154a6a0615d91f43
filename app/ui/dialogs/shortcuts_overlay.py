"""A translucent overlay over the main window listing every keyboard shortcut; `?` or Esc closes it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QHideEvent, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget
from shiboken6 import isValid

Section = tuple[str, Sequence[tuple[str, str]]]


class ShortcutsOverlay(QWidget):
    """Covers its parent; the card in the middle lists sections of (description, keys)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsOverlay")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Keyboard shortcuts")
        self._return_focus: QWidget | None = None
        self.card = QFrame(self)
        self.card.setObjectName("shortcutsCard")
        self.card.setStyleSheet(
            "QFrame#shortcutsCard { background: #FFFFFF; border-radius: 12px; }"
            "QLabel { background: transparent; }"
            "QLabel[role='section'] { color: #3B5BDB; font-weight: 600; padding-top: 8px; }"
            "QLabel[role='keys'] { color: #1F2430; background: #F1F3F5; border: 1px solid #DEE2E6;"
            " border-radius: 4px; padding: 1px 6px; font-family: monospace; }"
            "QLabel[role='what'] { color: #495057; }"
        )
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(28)
        self._grid.setVerticalSpacing(5)
        title = QLabel("Keyboard shortcuts")
        title.setStyleSheet("font-size: 15pt; font-weight: 600; color: #1F2430;")
        hint = QLabel("Press ? or Esc to close")
        hint.setStyleSheet("color: #868E96;")
        layout = QVBoxLayout(self.card)
        layout.setContentsMargins(28, 22, 28, 22)
        layout.addWidget(title)
        layout.addLayout(self._grid)
        layout.addSpacing(6)
        layout.addWidget(hint, 0, Qt.AlignmentFlag.AlignRight)
        parent.installEventFilter(self)
        self.hide()

    def set_sections(self, sections: Sequence[Section]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        # Two columns of sections, filled top to bottom, so the card stays wider than tall.
        half = (sum(len(entries) + 1 for _, entries in sections) + 1) // 2
        column, row, used = 0, 0, 0
        for name, entries in sections:
            if column == 0 and used >= half:
                column, row = 1, 0
            heading = QLabel(name)
            heading.setProperty("role", "section")
            self._grid.addWidget(heading, row, column * 2, 1, 2)
            row += 1
            for what, keys in entries:
                key_label = QLabel(keys)
                key_label.setProperty("role", "keys")
                what_label = QLabel(what)
                what_label.setProperty("role", "what")
                self._grid.addWidget(key_label, row, column * 2, Qt.AlignmentFlag.AlignRight)
                self._grid.addWidget(what_label, row, column * 2 + 1)
                row += 1
            used += len(entries) + 1

    def listed_texts(self) -> list[str]:
        found = []
        for index in range(self._grid.count()):
            item = self._grid.itemAt(index)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QLabel):
                found.append(widget.text())
        return found

    def open_over_parent(self) -> None:
        focused = QApplication.focusWidget()
        self._return_focus = focused if focused is not None and focused is not self else None
        self._fit_parent()
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _fit_parent(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.card.adjustSize()
        hint = self.card.sizeHint()
        self.card.setGeometry(
            max(0, (self.width() - hint.width()) // 2),
            max(0, (self.height() - hint.height()) // 2),
            min(hint.width(), self.width()),
            min(hint.height(), self.height()),
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize and self.isVisible():
            self._fit_parent()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 24, 36, 150))

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            event.accept()  # Esc closes the overlay; the window's Esc (back to the list) waits its turn
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Question) or event.text() == "?":
            self.hide()
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self.card.geometry().contains(event.position().toPoint()):
            self.hide()
        event.accept()

    def hideEvent(self, event: QHideEvent) -> None:
        target = self._return_focus
        self._return_focus = None
        if target is not None and isValid(target) and self.hasFocus():
            target.setFocus(Qt.FocusReason.OtherFocusReason)
        super().hideEvent(event)
