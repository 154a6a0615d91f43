"""Starting the desktop app: QApplication, profile, context, main window, and clean start-up errors."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_ID, APP_NAME
from app.context import AppContext, open_context
from app.errors import KnownError, SecretStoreUnavailable
from app.paths import resolve_profile
from app.sync.qt_bridge import SyncController
from app.sync.qt_outbox import OutboxController
from app.ui.demo_starter import DemoStarter
from app.ui.main_window import MainWindow
from app.ui.resources import app_icon
from app.ui.theme import apply_theme

log = logging.getLogger("app.ui")

EXIT_START_FAILED = 2
GIL_SWITCH_INTERVAL_S = 0.001
_HEADLESS_PLATFORMS = {"offscreen", "minimal"}


@dataclass
class GuiSession:
    """What `start_gui` opened: a window on success, or the error box and exit code when start-up failed."""

    window: MainWindow | None = None
    ctx: AppContext | None = None
    error_box: QMessageBox | None = None
    exit_code: int | None = None
    demo: DemoStarter | None = None

    def close(self) -> None:
        """Stop background work and release the profile (what quitting does)."""
        if self.window is not None:
            if self.window.outbox_controller is not None:
                self.window.outbox_controller.shutdown()
            if self.window.sync_controller is not None:
                self.window.sync_controller.shutdown()
        if self.demo is not None:
            self.demo.stop()
        if self.ctx is not None:
            self.ctx.close()


def application() -> QApplication:
    """The one QApplication, created if needed and given Parley's name, desktop id, icon and look."""
    instance = QApplication.instance()
    app = instance if isinstance(instance, QApplication) else QApplication(sys.argv[:1])
    # The GUI thread shares the interpreter lock with the sync and outbox workers; handing it over every
    # millisecond (instead of Python's default 5 ms) keeps painting smooth while a large sync parses pages.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setOrganizationDomain("parley.io")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    apply_theme(app)
    return app


def build_main_window(
    ctx: AppContext, sync_controller: Any | None = None, outbox_controller: Any | None = None
) -> MainWindow:
    """The main window over an open context, not yet shown; tests drive it directly."""
    return MainWindow(ctx, sync_controller, outbox_controller=outbox_controller)


def show_startup_error(error: KnownError, *, in_window: bool = True) -> QMessageBox | None:
    """Print the error on one line to stderr and show it in a critical message box (opened, not exec'd)."""
    print(f"parley: {error} {error.hint}".rstrip(), file=sys.stderr)
    if not in_window:
        return None
    box = QMessageBox(QMessageBox.Icon.Critical, f"{APP_NAME} cannot start", str(error))
    box.setObjectName("startupError")
    box.setInformativeText(error.hint)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.open()
    return box


def start_gui(
    args: argparse.Namespace, *, errors_in_window: bool = True, demo_traffic_interval_s: float = 8.0
) -> GuiSession:
    """Open the profile and show the window, without entering the event loop.

    Start-up errors go to stderr and, unless `errors_in_window` is False, to a message box.
    """
    application()
    try:
        paths = resolve_profile(args.data_dir)
        if args.demo:
            paths = paths.demo()
        ctx = open_context(paths, demo=args.demo, offline=args.offline, verbose=args.verbose)
    except KnownError as exc:
        return GuiSession(error_box=show_startup_error(exc, in_window=errors_in_window), exit_code=EXIT_START_FAILED)
    try:
        controller = SyncController(ctx)
        sender = OutboxController(ctx, controller.writer)
        controller.account_synced.connect(sender.send_now)
        window = build_main_window(ctx, controller, sender)
    except KnownError as exc:
        ctx.close()
        return GuiSession(error_box=show_startup_error(exc, in_window=errors_in_window), exit_code=EXIT_START_FAILED)
    window.show()
    check_keyring(window, ctx)
    session = GuiSession(window=window, ctx=ctx)
    if args.demo:
        session.demo = DemoStarter(window, ctx, controller, traffic_interval_s=demo_traffic_interval_s)
        session.demo.start()
    controller.start()
    sender.start()
    return session


def check_keyring(window: MainWindow, ctx: AppContext) -> None:
    try:
        ctx.secrets.check_available()
    except SecretStoreUnavailable as exc:
        log.warning("keyring unavailable: %s", exc)
        window.show_keyring_warning(exc)


def run_gui(args: argparse.Namespace) -> int:
    """Start the app and run its event loop; 2 when the profile cannot be opened."""
    app = application()
    # With no screen (offscreen/minimal platform) nobody could close a message box: stderr only.
    session = start_gui(args, errors_in_window=app.platformName() not in _HEADLESS_PLATFORMS)
    if session.exit_code is not None:
        if session.error_box is not None:
            loop = QEventLoop()  # wait until the user has read the message
            session.error_box.finished.connect(loop.quit)
            loop.exec()
        return session.exit_code
    assert session.window is not None and session.ctx is not None
    app.aboutToQuit.connect(session.close)
    return int(app.exec())
