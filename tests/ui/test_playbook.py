"""The playbook in the window, driven by keys and clicks over a real profile: shortcut + Tab, prompted
fields, suggestions, the preview's length check, the editor, deleting, importing with conflicts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox
from sqlalchemy import insert, update

from app.context import AppContext
from app.demo.resources import starter_playbook
from app.domain.models import Identity, MessageKind
from app.store import playbook as store
from app.store.ingest import store_page
from app.store.playbook_file import export_playbook, read_playbook
from app.store.schema import playbook_entries
from app.ui.dialogs.playbook_editor import PlaybookEditor
from app.ui.dialogs.playbook_import import ImportDialog
from app.ui.launch import build_main_window
from app.ui.main_window import MainWindow
from tests.factories import message, page
from tests.ui.helpers import add_mastodon, show_window

CONVERSATIONS = [
    ("Maya Lindqvist", "My package was supposed to arrive last week and it's still not here. Really disappointed."),
    ("Jonas Berg", "Your app crashes every time I switch to the camera. Pixel 8, latest update."),
]


@pytest.fixture
def playbook_window(qtbot, ui_ctx: AppContext) -> MainWindow:  # type: ignore[no-untyped-def]
    account = add_mastodon(ui_ctx)
    fetched = []
    for index, (name, text) in enumerate(CONVERSATIONS):
        first = message(f"m{index}", key=f"k{index}", minutes=index, text=text, kind=MessageKind.MENTION)
        fetched.append(replace(first, author=Identity(f"u{index}", f"@{name.split()[0].lower()}", name)))
    store_page(ui_ctx.engine, account.id, page(*fetched), now=fetched[0].created_at)
    store.apply_import(ui_ctx.engine, store.plan_import(ui_ctx.engine, read_playbook(starter_playbook())))
    ui_ctx.preferences.agent_name = "Sam"
    return show_window(qtbot, build_main_window(ui_ctx))


def open_conversation_with(qtbot, window: MainWindow, contact: str) -> None:  # type: ignore[no-untyped-def]
    model = window.inbox_model
    row = next(r for r in range(model.rowCount()) if model.summary(r).contact_name == contact)
    rect = window.inbox_view.visualRect(model.index(row, 0))
    qtbot.mouseClick(window.inbox_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.composer.conversation_id == model.conversation_id(row)


def usage(window: MainWindow, title: str) -> int:
    return next(e.usage_count for e in store.list_entries(window.ctx.engine) if e.title == title)


def test_shortcut_then_tab_puts_the_rendered_answer_in_the_reply_and_counts_the_use(
    qtbot, playbook_window: MainWindow
) -> None:
    window = playbook_window
    open_conversation_with(qtbot, window, "Maya Lindqvist")
    editor = window.composer.editor
    qtbot.keyClicks(editor, "Thanks for your patience. ;refund")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)

    text = editor.toPlainText()
    assert text.startswith("Thanks for your patience. Hi Maya, you can ask for a full refund within 30 days")
    assert text.endswith("– Sam") and ";refund" not in text and "{{" not in text
    assert editor.hasFocus()  # the Tab expanded the keyword instead of moving on
    entry = next(e for e in store.list_entries(window.ctx.engine) if e.shortcut == ";refund")
    assert entry.usage_count == 1 and entry.last_used_at == window.ctx.clock.now()
    assert window.composer.counter.text() == f"{len(text)} / 500"


def test_tab_after_an_ordinary_word_still_moves_focus(qtbot, playbook_window: MainWindow) -> None:
    window = playbook_window
    open_conversation_with(qtbot, window, "Maya Lindqvist")
    qtbot.keyClicks(window.composer.editor, "see ;refunds")  # not a keyword: one letter too many
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Tab)
    assert window.composer.editor.toPlainText() == "see ;refunds"
    assert not window.composer.editor.hasFocus()
    assert usage(window, "Refund policy") == 0


def test_a_prompted_field_is_asked_for_and_its_answer_inserted(qtbot, playbook_window: MainWindow) -> None:
    window = playbook_window
    open_conversation_with(qtbot, window, "Maya Lindqvist")
    qtbot.keyClicks(window.composer.editor, ";track")
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Tab)
    controller = window.playbook_controller
    qtbot.waitUntil(lambda: controller.prompt is not None and controller.prompt.isVisible())
    dialog = controller.prompt
    assert list(dialog.fields) == ["order number", "dispatch date"]
    insert_button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.keyClicks(dialog.fields["order number"], "NW-48213")
    qtbot.keyClick(dialog.fields["order number"], Qt.Key.Key_Return)
    assert dialog.isVisible() and not insert_button.isEnabled()  # a blank would leave a hole in the text
    qtbot.keyClicks(dialog.fields["dispatch date"], "Monday 2 March")
    qtbot.keyClick(dialog.fields["dispatch date"], Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: controller.prompt is None)
    assert window.composer.editor.toPlainText().startswith(
        "Hi Maya, I've checked order NW-48213 for you: it left our warehouse on Monday 2 March"
    )
    assert usage(window, "Order status with details") == 1


def test_cancelling_the_prompt_inserts_nothing_and_counts_nothing(qtbot, playbook_window: MainWindow) -> None:
    window = playbook_window
    open_conversation_with(qtbot, window, "Maya Lindqvist")
    qtbot.keyClicks(window.composer.editor, "Hello ;track")
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Tab)
    controller = window.playbook_controller
    qtbot.waitUntil(lambda: controller.prompt is not None and controller.prompt.isVisible())
    qtbot.keyClicks(controller.prompt.fields["order number"], "NW-1")  # half filled, then cancelled
    qtbot.keyClick(controller.prompt.fields["order number"], Qt.Key.Key_Escape)

    qtbot.waitUntil(lambda: controller.prompt is None)
    assert window.composer.editor.toPlainText() == "Hello ;track"
    assert usage(window, "Order status with details") == 0
    assert "Nothing inserted" in window.statusBar().currentMessage()


def test_ctrl_shift_p_goes_to_the_suggestions_and_answers_combine_at_the_cursor(
    qtbot, playbook_window: MainWindow
) -> None:
    window = playbook_window
    open_conversation_with(qtbot, window, "Maya Lindqvist")
    panel = window.playbook
    assert panel.suggested_titles()[0] == "Shipping delay"  # her message is about a late delivery

    qtbot.keyClick(
        window.composer.editor, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert panel.list.hasFocus() and panel.list.currentItem().text() == "Shipping delay"
    assert "Hi Maya, I'm sorry your order is taking longer" in panel.preview.text.toPlainText()
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    first = window.composer.editor.toPlainText()
    assert first.startswith("Hi Maya, I'm sorry your order") and window.composer.editor.hasFocus()

    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Return)
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(panel.search, "out of hours")
    assert panel.visible_titles()[0] == "Out-of-hours reply"
    qtbot.keyClick(panel.search, Qt.Key.Key_Down)
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    combined = window.composer.editor.toPlainText()
    assert combined.startswith(first + "\nHi Maya, thanks for your message! Our team is offline")

    rect = panel.list.visualItemRect(panel.list.currentItem())
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # the first click
    qtbot.mouseDClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # and the second
    assert window.composer.editor.toPlainText().count("Our team is offline") == 2  # double-click inserts too
    assert usage(window, "Shipping delay") == 1 and usage(window, "Out-of-hours reply") == 2


def test_the_preview_and_the_composer_mark_text_over_the_platform_limit(qtbot, playbook_window: MainWindow) -> None:
    window = playbook_window
    long = store.create_entry(
        window.ctx.engine,
        store.EntryContent(title="Long story", body="Hi {{ contact.name }}, " + "more words " * 50, shortcut=";long"),
    )
    window.playbook_controller.reload()
    open_conversation_with(qtbot, window, "Jonas Berg")
    panel = window.playbook
    panel.select_entry(long.id)
    rendered = "Hi Jonas Berg, " + ("more words " * 50).rstrip()
    assert panel.preview.rendered == rendered and panel.preview.overflow == len(rendered) - 500
    assert f"{len(rendered) - 500} over the limit" in panel.preview.meta.text()
    (highlight,) = panel.preview.text.extraSelections()
    assert highlight.cursor.selectedText() == rendered[500:]

    qtbot.keyClicks(window.composer.editor, ";long")
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Tab)
    assert window.composer.overflow_text() == rendered[500:]
    (marked,) = window.composer.editor.extraSelections()
    assert marked.cursor.selectedText() == rendered[500:]
    assert not window.composer.send_button.isEnabled()
    assert f"{len(rendered) - 500} characters over Mastodon's limit of 500" in window.statusBar().currentMessage()


def test_a_broken_template_shows_its_error_inline_and_is_never_inserted(qtbot, playbook_window: MainWindow) -> None:
    window = playbook_window
    with window.ctx.engine.begin() as connection:  # as written by an older version, bypassing today's checks
        connection.execute(
            insert(playbook_entries).values(
                uid="old", title="Old answer", body="Hi\n{{ contact.nmae }}", shortcut=";old"
            )
        )
    window.playbook_controller.reload()
    open_conversation_with(qtbot, window, "Maya Lindqvist")
    entry = store.find_by_shortcut(window.ctx.engine, ";old")
    window.playbook.select_entry(entry.id)
    assert window.playbook.preview.error.text().startswith("Line 2: Unknown variable “contact.nmae”")
    assert window.playbook.preview.text.toPlainText() == ""

    qtbot.keyClicks(window.composer.editor, ";old")
    qtbot.keyClick(window.composer.editor, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: window.playbook_controller.message_box is not None)
    assert "Line 2: Unknown variable" in window.playbook_controller.message_box.text()
    assert window.composer.editor.toPlainText() == ";old"
    assert entry.usage_count == store.get_entry(window.ctx.engine, entry.id).usage_count == 0


def test_the_editor_creates_and_edits_answers_and_refuses_a_bad_template(qtbot, playbook_window: MainWindow) -> None:
    window = playbook_window
    open_conversation_with(qtbot, window, "Jonas Berg")
    qtbot.mouseClick(window.playbook.new_button, Qt.MouseButton.LeftButton)
    editor = window.playbook_controller.editor
    assert isinstance(editor, PlaybookEditor) and editor.author.text() == "Sam"
    qtbot.keyClicks(editor.title, "Beta invite")
    qtbot.keyClicks(editor.shortcut, ";beta")
    editor.category.setCurrentText("Product/Beta")
    editor.platform_boxes["mastodon"].setChecked(True)
    qtbot.keyClicks(editor.tags, "beta, testflight")
    qtbot.keyClicks(editor.body, "Hi {{ contact.first_nme }}")
    assert editor.preview.error.text().startswith("Line 1: Unknown variable “contact.first_nme”")
    save = editor.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert editor.isVisible() and "Unknown variable" in editor.error.text()
    assert store.find_by_shortcut(window.ctx.engine, ";beta") is None

    editor.body.setPlainText("Hi {{ contact.first_name }}, you're in the beta!")
    assert editor.preview.text.toPlainText() == "Hi Jonas, you're in the beta!"
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    saved = store.find_by_shortcut(window.ctx.engine, ";beta")
    assert saved is not None and saved.category == "Product/Beta" and saved.content.tags == ("beta", "testflight")
    assert saved.content.platforms == ("mastodon",) and saved.content.author == "Sam"
    assert window.playbook.current_entry_id() == saved.id

    window.playbook.list.setFocus()
    qtbot.keyClick(window.playbook.list, Qt.Key.Key_F2)
    editor = window.playbook_controller.editor
    editor.title.selectAll()
    qtbot.keyClicks(editor.title, "Beta programme invite")
    qtbot.mouseClick(editor.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert store.get_entry(window.ctx.engine, saved.id).title == "Beta programme invite"
    assert "Beta programme invite" in window.playbook.visible_titles()


def test_delete_asks_first_and_then_removes_the_answer(qtbot, playbook_window: MainWindow) -> None:
    window = playbook_window
    panel = window.playbook
    target = store.find_by_shortcut(window.ctx.engine, ";ooh")
    panel.select_entry(target.id)
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    box = window.playbook_controller.message_box
    assert box is not None and "Out-of-hours reply" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert store.find_by_shortcut(window.ctx.engine, ";ooh") is not None

    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    box = window.playbook_controller.message_box
    delete = next(b for b in box.buttons() if b.text() == "Delete")
    qtbot.mouseClick(delete, Qt.MouseButton.LeftButton)
    assert store.find_by_shortcut(window.ctx.engine, ";ooh") is None
    assert "Out-of-hours reply" not in panel.visible_titles()


def test_importing_a_conflicting_file_changes_nothing_until_the_user_chooses(
    qtbot, playbook_window: MainWindow, tmp_path: Path
) -> None:
    window = playbook_window
    engine = window.ctx.engine
    shared = tmp_path / "team.yaml"
    export_playbook(engine, shared)
    shared.write_text(
        shared.read_text(encoding="utf-8").replace("within 30 days of delivery", "within 14 days of delivery"),
        encoding="utf-8",
    )
    before = {e.uid: e.content for e in store.list_entries(engine)}

    dialog = window.playbook_controller.import_file(shared)
    assert isinstance(dialog, ImportDialog) and dialog.isVisible()
    assert [c.uid for c in dialog.plan.conflicts] == ["starter-refund-policy"]
    assert "within 30 days" in dialog.mine.toPlainText() and "within 14 days" in dialog.theirs.toPlainText()
    assert not dialog.import_button.isEnabled()  # no choice made yet
    assert {e.uid: e.content for e in store.list_entries(engine)} == before

    qtbot.mouseClick(dialog.take_theirs, Qt.MouseButton.LeftButton, pos=QPoint(8, dialog.take_theirs.height() // 2))
    assert dialog.import_button.isEnabled() and {e.uid: e.content for e in store.list_entries(engine)} == before
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    refund = store.find_by_shortcut(engine, ";refund")
    assert "within 14 days" in refund.body and len(store.list_entries(engine)) == len(before)
    assert "1 updated from the file" in window.statusBar().currentMessage()


def test_cancelling_an_import_changes_nothing(qtbot, playbook_window: MainWindow, tmp_path: Path) -> None:
    window = playbook_window
    engine = window.ctx.engine
    with engine.begin() as connection:
        connection.execute(update(playbook_entries).where(playbook_entries.c.shortcut == ";dm").values(body="Mine"))
    before = {e.uid: e.content for e in store.list_entries(engine)}
    dialog = window.playbook_controller.import_file(starter_playbook())
    qtbot.mouseClick(dialog.all_theirs, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert {e.uid: e.content for e in store.list_entries(engine)} == before


def test_a_new_profile_offers_the_starter_playbook(qtbot, ui_ctx: AppContext) -> None:
    window = show_window(qtbot, build_main_window(ui_ctx))
    panel = window.playbook
    assert panel.empty.isVisible() and panel.visible_titles() == []
    qtbot.mouseClick(panel.starter_button, Qt.MouseButton.LeftButton)
    assert len(panel.visible_titles()) == len(read_playbook(starter_playbook())) >= 20
    assert not panel.empty.isVisible()
    assert window.playbook_controller.action_starter in window.findChildren(
        type(window.playbook_controller.action_starter)
    )


def test_the_editor_tints_the_template_line_an_error_names(qtbot, playbook_window: MainWindow) -> None:
    window = playbook_window
    window.playbook_controller.edit_entry(store.find_by_shortcut(window.ctx.engine, ";refund").id)
    editor = window.playbook_controller.editor
    editor.body.setPlainText("Hi,\na line long enough to wrap " + "and wrap " * 40 + "\n{{ contact.nmae }}")
    assert editor.preview.error.isVisible() and editor.preview.error_line == 3
    (tint,) = editor.body.extraSelections()
    assert tint.cursor.block().text() == "{{ contact.nmae }}"  # the third paragraph, however the second wraps
    editor.body.setPlainText("Hi {{ contact.name }}")
    assert editor.body.extraSelections() == [] and not editor.preview.error.isVisible()
