"""`parley sync` on threads without Qt: progress lines, summary, exit codes, Ctrl+C.

The platform is a FAKE connector standing in for real ones, so these tests prove the command's
orchestration only; the real platforms are exercised end to end elsewhere.
"""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from app import cli
from app.context import AppContext
from app.domain.models import AccountRef, AccountState, Platform
from app.errors import AuthError, KnownError, StoreError
from app.store import accounts, inbox
from app.sync.cli_sync import run_sync
from tests.factories import T0
from tests.sync_fakes import Block, FakePlatform, isolate_keyring, pages_of


@pytest.fixture
def ctx(context: AppContext) -> AppContext:
    isolate_keyring(context)
    return context


def add(ctx: AppContext, name: str) -> AccountRef:
    account = accounts.add_account(
        ctx.engine, platform=Platform.MASTODON, name=name, base_url="https://m.example", now=T0
    )
    ctx.secrets.set(account.id, f"token-{name}")
    return account


def test_once_syncs_every_account_prints_progress_and_fails_when_one_account_failed(
    ctx: AppContext, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakePlatform()
    add(ctx, "brand")
    add(ctx, "revoked")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1", "m2"], ["m3"]))
    fake.script("revoked", "mentions", AuthError("token revoked", status=401))

    code = run_sync(ctx, once=True, connector_factory=fake)

    err = capsys.readouterr().err
    assert code == 1
    assert "brand: mentions page 1, 2 new" in err and "brand: mentions page 2, 3 new" in err
    assert "revoked: needs sign-in: token revoked" in err
    assert "Synced 2 of 2 accounts, 3 new messages; failed: revoked." in err
    assert inbox.message_count(ctx.engine) == 3


def test_once_for_one_named_account_succeeds_with_exit_code_zero(
    ctx: AppContext, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakePlatform()
    add(ctx, "brand")
    add(ctx, "other")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]))
    fake.script("other", "mentions", AuthError("would fail"))
    assert run_sync(ctx, "brand", once=True, connector_factory=fake) == 0
    assert {call[0] for call in fake.fetch_calls} == {"brand"}
    assert "brand: synced, 1 new" in capsys.readouterr().err


def test_once_does_not_contact_an_account_the_platform_asked_to_wait(
    ctx: AppContext, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakePlatform()
    brand = add(ctx, "brand")
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]))
    until = ctx.clock.now() + timedelta(minutes=10)
    accounts.set_account_state(ctx.engine, brand.id, AccountState.RATE_LIMITED, "slow", rate_limited_until=until)
    assert run_sync(ctx, once=True, connector_factory=fake) == 1
    assert fake.fetch_calls == []
    assert "brand: rate-limited: The platform asked Parley to wait until" in capsys.readouterr().err


def test_without_once_it_keeps_going_until_ctrl_c_and_then_exits_cleanly(
    ctx: AppContext, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakePlatform()
    add(ctx, "brand")
    hang = Block()
    fake.script("brand", "mentions", *pages_of("mentions", ["m1"]), hang)

    def press_ctrl_c() -> None:  # while the second request hangs; the first page must already be kept
        if hang.entered.wait(10):
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()

    code = run_sync(ctx, once=False, connector_factory=fake)

    err = capsys.readouterr().err
    assert code == 0
    assert "Stopping..." in err and "brand: stopped, 1 new kept" in err
    assert inbox.message_count(ctx.engine) == 1
    assert accounts.get_cursor(ctx.engine, accounts.find_account(ctx.engine, "brand").id, "mentions") == "m1"


def test_an_unknown_account_or_no_accounts_is_a_clear_error(ctx: AppContext) -> None:
    with pytest.raises(KnownError, match="no accounts to sync"):
        run_sync(ctx, once=True, connector_factory=FakePlatform())
    with pytest.raises(StoreError, match="No account named 'ghost'"):
        run_sync(ctx, "ghost", once=True, connector_factory=FakePlatform())


def test_parley_offline_sync_refuses_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--data-dir", str(tmp_path / "p"), "--offline", "sync", "--once"]) == 2
    assert "Working offline" in capsys.readouterr().err
