"""Settings save to the profile, About shows the version, Accounts runs slow calls off the GUI thread."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

import app
from app.context import AppContext
from app.domain.models import AccountRef, Platform
from app.errors import AuthError
from app.settings import load_preferences
from app.ui.dialogs.about_dialog import AboutDialog
from app.ui.dialogs.accounts_dialog import AccountsDialog
from app.ui.dialogs.settings_dialog import SettingsDialog
from app.ui.main_window import MainWindow


def test_settings_dialog_saves_preferences_to_the_profile(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.findChild(SettingsDialog) is not None)
    dialog = window.findChild(SettingsDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.agent_name.clear()
    qtbot.keyClicks(dialog.agent_name, "Sam from Support")
    dialog.sync_interval.setValue(120)
    dialog.notifications.setChecked(False)
    dialog.time_zone.setCurrentText("Europe/Berlin")
    qtbot.mouseClick(dialog.four_eyes, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)

    saved = load_preferences(window.ctx.paths.settings_file)
    assert saved.agent_name == "Sam from Support"
    assert saved.sync_interval_s == 120
    assert saved.show_notifications is False
    assert saved.display_time_zone == "Europe/Berlin"
    assert saved.public_replies_need_review is True
    assert window.outbox_view.reviewer.text() == "Sam from Support"
    assert window.ctx.preferences == saved
    assert not dialog.isVisible()


def test_settings_refuse_an_unknown_time_zone_and_save_nothing(qtbot, ui_ctx: AppContext) -> None:
    dialog = SettingsDialog(ui_ctx)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.time_zone.setCurrentText("Mars/Olympus_Mons")  # not a zone
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "not a known time zone" in dialog.error.text()
    assert not ui_ctx.paths.settings_file.exists()


def test_about_shows_the_version_and_app_id(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_F1, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.findChild(AboutDialog) is not None)
    about = window.findChild(AboutDialog)
    assert about.version_label.text() == f"Version {app.version()}"
    assert app.APP_ID in about.app_id_label.text()
    assert app.version() not in ("", "0+unknown")


class StandInAccountService:
    """Stands in for app.sync.account_service (written alongside, not in this branch yet): same function
    names and arguments; it records which thread each call ran on and can be told to fail."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        self.release = threading.Event()
        self.fail_with: Exception | None = None

    def _record(self, name: str) -> None:
        self.calls.append((name, threading.current_thread().name))

    def describe_accounts(self, ctx: AppContext) -> list[dict[str, Any]]:
        self._record("describe")
        return list(self.rows)

    def add_mastodon_account(self, ctx: AppContext, instance_url: str, token: str, name: str | None = None) -> Any:
        self._record("add_mastodon")
        self.release.wait(10)  # a slow sign-in: the dialog must stay responsive meanwhile
        if self.fail_with:
            raise self.fail_with
        self.rows.append({"id": 1, "name": name or "brand", "platform": "mastodon", "handle": "@brand@social.example",
                          "state": "ok", "state_detail": "", "last_synced": None, "needs_sign_in": False,
                          "open_gaps": []})  # fmt: skip
        return AccountRef(id=1, platform=Platform.MASTODON, name=name or "brand", base_url=instance_url)

    def remove_account(self, ctx: AppContext, name: str, delete_data: bool = True) -> None:
        self._record(f"remove {name} delete_data={delete_data}")
        self.rows = [row for row in self.rows if row["name"] != name]


def test_accounts_dialog_signs_in_off_the_gui_thread_and_shows_the_platform_error(qtbot, ui_ctx: AppContext) -> None:
    service = StandInAccountService()
    dialog = AccountsDialog(ui_ctx, service=service)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy)

    service.fail_with = AuthError("The instance refused the token.", hint="Create a new access token.")
    qtbot.mouseClick(dialog.add_buttons["mastodon"], Qt.MouseButton.LeftButton)
    sign_in = dialog.sign_in_dialog
    assert sign_in is not None
    form = sign_in.form
    form.instance.setText("https://social.example")
    form.token.setText("bad-token")
    qtbot.mouseClick(form.token_button, Qt.MouseButton.LeftButton)
    assert sign_in.busy and not form.token_button.isEnabled()  # busy while the call runs
    service.release.set()
    qtbot.waitUntil(lambda: not sign_in.busy)
    assert "The instance refused the token." in sign_in.message.text()
    assert "Create a new access token." in sign_in.message.text()
    assert form.token_button.isEnabled() and sign_in.isVisible()
    gui_thread = threading.current_thread().name
    assert all(thread != gui_thread for _, thread in service.calls)

    service.fail_with = None
    form.name.setText("support")
    form.token.setText("good-token")
    qtbot.mouseClick(form.token_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and not dialog.busy)
    assert dialog.sign_in_dialog is None  # closed (and deleted) once the account was added
    assert dialog.table.item(0, 0).text() == "support"
    assert "Added support." in dialog.message.text()


def test_removing_an_account_asks_first_and_deletes_its_data(qtbot, ui_ctx: AppContext) -> None:
    service = StandInAccountService()
    service.release.set()
    service.add_mastodon_account(ui_ctx, "https://social.example", "token", "brand")
    dialog = AccountsDialog(ui_ctx, service=service)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    questions: list[str] = []

    def user_says_no(question: str) -> bool:
        questions.append(question)
        return False

    dialog.confirm = user_says_no
    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert "cached conversation" in questions[0] and service.rows

    dialog.confirm = lambda question: True
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0 and not dialog.busy)
    assert "remove brand delete_data=True" in [name for name, _ in service.calls]


def test_accounts_dialog_without_the_sync_layer_says_so(qtbot, ui_ctx: AppContext, monkeypatch) -> None:
    monkeypatch.setattr("app.ui.dialogs.accounts_dialog.default_account_service", lambda: None)
    dialog = AccountsDialog(ui_ctx)
    qtbot.addWidget(dialog)
    assert "not available" in dialog.message.text()
    assert not any(button.isEnabled() for button in dialog.add_buttons.values())
