"""Accounts: add, list, sign in again, remove — with the real keyring and a real SQLite profile.

The platform is a FAKE connector class (it only answers verify/sign-in) standing in for Mastodon
and Matrix, so these tests prove the service's bookkeeping, not any platform's protocol.
"""

from __future__ import annotations

import argparse
import io
from datetime import timedelta

import keyring
import pytest

from app.context import AppContext
from app.domain.clock import ManualClock
from app.domain.models import AccountState, Gap, Identity, Page, RateLimit
from app.errors import AuthError, KnownError, SecretStoreUnavailable, StoreError
from app.secrets import SecretStore
from app.store import accounts, inbox
from app.store.ingest import store_page
from app.sync import account_service
from app.sync.account_service import AccountError, normalize_base_url, time_ago
from tests.factories import T0, message, page
from tests.sync_fakes import FakePlatform
from tests.sync_fixtures import sync_ctx  # noqa: F401 - the fixture ctx

TOKEN = "tok-3f9c2a7d81b64e05"
ALICE = Identity(platform_user_id="109", handle="@alice@m.example", display_name="Alice")


@pytest.fixture
def fake() -> FakePlatform:
    platform = FakePlatform()
    platform.identities[TOKEN] = ALICE
    return platform


def profile_bytes(ctx: AppContext) -> bytes:
    """Every byte SQLite keeps for the profile: the database, its write-ahead log and shared memory."""
    database = ctx.paths.database
    parts = [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


def test_added_mastodon_account_is_listed_and_its_token_is_only_in_the_keyring(
    ctx: AppContext, fake: FakePlatform
) -> None:
    account = account_service.add_mastodon_account(ctx, "m.example/", TOKEN, connector_class=fake.connector_class())
    assert (account.name, account.base_url, account.handle) == (
        "@alice@m.example",
        "https://m.example",
        "@alice@m.example",
    )
    assert keyring.get_password(ctx.secrets.service, str(account.id)) == TOKEN
    [row] = account_service.describe_accounts(ctx)
    assert row["handle"] == "@alice@m.example" and row["state"] == "ok" and row["last_synced"] == "never"
    assert not row["needs_sign_in"]
    ctx.engine.dispose()  # flush pooled connections so every page is on disk
    assert TOKEN.encode() not in profile_bytes(ctx)


def test_a_refused_token_adds_nothing(ctx: AppContext, fake: FakePlatform) -> None:
    with pytest.raises(AuthError):
        account_service.add_mastodon_account(
            ctx, "https://m.example", "wrong-token", connector_class=fake.connector_class()
        )
    assert accounts.list_accounts(ctx.engine) == []


def test_when_the_keyring_refuses_the_token_the_half_added_account_is_removed(
    ctx: AppContext, fake: FakePlatform
) -> None:
    class RefusingKeyring(SecretStore):
        """The real store, except that writing fails as a locked keyring would."""

        def set(self, account_id: int | str, secret: str) -> None:
            raise SecretStoreUnavailable("The OS keyring is locked, so Parley cannot store the credentials.")

    ctx.secrets = RefusingKeyring(service=ctx.secrets.service)
    with pytest.raises(SecretStoreUnavailable, match="locked"):
        account_service.add_mastodon_account(ctx, "https://m.example", TOKEN, connector_class=fake.connector_class())
    assert accounts.list_accounts(ctx.engine) == []


def test_the_same_user_cannot_be_added_twice_and_names_stay_unique(ctx: AppContext, fake: FakePlatform) -> None:
    cls = fake.connector_class()
    account_service.add_mastodon_account(ctx, "https://m.example", TOKEN, name="brand", connector_class=cls)
    with pytest.raises(AccountError, match="already in Parley as 'brand'"):
        account_service.add_mastodon_account(ctx, "https://m.example", TOKEN, name="second", connector_class=cls)
    with pytest.raises(AccountError, match="already exists"):
        account_service.add_mastodon_account(ctx, "https://other.example", TOKEN, name="brand", connector_class=cls)
    assert [a.name for a in accounts.list_accounts(ctx.engine)] == ["brand"]


@pytest.mark.parametrize("token", ["", "   ", "two words"], ids=["empty", "blank", "spaces"])
def test_a_malformed_token_is_refused_before_the_network(ctx: AppContext, fake: FakePlatform, token: str) -> None:
    with pytest.raises(AccountError, match="access token"):
        account_service.add_mastodon_account(ctx, "https://m.example", token, connector_class=fake.connector_class())
    assert fake.fetch_calls == []


def test_adding_while_working_offline_is_refused(ctx: AppContext, fake: FakePlatform) -> None:
    ctx.offline = True
    with pytest.raises(AccountError, match="offline"):
        account_service.add_mastodon_account(ctx, "https://m.example", TOKEN, connector_class=fake.connector_class())


def test_matrix_account_keeps_the_token_and_never_the_password(ctx: AppContext, fake: FakePlatform) -> None:
    password = "correct horse battery staple"
    fake.identities[password] = Identity(platform_user_id="@support:hs.example", handle="@support:hs.example")
    account = account_service.add_matrix_account(
        ctx, "https://hs.example", "support", password, name="support desk", connector_class=fake.connector_class()
    )
    device_id = account.options["device_id"]
    assert device_id == account_service.matrix_device_id("support desk") and device_id.startswith("PARLEY_SUPPORTDESK")
    assert fake.fetch_calls[-1][:3] == ("support", "sign_in", device_id)
    stored = keyring.get_password(ctx.secrets.service, str(account.id))
    assert stored == f"token-for-support-{device_id}"
    ctx.engine.dispose()
    assert password.encode() not in profile_bytes(ctx) and stored.encode() not in profile_bytes(ctx)


def test_wrong_matrix_password_adds_nothing(ctx: AppContext, fake: FakePlatform) -> None:
    with pytest.raises(AuthError):
        account_service.add_matrix_account(
            ctx, "https://hs.example", "support", "nope", connector_class=fake.connector_class()
        )
    assert accounts.list_accounts(ctx.engine) == []


def test_remove_deletes_the_keyring_entry_and_every_cached_message(ctx: AppContext, fake: FakePlatform) -> None:
    cls = fake.connector_class()
    brand = account_service.add_mastodon_account(ctx, "https://m.example", TOKEN, name="brand", connector_class=cls)
    store_page(ctx.engine, brand.id, page(message("m1", text="parcel lost"), cursor="m1"), now=T0)
    assert inbox.message_count(ctx.engine) == 1

    account_service.remove_account(ctx, "brand")

    assert keyring.get_password(ctx.secrets.service, str(brand.id)) is None
    assert accounts.list_accounts(ctx.engine) == [] and inbox.message_count(ctx.engine) == 0
    assert accounts.get_cursor(ctx.engine, brand.id, "mentions") is None
    with pytest.raises(StoreError, match="No account named"):
        account_service.remove_account(ctx, "brand")


def test_remove_keeping_data_signs_the_account_out(ctx: AppContext, fake: FakePlatform) -> None:
    brand = account_service.add_mastodon_account(
        ctx, "https://m.example", TOKEN, name="brand", connector_class=fake.connector_class()
    )
    store_page(ctx.engine, brand.id, page(message("m1"), cursor="m1"), now=T0)
    account_service.remove_account(ctx, "brand", delete_data=False)
    assert ctx.secrets.get(brand.id) is None
    assert inbox.message_count(ctx.engine) == 1
    assert account_service.describe_accounts(ctx)[0]["needs_sign_in"] is True


def test_description_shows_sync_age_rate_limit_and_open_gaps(
    ctx: AppContext, fake: FakePlatform, clock: ManualClock
) -> None:
    brand = account_service.add_mastodon_account(
        ctx, "https://m.example", TOKEN, name="brand", connector_class=fake.connector_class()
    )
    until = clock.now() + timedelta(minutes=5)
    accounts.set_account_state(
        ctx.engine, brand.id, AccountState.RATE_LIMITED, "slow down", synced_at=clock.now(), rate_limited_until=until,
        rate_limit=RateLimit(limit=300, remaining=0, reset_at=until),
    )  # fmt: skip
    accounts.set_retry_at(ctx.engine, brand.id, until + timedelta(seconds=3))
    gap = Gap(stream="mentions", start=T0, end=T0 + timedelta(hours=2), detail="older items expired")
    store_page(
        ctx.engine, brand.id, Page(stream="mentions", messages=(), cursor=None, has_more=False, gaps=(gap,)), now=T0
    )
    clock.advance(timedelta(minutes=2, seconds=5))
    [row] = account_service.describe_accounts(ctx)
    assert row["last_synced"] == "2 min ago"
    assert row["rate_limited_until"] == until.isoformat() and row["state_detail"] == "slow down"
    assert row["rate_limit"] == {"limit": 300, "remaining": 0, "reset_at": until.isoformat()}
    assert row["retry_at"] == (until + timedelta(seconds=3)).isoformat()
    assert row["token_expires_at"] is None
    assert row["open_gaps"] == [
        {
            "id": row["open_gaps"][0]["id"],
            "fillable": True,
            "fill_note": "",
            "stream": "mentions",
            "start": T0.isoformat(),
            "end": (T0 + timedelta(hours=2)).isoformat(),
            "detail": gap.detail,
        }
    ]


def test_test_connection_marks_a_revoked_token_as_needing_sign_in(ctx: AppContext, fake: FakePlatform) -> None:
    brand = account_service.add_mastodon_account(
        ctx, "https://m.example", TOKEN, name="brand", connector_class=fake.connector_class()
    )
    assert account_service.test_connection(ctx, brand.id, connector_factory=fake) == ALICE
    del fake.identities[TOKEN]  # the user revoked the token on the instance
    with pytest.raises(AuthError):
        account_service.test_connection(ctx, brand.id, connector_factory=fake)
    assert accounts.account_state(ctx.engine, brand.id) is AccountState.NEEDS_SIGN_IN


def test_signing_in_again_needs_a_token_of_the_same_user(ctx: AppContext, fake: FakePlatform) -> None:
    brand = account_service.add_mastodon_account(
        ctx, "https://m.example", TOKEN, name="brand", connector_class=fake.connector_class()
    )
    accounts.set_account_state(ctx.engine, brand.id, AccountState.NEEDS_SIGN_IN, "revoked")
    fake.identities["tok-of-mallory"] = Identity(platform_user_id="666", handle="@mallory@m.example")
    with pytest.raises(AccountError, match="belongs to @mallory"):
        account_service.reauthenticate(ctx, brand.id, "tok-of-mallory", connector_factory=fake)
    assert ctx.secrets.get(brand.id) == TOKEN

    fake.identities["tok-fresh-alice"] = ALICE
    account_service.reauthenticate(ctx, brand.id, "tok-fresh-alice", connector_factory=fake)
    assert ctx.secrets.get(brand.id) == "tok-fresh-alice"
    assert accounts.account_state(ctx.engine, brand.id) is AccountState.OK


def cli_args(**values: object) -> argparse.Namespace:
    defaults = {
        "platform": "mastodon",
        "instance": None,
        "homeserver": None,
        "user": None,
        "name": None,
        "oauth": False,
    }
    return argparse.Namespace(**(defaults | values))


def test_cli_reads_the_token_from_one_line_of_stdin(
    ctx: AppContext, fake: FakePlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli_args(instance="https://m.example", name="brand")
    code = account_service.add_account_from_cli(
        ctx, args, stdin=io.StringIO(f"{TOKEN}\nignored\n"), connector_class=fake.connector_class()
    )
    assert code == 0
    assert "Added brand (@alice@m.example)" in capsys.readouterr().err
    assert ctx.secrets.get(accounts.find_account(ctx.engine, "brand").id) == TOKEN


@pytest.mark.parametrize(
    ("args", "stdin", "error"),
    [
        (cli_args(), TOKEN, "--instance"),
        (cli_args(instance="https://m.example"), "", "access token is empty"),
        (cli_args(instance="not a url"), TOKEN, "not a Mastodon instance address"),
        (cli_args(platform="matrix", homeserver="https://hs.example"), "pw", "--user"),
        (cli_args(platform="matrix", homeserver="https://hs.example", user="support"), "", "password is empty"),
    ],
    ids=["no-instance", "empty-token", "bad-url", "no-user", "empty-password"],
)
def test_cli_bad_input_gets_a_clear_error_and_adds_nothing(
    ctx: AppContext, fake: FakePlatform, args: argparse.Namespace, stdin: str, error: str
) -> None:
    with pytest.raises(KnownError, match=error):
        account_service.add_account_from_cli(
            ctx, args, stdin=io.StringIO(stdin), connector_class=fake.connector_class()
        )
    assert accounts.list_accounts(ctx.engine) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("  https://Mastodon.Social/  ", "https://mastodon.social"),
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
        ("https://example.org/matrix/", "https://example.org/matrix"),
    ],
)
def test_server_addresses_are_normalised(text: str, expected: str) -> None:
    assert normalize_base_url(text, what="server") == expected


@pytest.mark.parametrize("text", ["", "ftp://x.example", "https://", "two words.example", "https://u:p@x.example"])
def test_unusable_server_addresses_are_refused(text: str) -> None:
    with pytest.raises(AccountError, match="not a server address"):
        normalize_base_url(text, what="server")


def test_time_ago_reads_like_a_person_would_say_it(clock: ManualClock) -> None:
    now = clock.now()
    assert [time_ago(now - timedelta(seconds=s), now) for s in (5, 125, 7300, 90000, 200000)] == [
        "just now",
        "2 min ago",
        "2 h ago",
        "1 day ago",
        "2 days ago",
    ]
    assert time_ago(None, now) == "never"
