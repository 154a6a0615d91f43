"""A rendered answer as it would be sent: prompted fields marked, the length against the platform's limit,
the overflow highlighted, or the template's error with its line instead of any text."""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QLabel, QPlainTextEdit, QSizePolicy, QTextEdit, QVBoxLayout, QWidget

from app.domain.templates import TemplateError, TemplateVariables, analyse, preview
from app.ui import theme

_PROMPT_MARK = re.compile(r"\[[^\[\]\n]{1,80}\]")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class TemplatePreview(QFrame):
    def __init__(self, parent: QWidget | None = None, *, height: int = 120) -> None:
        super().__init__(parent)
        self.setObjectName("templatePreview")
        self.text = QPlainTextEdit()
        self.text.setObjectName("previewText")
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Preview of the answer")
        self.text.setMinimumHeight(height)
        self.meta = QLabel()
        self.meta.setObjectName("previewMeta")
        self.error = QLabel()
        self.error.setObjectName("previewError")
        self.error.setWordWrap(True)
        self.error.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.meta)
        layout.addStretch(0)  # takes the room of the hidden text when an error is shown
        self.rendered: str | None = None
        self.overflow = 0
        self.error_line: int | None = None

    def show_template(self, source: str, variables: TemplateVariables, limit: int, platform_name: str) -> bool:
        """Render for the preview; False (and the error shown, no text) when the template cannot render."""
        try:
            text = preview(source, variables)
            prompts = analyse(source).prompts
        except TemplateError as exc:
            self.rendered = None
            self.overflow = 0
            self.error_line = exc.line
            self.text.setPlainText("")
            self.text.setExtraSelections([])
            self.text.hide()  # nothing half-rendered to look at: the error takes its place
            self.error.setText(exc.user_message())
            self.error.show()
            self.meta.setText("Nothing can be inserted until this is fixed.")
            self.meta.setStyleSheet(f"color: {theme.TEXT_MUTED.name()};")
            return False
        self.rendered = text
        self.error_line = None
        self.error.hide()
        self.text.show()
        self.text.setPlainText(text)
        self.overflow = max(0, len(text) - limit)
        where = f" on {platform_name}" if platform_name else ""
        asks = f" · asks for {len(prompts)} value{'s' if len(prompts) != 1 else ''}" if prompts else ""
        if self.overflow:
            self.meta.setText(f"{len(text)} / {limit}{where}: {self.overflow} over the limit{asks}")
            self.meta.setStyleSheet(f"color: {theme.DANGER.name()}; font-weight: 600;")
        else:
            self.meta.setText(f"{len(text)} / {limit} characters{where}{asks}")
            self.meta.setStyleSheet(f"color: {theme.TEXT_MUTED.name()};")
        self._highlight(text, limit, bool(prompts))
        return True

    def show_message(self, message: str) -> None:
        self.rendered = None
        self.overflow = 0
        self.error_line = None
        self.error.hide()
        self.text.show()
        self.text.setPlainText("")
        self.text.setPlaceholderText(message)
        self.text.setExtraSelections([])
        self.meta.setText("")

    def _highlight(self, text: str, limit: int, has_prompts: bool) -> None:
        selections = []
        if has_prompts:
            for match in _PROMPT_MARK.finditer(text):
                selections.append(self._selection(text, match.start(), match.end(), theme.BRAND_TINT, theme.BRAND))
        if len(text) > limit:
            selections.append(self._selection(text, limit, len(text), QColor("#FFE3E3"), theme.DANGER))
        self.text.setExtraSelections(selections)

    def _selection(self, text: str, start: int, end: int, background: QColor, foreground: QColor) -> object:
        selection = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(_utf16(text[:start]))
        cursor.setPosition(_utf16(text[:end]), QTextCursor.MoveMode.KeepAnchor)
        selection.cursor = cursor  # type: ignore[attr-defined]
        char_format = QTextCharFormat()
        char_format.setBackground(background)
        char_format.setForeground(foreground)
        selection.format = char_format  # type: ignore[attr-defined]
        return selection
