"""The About box: name, version, app id and what Parley is for."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app import APP_ID, APP_NAME, version
from app.ui.resources import app_icon


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(72, 72))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        name = QLabel(APP_NAME)
        name.setStyleSheet("font-size: 18pt; font-weight: 600;")
        self.version_label = QLabel(f"Version {version()}")
        self.version_label.setObjectName("version")
        self.version_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        blurb = QLabel(
            "Every customer conversation from every social account in one inbox, "
            "with the team's playbook and response-time timers. Works offline from a local cache."
        )
        blurb.setWordWrap(True)
        self.app_id_label = QLabel(f"Application id: {APP_ID}")
        self.app_id_label.setObjectName("appId")
        self.app_id_label.setStyleSheet("color: #687083;")
        self.app_id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        licence = QLabel("Released under the MIT licence.")
        licence.setStyleSheet("color: #687083;")
        text = QVBoxLayout()
        text.addWidget(name)
        text.addWidget(self.version_label)
        text.addSpacing(8)
        text.addWidget(blurb)
        text.addSpacing(8)
        text.addWidget(self.app_id_label)
        text.addWidget(licence)
        body = QHBoxLayout()
        body.addWidget(icon)
        body.addSpacing(12)
        body.addLayout(text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 22, 22, 16)
        layout.addLayout(body)
        layout.addWidget(buttons)
        self.setFixedWidth(460)
