"""A private Matrix Synapse homeserver on 127.0.0.1, and a small client-server API client for the tests' peers."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.peers.mastodon_mock import free_port

SERVER_NAME = "localhost"
GENEROUS = {"per_second": 1000, "burst_count": 1000}


def _limits(low_messages: dict[str, float] | None) -> dict[str, Any]:
    """Rate limits for a test server: generous everywhere, so tests only meet the limits they ask for."""
    return {
        "rc_message": low_messages or GENEROUS,
        "rc_registration": GENEROUS,
        "rc_login": {"address": GENEROUS, "account": GENEROUS, "failed_attempts": GENEROUS},
        "rc_joins": {"local": GENEROUS, "remote": GENEROUS},
        "rc_joins_per_room": GENEROUS,
        "rc_invites": {"per_room": GENEROUS, "per_user": GENEROUS, "per_issuer": GENEROUS},
        "rc_room_creation": GENEROUS,
        "rc_profile": GENEROUS,
        "rc_presence": {"per_user": GENEROUS},
        "rc_admin_redaction": GENEROUS,
    }


@dataclass
class MatrixUser:
    """A user of the test homeserver, speaking the client-server API directly (the other side of a chat)."""

    server: SynapseServer
    user_id: str
    password: str
    token: str
    _txn: itertools.count[int] = field(default_factory=itertools.count)

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = requests.request(
            method,
            f"{self.server.url}/_matrix/client/v3{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
            **kwargs,
        )
        if not response.ok:
            raise AssertionError(f"{method} {path} -> {response.status_code} {response.text}")
        return dict(response.json())

    def create_room(self, *, invite: tuple[str, ...] = (), direct: bool = False, name: str = "") -> str:
        body: dict[str, Any] = {"invite": list(invite), "is_direct": direct}
        body["preset"] = "trusted_private_chat" if direct else "private_chat"
        if name:
            body["name"] = name
        return str(self.call("POST", "/createRoom", json=body)["room_id"])

    def join(self, room_id: str) -> None:
        self.call("POST", f"/join/{quote(room_id)}", json={})

    def invite(self, room_id: str, user_id: str) -> None:
        self.call("POST", f"/rooms/{quote(room_id)}/invite", json={"user_id": user_id})

    def send(self, room_id: str, body: str, **content: Any) -> str:
        return self.send_event(room_id, {"msgtype": "m.text", "body": body, **content})

    def send_event(self, room_id: str, content: dict[str, Any], event_type: str = "m.room.message") -> str:
        txn = f"peer-{time.monotonic_ns()}-{next(self._txn)}"
        path = f"/rooms/{quote(room_id)}/send/{event_type}/{txn}"
        return str(self.call("PUT", path, json=content)["event_id"])

    def messages(self, room_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """The room's m.room.message events, newest first."""
        params = {"dir": "b", "limit": str(limit), "filter": json.dumps({"types": ["m.room.message"]})}
        return list(self.call("GET", f"/rooms/{quote(room_id)}/messages", params=params)["chunk"])

    def joined_members(self, room_id: str) -> set[str]:
        return set(self.call("GET", f"/rooms/{quote(room_id)}/joined_members")["joined"])

    def set_message_rate_limit(self, user_id: str, *, per_second: float, burst_count: int) -> None:
        """Admin API: a per-user override of rc_message (this user must be an admin)."""
        response = requests.post(
            f"{self.server.url}/_synapse/admin/v1/users/{quote(user_id)}/override_ratelimit",
            headers={"Authorization": f"Bearer {self.token}"},
            json={"messages_per_second": per_second, "burst_count": burst_count},
            timeout=30,
        )
        response.raise_for_status()


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


@dataclass
class SynapseServer:
    url: str
    directory: Path
    shared_secret: str
    process: subprocess.Popen[bytes]
    _names: itertools.count[int] = field(default_factory=itertools.count)

    def register(self, localpart: str, password: str = "", *, admin: bool = False) -> MatrixUser:
        """Register a user through the shared-secret admin API (HMAC-SHA1 over nonce, user, password, role)."""
        password = password or secrets.token_urlsafe(12)
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = requests.get(endpoint, timeout=30).json()["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"])
        )
        response = requests.post(
            endpoint,
            json={"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()},
            timeout=30,
        )
        if not response.ok:
            raise AssertionError(f"registering {localpart}: {response.status_code} {response.text}")
        body = response.json()
        return MatrixUser(server=self, user_id=body["user_id"], password=password, token=body["access_token"])

    def unique(self, prefix: str) -> str:
        """A fresh localpart, so each test's users and rooms start clean on the shared server."""
        return f"{prefix}{next(self._names)}"

    def log_tail(self, lines: int = 40) -> str:
        log = self.directory / "homeserver.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_synapse(
    python: str,
    directory: Path,
    *,
    low_messages: dict[str, float] | None = None,
    extra_config: dict[str, Any] | None = None,
    timeout: float = 60.0,
) -> SynapseServer:
    """Generate a config in `directory`, override what a private test server needs, start it and wait for it.

    `extra_config` adds or replaces top-level settings (for example a session lifetime).
    """
    directory.mkdir(parents=True, exist_ok=True)
    generated = directory / "homeserver.yaml"
    subprocess.run(
        [
            python,
            "-m",
            "synapse.app.homeserver",
            "--server-name",
            SERVER_NAME,
            "--config-path",
            str(generated),
            "--generate-config",
            "--report-stats=no",
        ],
        cwd=directory,
        check=True,
        capture_output=True,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    shared_secret = secrets.token_hex(16)
    log_config = directory / "log_config.yaml"
    # Synapse merges config files key by key, later ones winning; YAML reads JSON, so no YAML writer is needed.
    log_config.write_text(
        json.dumps(
            {
                "version": 1,
                "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
                "handlers": {
                    "file": {
                        "class": "logging.FileHandler",
                        "formatter": "plain",
                        "filename": str(directory / "homeserver.log"),
                    }
                },
                "root": {"level": "WARNING", "handlers": ["file"]},
                "disable_existing_loggers": False,
            }
        )
    )
    overrides = directory / "overrides.yaml"
    overrides.write_text(
        json.dumps(
            {
                "public_baseurl": f"{url}/",
                "listeners": [
                    {
                        "port": port,
                        "bind_addresses": ["127.0.0.1"],
                        "type": "http",
                        "tls": False,
                        "x_forwarded": False,
                        "resources": [{"names": ["client"], "compress": False}],
                    }
                ],
                "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
                "log_config": str(log_config),
                "media_store_path": str(directory / "media"),
                "registration_shared_secret": shared_secret,
                "enable_registration": False,
                "trusted_key_servers": [],
                "suppress_key_server_warning": True,
                "federation_domain_whitelist": [],
                "presence": {"enabled": False},
                "url_preview_enabled": False,
                "enable_metrics": False,
                "bcrypt_rounds": 4,  # password hashing at production cost would dominate the tests' time
                **_limits(low_messages),
                **(extra_config or {}),
            },
            indent=1,
        )
    )
    with open(directory / "stdout.log", "wb") as output:
        process = subprocess.Popen(
            [python, "-m", "synapse.app.homeserver", "-c", str(generated), "-c", str(overrides)],
            cwd=directory,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = SynapseServer(url=url, directory=directory, shared_secret=shared_secret, process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output_text = (directory / "stdout.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"Synapse exited with code {process.returncode}:\n{output_text}\n{server.log_tail()}")
        try:
            if requests.get(f"{url}/_matrix/client/versions", timeout=1).ok:
                return server
        except requests.ConnectionError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"Synapse did not answer within {timeout:.0f} s:\n{server.log_tail()}")
