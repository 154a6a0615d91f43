"""Running the embedded demo server: mastodon-mock (the `demo` extra) as a child process on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from app.errors import KnownError

log = logging.getLogger("app.demo")


class DemoUnavailable(KnownError):
    """The demo server cannot run here."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mastodon_mock_command() -> list[str]:
    """How to start mastodon-mock: as a module, or through the bundled executable when frozen."""
    if getattr(sys, "frozen", False):
        return [sys.executable, BUNDLED_SERVER_COMMAND]
    return [sys.executable, "-m", "mastodon_mock"]


BUNDLED_SERVER_COMMAND = "_mastodon-mock"


class DemoServer:
    """mastodon-mock on a loopback port, its state in `state_dir` (so a demo profile persists) or in memory."""

    def __init__(self, port: int | None = None, state_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.state_dir = state_dir
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> Path | None:
        return None if self.state_dir is None else self.state_dir / "mastodon-mock.sqlite3"

    def start(self, timeout: float = 30.0) -> None:
        if importlib.util.find_spec("mastodon_mock") is None:
            raise DemoUnavailable(
                "The demo server is not installed.",
                hint='Install the demo extra: pip install "parley[demo]" (make demo does this).',
            )
        command = [
            sys.executable,
            "-m",
            "mastodon_mock",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        if self.state_dir is None:
            command.append("--in-memory")
        else:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            config = self.state_dir / "mastodon-mock.toml"
            config.write_text(f'[database]\npath = "{self.database.as_posix()}"\n', encoding="utf-8")
            command += ["--config", str(config)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DemoUnavailable(f"The demo server stopped at start (exit code {self._process.returncode}).")
            try:
                if requests.get(f"{self.url}/api/v1/instance", timeout=1).ok:
                    log.info("demo server up on %s", self.url)
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise DemoUnavailable("The demo server did not start within 30 seconds.")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def serve_forever(port: int, *, traffic: bool = True) -> int:
    """`parley demo-server`: the seeded server alone, for the CLI or other Mastodon clients."""
    from app.demo.seeding import TrafficGenerator, seed

    server = DemoServer(port)
    server.start()
    print(f"Seeding the demo server on {server.url} …", file=sys.stderr)
    seeded = seed(server.url)
    print(f"Demo Mastodon API on {server.url}", file=sys.stderr)
    print(f"Brand account @northwind, token: {seeded.brand_token}", file=sys.stderr)
    print(f"Try: parley accounts add mastodon --instance {server.url}  (paste the token)", file=sys.stderr)
    generator = TrafficGenerator(seeded) if traffic else None
    if generator:
        generator.start()
    stop = threading.Event()
    # SIGTERM as well as Ctrl+C: either way the child server is stopped, never left behind.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if generator:
            generator.stop()
        server.stop()
