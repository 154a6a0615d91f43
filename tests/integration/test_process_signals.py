"""Stopping Parley from outside: SIGTERM (logout, `kill`, a service manager) ends the app and the demo server
cleanly, with exit code 0 and no server process left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]


def start(args: list[str], env: dict[str, str], stderr: Path) -> subprocess.Popen[bytes]:
    with stderr.open("w") as errors:
        return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=env, stderr=errors)


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], stderr: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, f"exited early ({process.returncode}): {stderr.read_text()}"
        assert time.monotonic() < deadline, f"not ready after {timeout} s: {stderr.read_text()}"
        time.sleep(0.1)


def terminate(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then the exit code; whatever the process or its children left running is killed afterwards."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for child in children:
            try:
                os.kill(int(child), signal.SIGKILL)
            except ProcessLookupError:
                pass


def answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/v1/instance", timeout=2).ok
    except requests.ConnectionError:
        return False


@pytest.fixture
def env(secret_service: dict[str, str]) -> dict[str, str]:
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", **secret_service)
    environment.pop("PARLEY_DATA_DIR", None)
    environment.pop("PARLEY_DATABASE_URL", None)
    return environment


def test_sigterm_quits_the_window_like_the_quit_action_with_exit_code_0(tmp_path: Path, env: dict[str, str]) -> None:
    # Without the handler, SIGTERM kills Python mid-event-loop: exit code -15 and no shutdown log line.
    stderr = tmp_path / "stderr"
    log = tmp_path / "profile" / "logs" / "parley.log"
    process = start(["--data-dir", str(tmp_path / "profile")], env, stderr)
    wait_until(lambda: log.is_file() and " running (profile " in log.read_text(), process, stderr)

    assert terminate(process) == 0, stderr.read_text()
    assert "received signal 15, quitting" in log.read_text()
    assert "Traceback" not in stderr.read_text()


def test_sigterm_while_seeding_stops_the_demo_server_and_its_child(tmp_path: Path, env: dict[str, str]) -> None:
    # SIGTERM as soon as the API answers, i.e. while seeding (tests/integration/test_cli.py covers after it).
    # With a handler installed only after seeding, the process died with -15 and its mastodon-mock child
    # went on serving on the port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    stderr = tmp_path / "stderr"
    process = start(["demo-server", "--port", str(port), "--no-traffic"], env, stderr)
    wait_until(lambda: answers(url), process, stderr)

    assert terminate(process) == 0, stderr.read_text()
    assert not answers(url), "the demo server's mastodon-mock child outlived parley demo-server"
