"""The look: Fusion with a calm light palette, the brand colour, platform colours and a small style sheet."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from app.domain.models import Platform

BRAND = QColor("#3B5BDB")
BRAND_TINT = QColor("#E8EDFF")
BRAND_SOFT = QColor("#F3F5FF")
TEXT = QColor("#1F2430")
TEXT_MUTED = QColor("#687083")
TEXT_FAINT = QColor("#9AA1B2")
LINE = QColor("#E6E8EE")
SURFACE = QColor("#FFFFFF")
WINDOW = QColor("#F6F7FA")
WARNING_BG = QColor("#FFF4DB")
WARNING_LINE = QColor("#F0C36D")
WARNING_TEXT = QColor("#6B4A00")
DANGER = QColor("#C92A2A")
SUCCESS = QColor("#2B8A3E")
OUTBOUND_BG = QColor("#EEF2FF")
INBOUND_BG = QColor("#FFFFFF")

_PLATFORM_COLOURS = {
    Platform.MASTODON: ("#6364FF", "M"),
    Platform.MATRIX: ("#0A9C77", "m"),
    Platform.BLUESKY: ("#1185FE", "B"),
    Platform.X: ("#14171A", "X"),
    Platform.FACEBOOK: ("#1877F2", "f"),
    Platform.INSTAGRAM: ("#C13584", "I"),
    Platform.REDDIT: ("#FF4500", "R"),
}

# Muted avatar colours; a contact keeps the same one wherever it appears.
_AVATAR_COLOURS = ("#5C7CFA", "#20A4A4", "#E8590C", "#9C36B5", "#2F9E44", "#D6336C", "#1C7ED6", "#F08C00")


def platform_badge(platform: Platform) -> tuple[QColor, str]:
    colour, letter = _PLATFORM_COLOURS.get(platform, ("#868E96", "?"))
    return QColor(colour), letter


def avatar_colour(key: str) -> QColor:
    total = sum(ord(ch) for ch in key)
    return QColor(_AVATAR_COLOURS[total % len(_AVATAR_COLOURS)])


_STYLE_SHEET = """
QMainWindow, QDialog { background: #F6F7FA; }
QSplitter::handle { background: #E6E8EE; }
QSplitter::handle:horizontal { width: 1px; }
QListView#inbox, QTextBrowser#thread, QListWidget#playbookList {
    border: none; background: #FFFFFF;
}
QFrame#pane { background: #FFFFFF; border: none; }
QLabel#paneTitle { font-weight: 600; color: #1F2430; padding: 10px 12px 6px 12px; }
QLabel#paneSubtitle { color: #687083; padding: 0 12px 8px 12px; }
QFrame#banner { background: #FFF4DB; border-bottom: 1px solid #F0C36D; }
QFrame#banner QLabel { color: #6B4A00; }
QFrame#composer { background: #FFFFFF; border-top: 1px solid #E6E8EE; }
QPlainTextEdit#composerEdit { border: 1px solid #D5D9E2; border-radius: 6px; padding: 6px; background: #FFFFFF; }
QPlainTextEdit#composerEdit:focus { border: 1px solid #3B5BDB; }
QLineEdit#playbookSearch { border: 1px solid #D5D9E2; border-radius: 6px; padding: 5px 8px; margin: 0 10px 8px 10px; }
QLineEdit#playbookSearch:focus { border: 1px solid #3B5BDB; }
QToolButton#paneButton { border: none; border-radius: 5px; padding: 2px 7px; color: #687083; font-size: 15px; }
QToolButton#paneButton:hover { background: #EEF1F6; color: #1F2430; }
QToolButton#paneButton::menu-indicator, QToolButton#menuButton::menu-indicator { image: none; width: 0; }
QToolButton#menuButton { border: 1px solid #D5D9E2; border-radius: 5px; padding: 3px 8px; background: #FFFFFF; }
QToolButton#menuButton:hover { border-color: #3B5BDB; }
QFrame#playbookPane { background: #FFFFFF; border: none; }
QFrame#playbookPreview { background: #FAFBFC; border-top: 1px solid #E6E8EE; }
QLabel#previewNotes { color: #687083; font-style: italic; }
QPlainTextEdit#previewText { border: 1px solid #E6E8EE; border-radius: 6px; padding: 4px; background: #FFFFFF; }
QLabel#previewError, QLabel#formError {
    color: #C92A2A; background: #FFF5F5; border: 1px solid #FFC9C9; border-radius: 6px; padding: 6px 8px;
}
QLabel#emptyTitle { font-weight: 600; color: #1F2430; }
QLabel#emptyText { color: #687083; }
QLabel#hint { color: #9AA1B2; }
QPushButton#primary { background: #3B5BDB; color: white; border: none; border-radius: 6px; padding: 6px 14px; }
QPushButton#primary:disabled { background: #B9C4EE; }
QPushButton#primary:hover { background: #3049C4; }
QStatusBar { background: #F6F7FA; border-top: 1px solid #E6E8EE; color: #687083; }
QStatusBar QLabel { color: #687083; padding: 0 6px; }
QMenuBar { background: #F6F7FA; border-bottom: 1px solid #E6E8EE; }
QScrollBar:vertical { background: transparent; width: 10px; margin: 0; border: none; }
QScrollBar:horizontal { background: transparent; height: 10px; margin: 0; border: none; }
QScrollBar::handle:vertical { background: #CDD2DC; border-radius: 3px; min-height: 36px; margin: 2px 2px; }
QScrollBar::handle:horizontal { background: #CDD2DC; border-radius: 3px; min-width: 36px; margin: 2px 2px; }
QScrollBar::handle:hover { background: #A9B0BF; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; background: none; }
QScrollBar::add-page, QScrollBar::sub-page { background: none; }
"""


def apply_theme(application: QApplication) -> None:
    style = QStyleFactory.create("Fusion")
    if style is not None:
        application.setStyle(style)
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, WINDOW)
    palette.setColor(QPalette.ColorRole.WindowText, TEXT)
    palette.setColor(QPalette.ColorRole.Base, SURFACE)
    palette.setColor(QPalette.ColorRole.AlternateBase, BRAND_SOFT)
    palette.setColor(QPalette.ColorRole.Text, TEXT)
    palette.setColor(QPalette.ColorRole.Button, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.ButtonText, TEXT)
    palette.setColor(QPalette.ColorRole.Highlight, BRAND)
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.Link, BRAND)
    palette.setColor(QPalette.ColorRole.PlaceholderText, TEXT_FAINT)
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.ToolTipText, TEXT)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, TEXT_FAINT)
    application.setPalette(palette)
    application.setStyleSheet(_STYLE_SHEET)
