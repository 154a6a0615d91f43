"""The thread pane: one conversation's messages rendered defensively, with no remote loads and visible links.

Message bodies arrive sanitised (app.domain.html) but are sanitised again here before display, because the
view must stay safe even if a stored body predates a sanitiser fix. The browser refuses every resource
(no remote or local images, no style sheets), never follows a link by itself, and shows each link's target
next to its label; a link opens in the system browser only when the user clicks it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QLabel, QTextBrowser, QVBoxLayout, QWidget

from app.domain.html import sanitize_html, text_to_html
from app.domain.models import (
    ConversationStatus,
    ConversationSummary,
    Direction,
    InternalNote,
    MessageKind,
    StoredMessage,
    Visibility,
)
from app.domain.sentiment import is_likely_complaint
from app.domain.triage import Priority
from app.ui import theme
from app.ui.timefmt import exact, relative
from app.ui.widgets.note_editor import NOTE_BG, NOTE_LINE, NOTE_TEXT

SAFE_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_HREF = re.compile(r'\bhref="([^"]*)"', re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


class SafeTextBrowser(QTextBrowser):
    """A text browser that loads nothing and opens links only on a click, through `open_url`.

    Signals: link_opened(QUrl) after a clicked safe link was handed to the system browser.
    """

    link_opened = Signal(QUrl)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.refused_resources: list[str] = []
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.anchorClicked.connect(self._on_browser_anchor_clicked)

    def loadResource(self, type: int, name: QUrl | str) -> Any:  # noqa: A002 - Qt's signature
        # Images, style sheets and anything else a body refers to stay unloaded: they would reveal to a
        # sender that (and when) the message was read, and local file URLs could read the user's files.
        self.refused_resources.append(name.toString() if isinstance(name, QUrl) else str(name))
        return None

    @Slot(QUrl)
    def _on_browser_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme().lower() in SAFE_LINK_SCHEMES:
            self.open_url(url)
            self.link_opened.emit(url)


def show_link_targets(safe_html: str) -> str:
    """Write each link's target after its label, "label (https://target)", unless the label is the target."""

    def replace(match: re.Match[str]) -> str:
        href_match = _HREF.search(match.group(1))
        if href_match is None:
            return match.group(2)  # a link whose target the sanitiser removed (javascript:) is plain text
        target = html.unescape(href_match.group(1))
        label = html.unescape(_TAG.sub("", match.group(2))).strip()
        anchor = f'<a href="{html.escape(target, quote=True)}">{match.group(2)}</a>'
        if label.rstrip("/").removeprefix("https://").removeprefix("http://") == target.rstrip("/").removeprefix(
            "https://"
        ).removeprefix("http://"):
            return anchor
        return f'{anchor} <span style="color:{theme.TEXT_MUTED.name()}">({html.escape(target)})</span>'

    return _ANCHOR.sub(replace, safe_html)


def message_body_html(message: StoredMessage) -> str:
    body = sanitize_html(message.html) if message.html else text_to_html(message.text)
    return show_link_targets(body)


class ThreadView(QFrame):
    """Header plus the defensive browser; `show_thread` renders a conversation, `clear` the empty state."""

    def __init__(
        self, now: Callable[[], datetime], zone: Callable[[], tzinfo | None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pane")
        self._now = now
        self._zone = zone
        self.title = QLabel()
        self.title.setObjectName("paneTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("paneSubtitle")
        self.subtitle.setWordWrap(True)
        self.policy = QLabel()
        self.policy.setObjectName("threadPolicy")
        self.policy.setWordWrap(True)
        self.policy.setStyleSheet(f"color: {theme.TEXT_MUTED.name()}; padding: 0 14px 6px 14px;")
        self.browser = SafeTextBrowser(self)
        self.browser.setObjectName("thread")
        self.browser.setAccessibleName("Conversation")
        self.browser.document().setDocumentMargin(14)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.policy)
        separator = QFrame()
        separator.setFrameShape(QFrame.Shape.HLine)
        separator.setStyleSheet(f"color: {theme.LINE.name()};")
        layout.addWidget(separator)
        layout.addWidget(self.browser, 1)
        self.clear()

    def clear(self) -> None:
        self.title.setText("No conversation selected")
        self.subtitle.setText("Choose a conversation in the inbox to read it here.")
        self.show_policy("")
        self.browser.setHtml("")

    def show_thread(
        self,
        summary: ConversationSummary,
        messages: Sequence[StoredMessage],
        notes: Sequence[InternalNote] = (),
        *,
        keep_scroll: bool = False,
    ) -> None:
        """Render the conversation; with `keep_scroll` (a live update of the same one) the reader stays where
        they were, or at the end when they were reading the end."""
        name = summary.contact_name or summary.contact_handle or "Unknown contact"
        self.title.setText(name)
        self.subtitle.setText("  ·  ".join(p for p in self._facts(summary) if p))
        scrollbar = self.browser.verticalScrollBar()
        was_at_end = scrollbar.value() >= scrollbar.maximum() - 4
        position = scrollbar.value()
        self.browser.setHtml(self._thread_html(summary, messages, notes))
        if keep_scroll and not was_at_end:
            scrollbar.setValue(position)
        else:
            scrollbar.setValue(scrollbar.maximum())

    def show_policy(self, text: str) -> None:
        """The response-time policy the conversation is held to, and where its clock stands."""
        self.policy.setText(text)
        self.policy.setVisible(bool(text))

    def _facts(self, summary: ConversationSummary) -> list[str]:
        parts = [summary.contact_handle, f"{summary.account_name} on {summary.platform.value.title()}"]
        parts.append(f"{summary.message_count} message{'s' if summary.message_count != 1 else ''}")
        status = summary.status.value.title()
        if summary.status is ConversationStatus.SNOOZED and summary.snoozed_until is not None:
            status += f" until {exact(summary.snoozed_until, self._zone())}"
        parts.append(status)
        if summary.priority > Priority.NORMAL or summary.priority < Priority.NORMAL:
            parts.append(f"{Priority(max(-1, min(2, summary.priority))).label} priority")
        if is_likely_complaint(summary.sentiment):
            parts.append("▼ likely complaint")
        if summary.assignee:
            parts.append(f"→ {summary.assignee}")
        return parts

    def _thread_html(
        self, summary: ConversationSummary, messages: Sequence[StoredMessage], notes: Sequence[InternalNote] = ()
    ) -> str:
        now = self._now()
        zone = self._zone()
        authors = {m.platform_message_id: m.author_name or m.author_handle for m in messages}
        timeline: list[tuple[datetime, int, str]] = [
            (m.created_at, 0, self._message_html(m, authors, now, zone, summary)) for m in messages
        ]
        timeline += [(n.created_at, 1, self._note_html(n, now, zone, summary)) for n in notes]
        timeline.sort(key=lambda entry: (entry[0], entry[1]))
        blocks = [html_block for _when, _kind, html_block in timeline]
        return f'<html><body style="color:{theme.TEXT.name()};">' + "".join(blocks) + "</body></html>"

    def _note_html(self, note: InternalNote, now: datetime, zone: tzinfo | None, summary: ConversationSummary) -> str:
        when = f"{html.escape(exact(note.created_at, zone))} · {html.escape(relative(note.created_at, now))}"
        who = html.escape(note.author or "A colleague")
        platform = html.escape(summary.platform.value.title())
        head = (
            f'<span style="color:{NOTE_TEXT}"><b>Internal note</b> · {who} · <span style="font-size:small">{when}'
            f'</span><br><span style="font-size:small">Only your team sees this; it is never sent to {platform}.'
            "</span></span>"
        )
        body = f'<div style="margin-top:6px">{text_to_html(note.body)}</div>'
        cell = f'<td bgcolor="{NOTE_BG}" style="padding:10px 12px; border:1px dashed {NOTE_LINE}">{head}{body}</td>'
        return (
            '<table width="100%" cellspacing="0" cellpadding="0" style="margin-bottom:10px"><tr>'
            f'<td width="6%"></td>{cell}<td width="6%"></td></tr></table>'
        )

    def _message_html(
        self,
        message: StoredMessage,
        authors: dict[str, str],
        now: datetime,
        zone: tzinfo | None,
        summary: ConversationSummary,
    ) -> str:
        outbound = message.direction is Direction.OUTBOUND
        background = theme.OUTBOUND_BG if outbound else theme.INBOUND_BG
        muted = theme.TEXT_MUTED.name()
        author = html.escape(message.author_name or message.author_handle or "Unknown")
        handle = html.escape(message.author_handle)
        who = f"<b>{author}</b>" + (f' <span style="color:{muted}">{handle}</span>' if handle != author else "")
        if not outbound and is_likely_complaint(message.sentiment):
            who += f' <span style="color:{theme.DANGER.name()}">· ▼ likely complaint</span>'
        if outbound:
            who += f' <span style="color:{theme.BRAND.name()}">· sent by the team</span>'
        when = f"{html.escape(exact(message.created_at, zone))} · {html.escape(relative(message.created_at, now))}"
        extras = []
        if message.visibility is Visibility.DIRECT and summary.kind is not MessageKind.DM:
            extras.append("direct message")
        elif message.visibility is not Visibility.DIRECT and message.visibility is not Visibility.PUBLIC:
            extras.append(message.visibility.value)
        head = f'{who}<br><span style="color:{muted}; font-size:small">{when}'
        head += "".join(f" · {html.escape(e)}" for e in extras) + "</span>"
        reply_to = ""
        if message.parent_platform_id and summary.kind is not MessageKind.DM:
            parent_author = authors.get(message.parent_platform_id)
            target = f"in reply to {html.escape(parent_author)}" if parent_author else "in reply to an earlier post"
            reply_to = f'<p style="color:{muted}; font-size:small; margin:4px 0 0 0">↳ {target}</p>'
        attachments = "".join(
            f'<p style="color:{muted}; font-size:small; margin:2px 0 0 0">Attachment (not downloaded): '
            f"{html.escape(item)}</p>"
            for item in message.attachments
        )
        body = f'<div style="margin-top:6px">{message_body_html(message)}</div>'
        bubble = (
            f'<td bgcolor="{background.name()}" style="padding:10px 12px; border:1px solid {theme.LINE.name()}">'
            f"{head}{reply_to}{body}{attachments}</td>"
        )
        spacer = '<td width="12%"></td>'
        row = spacer + bubble if outbound else bubble + spacer
        return f'<table width="100%" cellspacing="0" cellpadding="0" style="margin-bottom:10px"><tr>{row}</tr></table>'
