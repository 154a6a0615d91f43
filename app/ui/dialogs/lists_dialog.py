"""Editing the tag list and the team list (departments and people conversations are assigned to)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.errors import KnownError
from app.store import triage


class ListsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Tags and team")
        self.setObjectName("listsDialog")
        self.resize(560, 420)
        self.tags = QListWidget()
        self.tags.setObjectName("tagList")
        self.team = QListWidget()
        self.team.setObjectName("teamList")
        self.new_tag = QLineEdit()
        self.new_tag.setPlaceholderText("New tag")
        self.new_member = QLineEdit()
        self.new_member.setPlaceholderText("New department or person")
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #C92A2A;")
        self.error.setWordWrap(True)

        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Tags</b> (voice of the customer)"), 0, 0)
        grid.addWidget(QLabel("<b>Team</b> (who conversations are assigned to)"), 0, 1)
        grid.addWidget(self.tags, 1, 0)
        grid.addWidget(self.team, 1, 1)
        grid.addLayout(self._row(self.new_tag, "Add tag", self._on_add_tag, "Rename…", self._on_rename_tag,
                                 "Remove", self._on_remove_tag), 2, 0)  # fmt: skip
        grid.addLayout(self._row(self.new_member, "Add", self._on_add_member, "Up", self._on_member_up,
                                 "Remove", self._on_remove_member), 2, 1)  # fmt: skip
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.new_tag.returnPressed.connect(self._on_add_tag)
        self.new_member.returnPressed.connect(self._on_add_member)
        self._reload()

    @staticmethod
    def _row(edit: QLineEdit, *buttons: object) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        for index in range(0, len(buttons), 2):
            button = QPushButton(str(buttons[index]))
            button.setAutoDefault(False)
            button.clicked.connect(buttons[index + 1])  # type: ignore[call-overload]
            row.addWidget(button)
        return row

    def _reload(self) -> None:
        self.tags.clear()
        self.tags.addItems(triage.list_tags(self.ctx.engine))
        self.team.clear()
        self.team.addItems(triage.list_assignees(self.ctx.engine))

    def _try(self, call: object) -> bool:
        try:
            call()  # type: ignore[operator]
        except KnownError as exc:
            self.error.setText(exc.user_message())
            return False
        self.error.clear()
        self._reload()
        return True

    @Slot()
    def _on_add_tag(self) -> None:
        if self._try(lambda: triage.add_tag(self.ctx.engine, self.new_tag.text())):
            self.new_tag.clear()

    @Slot()
    def _on_rename_tag(self) -> None:
        item = self.tags.currentItem()
        if item is None:
            return
        new, ok = QInputDialog.getText(self, "Rename tag", "New name:", text=item.text())
        if ok:
            self._try(lambda: triage.rename_tag(self.ctx.engine, item.text(), new))

    @Slot()
    def _on_remove_tag(self) -> None:
        item = self.tags.currentItem()
        if item is not None:
            self._try(lambda: triage.remove_tag(self.ctx.engine, item.text()))

    def _members(self) -> list[str]:
        return [self.team.item(i).text() for i in range(self.team.count())]

    @Slot()
    def _on_add_member(self) -> None:
        name = self.new_member.text().strip()
        if not name:
            self.error.setText("Type a department or a person's name first.")
            return
        if self._try(lambda: triage.save_assignees(self.ctx.engine, [*self._members(), name])):
            self.new_member.clear()

    @Slot()
    def _on_member_up(self) -> None:
        row = self.team.currentRow()
        if row > 0:
            members = self._members()
            members[row - 1], members[row] = members[row], members[row - 1]
            self._try(lambda: triage.save_assignees(self.ctx.engine, members))
            self.team.setCurrentRow(row - 1)

    @Slot()
    def _on_remove_member(self) -> None:
        row = self.team.currentRow()
        if row >= 0:
            members = self._members()
            del members[row]
            self._try(lambda: triage.save_assignees(self.ctx.engine, members))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return  # Enter in a field adds what was typed; it must not close the dialog
        super().keyPressEvent(event)
