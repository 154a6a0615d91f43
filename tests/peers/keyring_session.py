"""A private Secret Service: gnome-keyring-daemon inside its own dbus-launch session, unlocked."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def private_secret_service() -> Iterator[dict[str, str]]:
    """Start dbus + gnome-keyring (secrets component) and yield the environment that reaches them."""
    missing = [tool for tool in ("dbus-launch", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}: install dbus-x11 and gnome-keyring (see README)")
    home = Path(tempfile.mkdtemp(prefix="parley-keyring-"))
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_RUNTIME_DIR=str(runtime))
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    output = subprocess.run(["dbus-launch", "--sh-syntax"], env=env, capture_output=True, text=True, check=True).stdout
    bus = {}
    for line in output.splitlines():
        if "=" in line:
            key, _, value = line.rstrip(";").partition("=")
            bus[key.strip()] = value.strip().strip("'")
    env["DBUS_SESSION_BUS_ADDRESS"] = bus["DBUS_SESSION_BUS_ADDRESS"]
    daemon = subprocess.run(
        ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
        input="parley-test-keyring",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    keyring_pid = None
    for line in daemon.stdout.splitlines():
        if line.startswith("GNOME_KEYRING_PID="):
            keyring_pid = int(line.split("=", 1)[1])
    _wait_for_secret_service(env)
    try:
        yield {key: env[key] for key in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "HOME")}
    finally:
        for pid in (keyring_pid, int(bus.get("DBUS_SESSION_BUS_PID", "0") or 0)):
            if pid:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        shutil.rmtree(home, ignore_errors=True)


def _wait_for_secret_service(env: dict[str, str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = subprocess.run(
            [
                "dbus-send",
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if "boolean true" in probe.stdout:
            return
        time.sleep(0.05)
    raise RuntimeError("the private Secret Service did not come up")
