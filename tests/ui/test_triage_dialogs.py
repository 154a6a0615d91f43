"""The tags-and-team editor and the rules editor: edits land in the store, bad input is explained, not saved."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from app.domain.rules import MatchMode, Rule, RuleActions, RuleConditions
from app.store import rules, triage
from app.ui.dialogs.lists_dialog import ListsDialog
from app.ui.dialogs.rules_dialog import RulesDialog
from app.ui.main_window import MainWindow


def test_tags_and_team_are_edited_and_the_sidebar_follows(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(
        window.inbox_view, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: window.findChild(ListsDialog) is not None)
    dialog = window.findChild(ListsDialog)
    dialog.activateWindow()  # as a window manager would: the keys now go to the dialog, not the inbox
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.new_tag.setFocus()
    engine = window.ctx.engine
    qtbot.keyClicks(dialog.new_tag, "shipping")
    qtbot.keyClick(dialog.new_tag, Qt.Key.Key_Return)
    assert triage.list_tags(engine)[-1] == "shipping" and dialog.isVisible()  # Enter added, did not close
    qtbot.keyClicks(dialog.new_tag, "Praise")  # a duplicate, in another case
    qtbot.keyClick(dialog.new_tag, Qt.Key.Key_Return)
    assert triage.list_tags(engine).count("praise") == 1 and "Praise" not in triage.list_tags(engine)
    dialog.new_member.setText("   ")
    qtbot.keyClick(dialog.new_member, Qt.Key.Key_Return)
    assert "Type a department" in dialog.error.text()
    qtbot.keyClicks(dialog.new_member, "Legal")
    qtbot.keyClick(dialog.new_member, Qt.Key.Key_Return)
    dialog.team.setCurrentRow(dialog.team.count() - 1)
    dialog._on_member_up()
    assert triage.list_assignees(engine)[-2:] == ["Legal", "R&D"]
    dialog.tags.setCurrentRow(0)
    dialog._on_remove_tag()
    assert "pre-purchase" not in triage.list_tags(engine)
    dialog.reject()
    qtbot.waitUntil(lambda: "tag:shipping" in window.sidebar.keys() and "assignee:Legal" in window.sidebar.keys())
    assert "tag:pre-purchase" not in window.sidebar.keys()


def test_the_rules_editor_refuses_incomplete_rules_and_saves_order_modes_and_switches(
    qtbot, window: MainWindow
) -> None:
    engine = window.ctx.engine
    rules.save_rules(engine, [Rule("First", RuleConditions(keywords=("a",)), RuleActions(tags=("bug",)))])
    dialog = RulesDialog(window.ctx, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.add_rule()
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)  # the new rule has no condition and no action
    assert "at least one condition" in dialog.problems.text() and "at least one action" in dialog.problems.text()
    assert dialog.isVisible() and len(rules.list_rules(engine)) == 1
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "Spam")
    qtbot.keyClicks(dialog.keywords, "casino, crypto bonus")
    dialog.status.setCurrentIndex(dialog.status.findData("closed"))
    dialog.mode_first.setChecked(True)
    dialog._move(-1)  # Spam first
    dialog.list.item(1).setCheckState(Qt.CheckState.Unchecked)  # "First" switched off
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    spam, first = rules.list_rules(engine)
    assert (spam.name, spam.conditions.keywords, spam.mode, spam.enabled) == (
        "Spam", ("casino", "crypto bonus"), MatchMode.FIRST, True)  # fmt: skip
    assert spam.actions.status is not None and spam.actions.status.value == "closed"
    assert (first.name, first.enabled) == ("First", False)
