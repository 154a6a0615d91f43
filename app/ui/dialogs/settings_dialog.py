"""The Settings dialog: edits the profile's Preferences and saves them with OK."""

from __future__ import annotations

import logging
import zoneinfo

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext

log = logging.getLogger("app.ui.settings")

SYSTEM_ZONE = "System time zone"


class SettingsDialog(QDialog):
    """Signals: preferences_saved() after OK wrote the preferences to the profile."""

    preferences_saved = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._ctx = ctx
        prefs = ctx.preferences
        self.agent_name = QLineEdit(prefs.agent_name)
        self.agent_name.setPlaceholderText("Shown to your team on notes and reviews")
        self.sync_interval = QSpinBox()
        self.sync_interval.setRange(15, 3600)
        self.sync_interval.setSingleStep(15)
        self.sync_interval.setSuffix(" s")
        self.sync_interval.setValue(max(15, min(3600, prefs.sync_interval_s)))
        self.auto_accept = QCheckBox("Join Matrix rooms that invite this account directly")
        self.auto_accept.setChecked(prefs.auto_accept_direct_invites)
        self.notifications = QCheckBox("Show a desktop notification for new messages")
        self.notifications.setChecked(prefs.show_notifications)
        self.four_eyes = QCheckBox("Public replies need a reviewer (someone other than the author) before sending")
        self.four_eyes.setChecked(prefs.public_replies_need_review)
        self.time_zone = QComboBox()
        self.time_zone.setEditable(True)
        self.time_zone.addItem(SYSTEM_ZONE)
        self.time_zone.addItems(sorted(zoneinfo.available_timezones()))
        self.time_zone.setCurrentText(prefs.display_time_zone or SYSTEM_ZONE)
        self.error = QLabel()
        self.error.setStyleSheet("color: #C92A2A;")
        self.error.hide()

        form = QFormLayout()
        form.addRow("Your name:", self.agent_name)
        form.addRow("Check for new messages every:", self.sync_interval)
        form.addRow("Time zone:", self.time_zone)
        form.addRow("", self.auto_accept)
        form.addRow("", self.notifications)
        form.addRow("", self.four_eyes)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

    def chosen_zone(self) -> str | None:
        """The zone name to store ("" for the system zone), or None when the typed name is unknown."""
        text = self.time_zone.currentText().strip()
        if text in ("", SYSTEM_ZONE):
            return ""
        return text if text in zoneinfo.available_timezones() else None

    @Slot()
    def _on_buttons_accepted(self) -> None:
        zone = self.chosen_zone()
        if zone is None:
            self._show_error(f"“{self.time_zone.currentText()}” is not a known time zone, e.g. Europe/Berlin.")
            return
        prefs = self._ctx.preferences
        previous = (prefs.agent_name, prefs.sync_interval_s, prefs.auto_accept_direct_invites, prefs.show_notifications,
                    prefs.display_time_zone, prefs.public_replies_need_review)  # fmt: skip
        prefs.agent_name = self.agent_name.text().strip()
        prefs.sync_interval_s = self.sync_interval.value()
        prefs.auto_accept_direct_invites = self.auto_accept.isChecked()
        prefs.show_notifications = self.notifications.isChecked()
        prefs.display_time_zone = zone
        prefs.public_replies_need_review = self.four_eyes.isChecked()
        try:
            self._ctx.save_preferences()
        except OSError as exc:
            (prefs.agent_name, prefs.sync_interval_s, prefs.auto_accept_direct_invites, prefs.show_notifications,
             prefs.display_time_zone, prefs.public_replies_need_review) = previous  # fmt: skip
            log.warning("could not save preferences: %s", exc)
            self._show_error(f"Could not save the settings: {exc.strerror or exc}")
            return
        self.preferences_saved.emit()
        self.accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
