"""Wires the playbook pane to the composer and the store: inserting answers (asking for prompted fields
first), the editor, deleting, importing and exporting the shared file, and the starter playbook.

All of it is quick local work on the GUI thread: a few indexed reads and single-row writes.
Signals: status_changed(message) for the status bar.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.context import AppContext
from app.demo.resources import starter_playbook
from app.domain.playbook import ConversationFacts, EntryContent, PlaybookEntry, PlaybookError
from app.domain.templates import PLATFORM_NAMES, TemplateError, TemplateVariables, analyse, render, variables_for
from app.errors import KnownError
from app.store import playbook as store
from app.store.playbook import Choice, ImportPlan, apply_import, plan_import
from app.store.playbook_file import export_playbook, read_playbook
from app.ui.dialogs.playbook_editor import PlaybookEditor
from app.ui.dialogs.playbook_import import ImportDialog
from app.ui.dialogs.playbook_prompt import PromptDialog
from app.ui.timefmt import display_zone
from app.ui.widgets.composer import Composer
from app.ui.widgets.playbook_panel import PlaybookPanel

log = logging.getLogger("app.ui.playbook")


class PlaybookController(QObject):
    status_changed = Signal(str)

    def __init__(self, ctx: AppContext, panel: PlaybookPanel, composer: Composer, window: QWidget) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.panel = panel
        self.composer = composer
        self.host = window
        self.facts: ConversationFacts | None = None
        self.prompt: PromptDialog | None = None
        self.editor: PlaybookEditor | None = None
        self.import_dialog: ImportDialog | None = None
        self.message_box: QMessageBox | None = None

        self.action_new = self._action("&New answer…", "Ctrl+Shift+N", self.new_entry)
        self.action_import = self._action("&Import playbook…", "Ctrl+Shift+I", self.choose_import_file)
        self.action_export = self._action("&Export playbook…", "Ctrl+Shift+S", self.choose_export_file)
        self.action_starter = self._action("Add the &starter playbook", "Ctrl+Alt+S", self.add_starter)
        panel.add_menu_actions(
            [self.action_new, None, self.action_import, self.action_export, None, self.action_starter]
        )

        panel.entry_activated.connect(self.insert_entry)
        panel.new_requested.connect(self.new_entry)
        panel.edit_requested.connect(self.edit_entry)
        panel.duplicate_requested.connect(self.duplicate_entry)
        panel.delete_requested.connect(self.delete_entry)
        panel.starter_button.clicked.connect(self.add_starter)
        panel.import_button.clicked.connect(self.choose_import_file)
        composer.conversation_shown.connect(self._on_composer_conversation_shown)
        composer.shortcut_triggered.connect(self._on_composer_shortcut_triggered)
        self.reload()

    def _action(self, text: str, keys: str | None, slot: object) -> QAction:
        action = QAction(text, self.host)
        if keys:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.host.addAction(action)
        action.triggered.connect(slot)
        return action

    # --- state ---------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.panel.set_entries(store.list_entries(self.ctx.engine))
        self.composer.set_shortcuts(store.shortcuts(self.ctx.engine))

    def variables(self) -> TemplateVariables:
        prefs = self.ctx.preferences
        return variables_for(self.facts, agent_name=prefs.agent_name, zone=display_zone(prefs.display_time_zone))

    def platform_name(self) -> str:
        return "" if self.facts is None else PLATFORM_NAMES.get(self.facts.platform, self.facts.platform.value)

    def refresh_context(self) -> None:
        self.panel.set_context(self.facts, self.variables(), self.composer.limit, self.platform_name())

    @Slot(int)
    def _on_composer_conversation_shown(self, conversation_id: int) -> None:
        self.facts = None if conversation_id < 0 else store.conversation_facts(self.ctx.engine, conversation_id)
        self.refresh_context()

    # --- inserting -----------------------------------------------------------------------------------
    @Slot(str)
    def _on_composer_shortcut_triggered(self, keyword: str) -> None:
        entry = store.find_by_shortcut(self.ctx.engine, keyword)
        if entry is None:  # deleted or renamed elsewhere (the CLI, an import) since the list was read
            self.reload()
            self.status_changed.emit(f"No answer has the shortcut {keyword} any more.")
            return
        self.insert_entry(entry.id, keyword=keyword)

    @Slot(int)
    def insert_entry(self, entry_id: int, keyword: str = "") -> None:
        """Render the answer for the open conversation and put it at the composer's cursor (in place of
        `keyword` when given). Prompted fields are asked first; cancelling inserts nothing."""
        conversation_id = self.composer.conversation_id
        if conversation_id is None:
            self.status_changed.emit("Select a conversation to insert an answer into its reply.")
            return
        try:
            entry = store.get_entry(self.ctx.engine, entry_id)
            prompts = analyse(entry.body).prompts
        except KnownError as exc:
            self._show_error("This answer cannot be inserted", exc)
            return
        if not prompts:
            self._finish_insert(entry, {}, keyword, conversation_id)
            return
        dialog = PromptDialog(entry.title, prompts, self.host)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._finish_insert(entry, dialog.answers(), keyword, conversation_id))
        dialog.rejected.connect(lambda: self.status_changed.emit(f"Nothing inserted: “{entry.title}” was cancelled."))
        dialog.finished.connect(self._on_prompt_finished)
        self.prompt = dialog
        dialog.open()

    @Slot()
    def _on_prompt_finished(self) -> None:
        self.prompt = None

    def _finish_insert(
        self, entry: PlaybookEntry, answers: Mapping[str, str], keyword: str, conversation_id: int
    ) -> None:
        if self.composer.conversation_id != conversation_id:
            self.status_changed.emit("Nothing inserted: another conversation was opened meanwhile.")
            return
        try:
            text = render(entry.body, self.variables(), answers)
        except TemplateError as exc:
            self._show_error(f"“{entry.title}” cannot be inserted", exc)
            return
        inserted = self.composer.replace_keyword(keyword, text) if keyword else self.composer.insert_text(text)
        if not inserted:
            self.status_changed.emit("Nothing inserted: the shortcut is no longer before the cursor.")
            return
        store.record_use(self.ctx.engine, entry.id, self.ctx.clock.now())
        # Updated in place, not rebuilt: this may run inside the list's own double-click or key event.
        self.panel.update_entry(store.get_entry(self.ctx.engine, entry.id))
        over = len(self.composer.editor.toPlainText()) - self.composer.limit
        message = f"Inserted “{entry.title}”."
        if over > 0:
            where = self.platform_name() or "this platform"
            message += f" The reply is {over} characters over {where}'s limit of {self.composer.limit}."
        self.status_changed.emit(message)

    # --- editing -------------------------------------------------------------------------------------
    @Slot()
    def new_entry(self) -> None:
        self._open_editor(None, EntryContent(title="", body="", author=self.ctx.preferences.agent_name))

    @Slot(int)
    def edit_entry(self, entry_id: int) -> None:
        entry = self.panel.entry(entry_id)
        if entry is not None:
            self._open_editor(entry, None)

    @Slot(int)
    def duplicate_entry(self, entry_id: int) -> None:
        entry = self.panel.entry(entry_id)
        if entry is not None:
            self._open_editor(None, replace(entry.content, title=f"{entry.title} (copy)", shortcut=""))

    def _open_editor(self, entry: PlaybookEntry | None, draft: EntryContent | None) -> PlaybookEditor:
        editor = PlaybookEditor(
            self.ctx.engine,
            entry=entry,
            draft=draft,
            categories=store.categories(self.ctx.engine),
            variables=self.variables() if self.facts is not None else None,
            limit=self.composer.limit,
            platform_name=self.platform_name(),
            parent=self.host,
        )
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.entry_saved.connect(self._on_editor_entry_saved)
        editor.finished.connect(lambda _result: setattr(self, "editor", None))
        self.editor = editor
        editor.open()
        return editor

    @Slot(int)
    def _on_editor_entry_saved(self, entry_id: int) -> None:
        self.reload()
        self.panel.select_entry(entry_id)
        self.status_changed.emit("Answer saved.")

    @Slot(int)
    def delete_entry(self, entry_id: int) -> None:
        entry = self.panel.entry(entry_id)
        if entry is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete answer",
            f"Delete “{entry.title}” from the playbook?",
            QMessageBox.StandardButton.Cancel,
            self.host,
        )
        box.setObjectName("playbookDelete")
        box.setInformativeText("Colleagues who import your exported playbook keep their copy.")
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished() -> None:
            if box.clickedButton() is delete:
                store.delete_entry(self.ctx.engine, entry_id)
                self.reload()
                self.status_changed.emit(f"Deleted “{entry.title}”.")

        box.finished.connect(finished)
        box.finished.connect(lambda _result: setattr(self, "message_box", None))
        self.message_box = box
        box.open()

    # --- the shared file -----------------------------------------------------------------------------
    @Slot()
    def choose_import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.host, "Import playbook", "", "Playbook (*.yaml *.yml)")
        if path:
            self.import_file(Path(path))

    @Slot()
    def choose_export_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.host, "Export playbook", "playbook.yaml", "Playbook (*.yaml)")
        if path:
            self.export_file(Path(path))

    def export_file(self, path: Path) -> None:
        try:
            count = export_playbook(self.ctx.engine, path)
        except KnownError as exc:
            self._show_error("The playbook was not exported", exc)
            return
        self.status_changed.emit(f"Exported {count} answers to {path.name}.")

    @Slot()
    def add_starter(self) -> None:
        self.import_file(starter_playbook(), confirm=False)

    def import_file(self, path: Path, *, confirm: bool = True) -> ImportDialog | None:
        """Read and compare the file; with conflicts (or `confirm`) show what it would do and wait for the
        user's choices. Returns the dialog when one is open; nothing is written before Import."""
        try:
            plan = plan_import(self.ctx.engine, read_playbook(path))
        except KnownError as exc:
            self._show_error(f"{path.name} was not imported", exc)
            return None
        if not plan.added and not plan.conflicts:
            self.status_changed.emit(f"Nothing new in {path.name}: {len(plan.unchanged)} answers already match.")
            return None
        if not plan.conflicts and not confirm:
            self._apply(plan, {}, path.name)
            return None
        dialog = ImportDialog(plan, path.name, self.host)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._apply(plan, dialog.choices(), path.name))
        dialog.rejected.connect(lambda: self.status_changed.emit(f"Import of {path.name} cancelled; nothing changed."))
        dialog.finished.connect(lambda _result: setattr(self, "import_dialog", None))
        self.import_dialog = dialog
        dialog.open()
        return dialog

    def _apply(self, plan: ImportPlan, choices: Mapping[str, Choice], source: str) -> None:
        try:
            result = apply_import(self.ctx.engine, plan, choices)
        except PlaybookError as exc:
            self._show_error(f"{source} was not imported", exc)
            return
        self.reload()
        self.status_changed.emit(
            f"Imported {source}: {result.added} added, {result.replaced} updated from the file, "
            f"{result.kept} kept as they were."
        )

    def _show_error(self, title: str, error: KnownError) -> None:
        log.info("%s: %s", title, error)
        box = QMessageBox(QMessageBox.Icon.Warning, title, str(error), QMessageBox.StandardButton.Ok, self.host)
        box.setObjectName("playbookError")
        if error.hint:
            box.setInformativeText(error.hint)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: setattr(self, "message_box", None))
        self.message_box = box
        box.open()
        self.status_changed.emit(f"{title}: {error}")
