"""An ordered list the user edits: a hint, the list, and Add / Delete / Move up / Move down under it.

The editors (rules, response-time policies) keep the items themselves, because order is what they mean;
this panel only deletes and moves the current row in that list and asks the editor to redraw it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

T = TypeVar("T")


class OrderedListPanel(QWidget):
    """`list` shows the items; `add`, `remove`, `up` and `down` are the buttons, wired by the editor."""

    def __init__(self, hint: QLabel, list_name: str, add_text: str = "Add", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName(list_name)
        self.add, self.remove = QPushButton(add_text), QPushButton("Delete")
        self.up, self.down = QPushButton("Move up"), QPushButton("Move down")
        buttons_row = QHBoxLayout()
        for button in (self.add, self.remove, self.up, self.down):
            button.setAutoDefault(False)
            buttons_row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons_row)

    def connect_actions(self, add: Callable[[], None], delete: Callable[[], None], move: Callable[[int], None]) -> None:
        self.add.clicked.connect(add)
        self.remove.clicked.connect(delete)
        self.up.clicked.connect(lambda: move(-1))
        self.down.clicked.connect(lambda: move(1))

    def delete_current(self, items: list[T], refill: Callable[[], None]) -> bool:
        """Deletes the current row's item and selects the one now in its place; False when no row is current."""
        row = self.list.currentRow()
        if not 0 <= row < len(items):
            return False
        del items[row]
        refill()
        self.list.setCurrentRow(min(row, len(items) - 1))
        return True

    def move_current(self, items: list[T], step: int, refill: Callable[[], None]) -> None:
        """Swaps the current row's item with the one `step` rows away, when both exist, and follows it."""
        row = self.list.currentRow()
        target = row + step
        if 0 <= row < len(items) and 0 <= target < len(items):
            items[row], items[target] = items[target], items[row]
            refill()
            self.list.setCurrentRow(target)


def lay_out_editor(dialog: QDialog, panel: OrderedListPanel, form: QWidget, form_width: int) -> QDialogButtonBox:
    """Lays `dialog` out as an editor: the list beside the chosen item's form, Save and Close under both."""
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(panel)
    splitter.addWidget(form)
    splitter.setSizes([300, form_width])
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(splitter, 1)
    layout.addWidget(buttons)
    return buttons
