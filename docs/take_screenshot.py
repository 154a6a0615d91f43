"""Take the README screenshot: the demo workspace after its first sync, one conversation open.

    QT_QPA_PLATFORM=offscreen python docs/take_screenshot.py docs/screenshot.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.ui.launch import start_gui  # noqa: E402
from tests.peers.keyring_session import private_secret_service  # noqa: E402


def wait_until(condition, timeout: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QApplication.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return False


def show_the_angry_thread(window) -> None:  # noqa: ANN001
    """The Complaints view with the public pile-on open (tagged by a rule, marked by its tone) and a colleague's
    internal note on it."""
    from app.domain.search_syntax import parse_query
    from app.store.notes import add_note
    from app.store.search import search_conversation_ids

    ctx = window.ctx
    found = search_conversation_ids(ctx.engine, parse_query('"without warning"'), now=ctx.clock.now())
    if not found:
        window.inbox_view.selectRow(2)
        return
    add_note(ctx.engine, found[0], "Order was cancelled by the fraud check. Refund approved — Ana (Finance) "
             "confirms it reaches the card within 3 days. Reply publicly, then take it to DM.",
             author="Ana", now=ctx.clock.now())
    window.sidebar.choose("view:complaints")
    wait_until(lambda: window.inbox_view.select_conversation(found[0]), 10)
    view = window.inbox_view
    view.scrollTo(view.currentIndex(), view.ScrollHint.PositionAtCenter)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("output", type=Path)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=860)
    args = parser.parse_args()
    # A private keyring session, so the screenshot never touches the keyring of whoever runs it.
    with private_secret_service() as keyring_env, tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(keyring_env)
        session = start_gui(argparse.Namespace(data_dir=data_dir, demo=True, offline=False, verbose=False),
                            demo_traffic_interval_s=3600)
        window = session.window
        assert window is not None
        window.resize(args.width, args.height)
        if not wait_until(lambda: window.inbox_model.rowCount() >= 200, 60):
            print("the demo inbox did not fill in time", file=sys.stderr)
            return 1
        wait_until(lambda: not window.sync_controller.is_syncing(), 30)
        show_the_angry_thread(window)
        wait_until(lambda: False, 1.0)
        window.grab().save(str(args.output))
        window.close()
        session.close()
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
