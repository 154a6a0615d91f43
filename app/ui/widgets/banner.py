"""A dismissible warning strip across the top of the window for trouble that does not stop work."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.setFlat(True)
        self.dismiss.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 10, 8)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self.dismiss.clicked.connect(self._on_dismiss_clicked)
        self.hide()

    def show_message(self, title: str, detail: str = "") -> None:
        text = f"<b>{title}</b>" + (f"<br>{detail}" if detail else "")
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return self.label.text()

    @Slot()
    def _on_dismiss_clicked(self) -> None:
        self.hide()
