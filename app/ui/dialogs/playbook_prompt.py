"""Asks for the values an answer's `ask("…")` fields need before it is inserted; cancelling inserts nothing."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget


class PromptDialog(QDialog):
    def __init__(self, title: str, prompts: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playbookPrompt")
        self.setWindowTitle(f"Insert “{title}”")
        self.setMinimumWidth(380)
        intro = QLabel(f"<b>{_escape(title)}</b> needs {'these values' if len(prompts) > 1 else 'a value'}:")
        intro.setWordWrap(True)
        form = QFormLayout()
        form.setSpacing(8)
        self.fields: dict[str, QLineEdit] = {}
        for label in prompts:
            field = QLineEdit()
            field.setAccessibleName(label)
            form.addRow(label[:1].upper() + label[1:] + ":", field)
            self.fields[label] = field
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Insert")
        ok.setObjectName("primary")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for field in self.fields.values():
            field.textChanged.connect(self._update_ok)
        self._update_ok()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(12)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        if self.fields:
            next(iter(self.fields.values())).setFocus()

    def _update_ok(self) -> None:
        """Insert only once every field has a value: a blank would leave a hole in the sentence."""
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            all(field.text().strip() for field in self.fields.values())
        )

    def answers(self) -> dict[str, str]:
        return {label: field.text().strip() for label, field in self.fields.items()}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
