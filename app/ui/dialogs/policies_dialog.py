"""The response-time policies editor: the ordered list (the first matching policy applies), a form for the chosen
one, and its business-hours calendar.

Saving writes the list (a handful of rows, on the GUI thread like every dialog's save) and emits
`policies_saved`; moving open conversations' due times to the new targets is the main window's job, on a
worker, because it touches every running clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.domain.models import MessageKind, Platform
from app.domain.rules import split_list
from app.domain.timers import PolicyConditions, ResponsePolicy, format_duration
from app.domain.triage import Priority
from app.errors import KnownError
from app.store import policies
from app.ui.dialogs.calendar_editor import CalendarEditor
from app.ui.widgets.ordered_list import OrderedListPanel, lay_out_editor

MAX_TARGET_MINUTES = 14 * 24 * 60


class PoliciesDialog(QDialog):
    """Signals: policies_saved() after the list was written."""

    policies_saved = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Response-time policies")
        self.setObjectName("policiesDialog")
        self.resize(940, 640)
        self._policies: list[ResponsePolicy] = policies.list_policies(ctx.engine)
        self._loading = False

        hint = QLabel("The first policy whose conditions match a conversation sets its response targets.")
        hint.setWordWrap(True)
        left_widget = OrderedListPanel(hint, "policyList")
        self.list = left_widget.list
        left_widget.add.setObjectName("addPolicy")
        left_widget.remove.setObjectName("deletePolicy")
        left_widget.up.setObjectName("movePolicyUp")
        left_widget.down.setObjectName("movePolicyDown")
        self._panel = left_widget

        self.name = QLineEdit()
        self.name.setObjectName("policyName")
        self.first = self._minutes("firstTarget")
        self.next = self._minutes("nextTarget")
        self.warning = QSpinBox()
        self.warning.setObjectName("warningPercent")
        self.warning.setRange(1, 99)
        self.warning.setSuffix(" % of the target")
        targets = QFormLayout()
        targets.addRow("Name", self.name)
        targets.addRow("First response within", self.first)
        targets.addRow("Next response within", self.next)
        targets.addRow("Warn after", self.warning)

        self.platforms = {p: QCheckBox(p.value.title()) for p in Platform}
        self.kinds = {k: QCheckBox(_KIND_NAMES.get(k, k.value.title())) for k in MessageKind}
        for member, box in [*self.platforms.items(), *self.kinds.items()]:
            box.setObjectName(f"when_{member.value}")
        self.accounts = QLineEdit()
        self.accounts.setObjectName("policyAccounts")
        self.accounts.setPlaceholderText("any account   (or: brand, support)")
        self.priority = QComboBox()
        self.priority.setObjectName("policyPriority")
        self.priority.addItem("Any priority", None)
        for member in Priority:
            self.priority.addItem(f"{member.label} or higher", int(member))
        self.tags = QLineEdit()
        self.tags.setObjectName("policyTags")
        self.tags.setPlaceholderText("any tags   (or: complaint, vip — one of them)")
        conditions = QFormLayout()
        conditions.addRow("Platform", _row(*self.platforms.values()))
        conditions.addRow("Kind", _row(*self.kinds.values()))
        conditions.addRow("Account", self.accounts)
        conditions.addRow("Priority", self.priority)
        conditions.addRow("Tagged", self.tags)
        conditions_box = QGroupBox("Applies to conversations matching all of (none ticked: any)")
        conditions_box.setLayout(conditions)

        self.round_the_clock = QRadioButton("Round the clock (24/7)")
        self.round_the_clock.setObjectName("roundTheClock")
        self.business_hours = QRadioButton("Business hours only: the clock stops outside them")
        self.business_hours.setObjectName("businessHours")
        self.calendar = CalendarEditor(self._default_zone())
        hours_layout = QVBoxLayout()
        hours_layout.addWidget(self.round_the_clock)
        hours_layout.addWidget(self.business_hours)
        hours_layout.addWidget(self.calendar)
        hours_box = QGroupBox("When the clock runs")
        hours_box.setLayout(hours_layout)

        self.problems = QLabel()
        self.problems.setObjectName("policyProblems")
        self.problems.setStyleSheet("color: #C92A2A;")
        self.problems.setWordWrap(True)
        form = QVBoxLayout()
        form.addLayout(targets)
        form.addWidget(conditions_box)
        form.addWidget(hours_box, 1)
        form.addWidget(self.problems)
        self.form_widget = QWidget()
        self.form_widget.setLayout(form)

        self.buttons = lay_out_editor(self, left_widget, self.form_widget, 640)

        left_widget.connect_actions(self.add_policy, self.delete_policy, self.move)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        for edit in (self.name, self.accounts, self.tags):
            edit.textEdited.connect(self._on_form_edited)
        for spin in (self.first, self.next, self.warning):
            spin.valueChanged.connect(self._on_form_edited)
        for box in [*self.platforms.values(), *self.kinds.values(), self.business_hours]:
            box.toggled.connect(self._on_form_edited)
        self.priority.currentIndexChanged.connect(self._on_form_edited)
        self.calendar.changed.connect(self._on_form_edited)
        self._fill_list()
        self.list.setCurrentRow(0)

    @staticmethod
    def _minutes(name: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setObjectName(name)
        spin.setRange(1, MAX_TARGET_MINUTES)
        spin.setSuffix(" min")
        return spin

    def _default_zone(self) -> str:
        return self.ctx.preferences.display_time_zone or "UTC"

    # --- the list -----------------------------------------------------------------------------------------
    def policies(self) -> list[ResponsePolicy]:
        return list(self._policies)

    def _fill_list(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for policy in self._policies:
            self.list.addItem(_title(policy))
            self.list.item(self.list.count() - 1).setToolTip(policy.describe())
        self.list.blockSignals(False)
        self.form_widget.setEnabled(bool(self._policies))

    @Slot()
    def add_policy(self) -> None:
        self._policies.append(ResponsePolicy("New policy", timedelta(hours=1), timedelta(hours=1)))
        self._fill_list()
        self.list.setCurrentRow(len(self._policies) - 1)
        self.name.setFocus()
        self.name.selectAll()

    @Slot()
    def delete_policy(self) -> None:
        self._panel.delete_current(self._policies, self._fill_list)

    def move(self, step: int) -> None:
        self._panel.move_current(self._policies, step, self._fill_list)

    @Slot(int)
    def _on_list_current_row_changed(self, row: int) -> None:
        if 0 <= row < len(self._policies):
            self._show(self._policies[row])

    # --- the form -----------------------------------------------------------------------------------------
    def _show(self, policy: ResponsePolicy) -> None:
        self._loading = True
        try:
            c = policy.conditions
            self.name.setText(policy.name)
            self.first.setValue(int(policy.first_response.total_seconds() // 60))
            self.next.setValue(int(policy.next_response.total_seconds() // 60))
            self.warning.setValue(round(policy.warning_ratio * 100))
            for member, box in self.platforms.items():
                box.setChecked(member in c.platforms)
            for kind, box in self.kinds.items():
                box.setChecked(kind in c.kinds)
            self.accounts.setText(", ".join(sorted(c.accounts)))
            self.priority.setCurrentIndex(max(0, self.priority.findData(c.min_priority)))
            self.tags.setText(", ".join(sorted(c.tags)))
            (self.business_hours if policy.calendar else self.round_the_clock).setChecked(True)
            self.calendar.show_calendar(policy.calendar)
            self.calendar.setEnabled(policy.calendar is not None)
            self.problems.clear()
        finally:
            self._loading = False

    def _form_policy(self, current: ResponsePolicy) -> ResponsePolicy:
        priority = self.priority.currentData()
        conditions = PolicyConditions(
            platforms=frozenset(p for p, box in self.platforms.items() if box.isChecked()),
            accounts=frozenset(split_list(self.accounts.text())),
            kinds=frozenset(k for k, box in self.kinds.items() if box.isChecked()),
            min_priority=int(priority) if priority is not None else None,
            tags=frozenset(t.lower() for t in split_list(self.tags.text())),
        )
        return replace(
            current,
            name=self.name.text(),
            first_response=timedelta(minutes=self.first.value()),
            next_response=timedelta(minutes=self.next.value()),
            warning_ratio=self.warning.value() / 100,
            calendar=self.calendar.calendar() if self.business_hours.isChecked() else None,
            conditions=conditions,
        )

    @Slot()
    def _on_form_edited(self, *_args: object) -> None:
        if self._loading:
            return
        row = self.list.currentRow()
        if not 0 <= row < len(self._policies):
            return
        self.calendar.setEnabled(self.business_hours.isChecked())
        self._policies[row] = self._form_policy(self._policies[row])
        self.list.item(row).setText(_title(self._policies[row]))
        self.list.item(row).setToolTip(self._policies[row].describe())
        problems = []
        for policy in self._policies:
            try:
                policies.validate(policy)
            except KnownError as exc:
                problems.append(str(exc))
        self.problems.setText("\n".join(problems[:3]))

    @Slot()
    def save(self) -> None:
        try:
            self._policies = policies.save_policies(self.ctx.engine, self._policies)
        except KnownError as exc:
            self.problems.setText(str(exc))
            return
        self.policies_saved.emit()
        self.accept()


_KIND_NAMES = {MessageKind.DM: "DM", MessageKind.MENTION: "Mention", MessageKind.COMMENT: "Comment"}


def _title(policy: ResponsePolicy) -> str:
    hours = "business hours" if policy.calendar else "24/7"
    first, following = format_duration(policy.first_response), format_duration(policy.next_response)
    return f"{policy.name or '(unnamed)'}\n    {first} first · {following} next · {hours}"


def _row(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return holder
