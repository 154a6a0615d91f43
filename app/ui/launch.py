"""Starting the desktop app: QApplication, profile, context, main window, and clean start-up errors."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEventLoop, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_ID, APP_NAME, version
from app.context import AppContext, open_context
from app.errors import DatabaseDamaged, KnownError, SecretStoreUnavailable
from app.paths import ProfilePaths, resolve_profile
from app.store.backups import restore_backup
from app.store.database import list_backups
from app.sync.qt_bridge import SyncController
from app.sync.qt_outbox import OutboxController
from app.ui.demo_starter import DemoStarter
from app.ui.first_paint import FirstPaintWatcher, report_first_paint_if_asked
from app.ui.main_window import MainWindow
from app.ui.resources import app_icon
from app.ui.theme import apply_theme

log = logging.getLogger("app.ui")

EXIT_START_FAILED = 2
GIL_SWITCH_INTERVAL_S = 0.001
SHUTDOWN_POOL_WAIT_MS = 1_000
_HEADLESS_PLATFORMS = {"offscreen", "minimal"}


@dataclass
class GuiSession:
    """What `start_gui` opened: a window on success, or the error box and exit code when start-up failed."""

    window: MainWindow | None = None
    ctx: AppContext | None = None
    error_box: QMessageBox | None = None
    exit_code: int | None = None
    demo: DemoStarter | None = None
    first_paint: FirstPaintWatcher | None = None

    def close(self) -> None:
        """Stop background work and release the profile (what quitting does)."""
        if self.window is not None:
            if self.window.outbox_controller is not None:
                self.window.outbox_controller.shutdown()
            if self.window.sync_controller is not None:
                self.window.sync_controller.shutdown()
        if self.demo is not None:
            self.demo.stop()
        # Short reads still running on the pool (alerts, reports) must end before the store closes under them;
        # bounded, so a slow network job cannot hold up quitting.
        QThreadPool.globalInstance().waitForDone(SHUTDOWN_POOL_WAIT_MS)
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


def settle_heap() -> None:
    """Collect once, then move every object that exists to the garbage collector's permanent generation.

    What start-up builds (modules, Qt wrappers, the window) lives as long as the app. Left in view, each
    full collection walks all of it again, on whichever thread happens to allocate, the GUI thread too:
    during a 100,000-message sync that measured 50-500 ms per pause, against a few ms once settled.
    """
    gc.collect()
    gc.freeze()


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
    _open_profile(session, args, paths, errors_in_window, demo_traffic_interval_s)
    return session


def _fail(session: GuiSession, error: KnownError, in_window: bool) -> None:
    session.window, session.ctx, session.exit_code = None, None, EXIT_START_FAILED
    session.error_box = show_startup_error(error, in_window=in_window)


def _open_profile(
    session: GuiSession, args: argparse.Namespace, paths: ProfilePaths, in_window: bool, traffic_interval_s: float
) -> None:
    try:
        ctx = open_context(paths, demo=args.demo, offline=args.offline, verbose=args.verbose)
    except KnownError as exc:
        _fail(session, exc, in_window)
        if isinstance(exc, DatabaseDamaged) and session.error_box is not None and list_backups(paths.backups):
            _offer_restore(session, args, paths, in_window, traffic_interval_s)
        return
    try:
        controller = SyncController(ctx)
        sender = OutboxController(ctx, controller.writer)
        controller.account_synced.connect(sender.send_now)
        window = build_main_window(ctx, controller, sender)
    except KnownError as exc:
        ctx.close()
        _fail(session, exc, in_window)
        return
    settle_heap()
    session.first_paint = report_first_paint_if_asked(window.inbox_view)
    window.show()
    check_keyring(window, ctx)
    session.window, session.ctx, session.exit_code = window, ctx, None
    if args.demo:
        session.demo = DemoStarter(window, ctx, controller, traffic_interval_s=traffic_interval_s)
        session.demo.start()
    controller.start()
    sender.start()


def _offer_restore(
    session: GuiSession, args: argparse.Namespace, paths: ProfilePaths, in_window: bool, traffic_interval_s: float
) -> None:
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
        _open_profile(session, args, paths, in_window, traffic_interval_s)
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
    app.aboutToQuit.connect(session.close)
    _quit_on_termination_signals(app)
    log.info("Parley %s running (profile %s)", version(), session.ctx.paths.root)
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
