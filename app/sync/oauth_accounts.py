"""Adding and re-signing X and Reddit accounts: OAuth 2.0 with an app the person registered for Parley.

Both platforms want each client registered by hand in their developer portal (a "native app" on X, an
"installed app" on Reddit) with the redirect ``http://127.0.0.1:8765/callback``; the app's client id is kept
with the account (it is not a secret), the tokens go to the keyring as a `TokenBundle`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import IO, Any

from app.context import AppContext
from app.domain.models import AccountRef, Identity, Platform
from app.errors import KnownError
from app.logs import REDACTOR
from app.platforms.oauth2 import PkceSignIn, TokenBundle, sign_in_on_terminal
from app.platforms.registry import connector_class as registered_connector_class
from app.platforms.registry import make_connector
from app.store import accounts
from app.sync.account_service import (
    AccountError,
    _keep_new_secret,
    _read_secret,
    _ready_to_add,
    _store_new_account,
    normalize_base_url,
)

OAUTH_PLATFORMS = {"x": Platform.X, "reddit": Platform.REDDIT}


@dataclass(frozen=True)
class OAuthApp:
    """The app a person registered on X or Reddit for Parley, and where that platform is reached.

    `api_url`/`auth_url` are empty for the real platform (set only to reach a proxy or a test server).
    """

    platform: Platform
    client_id: str
    api_url: str = ""
    auth_url: str = ""
    modmail: bool = False  # Reddit: also sync moderator mail (needs a moderator account)
    client_secret: str = field(default="", repr=False)  # Reddit "script"/"web" apps; kept in the keyring only

    def options(self) -> dict[str, Any]:
        found: dict[str, Any] = {"client_id": self.client_id}
        if self.platform is Platform.REDDIT:
            found["modmail"] = self.modmail
        if self.auth_url:
            found["auth_url"] = self.auth_url
        return found

    def base_url(self) -> str:
        from app.platforms import reddit, x

        default = x.API_URL if self.platform is Platform.X else reddit.API_URL
        return normalize_base_url(self.api_url, what="API") if self.api_url else default


def start_oauth_sign_in(ctx: AppContext, app: OAuthApp, *, port: int | None = None) -> PkceSignIn:
    """Prepare the browser sign-in for an X or Reddit app (`.url` to open, then `.wait()` or `.redeem(pasted)`
    for the tokens, which `add_oauth_account` or `reauthenticate_oauth` then keep)."""
    from app.platforms import reddit, x

    if ctx.offline:
        raise AccountError("Working offline: signing in needs the network.", hint="Run without --offline.")
    client_id = app.client_id.strip()
    if not client_id or any(ch.isspace() for ch in client_id):
        raise AccountError("Give the client id of the app you registered for Parley.")
    if app.platform is Platform.X:
        flow = x.sign_in(
            client_id, client_secret=app.client_secret, api_url=app.base_url(),
            authorize_url=app.auth_url or x.AUTHORIZE_URL,
            port=x.REDIRECT_PORT if port is None else port,
        )  # fmt: skip
    elif app.platform is Platform.REDDIT:
        flow = reddit.sign_in(
            client_id, client_secret=app.client_secret, auth_url=app.auth_url or reddit.AUTH_URL,
            port=reddit.REDIRECT_PORT if port is None else port,
        )  # fmt: skip
    else:
        raise AccountError(f"{app.platform.value} accounts do not sign in this way.")
    flow.begin()
    return flow


def add_oauth_account(
    ctx: AppContext, app: OAuthApp, tokens: TokenBundle, name: str | None = None, *, connector_class: Any = None
) -> AccountRef:
    """Check the tokens with the platform, then store the account and put the tokens in the keyring."""
    for secret in (tokens.access_token, tokens.refresh_token, tokens.client_secret):
        if secret:
            REDACTOR.remember(secret)
    _ready_to_add(ctx, name)
    cls = connector_class or registered_connector_class(app.platform)
    base_url = app.base_url()
    placeholder = AccountRef(id=0, platform=app.platform, name=name or "", base_url=base_url, options=app.options())
    connector = cls(placeholder, tokens.dumps())
    try:
        identity = connector.verify()
        secret = connector.new_secret() or tokens.dumps()
    finally:
        connector.close()
    return _store_new_account(ctx, app.platform, base_url, identity, secret, name=name, options=app.options())


def oauth_app_for(ctx: AppContext, account_id: int) -> OAuthApp:
    """The app an X or Reddit account signed in with (to sign in again the same way)."""
    from app.platforms import reddit, x

    account = accounts.get_account(ctx.engine, account_id)
    if account.platform not in OAUTH_PLATFORMS.values():
        raise AccountError(f"{account.name} is not an X or Reddit account.")

    default = x.API_URL if account.platform is Platform.X else reddit.API_URL
    return OAuthApp(
        platform=account.platform,
        client_id=str(account.options.get("client_id") or ""),
        api_url="" if account.base_url == default else account.base_url,
        auth_url=str(account.options.get("auth_url") or ""),
        modmail=bool(account.options.get("modmail")),
        client_secret=_stored_client_secret(ctx, account.id),
    )


def _stored_client_secret(ctx: AppContext, account_id: int) -> str:
    """A confidential app's secret, kept in the account's keyring entry (gone if that entry is)."""
    try:
        stored = ctx.secrets.get(account_id)
        return TokenBundle.loads(stored).client_secret if stored else ""
    except KnownError:
        return ""  # a damaged or unreadable entry: sign in as a public app; Reddit says so if it is not one


def reauthenticate_oauth(ctx: AppContext, account_id: int, tokens: TokenBundle) -> Identity:
    """Replace an X or Reddit account's tokens after checking that they belong to the same user."""
    account = accounts.get_account(ctx.engine, account_id)
    REDACTOR.remember(tokens.access_token)
    if ctx.offline:
        raise AccountError("Working offline: signing in needs the network.")
    connector = make_connector(account, tokens.dumps())
    try:
        identity = connector.verify()
        secret = connector.new_secret() or tokens.dumps()
    finally:
        connector.close()
    return _keep_new_secret(ctx, account, identity, secret, expires_at=None)


def add_from_cli(
    ctx: AppContext, args: argparse.Namespace, *, stdin: IO[str], connector_class: Any = None
) -> AccountRef:
    """`parley accounts add x|reddit --client-id ID`: the browser sign-in on a terminal."""
    if not args.client_id:
        raise AccountError(
            "Which app? Give --client-id (the app you registered for Parley; see the README).",
            hint="The app's redirect address must be http://127.0.0.1:8765/callback.",
        )
    client_secret = ""
    if getattr(args, "with_secret", False):
        client_secret = _read_secret(stdin, "App secret: ")
        if not client_secret:
            raise AccountError("The app secret is empty.", hint="Give it on the first line of stdin.")
        REDACTOR.remember(client_secret)
    app = OAuthApp(
        platform=OAUTH_PLATFORMS[args.platform], client_id=args.client_id, api_url=args.api_url or "",
        auth_url=args.auth_url or "", modmail=bool(args.modmail), client_secret=client_secret,
    )  # fmt: skip
    _ready_to_add(ctx, args.name)  # before the person spends time in the browser
    flow = start_oauth_sign_in(ctx, app, port=args.port)
    what = "X" if app.platform is Platform.X else "Reddit"
    tokens = sign_in_on_terminal(flow, what=what, stdin=stdin)
    account = add_oauth_account(ctx, app, tokens, args.name, connector_class=connector_class)
    return account
