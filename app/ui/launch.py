"""Starting the desktop app: QApplication, profile, context, main window, and clean start-up errors."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_ID, APP_NAME
from app.context import AppContext, open_context
from app.errors import DatabaseDamaged, KnownError, SecretStoreUnavailable
from app.paths import ProfilePaths, resolve_profile
from app.store.backups import restore_backup
from app.store.database import list_backups
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


def settle_heap() -> None:
    """Collect once, then move every object that exists to the garbage collector's permanent generation.

    What start-up builds (modules, Qt wrappers, the window) lives as long as the app. Left in view, each
    full collection walks all of it again, on whichever thread happens to allocate, the GUI thread too:
    during a 100,000-message sync that measured 50-500 ms per pause, against a few ms once settled.
    """
    gc.collect()
    gc.freeze()


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

    Start-up errors go to stderr and, unless `errors_in_window` is False, to a message box. A damaged
    database's message box offers to restore the newest automatic backup and then carries on starting.
    """
    application()
    session = GuiSession()
    try:
        paths = resolve_profile(args.data_dir)
        if args.demo:
            paths = paths.demo()
    except KnownError as exc:
        _fail(session, exc, errors_in_window)
        return session
    _open_profile(session, args, paths, errors_in_window)
    return session


def _fail(session: GuiSession, error: KnownError, in_window: bool) -> None:
    session.window, session.ctx, session.exit_code = None, None, EXIT_START_FAILED
    session.error_box = show_startup_error(error, in_window=in_window)


def _open_profile(session: GuiSession, args: argparse.Namespace, paths: ProfilePaths, in_window: bool) -> None:
    try:
        ctx = open_context(paths, demo=args.demo, offline=args.offline, verbose=args.verbose)
    except KnownError as exc:
        _fail(session, exc, in_window)
        if isinstance(exc, DatabaseDamaged) and session.error_box is not None and list_backups(paths.backups):
            _offer_restore(session, args, paths, in_window)
        return
    try:
        controller = _make_sync_controller(ctx)
        window = build_main_window(ctx, controller)
    except KnownError as exc:
        ctx.close()
        _fail(session, exc, in_window)
        return
    settle_heap()
    window.show()
    check_keyring(window, ctx)
    if args.demo:
        _start_demo(window, ctx)
    if controller is not None:
        controller.start()
    session.window, session.ctx, session.exit_code = window, ctx, None


def _offer_restore(session: GuiSession, args: argparse.Namespace, paths: ProfilePaths, in_window: bool) -> None:
    """A "Restore last backup" button on the damaged-database message; clicking it restores and starts."""
    assert session.error_box is not None
    button = session.error_box.addButton("Restore last backup", QMessageBox.ButtonRole.AcceptRole)
    button.setObjectName("restoreBackup")
    session.error_box.setInformativeText(
        "Parley can put its newest automatic backup in place of the damaged file, which is kept beside it."
    )

    def restore() -> None:
        try:
            restored = restore_backup(paths.database, paths.backups)
        except KnownError as exc:
            _fail(session, exc, in_window)
            return
        _open_profile(session, args, paths, in_window)
        if session.window is not None:
            kept = restored.damaged_kept_as.name if restored.damaged_kept_as else "-"
            session.window.statusBar().showMessage(
                f"Restored the backup {restored.backup.name}; the damaged database is kept as {kept}.", 20000
            )

    button.clicked.connect(restore)


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
    while session.window is None and session.error_box is not None:
        box = session.error_box
        loop = QEventLoop()  # wait until the user has read the message (or restored a backup from it)
        box.finished.connect(loop.quit)
        loop.exec()
        if session.error_box is box:
            break
    if session.window is None or session.ctx is None:
        return session.exit_code or EXIT_START_FAILED
    controller = session.window.sync_controller
    ctx = session.ctx

    def shut_down() -> None:
        if controller is not None:
            controller.shutdown()
        ctx.close()

    app.aboutToQuit.connect(shut_down)
    return int(app.exec())
