"""mastodon-mock (a third-party emulator of the Mastodon client API) as a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class MastodonMock:
    url: str
    process: subprocess.Popen[bytes]

    def create_user(self, username: str, display_name: str = "") -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/api/v1/_mock/dev_user",
            json={"username": username, "display_name": display_name or username},
            timeout=10,
        )
        response.raise_for_status()
        return dict(response.json())

    def post(self, token: str, status: str, **fields: Any) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/api/v1/statuses",
            headers={"Authorization": f"Bearer {token}"},
            data={"status": status, **fields},
            timeout=10,
        )
        response.raise_for_status()
        return dict(response.json())

    def add_fault(self, rule: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.url}/api/v1/_mock/faults", json=rule, timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/api/v1/_mock/faults", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_mastodon_mock(port: int | None = None, *, timeout: float = 30.0) -> MastodonMock:
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mastodon_mock",
            "serve",
            "--in-memory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mastodon-mock exited with code {process.returncode}")
        try:
            if requests.get(f"{url}/api/v1/instance", timeout=1).ok:
                return MastodonMock(url=url, process=process)
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("mastodon-mock did not start in time")
