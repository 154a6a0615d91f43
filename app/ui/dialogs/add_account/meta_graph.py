"""Facebook Page and Instagram sign-in forms: the Page id and a Page access token (kept in the keyring only)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QLineEdit, QPushButton

from app.domain.models import Platform
from app.platforms.graph_api import DEFAULT_GRAPH_URL
from app.ui.dialogs.add_account.base import SignInDialog, SignInForm

_HELP = (
    "Make a Page access token for your Meta app in the Graph API Explorer or Meta Business Suite, with "
    "pages_messaging, pages_read_engagement and pages_manage_engagement"
    "{instagram}. Meta must approve these permissions (app review) for Pages you do not own."
)


class FacebookForm(SignInForm):
    """Adding asks for the Page id and token; signing in again asks only for a new token of the same Page."""

    platform = Platform.FACEBOOK.value
    title = "Facebook Page"
    instagram_permissions = ""

    def __init__(self, host: SignInDialog, account: dict[str, Any] | None = None) -> None:
        super().__init__(host, account)
        self.page_id = QLineEdit()
        self.page_id.setPlaceholderText("the Page's numeric id, e.g. 104512345678901")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Page access token (EAA…)")
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional, e.g. support")
        self.graph_url = QLineEdit(str(account["base_url"]) if account else DEFAULT_GRAPH_URL)
        self.graph_url.setReadOnly(account is not None)
        self.human_agent = QCheckBox("The app has Meta's Human Agent permission (answer messages for 7 days)")
        self.help = QLabel(_HELP.format(instagram=self.instagram_permissions))
        self.help.setWordWrap(True)
        self.help.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.add_button = QPushButton("Sign in again" if account else "Add")
        self.add_button.setDefault(True)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow(self.help)
        if account is None:
            layout.addRow("Page id:", self.page_id)
        layout.addRow("Page access token:", self.token)
        if account is None:
            layout.addRow("Name in Parley:", self.name)
            layout.addRow("", self.human_agent)
            layout.addRow("Graph API address:", self.graph_url)
        layout.addRow("", self.add_button)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.token.returnPressed.connect(self._on_add_button_clicked)

    @Slot()
    def _on_add_button_clicked(self) -> None:
        page_id, token = self.page_id.text().strip(), self.token.text().strip()
        problem = "" if token else "Please paste the Page access token."
        if not page_id and self.account is None:
            problem = "Please give the Page id."
        problem = problem or self.check_address(self.graph_url.text())
        if problem:
            self.host.say(problem, error=True)
            return
        service, ctx = self.host.service, self.host.ctx
        self.token.clear()  # the token goes to the keyring, nowhere else
        self.host.say("Checking the token with Meta…")
        if self.account is not None:
            account_id, account_name = int(self.account["id"]), str(self.account["name"])

            def again() -> tuple[str, int]:
                service.reauthenticate(ctx, account_id, token)
                return f"{account_name} is signed in again.", account_id

            self.host.run(again, f"sign in to {self.title} again", self._done)
            return
        platform, name = Platform(self.platform), self.name.text().strip() or None
        graph_url, human_agent = self.graph_url.text().strip(), self.human_agent.isChecked()

        def add() -> tuple[str, int]:
            added = service.add_graph_account(
                ctx, platform, page_id, token, name, graph_url=graph_url, human_agent=human_agent
            )
            return f"Added {added.name}.", int(added.id)

        self.host.run(add, f"add a {self.title}", self._done)

    def _done(self, result: tuple[str, int]) -> None:
        self.host.finish(*result)


class InstagramForm(FacebookForm):
    """The Instagram professional account linked to a Page, reached with that Page's token."""

    platform = Platform.INSTAGRAM.value
    title = "Instagram account"
    instagram_permissions = ", instagram_basic, instagram_manage_messages and instagram_manage_comments"
