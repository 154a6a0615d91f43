"""A keyboard picker laid over the window: type to filter, arrows to move, Enter to choose, Esc to cancel.

Used for tags (t), assignees (a), snooze times (s) and priority (!). It is a child widget, not a separate
popup window, so it never fights the window manager for focus and stays where the keys are being typed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.ui import theme

_OWN_KEYS = {
    Qt.Key.Key_Escape,
    Qt.Key.Key_Return,
    Qt.Key.Key_Enter,
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_PageUp,
    Qt.Key.Key_PageDown,
}


@dataclass(frozen=True)
class Choice:
    key: str  # what `chosen` reports
    text: str  # what the list shows
    checked: bool = False  # shown with a tick (a tag the selection already has)


class Picker(QFrame):
    """Signals: chosen(str) with the picked choice's key, or with the typed text when `free_text` allows it;
    cancelled()."""

    chosen = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("picker")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            f"QFrame#picker {{ background: #FFFFFF; border: 1px solid {theme.LINE.name()}; border-radius: 8px; }}"
            f"QLabel#pickerTitle {{ color: {theme.TEXT.name()}; font-weight: 600; }}"
            f"QLabel#pickerHint {{ color: {theme.TEXT_MUTED.name()}; }}"
        )
        self.title = QLabel()
        self.title.setObjectName("pickerTitle")
        self.filter = QLineEdit()
        self.filter.setObjectName("pickerFilter")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("pickerList")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hint = QLabel()
        self.hint.setObjectName("pickerHint")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        self._choices: list[Choice] = []
        self._free_text: Callable[[str], str | None] | None = None
        self._return_focus: QWidget | None = None
        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.filter.installEventFilter(self)
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.hide()

    def open(
        self,
        title: str,
        choices: Sequence[Choice],
        *,
        hint: str = "",
        free_text: Callable[[str], str | None] | None = None,
        anchor: QWidget | None = None,
    ) -> None:
        """Show over `anchor` (or the parent). `free_text(text)` returns an error for typed text it refuses,
        None when the text may be chosen as it is (a new tag name, a snooze length)."""
        focused = QApplication.focusWidget()
        # Back to where the keys were typed; the anchor (the list) when nothing had the focus.
        self._return_focus = focused if focused is not None and focused is not self.filter else anchor
        self.title.setText(title)
        self._choices = list(choices)
        self._free_text = free_text
        self._default_hint = hint
        self.filter.blockSignals(True)
        self.filter.clear()
        self.filter.blockSignals(False)
        self._fill("")
        self._place(anchor)
        self.show()
        self.raise_()
        self.filter.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _place(self, anchor: QWidget | None) -> None:
        parent = self.parentWidget()
        assert parent is not None
        target = anchor if anchor is not None and anchor.isVisible() else parent
        top_left = target.mapTo(parent, target.rect().topLeft()) if target is not parent else target.rect().topLeft()
        width = min(340, max(240, target.width() - 24))
        rows = min(len(self._choices), 9)
        height = 110 + rows * 26
        x = top_left.x() + max(0, (target.width() - width) // 2)
        y = top_left.y() + 48
        self.setGeometry(x, y, width, min(height, max(160, parent.height() - y - 10)))

    def _fill(self, text: str) -> None:
        needle = text.strip().lower()
        self.list.clear()
        for choice in self._choices:
            if needle and needle not in choice.text.lower():
                continue
            item = QListWidgetItem(("✓  " if choice.checked else "    ") + choice.text)
            item.setData(Qt.ItemDataRole.UserRole, choice.key)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        if needle and self._free_text is not None and not self.list.count():
            problem = self._free_text(text.strip())
            self.hint.setText(problem or f"Enter: use “{text.strip()}”")
        else:
            self.hint.setText(self._default_hint)
        self.hint.setVisible(bool(self.hint.text()))

    def _on_filter_text_changed(self, text: str) -> None:
        self._fill(text)

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self._choose(str(item.data(Qt.ItemDataRole.UserRole)))

    def _choose(self, key: str) -> None:
        self._close()
        self.chosen.emit(key)

    def _close(self) -> None:
        self.hide()
        target = self._return_focus
        self._return_focus = None
        if target is not None and isValid(target) and target.isVisible():
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def cancel(self) -> None:
        if self.isVisible():
            self._close()
            self.cancelled.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.filter
            and event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() in _OWN_KEYS
        ):
            event.accept()  # the window's Esc (back) and arrow shortcuts must not take these keys from the picker
            return True
        if watched is self.filter and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 5, Qt.Key.Key_PageUp: -5}[key]
                if self.list.count():
                    self.list.setCurrentRow(max(0, min(self.list.count() - 1, self.list.currentRow() + step)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._on_enter()
                return True
            if key == Qt.Key.Key_Escape:
                self.cancel()
                return True
        return super().eventFilter(watched, event)

    def _on_enter(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._choose(str(item.data(Qt.ItemDataRole.UserRole)))
            return
        text = self.filter.text().strip()
        if text and self._free_text is not None and self._free_text(text) is None:
            self._choose(text)

    def current_texts(self) -> list[str]:
        return [self.list.item(i).text().strip().removeprefix("✓").strip() for i in range(self.list.count())]
