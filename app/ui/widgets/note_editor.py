"""Writing an internal note: a yellow box under the thread that saves to the local store only, never the outbox."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

NOTE_BG = "#FFF8DB"
NOTE_LINE = "#F0D48A"
NOTE_TEXT = "#5C4A00"


class NoteEditor(QFrame):
    """Signals: note_saved(int, str) with the conversation id and the text (the window stores it);
    cancelled()."""

    note_saved = Signal(int, str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noteEditor")
        self.setStyleSheet(
            f"QFrame#noteEditor {{ background: {NOTE_BG}; border-top: 1px solid {NOTE_LINE}; }}"
            f"QLabel {{ color: {NOTE_TEXT}; }}"
            f"QPlainTextEdit {{ background: #FFFDF3; border: 1px solid {NOTE_LINE}; border-radius: 4px; }}"
        )
        self._conversation_id: int | None = None
        self.label = QLabel("Internal note — only your team sees it; it is never sent")
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("noteEdit")
        self.editor.setAccessibleName("Internal note")
        self.editor.setPlaceholderText("What should a colleague who steps in know?")
        self.editor.setTabChangesFocus(True)
        self.editor.setFixedHeight(70)
        self.save_button = QPushButton("Save note")
        self.save_button.setToolTip("Save the note (Ctrl+Return)")
        self.cancel_button = QPushButton("Cancel")
        footer = QHBoxLayout()
        footer.setContentsMargins(0, 0, 0, 0)
        footer.addWidget(self.label, 1)
        footer.addWidget(self.cancel_button)
        footer.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(6)
        layout.addWidget(self.editor)
        layout.addLayout(footer)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.cancel)
        self.editor.installEventFilter(self)
        self.hide()

    def start(self, conversation_id: int) -> None:
        if conversation_id != self._conversation_id:
            self.editor.clear()
        self._conversation_id = conversation_id
        self.show()
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def save(self) -> None:
        text = self.editor.toPlainText().strip()
        if self._conversation_id is None or not text:
            return
        conversation_id = self._conversation_id
        self.editor.clear()
        self.hide()
        self.note_saved.emit(conversation_id, text)

    def cancel(self) -> None:
        self.hide()
        self.cancelled.emit()

    def conversation_changed(self, conversation_id: int | None) -> None:
        """Another conversation was opened: a half-written note stays with the one it was for."""
        if conversation_id != self._conversation_id:
            self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.editor and isinstance(event, QKeyEvent):
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            if event.type() == QEvent.Type.ShortcutOverride and enter and ctrl:
                event.accept()  # Ctrl+Return saves the note here; elsewhere it sends a reply
                return True
            if event.type() == QEvent.Type.KeyPress and enter and ctrl:
                self.save()
                return True
        return super().eventFilter(watched, event)
