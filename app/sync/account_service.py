"""Adding, checking, re-signing and removing accounts: behind `parley accounts` and the Accounts dialog.

Credentials go to the OS keyring under the account id and nowhere else; a half-added account is
removed again, so a failure never leaves an account without its credential or a credential
without its account.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import logging
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

from app.context import AppContext
from app.domain.models import AccountRef, AccountState, Identity, Platform
from app.errors import AuthError, KnownError
from app.logs import REDACTOR
from app.platforms.base import Connector
from app.platforms.graph_api import DEFAULT_GRAPH_URL
from app.platforms.mastodon_oauth import BrowserSignIn, obtain_token
from app.platforms.registry import connector_class as registered_connector_class
from app.platforms.registry import make_connector
from app.store import accounts
from app.store.gaps import gap_note
from app.sync.engine import ConnectorFactory

log = logging.getLogger("app.sync.accounts")


class AccountError(KnownError):
    """An account cannot be added or changed as asked (bad input, duplicate, working offline)."""


class MatrixSignIn(Protocol):
    """What add_matrix_account needs of a connector class: password sign-in."""

    def sign_in(self, base_url: str, user: str, password: str, *, device_id: str) -> tuple[str, Identity]: ...


# ---- listing -------------------------------------------------------------------------------


def describe_accounts(ctx: AppContext) -> list[dict[str, Any]]:
    """Every account with its state, for `parley accounts list` and the Accounts dialog (JSON-ready)."""
    now = ctx.clock.now()
    described = []
    for row in accounts.account_status_rows(ctx.engine):
        state = AccountState(row["state"])
        described.append(
            {
                "id": row["id"],
                "name": row["name"],
                "platform": row["platform"],
                "handle": row["handle"],
                "display_name": row["display_name"],
                "base_url": row["base_url"],
                "department": str((row["options"] or {}).get("department") or ""),
                "state": state.value,
                "state_detail": row["state_detail"],
                "last_synced": time_ago(row["last_synced_at"], now),
                "last_synced_at": _iso(row["last_synced_at"]),
                "rate_limited_until": _iso(row["rate_limited_until"]),
                "retry_at": _iso(row["retry_at"]),
                "rate_limit": {
                    "limit": row["rate_limit_limit"],
                    "remaining": row["rate_limit_remaining"],
                    "reset_at": _iso(row["rate_limit_reset_at"]),
                },
                "token_expires_at": _iso(row["token_expires_at"]),
                "sync_interval_s": row["sync_interval_s"],
                "open_gaps": [
                    {
                        "id": gap["id"],
                        "stream": gap["stream"],
                        "start": _iso(gap["start_at"]),
                        "end": _iso(gap["end_at"]),
                        "detail": gap_note(gap["detail"]),
                        "fillable": bool(gap["fillable"]),
                        "fill_note": gap["fill_note"],
                    }
                    for gap in row["open_gaps"]
                ],
                "needs_sign_in": state is AccountState.NEEDS_SIGN_IN,
            }
        )
    return described


def time_ago(moment: datetime | None, now: datetime) -> str:
    """'never', 'just now', '5 min ago', '3 h ago', '2 days ago'."""
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# ---- adding --------------------------------------------------------------------------------


def add_mastodon_account(
    ctx: AppContext,
    instance_url: str,
    token: str,
    name: str | None = None,
    *,
    connector_class: type[Connector] | None = None,
) -> AccountRef:
    """Verify the token with the instance, then store the account and put the token in the keyring."""
    base_url = normalize_base_url(instance_url, what="Mastodon instance")
    token = _clean_secret(token, what="access token")
    REDACTOR.remember(token)
    _ready_to_add(ctx, name)
    cls = connector_class or registered_connector_class(Platform.MASTODON)
    placeholder = AccountRef(id=0, platform=Platform.MASTODON, name=name or "", base_url=base_url)
    connector = cls(placeholder, token)
    try:
        identity = connector.verify()
    finally:
        connector.close()
    return _store_new_account(ctx, Platform.MASTODON, base_url, identity, token, name=name)


def start_mastodon_sign_in(ctx: AppContext, instance_url: str) -> BrowserSignIn:
    """Register Parley with the instance and prepare a browser sign-in (`.url` to open, then `.wait()`
    or `.redeem(pasted)` for the token, which `add_mastodon_account` or `reauthenticate` then keep)."""
    base_url = normalize_base_url(instance_url, what="Mastodon instance")
    if ctx.offline:
        raise AccountError("Working offline: signing in needs the network.", hint="Run without --offline.")
    flow = BrowserSignIn(base_url)
    flow.begin()
    return flow


def add_matrix_account(
    ctx: AppContext,
    homeserver: str,
    user: str,
    password: str,
    name: str | None = None,
    *,
    connector_class: MatrixSignIn | None = None,
) -> AccountRef:
    """Sign in with the password (used once, never stored), keep the access token in the keyring."""
    base_url = normalize_base_url(homeserver, what="Matrix homeserver")
    user = user.strip()
    if not user:
        raise AccountError("A Matrix user name is needed (for example @support:example.org).")
    if not password:
        raise AccountError("The Matrix password is empty.", hint="Type it when asked, or pipe it on stdin.")
    REDACTOR.remember(password)
    _ready_to_add(ctx, name)
    device_id = matrix_device_id(name or user)
    cls: Any = connector_class or registered_connector_class(Platform.MATRIX)
    token, identity, expires_at = _matrix_login(cls, base_url, user, password, device_id)
    account = _store_new_account(
        ctx, Platform.MATRIX, base_url, identity, token, name=name, options={"device_id": device_id}
    )
    accounts.set_token_expiry(ctx.engine, account.id, expires_at)
    return account


BLUESKY_SERVER = "https://bsky.social"


def add_bluesky_account(
    ctx: AppContext,
    handle: str,
    app_password: str,
    server: str = "",
    name: str | None = None,
    *,
    connector_class: Any = None,
) -> AccountRef:
    """Sign in with an app password (used once, never stored); the session tokens go to the keyring.

    `server` is the account's PDS (Bluesky's own, https://bsky.social, when empty).
    """
    base_url = normalize_base_url(server or BLUESKY_SERVER, what="Bluesky server")
    handle = handle.strip().lstrip("@")
    if not handle:
        raise AccountError("A Bluesky handle is needed (for example support.bsky.social).")
    if not app_password.strip():
        raise AccountError(
            "The app password is empty.", hint="Create one in Bluesky under Settings → Privacy and security."
        )
    REDACTOR.remember(app_password)
    _ready_to_add(ctx, name)
    cls: Any = connector_class or registered_connector_class(Platform.BLUESKY)
    secret, identity = cls.sign_in(base_url, handle, app_password.strip())
    _remember_session_tokens(secret)
    return _store_new_account(ctx, Platform.BLUESKY, base_url, identity, secret, name=name)


def reauthenticate_bluesky(
    ctx: AppContext, account_id: int, app_password: str, *, connector_class: Any = None
) -> Identity:
    """Sign a Bluesky account in again with an app password; the new session replaces the old in the keyring."""
    account = accounts.get_account(ctx.engine, account_id)
    if account.platform is not Platform.BLUESKY:
        raise AccountError(f"{account.name} is not a Bluesky account.")
    if not app_password.strip():
        raise AccountError("The app password is empty.")
    REDACTOR.remember(app_password)
    if ctx.offline:
        raise AccountError("Working offline: signing in needs the network.")
    cls: Any = connector_class or registered_connector_class(Platform.BLUESKY)
    secret, identity = cls.sign_in(account.base_url, account.platform_user_id or account.handle, app_password.strip())
    _remember_session_tokens(secret)
    return _keep_new_secret(ctx, account, identity, secret, expires_at=None)


def _remember_session_tokens(secret: str) -> None:
    """A session stored as JSON: each token in it is redacted from logs on its own."""
    try:
        session = json.loads(secret)
    except ValueError:
        session = None
    for token in session.values() if isinstance(session, dict) else ():
        if isinstance(token, str) and len(token) > 20:
            REDACTOR.remember(token)


def add_graph_account(
    ctx: AppContext,
    platform: Platform,
    page_id: str,
    token: str,
    name: str | None = None,
    *,
    graph_url: str = DEFAULT_GRAPH_URL,
    human_agent: bool = False,
    connector_class: type[Connector] | None = None,
) -> AccountRef:
    """A Facebook Page, or the Instagram account linked to it: check the Page access token with Meta, keep it
    in the keyring. `human_agent`: the app has Meta's Human Agent permission (late replies for 7 days)."""
    if platform not in (Platform.FACEBOOK, Platform.INSTAGRAM):
        raise AccountError(f"{platform.value} accounts do not sign in with a Page token.")
    page_id = page_id.strip()
    if not page_id.isdigit():
        raise AccountError(
            "The Page id is a number.",
            hint="Find it under the Page's About › Page transparency, or in Meta Business Suite.",
        )
    base_url = normalize_base_url(graph_url, what="Graph API")
    token = _clean_secret(token, what="Page access token")
    REDACTOR.remember(token)
    _ready_to_add(ctx, name)
    cls = connector_class or registered_connector_class(platform)
    options = {"page_id": page_id, "human_agent": human_agent}
    placeholder = AccountRef(id=0, platform=platform, name=name or "", base_url=base_url, options=options)
    connector = cls(placeholder, token)
    try:
        identity = connector.verify()
    finally:
        connector.close()
    return _store_new_account(ctx, platform, base_url, identity, token, name=name, options=options)


def _matrix_login(
    cls: Any, base_url: str, user: str, password: str, device_id: str
) -> tuple[str, Identity, datetime | None]:
    """Sign in; the session's expiry when the homeserver gives one (connectors offering `login`)."""
    if hasattr(cls, "login"):
        login = cls.login(base_url, user, password, device_id=device_id)
        token, identity, expires_at = login.token, login.identity, login.expires_at
    else:
        token, identity = cls.sign_in(base_url, user, password, device_id=device_id)
        expires_at = None
    REDACTOR.remember(token)
    return token, identity, expires_at


def matrix_device_id(account_name: str) -> str:
    """A stable device id per account name, so signing in again reuses the device instead of adding one."""
    slug = re.sub(r"[^A-Z0-9]", "", account_name.upper())[:16]
    digest = hashlib.sha256(account_name.encode("utf-8")).hexdigest()[:8].upper()
    return f"PARLEY_{slug}_{digest}" if slug else f"PARLEY_{digest}"


def normalize_base_url(text: str, *, what: str) -> str:
    """'mastodon.social' or 'https://mastodon.social/' -> 'https://mastodon.social'."""
    raw = text.strip()
    candidate = raw if "://" in raw else f"https://{raw}"
    parts = urlsplit(candidate)
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host or " " in raw or parts.username or parts.password:
        raise AccountError(
            f"{raw!r} is not a {what} address.", hint="Give the server's address, for example https://example.social"
        )
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host:  # an IPv6 literal keeps its brackets
        netloc = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _clean_secret(secret: str, *, what: str) -> str:
    cleaned = secret.strip()
    if not cleaned:
        raise AccountError(f"The {what} is empty.", hint="Paste it when asked, or pipe it on stdin.")
    if any(ch.isspace() for ch in cleaned):
        raise AccountError(f"The {what} must be one word without spaces.")
    return cleaned


def _ready_to_add(ctx: AppContext, name: str | None) -> None:
    """Fail before touching the network: offline, no keyring, or a name already taken."""
    if ctx.offline:
        raise AccountError("Working offline: adding an account needs the network.", hint="Run without --offline.")
    ctx.secrets.check_available()
    if name is not None:
        if not name.strip():
            raise AccountError("The account name is empty.")
        if any(existing.name == name for existing in accounts.list_accounts(ctx.engine)):
            raise AccountError(f"An account named {name!r} already exists.", hint="Choose another --name.")


def _store_new_account(
    ctx: AppContext,
    platform: Platform,
    base_url: str,
    identity: Identity,
    secret: str,
    *,
    name: str | None,
    options: dict[str, Any] | None = None,
) -> AccountRef:
    for existing in accounts.list_accounts(ctx.engine):
        same_user = existing.platform_user_id and existing.platform_user_id == identity.platform_user_id
        if existing.platform is platform and existing.base_url == base_url and same_user:
            raise AccountError(
                f"{identity.handle} is already in Parley as {existing.name!r}.",
                hint="Sign in to that account again instead of adding it twice.",
            )
    account = accounts.add_account(
        ctx.engine,
        platform=platform,
        name=name or identity.handle,
        base_url=base_url,
        now=ctx.clock.now(),
        options=options,
    )
    try:
        _store_identity(ctx, account.id, identity)
        ctx.secrets.set(account.id, secret)
    except BaseException:
        accounts.remove_account(ctx.engine, account.id)  # nothing half-done is left behind
        raise
    log.info("added %s account %s (%s)", platform.value, account.name, identity.handle)
    return accounts.get_account(ctx.engine, account.id)


# ---- checking and signing in again ------------------------------------------------------


def test_connection(
    ctx: AppContext, account_id: int, *, connector_factory: ConnectorFactory = make_connector
) -> Identity:
    """Ask the platform who the stored credential belongs to; marks the account when it is refused."""
    account = accounts.get_account(ctx.engine, account_id)
    if ctx.offline:
        raise AccountError("Working offline: testing the connection needs the network.")
    secret = ctx.secrets.get(account.id)
    if not secret:
        accounts.set_account_state(ctx.engine, account.id, AccountState.NEEDS_SIGN_IN, "No sign-in in the keyring.")
        raise AccountError(f"No sign-in stored for {account.name}.", hint="Sign in to this account again.")
    connector = connector_factory(account, secret)
    try:
        identity = connector.verify()
        rotated = connector.new_secret()
    except AuthError as exc:
        accounts.set_account_state(ctx.engine, account.id, AccountState.NEEDS_SIGN_IN, exc.user_message())
        raise
    finally:
        connector.close()
    if rotated:  # the check renewed the sign-in (a refreshed Bluesky session, a new X refresh token): keep it
        ctx.secrets.set(account.id, rotated)
    if accounts.account_state(ctx.engine, account.id) is AccountState.NEEDS_SIGN_IN:
        accounts.set_account_state(ctx.engine, account.id, AccountState.OK)
    return identity


def reauthenticate(
    ctx: AppContext, account_id: int, token: str, *, connector_factory: ConnectorFactory = make_connector
) -> Identity:
    """Replace an account's token after checking that it belongs to the same user."""
    account = accounts.get_account(ctx.engine, account_id)
    token = _clean_secret(token, what="access token")
    REDACTOR.remember(token)
    if ctx.offline:
        raise AccountError("Working offline: signing in needs the network.")
    connector = connector_factory(account, token)
    try:
        identity = connector.verify()
    finally:
        connector.close()
    # A pasted or OAuth token carries no expiry (Mastodon's do not expire).
    return _keep_new_secret(ctx, account, identity, token, expires_at=None)


def reauthenticate_matrix(
    ctx: AppContext, account_id: int, password: str, *, connector_class: MatrixSignIn | None = None
) -> Identity:
    """Sign a Matrix account in again with its password (used once, never stored), on the same device."""
    account = accounts.get_account(ctx.engine, account_id)
    if account.platform is not Platform.MATRIX:
        raise AccountError(f"{account.name} is not a Matrix account.")
    if not password:
        raise AccountError("The Matrix password is empty.")
    REDACTOR.remember(password)
    if ctx.offline:
        raise AccountError("Working offline: signing in needs the network.")
    cls: Any = connector_class or registered_connector_class(Platform.MATRIX)
    device_id = str(account.options.get("device_id") or matrix_device_id(account.name))
    user = account.platform_user_id or account.handle
    token, identity, expires_at = _matrix_login(cls, account.base_url, user, password, device_id)
    return _keep_new_secret(ctx, account, identity, token, expires_at=expires_at)


def _keep_new_secret(
    ctx: AppContext, account: AccountRef, identity: Identity, secret: str, *, expires_at: datetime | None
) -> Identity:
    if account.platform_user_id and identity.platform_user_id != account.platform_user_id:
        raise AccountError(
            f"That sign-in belongs to {identity.handle}, not to {account.handle or account.name}.",
            hint="Sign in as the account's own user, or add the other user as a new account.",
        )
    ctx.secrets.set(account.id, secret)
    _store_identity(ctx, account.id, identity)
    accounts.set_account_state(ctx.engine, account.id, AccountState.OK)
    accounts.set_token_expiry(ctx.engine, account.id, expires_at)
    log.info("%s signed in again", account.name)
    return identity


# ---- removing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Removal:
    """What removing an account did on the platform: `signed_out` when its session there was ended,
    else `note` says why not (nothing to end there, offline, or the platform's refusal)."""

    name: str
    signed_out: bool
    note: str = ""

    def summary(self) -> str:
        if self.signed_out:
            return f"Removed {self.name}; its session on the server was signed out."
        return f"Removed {self.name}. {self.note}".rstrip()


def remove_account(
    ctx: AppContext, name: str, delete_data: bool = True, *, connector_factory: ConnectorFactory = make_connector
) -> Removal:
    """Sign the session out on the platform where it has one, then forget the credential, then (by default)
    the account and everything cached for it.

    Signing out is best effort: a server that is down or refuses must not keep an account the person
    wants gone, so its failure is only reported. The keyring entry goes before the data: if the keyring
    refuses, nothing is deleted and the user can retry. Without `delete_data` the cached conversations
    stay and the account waits to be signed in again.
    """
    account = accounts.find_account(ctx.engine, name)
    removal = _sign_out(ctx, account, ctx.secrets.get(account.id), connector_factory)
    ctx.secrets.delete(account.id)
    if delete_data:
        accounts.remove_account(ctx.engine, account.id)
    else:
        accounts.set_account_state(ctx.engine, account.id, AccountState.NEEDS_SIGN_IN, "Signed out.")
    log.info("removed account %s (data deleted: %s, signed out: %s)", account.name, delete_data, removal.signed_out)
    return removal


def _sign_out(ctx: AppContext, account: AccountRef, secret: str | None, connector_factory: ConnectorFactory) -> Removal:
    if not secret:
        return Removal(account.name, False, "There was no sign-in to end on the server.")
    if ctx.offline:
        return Removal(account.name, False, "Working offline: the session on the server was not signed out.")
    try:
        connector = connector_factory(account, secret)
        try:
            ended = connector.sign_out()
        finally:
            connector.close()
    except KnownError as exc:
        log.warning("%s: signing out on the server failed: %s", account.name, exc)
        return Removal(
            account.name,
            False,
            f"The server could not sign its session out ({REDACTOR.scrub(str(exc))}); "
            "remove the device in the account's security settings there.",
        )
    except Exception:
        log.error("%s: signing out on the server failed unexpectedly", account.name, exc_info=True)
        return Removal(account.name, False, "Signing out on the server failed; details are in the log file.")
    if not ended:
        return Removal(
            account.name, False, "Its access stays valid on the platform until it is revoked in the settings there."
        )
    return Removal(account.name, True)


# ---- the command line --------------------------------------------------------------------


def add_account_from_cli(
    ctx: AppContext,
    args: argparse.Namespace,
    *,
    stdin: IO[str] | None = None,
    connector_class: Any = None,
) -> int:
    """`parley accounts add PLATFORM`: secrets come from stdin (one line), never from arguments."""
    stdin = stdin or sys.stdin
    if args.platform == "mastodon":
        if not args.instance:
            raise AccountError(
                "Which instance? Give --instance URL.", hint="For example --instance https://mastodon.social"
            )
        if args.oauth:
            _ready_to_add(ctx, args.name)  # before the person spends time in the browser
            token = _oauth_token(args.instance)
        else:
            token = _read_secret(stdin, "Access token: ")
        account = add_mastodon_account(ctx, args.instance, token, args.name, connector_class=connector_class)
    elif args.platform == "matrix":
        if not args.homeserver or not args.user:
            raise AccountError("Matrix needs --homeserver URL and --user NAME.")
        password = _read_secret(stdin, f"Password for {args.user}: ")
        account = add_matrix_account(
            ctx, args.homeserver, args.user, password, args.name, connector_class=connector_class
        )
    elif args.platform == "bluesky":
        if not args.handle:
            raise AccountError("Bluesky needs --handle (for example --handle support.bsky.social).")
        app_password = _read_secret(stdin, f"App password for {args.handle}: ")
        account = add_bluesky_account(
            ctx, args.handle, app_password, args.server or "", args.name, connector_class=connector_class
        )
    elif args.platform in ("facebook", "instagram"):
        if not args.page_id:
            raise AccountError(
                "Which Page? Give --page-id ID.",
                hint="Instagram accounts are added through the Page they are linked to.",
            )
        token = _read_secret(stdin, "Page access token: ")
        account = add_graph_account(
            ctx, Platform(args.platform), args.page_id, token, args.name, graph_url=args.graph_url or DEFAULT_GRAPH_URL,
            human_agent=args.human_agent, connector_class=connector_class,
        )  # fmt: skip
    elif args.platform in ("x", "reddit"):
        from app.sync.oauth_accounts import add_from_cli  # X and Reddit sign in with an app of the user's own

        account = add_from_cli(ctx, args, stdin=stdin, connector_class=connector_class)
    else:
        raise AccountError(f"Parley cannot add {args.platform} accounts yet.")
    print(f"Added {account.name} ({account.handle}). `parley sync` fetches its messages.", file=sys.stderr)
    return 0


def _read_secret(stdin: IO[str], prompt: str) -> str:
    """One line from stdin; typed at a terminal without echo."""
    if stdin.isatty():
        return getpass.getpass(prompt)
    return stdin.readline().strip()


def _oauth_token(instance_url: str) -> str:
    """The browser sign-in on a terminal (see `app.platforms.mastodon_oauth.obtain_token`)."""
    return obtain_token(normalize_base_url(instance_url, what="Mastodon instance"))


def _store_identity(ctx: AppContext, account_id: int, identity: Identity) -> None:
    accounts.update_identity(
        ctx.engine,
        account_id,
        handle=identity.handle,
        display_name=identity.display_name,
        platform_user_id=identity.platform_user_id,
    )
