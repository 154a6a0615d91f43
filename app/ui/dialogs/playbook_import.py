"""Importing a shared playbook file: what it adds, and for each conflict (same id, different text) the
user's choice between their version and the file's. Nothing is written until Import is pressed."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.domain.playbook import CONTENT_FIELDS, EntryContent
from app.store.playbook import Choice, Conflict, ImportPlan

_UID_ROLE = int(Qt.ItemDataRole.UserRole) + 1


_LABELS = {
    "title": "Title",
    "body": "Text",
    "category": "Folder",
    "tags": "Tags",
    "platforms": "Platforms",
    "language": "Language",
    "shortcut": "Shortcut",
    "notes": "Notes",
    "author": "Author",
}


def describe(content: EntryContent, changed: list[str]) -> str:
    """The content as a small table, the fields that differ tinted."""
    rows = []
    for name in CONTENT_FIELDS:
        value = getattr(content, name)
        shown = ", ".join(value) if isinstance(value, tuple) else str(value)
        if not shown and name not in changed:
            continue
        tint = " bgcolor='#FFF4DB'" if name in changed else ""
        text = html.escape(shown).replace("\n", "<br>") or "<span style='color:#9AA1B2'>(empty)</span>"
        rows.append(
            f"<tr{tint}><td style='color:#687083; padding:4px 8px' valign='top'>{_LABELS[name]}</td>"
            f"<td style='padding:4px 8px'>{text}</td></tr>"
        )
    return f"<table width='100%' cellspacing='0'>{''.join(rows)}</table>"


class ImportDialog(QDialog):
    def __init__(self, plan: ImportPlan, source: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playbookImport")
        self.setWindowTitle(f"Import {source}")
        self.plan = plan
        self._choices: dict[str, Choice] = {}
        self._conflicts = {conflict.uid: conflict for conflict in plan.conflicts}

        summary = QLabel(
            f"<b>{source}</b>: {plan.summary()}.<br>"
            "For each conflict, keep your version or take the file's. Nothing changes until you press Import."
        )
        summary.setWordWrap(True)
        self.conflict_list = QListWidget()
        self.conflict_list.setObjectName("conflictList")
        self.conflict_list.setMaximumWidth(260)
        self.conflict_list.setSpacing(2)
        for conflict in plan.conflicts:
            item = QListWidgetItem()
            item.setData(_UID_ROLE, conflict.uid)
            self.conflict_list.addItem(item)
            self._label(item)

        self.mine = QTextBrowser()
        self.mine.setObjectName("mineText")
        self.theirs = QTextBrowser()
        self.theirs.setObjectName("theirsText")
        self.keep_mine = QRadioButton("Keep mine")
        self.take_theirs = QRadioButton("Take the file's")
        self._group = QButtonGroup(self)
        self._group.addButton(self.keep_mine)
        self._group.addButton(self.take_theirs)
        mine_box = QVBoxLayout()
        mine_box.addWidget(QLabel("<b>Yours</b>"))
        mine_box.addWidget(self.mine, 1)
        mine_box.addWidget(self.keep_mine)
        theirs_box = QVBoxLayout()
        theirs_box.addWidget(QLabel("<b>In the file</b>"))
        theirs_box.addWidget(self.theirs, 1)
        theirs_box.addWidget(self.take_theirs)
        compare = QHBoxLayout()
        compare.addWidget(self.conflict_list)
        compare.addLayout(mine_box, 1)
        compare.addLayout(theirs_box, 1)

        self.all_mine = QPushButton("Keep all mine")
        self.all_theirs = QPushButton("Take all from the file")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText("Import")
        self.import_button.setObjectName("primary")
        self.buttons.addButton(self.all_mine, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.all_theirs, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(12)
        layout.addWidget(summary)
        if plan.conflicts:
            layout.addLayout(compare, 1)
            self.resize(980, 560)
        else:
            self.all_mine.hide()
            self.all_theirs.hide()
        layout.addWidget(self.buttons)

        self.conflict_list.currentItemChanged.connect(self._on_conflict_list_current_item_changed)
        self.keep_mine.toggled.connect(self._on_keep_mine_toggled)
        self.take_theirs.toggled.connect(self._on_take_theirs_toggled)
        self.all_mine.clicked.connect(lambda: self._choose_all(Choice.MINE))
        self.all_theirs.clicked.connect(lambda: self._choose_all(Choice.THEIRS))
        if plan.conflicts:
            self.conflict_list.setCurrentRow(0)
        self._update_import_button()

    def choices(self) -> dict[str, Choice]:
        return dict(self._choices)

    def set_choice(self, uid: str, choice: Choice) -> None:
        self._choices[uid] = choice
        for row in range(self.conflict_list.count()):
            item = self.conflict_list.item(row)
            if item.data(_UID_ROLE) == uid:
                self._label(item)
        self._update_import_button()

    def current_conflict(self) -> Conflict | None:
        item = self.conflict_list.currentItem()
        return None if item is None else self._conflicts[str(item.data(_UID_ROLE))]

    def _label(self, item: QListWidgetItem) -> None:
        conflict = self._conflicts[str(item.data(_UID_ROLE))]
        choice = self._choices.get(conflict.uid)
        state = {Choice.MINE: "✓ keep mine", Choice.THEIRS: "✓ take the file's", None: "choose…"}[choice]
        fields = ", ".join(_LABELS[name].lower() for name in conflict.fields)
        item.setText(f"{conflict.mine.title}\nChanged: {fields} · {state}")

    def _choose_all(self, choice: Choice) -> None:
        for uid in self._conflicts:
            self.set_choice(uid, choice)
        self._show(self.current_conflict())

    def _show(self, conflict: Conflict | None) -> None:
        if conflict is None:
            return
        changed = conflict.fields
        self.mine.setHtml(describe(conflict.mine, changed))
        self.theirs.setHtml(describe(conflict.theirs, changed))
        choice = self._choices.get(conflict.uid)
        self._group.setExclusive(False)  # so that neither is checked until the user decides
        for button, value in ((self.keep_mine, Choice.MINE), (self.take_theirs, Choice.THEIRS)):
            button.blockSignals(True)
            button.setChecked(choice is value)
            button.blockSignals(False)
        self._group.setExclusive(True)

    def _update_import_button(self) -> None:
        decided = all(uid in self._choices for uid in self._conflicts)
        self.import_button.setEnabled(decided)
        self.import_button.setToolTip("" if decided else "Choose a version for every conflict first")

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_conflict_list_current_item_changed(self, _current: object, _previous: object) -> None:
        self._show(self.current_conflict())

    @Slot(bool)
    def _on_keep_mine_toggled(self, checked: bool) -> None:
        conflict = self.current_conflict()
        if checked and conflict is not None:
            self.set_choice(conflict.uid, Choice.MINE)

    @Slot(bool)
    def _on_take_theirs_toggled(self, checked: bool) -> None:
        conflict = self.current_conflict()
        if checked and conflict is not None:
            self.set_choice(conflict.uid, Choice.THEIRS)
