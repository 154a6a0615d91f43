"""The rules editor: an ordered list of rules, a form for the chosen one, and a dry run over the cache.

The dry run reads the cache on a worker thread (a million messages take seconds without keywords) and lists
exactly the conversations the rule would change; nothing is written until the rules are saved, and saved
rules apply to messages stored from then on.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.domain.models import ConversationStatus, MessageKind, Platform
from app.domain.rules import (
    RULE_STATUSES,
    MatchMode,
    Rule,
    RuleActions,
    RuleConditions,
    rule_problems,
    split_list,
)
from app.domain.sentiment import SENTIMENT_LABELS
from app.domain.triage import Priority
from app.store import accounts, inbox, rules, triage
from app.store.rules import DryRunResult
from app.ui.widgets.ordered_list import OrderedListPanel, lay_out_editor
from app.ui.workers import Job, start_job

DRY_RUN_SHOWN = 500


class RulesDialog(QDialog):
    """Signals: dry_run_finished(object) with the DryRunResult; rules_saved()."""

    dry_run_finished = Signal(object)
    rules_saved = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Rules")
        self.setObjectName("rulesDialog")
        self.resize(900, 600)
        self._rules: list[Rule] = rules.list_rules(ctx.engine)
        self._job: Job | None = None
        self._cancel = threading.Event()
        self._loading = False

        hint = QLabel("Rules run in this order on every customer message as it is stored.")
        left_widget = OrderedListPanel(hint, "ruleList", "Add rule")
        self.list = left_widget.list
        left_widget.add.setObjectName("addRule")
        self._panel = left_widget

        self.name = QLineEdit()
        self.name.setObjectName("ruleName")
        self.platform = self._combo(
            "rulePlatform", [("Any platform", "")] + [(p.value.title(), p.value) for p in Platform]
        )
        self.account = self._combo(
            "ruleAccount", [("Any account", "")] + [(a.name, a.name) for a in accounts.list_accounts(ctx.engine)]
        )
        self.kind = self._combo("ruleKind", [("Any kind", "")] + [(k.value.title(), k.value) for k in MessageKind])
        self.keywords = QLineEdit()
        self.keywords.setObjectName("ruleKeywords")
        self.keywords.setPlaceholderText("refund|late|lost parcel   (whole words, any case)")
        self.language = QLineEdit()
        self.language.setObjectName("ruleLanguage")
        self.language.setPlaceholderText("en, de   (as the platform reports it)")
        self.sentiment = self._combo("ruleSentiment", [("Any tone", "")] + [(s.title(), s) for s in SENTIMENT_LABELS])
        self.author = QLineEdit()
        self.author.setObjectName("ruleAuthor")
        self.author.setPlaceholderText("@maria, @tom@example.social")
        conditions = QFormLayout()
        for label, widget in (("Platform", self.platform), ("Account", self.account), ("Kind", self.kind),
                              ("Keywords", self.keywords), ("Language", self.language), ("Tone", self.sentiment),
                              ("Author", self.author)):  # fmt: skip
            conditions.addRow(label, widget)
        conditions_box = QGroupBox("When a customer message matches all of")
        conditions_box.setLayout(conditions)

        self.tags = QLineEdit()
        self.tags.setObjectName("ruleTags")
        self.tags.setPlaceholderText(", ".join(triage.list_tags(ctx.engine)[:3]) + " …")
        self.assignee = self._combo(
            "ruleAssignee", [("Nobody", "")] + [(n, n) for n in triage.list_assignees(ctx.engine)]
        )
        self.priority = self._combo("rulePriority", [("Leave as is", "")] + [(p.label, p.name) for p in Priority])
        self.status = self._combo(
            "ruleStatus", [("Leave as is", "")] + [(s.value.title(), s.value) for s in RULE_STATUSES]
        )
        actions = QFormLayout()
        actions.addRow("Tag with", self.tags)
        actions.addRow("Assign to", self.assignee)
        actions.addRow("Set priority", self.priority)
        actions.addRow("Mark", self.status)
        actions_box = QGroupBox("Then")
        actions_box.setLayout(actions)

        self.mode_all = QRadioButton("All matches: later rules still run")
        self.mode_first = QRadioButton("First match wins: stop after this rule")
        self.mode_all.setObjectName("modeAll")
        self.mode_first.setObjectName("modeFirst")
        modes = QButtonGroup(self)
        modes.addButton(self.mode_all)
        modes.addButton(self.mode_first)
        self.mode_all.setChecked(True)

        self.problems = QLabel()
        self.problems.setObjectName("ruleProblems")
        self.problems.setStyleSheet("color: #C92A2A;")
        self.problems.setWordWrap(True)
        self.dry_run_button = QPushButton("Dry run over the cache")
        self.dry_run_button.setObjectName("dryRun")
        self.dry_run_button.setAutoDefault(False)
        self.dry_run_summary = QLabel("")
        self.dry_run_summary.setObjectName("dryRunSummary")
        self.dry_run_summary.setWordWrap(True)
        self.dry_run_list = QListWidget()
        self.dry_run_list.setObjectName("dryRunList")

        form = QVBoxLayout()
        name_row = QFormLayout()
        name_row.addRow("Name", self.name)
        form.addLayout(name_row)
        form.addWidget(conditions_box)
        form.addWidget(actions_box)
        form.addWidget(self.mode_all)
        form.addWidget(self.mode_first)
        form.addWidget(self.problems)
        run_row = QHBoxLayout()
        run_row.addWidget(self.dry_run_button)
        run_row.addWidget(self.dry_run_summary, 1)
        form.addLayout(run_row)
        form.addWidget(self.dry_run_list, 1)
        right_widget = QWidget()
        right_widget.setLayout(form)

        self.buttons = lay_out_editor(self, left_widget, right_widget, 600)

        left_widget.connect_actions(self.add_rule, self._on_remove_clicked, self._move)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.list.itemChanged.connect(self._on_list_item_changed)
        self.dry_run_button.clicked.connect(self.start_dry_run)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        for edit in (self.name, self.keywords, self.language, self.author, self.tags):
            edit.textEdited.connect(self._on_form_edited)
        for combo in (
            self.platform,
            self.account,
            self.kind,
            self.sentiment,
            self.assignee,
            self.priority,
            self.status,
        ):
            combo.currentIndexChanged.connect(self._on_form_edited)
        self.mode_all.toggled.connect(self._on_form_edited)
        self._fill_list()
        if self._rules:
            self.list.setCurrentRow(0)
        else:
            self._set_form_enabled(False)

    def _combos(self) -> tuple[QComboBox, ...]:
        return (self.platform, self.account, self.kind, self.sentiment, self.assignee, self.priority, self.status)

    @staticmethod
    def _combo(name: str, choices: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        for text, value in choices:
            combo.addItem(text, value)
        return combo

    # --- the list -----------------------------------------------------------------------------------------
    def _fill_list(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for rule in self._rules:
            item = QListWidgetItem(self._title(rule))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if rule.enabled else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)

    @staticmethod
    def _title(rule: Rule) -> str:
        return (rule.name or "(unnamed)") + ("  · stops" if rule.mode is MatchMode.FIRST else "")

    def rules(self) -> list[Rule]:
        return list(self._rules)

    def add_rule(self) -> None:
        self._rules.append(Rule(name="New rule", conditions=RuleConditions(), actions=RuleActions()))
        self._fill_list()
        self.list.setCurrentRow(len(self._rules) - 1)
        self.name.setFocus()
        self.name.selectAll()

    @Slot()
    def _on_remove_clicked(self) -> None:
        if self._panel.delete_current(self._rules, self._fill_list) and not self._rules:
            self._set_form_enabled(False)

    def _move(self, step: int) -> None:
        self._panel.move_current(self._rules, step, self._fill_list)

    @Slot(QListWidgetItem)
    def _on_list_item_changed(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        if 0 <= row < len(self._rules):
            self._rules[row] = replace(self._rules[row], enabled=item.checkState() == Qt.CheckState.Checked)

    @Slot(int)
    def _on_list_current_row_changed(self, row: int) -> None:
        if not 0 <= row < len(self._rules):
            return
        self._set_form_enabled(True)
        self._show(self._rules[row])
        self.dry_run_summary.clear()
        self.dry_run_list.clear()

    def _set_form_enabled(self, enabled: bool) -> None:
        for widget in (self.name, self.keywords, self.dry_run_button):
            widget.setEnabled(enabled)

    # --- the form -----------------------------------------------------------------------------------------
    def _show(self, rule: Rule) -> None:
        self._loading = True
        try:
            c, a = rule.conditions, rule.actions
            self.name.setText(rule.name)
            self._select(self.platform, c.platforms[0] if c.platforms else "")
            self._select(self.account, c.accounts[0] if c.accounts else "")
            self._select(self.kind, c.kinds[0] if c.kinds else "")
            self.keywords.setText("|".join(c.keywords))
            self.language.setText(", ".join(c.languages))
            self._select(self.sentiment, c.sentiment)
            self.author.setText(", ".join(c.authors))
            self.tags.setText(", ".join(a.tags))
            if a.assignee and self.assignee.findData(a.assignee) < 0:
                self.assignee.addItem(a.assignee, a.assignee)
            self._select(self.assignee, a.assignee)
            self._select(self.priority, a.priority.name if a.priority is not None else "")
            self._select(self.status, a.status.value if a.status is not None else "")
            (self.mode_first if rule.mode is MatchMode.FIRST else self.mode_all).setChecked(True)
        finally:
            self._loading = False
        self.problems.setText("")

    @staticmethod
    def _select(combo: QComboBox, value: str) -> None:
        combo.setCurrentIndex(max(0, combo.findData(value)))

    def rule_from_form(self) -> Rule:
        row = self.list.currentRow()
        base = self._rules[row] if 0 <= row < len(self._rules) else Rule("", RuleConditions(), RuleActions())
        data = {combo: str(combo.currentData() or "") for combo in self._combos()}
        return replace(
            base,
            name=self.name.text().strip(),
            conditions=RuleConditions(
                platforms=(data[self.platform],) if data[self.platform] else (),
                accounts=(data[self.account],) if data[self.account] else (),
                kinds=(data[self.kind],) if data[self.kind] else (),
                keywords=split_list(self.keywords.text()),
                languages=split_list(self.language.text()),
                sentiment=data[self.sentiment],
                authors=split_list(self.author.text()),
            ),
            actions=RuleActions(
                tags=tuple(t.lstrip("#") for t in split_list(self.tags.text())),
                assignee=data[self.assignee],
                priority=Priority[data[self.priority]] if data[self.priority] else None,
                status=ConversationStatus(data[self.status]) if data[self.status] else None,
            ),
            mode=MatchMode.FIRST if self.mode_first.isChecked() else MatchMode.ALL,
        )

    @Slot()
    def _on_form_edited(self, *_args: object) -> None:
        if self._loading:
            return
        row = self.list.currentRow()
        if 0 <= row < len(self._rules):
            self._rules[row] = self.rule_from_form()
            item = self.list.item(row)
            if item is not None:
                item.setText(self._title(self._rules[row]))

    # --- dry run and save ---------------------------------------------------------------------------------
    def start_dry_run(self) -> None:
        rule = self.rule_from_form()
        problems = [p for p in rule_problems(rule) if "action" not in p and "name" not in p]
        if problems:
            self.problems.setText(" ".join(problems))
            return
        self._cancel.set()
        self._cancel = threading.Event()
        cancel, engine = self._cancel, self.ctx.engine
        self.dry_run_button.setEnabled(False)
        self.dry_run_summary.setText("Looking through the cache…")
        self._job = start_job(
            lambda: rules.dry_run(engine, rule, cancel=cancel),
            description="dry run of a rule",
            on_finished=self._on_dry_run_done,
            on_failed=self._on_dry_run_failed,
        )

    def _on_dry_run_done(self, result: DryRunResult) -> None:
        self._job = None
        if not self.isVisible() and result.cancelled:
            return
        self.dry_run_button.setEnabled(True)
        ids = result.conversation_ids
        found = inbox.summaries(self.ctx.engine, ids[:DRY_RUN_SHOWN])
        self.dry_run_list.clear()
        for cid in ids[:DRY_RUN_SHOWN]:
            summary = found.get(cid)
            if summary is None:
                continue
            who = summary.contact_name or summary.contact_handle or summary.account_name
            item = QListWidgetItem(f"{who} — {summary.snippet}")
            item.setData(Qt.ItemDataRole.UserRole, cid)
            self.dry_run_list.addItem(item)
        more = f" (showing the newest {DRY_RUN_SHOWN})" if len(ids) > DRY_RUN_SHOWN else ""
        self.dry_run_summary.setText(
            f"Would change {len(ids):,} conversation{'s' if len(ids) != 1 else ''} "
            f"({result.matching_messages:,} matching message{'s' if result.matching_messages != 1 else ''}){more}. "
            "Nothing was changed."
        )
        self.dry_run_finished.emit(result)

    def _on_dry_run_failed(self, error: object) -> None:
        self._job = None
        self.dry_run_button.setEnabled(True)
        self.dry_run_summary.setText(f"The dry run failed: {error}")

    def dry_run_ids(self) -> list[int]:
        return [int(self.dry_run_list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.dry_run_list.count())]

    def save(self) -> None:
        for index, rule in enumerate(self._rules):
            problems = rule_problems(rule)
            if problems:
                self.list.setCurrentRow(index)
                self.problems.setText(f"“{rule.name or 'Unnamed rule'}”: " + " ".join(problems))
                return
        self._rules = rules.save_rules(self.ctx.engine, self._rules)
        self.rules_saved.emit()
        self.accept()

    def done(self, result: int) -> None:
        self._cancel.set()  # a dry run still reading stops at its next batch
        super().done(result)
