"""The playbook editor: every field of one answer, its template with a live preview, saved to the store.

Signals: entry_saved(entry_id) after the answer was written.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from app.domain.models import Platform
from app.domain.playbook import LANGUAGES, EntryContent, PlaybookEntry, PlaybookError
from app.domain.templates import PLATFORM_NAMES, VARIABLE_HELP, TemplateVariables
from app.store import playbook as store
from app.ui.widgets.template_preview import TemplatePreview


class PlaybookEditor(QDialog):
    entry_saved = Signal(int)

    def __init__(
        self,
        engine: Engine,
        *,
        entry: PlaybookEntry | None = None,
        draft: EntryContent | None = None,
        categories: Sequence[str] = (),
        variables: TemplateVariables | None = None,
        limit: int = 500,
        platform_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("playbookEditor")
        self._engine = engine
        self._entry_id = entry.id if entry is not None else None
        self._variables = variables or TemplateVariables(
            contact_name="Maya Lindqvist", contact_handle="@maya@social.example", platform="Mastodon"
        )
        self._limit = limit
        self._platform_name = platform_name
        content = entry.content if entry is not None else draft or EntryContent(title="", body="")
        self.setWindowTitle(f"Edit “{content.title}”" if entry is not None else "New answer")

        self.title = QLineEdit(content.title)
        self.title.setPlaceholderText("What the answer is for, e.g. Refund policy")
        self.shortcut = QLineEdit(content.shortcut)
        self.shortcut.setPlaceholderText(";refund")
        self.shortcut.setToolTip("Type it in the reply and press Tab to insert this answer")
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.addItems(["", *categories])
        self.category.setCurrentText(content.category)
        self.category.lineEdit().setPlaceholderText("Folder or Folder/Subfolder")
        self.language = QComboBox()
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        if content.language and content.language not in LANGUAGES:
            self.language.addItem(content.language, content.language)
        self.language.setCurrentIndex(max(0, self.language.findData(content.language)))
        self.platform_boxes: dict[str, QCheckBox] = {}
        platforms = QGridLayout()
        platforms.setContentsMargins(0, 0, 0, 0)
        platforms.setHorizontalSpacing(14)
        for position, platform in enumerate(Platform):
            box = QCheckBox(PLATFORM_NAMES.get(platform, platform.value))
            box.setChecked(platform.value in content.platforms)
            self.platform_boxes[platform.value] = box
            platforms.addWidget(box, position // 3, position % 3)
        platforms_hint = QLabel("None ticked: the answer fits every platform.")
        platforms_hint.setObjectName("hint")
        platforms.addWidget(platforms_hint, platforms.rowCount(), 0, 1, 3)
        self.tags = QLineEdit(", ".join(content.tags))
        self.tags.setPlaceholderText("refund, billing, money back")
        self.author = QLineEdit(content.author)
        self.notes = QPlainTextEdit(content.notes)
        self.notes.setPlaceholderText("When to use it, when not to, the tone to keep…")
        self.notes.setMinimumHeight(70)

        self.body = QPlainTextEdit(content.body)
        self.body.setObjectName("templateEdit")
        self.body.setPlaceholderText('Hi {{ contact.first_name | default("there") }}, …')
        self.body.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.body.setTabChangesFocus(True)
        self.body.setMinimumHeight(150)
        self.variables_button = QToolButton()
        self.variables_button.setText("Insert variable ▾")
        self.variables_button.setObjectName("menuButton")
        self.variables_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        variables_menu = QMenu(self.variables_button)
        for snippet, meaning in VARIABLE_HELP:
            action = variables_menu.addAction(f"{snippet}   —   {meaning}")
            action.triggered.connect(lambda _checked=False, s=snippet: self._insert_snippet(s))
        self.variables_button.setMenu(variables_menu)
        self.preview = TemplatePreview(height=110)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.hide()

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setVerticalSpacing(8)
        form.addRow("Title:", self.title)
        row = QHBoxLayout()
        row.addWidget(self.shortcut, 1)
        row.addWidget(QLabel("Language:"))
        row.addWidget(self.language, 1)
        form.addRow("Shortcut:", row)
        form.addRow("Folder:", self.category)
        form.addRow("Platforms:", platforms)
        form.addRow("Tags:", self.tags)
        form.addRow("Author:", self.author)
        form.addRow("Notes on tone:", self.notes)

        body_header = QHBoxLayout()
        body_label = QLabel("<b>Answer</b>")
        body_header.addWidget(body_label, 1)
        body_header.addWidget(self.variables_button)
        preview_label = QLabel(f"<b>Preview</b> <span style='color:#9AA1B2'>for {self._preview_target()}</span>")
        right = QVBoxLayout()
        right.setSpacing(6)
        right.addLayout(body_header)
        right.addWidget(self.body, 3)
        right.addWidget(preview_label)
        right.addWidget(self.preview, 2)

        columns = QHBoxLayout()
        columns.setSpacing(20)
        left_box = QWidget()
        left_box.setLayout(form)
        left_box.setMinimumWidth(360)
        columns.addWidget(left_box, 4)
        columns.addLayout(right, 5)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setObjectName("primary")
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(12)
        layout.addLayout(columns, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(940, 580)

        self.body.textChanged.connect(self._on_body_text_changed)
        self._on_body_text_changed()
        self.title.setFocus()

    def content(self) -> EntryContent:
        return EntryContent(
            title=self.title.text(),
            body=self.body.toPlainText(),
            category=self.category.currentText(),
            tags=tuple(part.strip() for part in self.tags.text().split(",")),
            platforms=tuple(code for code, box in self.platform_boxes.items() if box.isChecked()),
            language=str(self.language.currentData() or ""),
            shortcut=self.shortcut.text(),
            notes=self.notes.toPlainText(),
            author=self.author.text(),
        )

    def _preview_target(self) -> str:
        name = self._variables.contact_name or self._variables.contact_handle or "a sample contact"
        return f"{_escape(name)}{' on ' + self._platform_name if self._platform_name else ''}"

    def _insert_snippet(self, snippet: str) -> None:
        self.body.insertPlainText(snippet)
        self.body.setFocus()

    @Slot()
    def _on_body_text_changed(self) -> None:
        if self.body.toPlainText().strip():
            self.preview.show_template(self.body.toPlainText(), self._variables, self._limit, self._platform_name)
        else:
            self.preview.show_message("The preview appears as you write.")
        self._mark_error_line(self.preview.error_line)

    def _mark_error_line(self, line: int | None) -> None:
        """Tint the template line the error names, so it is found without counting."""
        selections = []
        block = self.body.document().findBlockByNumber(line - 1) if line else None
        if block is not None and block.isValid():
            selection = QTextEdit.ExtraSelection()
            selection.cursor = QTextCursor(block)  # type: ignore[attr-defined]
            char_format = QTextCharFormat()
            char_format.setBackground(QColor("#FFE3E3"))
            char_format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.format = char_format  # type: ignore[attr-defined]
            selections.append(selection)
        self.body.setExtraSelections(selections)

    @Slot()
    def _on_buttons_accepted(self) -> None:
        try:
            if self._entry_id is None:
                saved = store.create_entry(self._engine, self.content())
            else:
                saved = store.update_entry(self._engine, self._entry_id, self.content())
        except PlaybookError as exc:
            self.error.setText(exc.user_message())
            self.error.show()
            return
        self._entry_id = saved.id
        self.entry_saved.emit(saved.id)
        self.accept()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
