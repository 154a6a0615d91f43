"""OAuth 2.0 tokens for platforms with short-lived access tokens (X, Reddit): the keyring bundle, refresh, sign-in.

The keyring entry of such an account is a small JSON object (`TokenBundle`): the access token, the
refresh token and when the access token expires. A connector refreshes it when it has expired or the
platform answers 401, and hands the new bundle back through `Connector.new_secret` so the keyring
always holds the newest refresh token (X rotates it on every refresh; the old one stops working).

`PkceSignIn` is the browser sign-in: the PKCE pair, the loopback receiver and the paste fallback
are those of `app.platforms.mastodon_oauth`; only the endpoints and the client registration differ
(X and Reddit apps are registered by hand in the platform's developer portal, with a fixed redirect).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import IO, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from app.errors import AuthError, PlatformError
from app.platforms.http import DEFAULT_TIMEOUT, json_body, make_session, raise_for_status, request
from app.platforms.http_abort import abort_session
from app.platforms.mastodon_oauth import BROWSER_WAIT_S, LoopbackReceiver, code_from_paste, pkce_pair
from app.platforms.oauth_terminal import race_on_terminal

EXPIRY_MARGIN_S = 60.0  # refresh this long before the platform's stated expiry


@dataclass(frozen=True)
class TokenBundle:
    """What the keyring holds for an OAuth 2.0 account; never printed."""

    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)
    expires_at: float | None = None  # epoch seconds
    #: A confidential app's secret (a Reddit "script" or "web" app), needed again at every renewal.
    client_secret: str = field(default="", repr=False)

    def dumps(self) -> str:
        data: dict[str, Any] = {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
        }
        if self.client_secret:
            data["client_secret"] = self.client_secret
        return json.dumps(data)

    @classmethod
    def loads(cls, secret: str) -> TokenBundle:
        """The bundle in a keyring entry; a bare token (pasted by hand) is an access token without refresh."""
        text = secret.strip()
        if not text.startswith("{"):
            return cls(access_token=text)
        try:
            data = json.loads(text)
        except ValueError:
            raise AuthError("The stored sign-in is damaged.", hint="Sign in to this account again.") from None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError("The stored sign-in has no access token.", hint="Sign in to this account again.")
        refresh = data.get("refresh_token")
        expires = data.get("expires_at")
        client_secret = data.get("client_secret")
        return cls(
            access_token=token,
            refresh_token=refresh if isinstance(refresh, str) else "",
            expires_at=float(expires) if isinstance(expires, int | float) else None,
            client_secret=client_secret if isinstance(client_secret, str) else "",
        )

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at - EXPIRY_MARGIN_S


@dataclass(frozen=True)
class OAuthClient:
    """A platform's token endpoint and Parley's registration there (the client secret only for confidential apps)."""

    token_url: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    #: Reddit wants HTTP Basic client authentication even for installed apps (empty password); X's public
    #: clients send client_id in the form instead.
    basic_auth: bool = False

    def post(self, session: requests.Session, form: dict[str, str], *, what: str, timeout: Any) -> TokenBundle:
        auth = (self.client_id, self.client_secret) if self.basic_auth or self.client_secret else None
        if auth is None:
            form = {**form, "client_id": self.client_id}
        response = request(session, "POST", self.token_url, data=form, auth=auth, timeout=timeout)
        if response.status_code in (400, 401):
            # invalid_grant: the refresh token or code was revoked, used already, or expired.
            raise AuthError(
                f"{what}: the platform did not accept the sign-in.",
                status=response.status_code,
                hint="Sign in to this account again from the Accounts dialog.",
            )
        raise_for_status(response, what=what)
        body = json_body(response, what=what)
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            raise AuthError(f"{what}: the platform refused ({body['error'][:100]}).", hint="Sign in again.")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise PlatformError(f"{what}: the platform's answer has no access token.")
        refresh = body.get("refresh_token")
        expires_in = body.get("expires_in")
        return TokenBundle(
            access_token=token,
            refresh_token=refresh if isinstance(refresh, str) else form.get("refresh_token", ""),
            expires_at=time.time() + float(expires_in) if isinstance(expires_in, int | float) else None,
            client_secret=self.client_secret,
        )

    def revoke(self, session: requests.Session, url: str, token: str, *, hint: str, timeout: Any) -> None:
        """Revoke a token at the platform (RFC 7009); raises what `raise_for_status` raises."""
        form = {"token": token, "token_type_hint": hint}
        auth = (self.client_id, self.client_secret) if self.basic_auth or self.client_secret else None
        if auth is None:
            form["client_id"] = self.client_id
        response = request(session, "POST", url, data=form, auth=auth, timeout=timeout)
        raise_for_status(response, what="Signing out")


class TokenKeeper:
    """The current token of one connector: refreshed on expiry or on request, the rotation remembered."""

    def __init__(
        self,
        client: OAuthClient,
        secret: str,
        session: requests.Session,
        *,
        timeout: Any = DEFAULT_TIMEOUT,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._bundle = TokenBundle.loads(secret)
        self._client = (
            replace(client, client_secret=self._bundle.client_secret) if self._bundle.client_secret else client
        )
        self._session = session
        self._timeout = timeout
        self._now = now
        self.rotated: TokenBundle | None = None

    def access_token(self) -> str:
        if self._bundle.expired(self._now()) and self._bundle.refresh_token:
            self.refresh()
        return self._bundle.access_token

    @property
    def can_refresh(self) -> bool:
        return bool(self._bundle.refresh_token)

    def refresh(self) -> None:
        if not self._bundle.refresh_token:
            raise AuthError("The sign-in expired.", hint="Sign in to this account again.")
        form = {"grant_type": "refresh_token", "refresh_token": self._bundle.refresh_token}
        fresh = self._client.post(self._session, form, what="Renewing the sign-in", timeout=self._timeout)
        if not fresh.refresh_token:
            fresh = replace(fresh, refresh_token=self._bundle.refresh_token)  # Reddit may keep the old one
        self._bundle = self.rotated = fresh

    def new_secret(self) -> str | None:
        return self.rotated.dumps() if self.rotated is not None else None

    def revoke(self, url: str) -> bool:
        """End the sign-in at the platform: revoking the refresh token ends the access tokens made from it."""
        token, hint = self._bundle.refresh_token, "refresh_token"
        if not token:
            token, hint = self._bundle.access_token, "access_token"
        self._client.revoke(self._session, url, token, hint=hint, timeout=self._timeout)
        return True


class PkceSignIn:
    """One browser sign-in with PKCE to an app registered by hand (redirect ``http://127.0.0.1:PORT/callback``).

    `begin()` starts the loopback receiver and returns the URL to open; `wait()` takes the redirect,
    `redeem(pasted)` takes the redirected URL pasted by hand (when the browser cannot reach this
    computer). Both return the TokenBundle. Network calls: run them off the GUI thread.
    """

    def __init__(
        self,
        authorize_url: str,
        client: OAuthClient,
        scopes: str,
        *,
        port: int,
        extra: dict[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._authorize_url = authorize_url
        self._client = client
        self._scopes = scopes
        self._port = port
        self._extra = extra or {}
        self._session = session or make_session()
        self._receiver: LoopbackReceiver | None = None
        self._verifier = ""
        self._state = ""
        self.url = ""

    def __repr__(self) -> str:
        return f"<PkceSignIn {self._authorize_url}>"

    @property
    def redirect_uri(self) -> str:
        if self._receiver is not None:
            return self._receiver.redirect_uri  # the port actually bound (port 0 picks a free one)
        return f"http://127.0.0.1:{self._port}/callback"

    @property
    def listening(self) -> bool:
        """Whether the browser can come back to Parley (else only a pasted address finishes the sign-in)."""
        return self._receiver is not None

    def begin(self) -> str:
        try:
            self._receiver = LoopbackReceiver(port=self._port)
        except OSError:
            self._receiver = None  # the port is taken: pasting the redirected address still works
        self._verifier, challenge = pkce_pair()
        self._state = secrets.token_urlsafe(24)
        query = {
            "response_type": "code",
            "client_id": self._client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self._scopes,
            "state": self._state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **self._extra,
        }
        self.url = f"{self._authorize_url}?{urlencode(query)}"
        return self.url

    def wait(self, timeout: float = BROWSER_WAIT_S) -> TokenBundle:
        if self._receiver is None:
            raise AuthError("Parley cannot listen for the browser here.", hint="Paste the redirected address.")
        try:
            code = self._receiver.wait_for_code(state=self._state, timeout=timeout)
        finally:
            self._receiver.close()
        return self._exchange(code)

    def redeem(self, pasted: str) -> TokenBundle:
        text = pasted.strip()
        has_state = bool(parse_qs(urlsplit(text).query or text).get("state"))
        return self._exchange(code_from_paste(text, state=self._state if has_state else None))

    def cancel(self) -> None:
        if self._receiver is not None:
            self._receiver.cancel()
        abort_session(self._session)

    def close(self) -> None:
        if self._receiver is not None:
            self._receiver.close()
        self._session.close()

    def _exchange(self, code: str) -> TokenBundle:
        if not self._verifier:
            raise RuntimeError("begin() the sign-in first")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self._verifier,
        }
        return self._client.post(self._session, form, what="Finishing the sign-in", timeout=DEFAULT_TIMEOUT)


def sign_in_on_terminal(
    flow: PkceSignIn,
    *,
    what: str,
    open_browser: Callable[[str], Any] | None = None,
    stdin: IO[str] | None = None,
    out: IO[str] | None = None,
    timeout: float = BROWSER_WAIT_S,
) -> TokenBundle:
    """Print the sign-in address (and try a browser), then take the loopback redirect or the redirected
    address pasted on stdin, whichever comes first (as `mastodon_oauth.obtain_token` does)."""

    def announce(url: str, out: IO[str]) -> None:
        print(f"Open this address in a browser and approve Parley on {what}:\n\n  {url}\n", file=out)
        print(
            f"Waiting for the browser to come back to {flow.redirect_uri}. If that browser runs on another\n"
            "computer, paste the address it ends up on here and press Enter.",
            file=out,
            flush=True,
        )

    return race_on_terminal(
        flow,
        what=what,
        announce=announce,
        listening=lambda: flow.listening,  # the port may be taken by another program: then pasting is the way back
        open_browser=open_browser,
        stdin=stdin,
        out=out,
        timeout=timeout,
    )
