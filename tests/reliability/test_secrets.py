"""Secrets: tokens live only in the OS keyring, never in files, logs, messages or reprs; keyring trouble is explained.

The session runs against mastodon-mock with the real keyring (gnome-keyring in a private D-Bus session).
A locked keyring is a second private gnome-keyring whose collection is locked over D-Bus; a missing
backend is keyring's own "fail" backend, chosen with PYTHON_KEYRING_BACKEND in a separate process.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import keyring
import keyring.core
import pytest
import requests

from app import APP_ID
from app.context import open_context
from app.domain.models import Platform
from app.domain.outbox import OutboxState
from app.errors import AuthError, KnownError
from app.paths import ProfilePaths
from app.platforms.mastodon import MastodonConnector
from app.platforms.matrix import MatrixConnector
from app.store import accounts, inbox, outbox
from app.sync import account_service
from app.sync.engine import SyncEngine
from app.sync.sender import OutboxSender
from app.sync.writer import StoreWriter
from app.ui.launch import build_main_window, start_gui
from tests.peers.keyring_session import private_secret_service
from tests.peers.mastodon_mock import MastodonMock
from tests.reliability.helpers import REPO_ROOT, parley

AREA = "Secrets"
FAIL_BACKEND = "keyring.backends.fail.Keyring"


def problem_text(exc: BaseException) -> str:
    """Everything an exception could show a user or a log: message, hint, repr and traceback."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, KnownError):
        parts.append(exc.user_message())
    return "\n".join(parts)


def files_holding(root: Path, needle: str) -> list[str]:
    raw = needle.encode("utf-8")
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and raw in p.read_bytes())


def test_no_token_is_left_in_any_file_log_message_or_repr_after_a_session_and_a_failed_sign_in(
    qtbot, tmp_path: Path, mastodon_server: MastodonMock, secret_service: dict[str, str]
) -> None:
    """Fault: a full session (sign in, sync, send a reply, window state and settings saved, debug logging on)
    followed by a mistyped token, a token revoked on the server, and a bug that logs an exception carrying
    the token.

    Survives: the token is in the keyring and nowhere else: not in the database (WAL included), backups,
    settings.toml, window.ini or the rotating logs; log lines show *** in its place; no error message,
    traceback or repr of a connector, account or context contains it.
    """
    brand = mastodon_server.create_user(f"brand_{secrets.token_hex(3)}")
    customer = mastodon_server.create_user(f"cust_{secrets.token_hex(3)}")
    mastodon_server.post(customer["access_token"], f"@{brand['username']} where is my parcel?")
    token, typo = brand["access_token"], "mistyped-" + secrets.token_hex(12)
    paths = ProfilePaths(tmp_path / "profile")
    ctx = open_context(paths, verbose=True)
    shown: list[str] = []
    try:
        account = account_service.add_mastodon_account(ctx, mastodon_server.url, token, "brand")
        with pytest.raises(AuthError) as refused:
            account_service.add_mastodon_account(ctx, mastodon_server.url, typo, "typo")
        shown.append(problem_text(refused.value))

        with StoreWriter() as writer:
            engine = SyncEngine(ctx, writer=writer)
            assert engine.sync_account(account.id, threading.Event()).stored == 1
            (conversation,) = inbox.conversation_ids(ctx.engine)
            item = outbox.queue_reply(ctx.engine, conversation, "On its way!", now=datetime.now(UTC))
            outbox.move_state(ctx.engine, [item.id], OutboxState.APPROVED, now=datetime.now(UTC), reviewer="Kim")
            assert OutboxSender(ctx).send_ready().sent == [item.id]

            try:
                raise RuntimeError(f"a bug that put Bearer {token} in its message")
            except RuntimeError as bug:
                logging.getLogger("app.test").error("logging a bug's exception: %s", bug, exc_info=True)

            requests.post(f"{mastodon_server.url}/oauth/revoke", data={"token": token}, timeout=10).raise_for_status()
            revoked = engine.sync_account(account.id, threading.Event())
            shown.append(revoked.error)
        assert "sign in" in revoked.error.lower()
        with pytest.raises(AuthError) as still_refused:
            account_service.test_connection(ctx, account.id)
        shown.append(problem_text(still_refused.value))
        shown.extend(str(row["state_detail"]) for row in accounts.account_status_rows(ctx.engine))
        ref = accounts.get_account(ctx.engine, account.id)
        matrix = MatrixConnector(replace(ref, platform=Platform.MATRIX), token)
        shown.extend([repr(MastodonConnector(ref, token)), repr(matrix), repr(matrix._api), repr(ref), repr(ctx)])

        window = build_main_window(ctx)
        qtbot.addWidget(window)
        window.show()
        ctx.preferences.agent_name = "Kim"
        ctx.save_preferences()
        window.close()
        assert keyring.get_password(APP_ID, ctx.secrets.entry_name(account.id)) == token, "the keyring keeps it"
    finally:
        ctx.close()

    assert paths.window_state_file.exists() and paths.settings_file.exists() and paths.log_file.exists()
    for secret in (token, typo):
        assert files_holding(paths.root, secret) == []
        assert not [text for text in shown if secret in text]
    log_text = "".join(p.read_text(encoding="utf-8") for p in paths.logs.glob("parley.log*"))
    assert "a bug that put Bearer *** in its message" in log_text and "Traceback" in log_text


def test_a_locked_keyring_says_it_is_locked_and_how_to_unlock_it(tmp_path: Path, mastodon_server: MastodonMock) -> None:
    """Fault: the OS keyring's collection is locked (over its D-Bus API) after an account was added.

    Survives: reading or storing a credential raises SecretStoreUnavailable saying the keyring is locked
    and to unlock it; `parley sync` reports it for the account and exits 1, `parley accounts add` exits 2
    with the same advice on one line; no traceback anywhere.
    """
    brand = mastodon_server.create_user(f"brand_{secrets.token_hex(3)}")
    second = mastodon_server.create_user(f"second_{secrets.token_hex(3)}")
    data_dir = tmp_path / "profile"
    with private_secret_service() as bus:
        env = {**os.environ, **bus}
        added = run(env, data_dir, "accounts", "add", "mastodon", "--instance", mastodon_server.url, "--name",
                    "brand", stdin=brand["access_token"] + "\n")  # fmt: skip
        assert added.returncode == 0, added.stderr
        lock = "import secretstorage\nsecretstorage.get_default_collection(secretstorage.dbus_init()).lock()"
        subprocess.run([sys.executable, "-c", lock], env=env, check=True, timeout=30)

        probe = (
            "from app.secrets import SecretStore\nfrom app.errors import SecretStoreUnavailable\n"
            "try:\n    SecretStore().get(1)\nexcept SecretStoreUnavailable as exc:\n    print(exc.user_message())"
        )
        raised = subprocess.run(
            [sys.executable, "-c", probe], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
        )
        synced = run(env, data_dir, "sync", "--once")
        other = run(env, data_dir, "accounts", "add", "mastodon", "--instance", mastodon_server.url, "--name",
                    "other", stdin=second["access_token"] + "\n")  # fmt: skip
        listed = run(env, data_dir, "accounts", "list")

    assert "keyring is locked" in raised.stdout and "Unlock your keyring" in raised.stdout, raised.stderr
    assert synced.returncode == 1 and "brand: error: The OS keyring is locked" in synced.stderr
    assert "Unlock" in synced.stderr and "Traceback" not in synced.stderr
    assert other.returncode == 2 and len(other.stderr.strip().splitlines()) == 1
    assert "keyring is locked" in other.stderr and "Unlock" in other.stderr and "Traceback" not in other.stderr
    assert "other" not in listed.stdout, "an account whose credential could not be stored is not kept"


def run(env: dict[str, str], data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
        env=env, cwd=REPO_ROOT, input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_missing_keyring_backend_names_the_fix_on_the_command_line(
    tmp_path: Path, mastodon_server: MastodonMock, secret_service: dict[str, str]
) -> None:
    """Fault: no usable keyring backend (keyring's "fail" backend, as on a machine without Secret Service).

    Survives: `parley accounts add` exits 2 with one line that says no OS keyring is available and how to
    get one, and stores nothing; `parley sync` reports the same for an existing account and exits 1;
    no traceback, no plaintext fallback.
    """
    brand = mastodon_server.create_user(f"brand_{secrets.token_hex(3)}")
    data_dir = tmp_path / "profile"
    added = parley(data_dir, "accounts", "add", "mastodon", "--instance", mastodon_server.url, "--name", "brand",
                   stdin=brand["access_token"] + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": FAIL_BACKEND}

    other = run(env, data_dir, "accounts", "add", "mastodon", "--instance", mastodon_server.url, "--name", "other",
                stdin=brand["access_token"] + "\n")  # fmt: skip
    synced = run(env, data_dir, "sync", "--once")

    assert other.returncode == 2 and len(other.stderr.strip().splitlines()) == 1, other.stderr
    assert "No OS keyring is available" in other.stderr and "gnome-keyring" in other.stderr
    assert synced.returncode == 1 and "brand: error: No OS keyring is available" in synced.stderr
    for result in (other, synced):
        assert "Traceback" not in result.stderr
    assert files_holding(data_dir, brand["access_token"]) == []
    listed = parley(data_dir, "accounts", "list")
    assert "other" not in listed.stdout


@pytest.fixture
def no_keyring_backend(monkeypatch: pytest.MonkeyPatch, secret_service: dict[str, str]) -> Iterator[None]:
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FAIL_BACKEND)
    keyring.core.init_backend()
    yield
    keyring.set_keyring(previous)


def test_a_missing_keyring_backend_is_explained_in_the_window(qtbot, tmp_path: Path, no_keyring_backend: None) -> None:
    """Fault: no usable keyring backend when the window starts.

    Survives: the window opens on the cached inbox with a banner that says no OS keyring is available and
    how to install one; nothing asks for a token to keep in plaintext.
    """
    session = start_gui(argparse.Namespace(data_dir=str(tmp_path / "profile"), demo=False, offline=False,
                                           verbose=False))  # fmt: skip
    try:
        window = session.window
        assert window is not None and session.exit_code is None
        qtbot.waitUntil(window.banner.isVisible)
        assert "no OS keyring is available" in window.banner.text() and "gnome-keyring" in window.banner.text()
    finally:
        session.close()
        if session.window is not None:
            session.window.close()
            session.window.deleteLater()
