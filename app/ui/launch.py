"""Starting the desktop app: QApplication, profile, context, main window, and clean start-up errors."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_ID, APP_NAME, version
from app.context import AppContext, open_context
from app.errors import KnownError, SecretStoreUnavailable
from app.paths import resolve_profile
from app.ui.main_window import MainWindow
from app.ui.resources import app_icon
from app.ui.theme import apply_theme

log = logging.getLogger("app.ui")

EXIT_START_FAILED = 2
_HEADLESS_PLATFORMS = {"offscreen", "minimal"}


@dataclass
class GuiSession:
    """What `start_gui` opened: a window on success, or the error box and exit code when start-up failed."""

    window: MainWindow | None = None
    ctx: AppContext | None = None
    error_box: QMessageBox | None = None
    exit_code: int | None = None


def application() -> QApplication:
    """The one QApplication, created if needed and given Parley's name, desktop id, icon and look."""
    instance = QApplication.instance()
    app = instance if isinstance(instance, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setOrganizationDomain("parley.io")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    apply_theme(app)
    return app


def build_main_window(ctx: AppContext, sync_controller: Any | None = None) -> MainWindow:
    """The main window over an open context, not yet shown; tests drive it directly."""
    return MainWindow(ctx, sync_controller)


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


def start_gui(args: argparse.Namespace, *, errors_in_window: bool = True) -> GuiSession:
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
        controller = _make_sync_controller(ctx)
        window = build_main_window(ctx, controller)
    except KnownError as exc:
        ctx.close()
        return GuiSession(error_box=show_startup_error(exc, in_window=errors_in_window), exit_code=EXIT_START_FAILED)
    window.show()
    check_keyring(window, ctx)
    if args.demo:
        _start_demo(window, ctx)
    if controller is not None:
        controller.start()
    return GuiSession(window=window, ctx=ctx)


def check_keyring(window: MainWindow, ctx: AppContext) -> None:
    try:
        ctx.secrets.check_available()
    except SecretStoreUnavailable as exc:
        log.warning("keyring unavailable: %s", exc)
        window.show_keyring_warning(exc)


def _make_sync_controller(ctx: AppContext) -> Any | None:
    """Hook for the sync engine: return app.sync.qt_bridge.SyncController(ctx) once it is wired in."""
    return None


def _start_demo(window: MainWindow, ctx: AppContext) -> None:
    """Hook for the demo workspace (seeded server, demo accounts); a no-op until the demo lands."""


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
    controller = session.window.sync_controller
    ctx = session.ctx

    def shut_down() -> None:
        if controller is not None:
            controller.shutdown()
        ctx.close()

    app.aboutToQuit.connect(shut_down)
    _quit_on_termination_signals(app)
    log.info("Parley %s running (profile %s)", version(), ctx.paths.root)
    return int(app.exec())


def _quit_on_termination_signals(app: QApplication) -> QTimer:
    """SIGTERM (logout, `kill`, service managers) and Ctrl+C quit like the Quit action, so shutdown runs."""

    def request_quit(signum: int, _frame: object) -> None:
        log.info("received signal %d, quitting", signum)
        app.quit()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_quit)
    # Python runs signal handlers only between bytecodes; while Qt's C++ event loop waits nothing runs,
    # so a timer hands control back to the interpreter a few times a second.
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return wake
