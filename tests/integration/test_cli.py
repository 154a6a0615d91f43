"""The command line end to end against mastodon-mock: add an account, sync, list, export, remove."""

from __future__ import annotations

import csv
import json
import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
import requests

from app import APP_ID
from tests.peers.mastodon_mock import MastodonMock
from tests.reliability.helpers import parley


def add_brand(data_dir: Path, server: MastodonMock, brand: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`parley accounts add mastodon` for the user `brand`, its token typed on stdin."""
    return parley(
        data_dir,
        "accounts",
        "add",
        "mastodon",
        "--instance",
        server.url,
        "--name",
        "brand",
        stdin=brand["access_token"] + "\n",
    )


def profile_id_of(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "parley.sqlite3") as connection:
        return str(connection.execute("SELECT value FROM profile_settings WHERE key = 'profile_id'").fetchone()[0])


@pytest.fixture
def brand(mastodon_server: MastodonMock) -> dict[str, str]:
    suffix = secrets.token_hex(3)
    brand = mastodon_server.create_user(f"cli_brand_{suffix}", "CLI Brand")
    for number in range(3):
        customer = mastodon_server.create_user(f"cli_customer{number}_{suffix}")
        mastodon_server.post(customer["access_token"], f"@{brand['username']} where is order {number}?")
    dm_from = mastodon_server.create_user(f"cli_dm_customer_{suffix}")
    mastodon_server.post(dm_from["access_token"], f"@{brand['username']} private question", visibility="direct")
    return brand


def test_add_sync_inbox_export_and_remove(
    tmp_path: Path, mastodon_server: MastodonMock, brand: dict[str, str], secret_service: dict[str, str]
) -> None:
    data_dir = tmp_path / "profile"
    added = add_brand(data_dir, mastodon_server, brand)
    assert added.returncode == 0, added.stderr

    listed = json.loads(parley(data_dir, "accounts", "list", "--json").stdout)
    assert [(a["name"], a["platform"], a["handle"]) for a in listed] == [("brand", "mastodon", "@" + brand["username"])]
    entry = f"{profile_id_of(data_dir)}/{listed[0]['id']}"
    assert keyring.get_password(APP_ID, entry) == brand["access_token"]

    synced = parley(data_dir, "sync", "--once")
    assert synced.returncode == 0, synced.stderr
    assert "brand" in synced.stderr

    conversations = json.loads(parley(data_dir, "inbox", "--json").stdout)
    assert len(conversations) == 4
    assert {c["platform"] for c in conversations} == {"mastodon"}
    assert all({"id", "account", "platform", "status", "latest_message"} <= c.keys() for c in conversations)
    assert any("private question" in c["latest_message"]["text"] for c in conversations)

    assert parley(data_dir, "export", "--format", "json", str(tmp_path / "all.json")).returncode == 0
    exported = json.loads((tmp_path / "all.json").read_text())
    assert sum(len(c["messages"]) for c in exported) == 4
    assert parley(data_dir, "export", "--format", "csv", str(tmp_path / "all.csv")).returncode == 0
    with (tmp_path / "all.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 4

    for path in [data_dir / "parley.sqlite3", *data_dir.rglob("*.log"), *data_dir.rglob("*.toml")]:
        assert brand["access_token"].encode() not in path.read_bytes(), f"token leaked into {path.name}"

    removed = parley(data_dir, "accounts", "remove", "brand", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert keyring.get_password(APP_ID, entry) is None
    assert json.loads(parley(data_dir, "inbox", "--json").stdout) == []


def test_sync_exits_non_zero_when_an_account_fails(
    tmp_path: Path, mastodon_server: MastodonMock, brand: dict[str, str], secret_service: dict[str, str]
) -> None:
    data_dir = tmp_path / "profile"
    assert add_brand(data_dir, mastodon_server, brand).returncode == 0
    mastodon_server.add_fault(
        {"match": {"path": "/api/v1/notifications"}, "effect": {"type": "status", "status": 401}, "count": 5}
    )
    try:
        failed = parley(data_dir, "sync", "--once")
    finally:
        mastodon_server.clear_faults()
    assert failed.returncode != 0
    assert "sign" in failed.stderr.lower() and "Traceback" not in failed.stderr


def test_bad_input_on_the_command_line_gives_one_clear_line(tmp_path: Path, secret_service: dict[str, str]) -> None:
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "parley.sqlite3").write_bytes(b"garbage" * 50)
    result = parley(corrupt, "inbox", "--json")
    assert result.returncode == 2 and "damaged" in result.stderr and "Traceback" not in result.stderr
    assert (corrupt / "parley.sqlite3").read_bytes() == b"garbage" * 50

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = parley(blocker / "profile", "inbox")
    assert result.returncode == 2 and "profile folder" in result.stderr and "Traceback" not in result.stderr

    unknown = parley(tmp_path / "p", "accounts", "remove", "nobody", "--yes")
    assert unknown.returncode == 2 and "No account named" in unknown.stderr


def test_a_missing_keyring_is_explained_and_no_account_is_half_added(tmp_path: Path) -> None:
    data_dir = tmp_path / "profile"
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "--data-dir",
            str(data_dir),
            "accounts",
            "add",
            "mastodon",
            "--instance",
            "http://127.0.0.1:9",
            "--name",
            "brand",
        ],
        input="some-token-value\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2 and "keyring" in result.stderr.lower() and "Traceback" not in result.stderr
    assert json.loads(parley(data_dir, "accounts", "list", "--json").stdout) == []


def test_demo_server_runs_seeded_for_other_clients(tmp_path: Path) -> None:
    from tests.peers.mastodon_mock import free_port

    port = free_port()
    command = [sys.executable, "-m", "app", "demo-server", "--port", str(port), "--no-traffic"]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as server:
        try:
            token = _announced_token(server)
            headers = {"Authorization": f"Bearer {token}"}
            me = requests.get(
                f"http://127.0.0.1:{port}/api/v1/accounts/verify_credentials", headers=headers, timeout=10
            )
            assert me.json()["username"] == "northwind"
            mentions = requests.get(
                f"http://127.0.0.1:{port}/api/v1/notifications",
                headers=headers,
                timeout=10,
                params={"types[]": "mention", "limit": 40},
            )
            assert len(mentions.json()) == 40
        finally:
            server.terminate()
        assert server.wait(timeout=15) == 0, "SIGTERM stops the demo server cleanly"
    with pytest.raises(requests.ConnectionError):  # and its embedded server went with it
        requests.get(f"http://127.0.0.1:{port}/api/v1/instance", timeout=2)


def _announced_token(server: subprocess.Popen[str]) -> str:
    assert server.stderr is not None
    for line in server.stderr:  # the server prints its address and the brand's token once seeded
        if "token:" in line:
            return line.rsplit("token:", 1)[1].strip()
    raise AssertionError("the demo server never announced the brand account's token")
