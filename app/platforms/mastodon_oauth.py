"""Signing in to a Mastodon instance: app registration, PKCE authorization URL, code exchange, redirect receiver.

Two ways to bring the code back from the browser:

* loopback: `LoopbackReceiver` listens on 127.0.0.1 (a free port) for the one redirect the instance
  sends after the person approves, checks `state`, and hands the code over;
* out-of-band: the instance shows the code (redirect_uri ``urn:ietf:wg:oauth:2.0:oob``) and the person
  pastes it; `code_from_paste` accepts the bare code or the whole redirected URL.

`BrowserSignIn` puts the pieces together for one sign-in (both ways at once: whichever answer comes
first wins), and `obtain_token` runs it on a terminal for `parley accounts add mastodon --oauth`.

The client secret, the PKCE verifier and the token never appear in a repr or an error message.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from app.errors import AuthError, PlatformError
from app.platforms.http import json_body, make_session, raise_for_status, request
from app.platforms.http_abort import abort_session
from app.platforms.oauth_terminal import race_on_terminal

OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = "read write"
CLIENT_NAME = "Parley"
CALLBACK_PATH = "/callback"
BROWSER_WAIT_S = 600.0


class SignInCancelled(AuthError):
    """The person (or quitting) stopped a sign-in that was waiting for the browser."""


@dataclass(frozen=True)
class RegisteredApp:
    """The OAuth client an instance issued for Parley."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...] = (OOB_REDIRECT_URI,)


@dataclass(frozen=True)
class AuthorizationRequest:
    """One sign-in attempt: the URL to open, and what the answer must match."""

    url: str
    redirect_uri: str
    state: str
    code_verifier: str = field(repr=False)


def register_app(
    session: requests.Session,
    base_url: str,
    *,
    redirect_uris: tuple[str, ...] = (OOB_REDIRECT_URI,),
    scopes: str = SCOPES,
    website: str | None = None,
    timeout: Any = (5.0, 30.0),
) -> RegisteredApp:
    """POST /api/v1/apps: register Parley with the instance for the given redirect URIs."""
    base = base_url.rstrip("/")
    what = "Registering Parley with the Mastodon instance"
    form = {"client_name": CLIENT_NAME, "redirect_uris": "\n".join(redirect_uris), "scopes": scopes}
    if website:
        form["website"] = website
    response = request(session, "POST", f"{base}/api/v1/apps", data=form, timeout=timeout)
    raise_for_status(response, what=what)
    body = json_body(response, what=what)
    if not isinstance(body, dict) or not isinstance(body.get("client_id"), str) or not body.get("client_secret"):
        raise PlatformError(f"{what}: the instance's answer has no client id and secret.")
    return RegisteredApp(
        base_url=base,
        client_id=body["client_id"],
        client_secret=str(body["client_secret"]),
        redirect_uris=redirect_uris,
    )


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge) pair (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)  # 64 characters, inside RFC 7636's 43..128
    return verifier, code_challenge(verifier)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_request(app: RegisteredApp, *, redirect_uri: str, scopes: str = SCOPES) -> AuthorizationRequest:
    """The /oauth/authorize URL to open in the system browser, with a new state and PKCE challenge."""
    if redirect_uri not in app.redirect_uris:
        raise PlatformError("This redirect address was not registered with the instance; register again.")
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    query = urlencode(
        {
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scopes,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return AuthorizationRequest(
        url=f"{app.base_url}/oauth/authorize?{query}", redirect_uri=redirect_uri, state=state, code_verifier=verifier
    )


def exchange_code(
    session: requests.Session,
    app: RegisteredApp,
    attempt: AuthorizationRequest,
    code: str,
    *,
    scopes: str = SCOPES,
    timeout: Any = (5.0, 30.0),
) -> str:
    """POST /oauth/token: trade the authorization code (and PKCE verifier) for an access token."""
    what = "Finishing the Mastodon sign-in"
    form = {
        "grant_type": "authorization_code",
        "code": code.strip(),
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": attempt.redirect_uri,
        "code_verifier": attempt.code_verifier,
        "scope": scopes,
    }
    response = request(session, "POST", f"{app.base_url}/oauth/token", data=form, timeout=timeout)
    if response.status_code in (400, 401):
        # Doorkeeper answers a wrong, used or expired code with 400/401 invalid_grant.
        raise AuthError(
            f"{what}: the instance did not accept the code.",
            status=response.status_code,
            hint="Start the sign-in again and use the newest code.",
        )
    raise_for_status(response, what=what)
    body = json_body(response, what=what)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise PlatformError(f"{what}: the instance's answer has no access token.")
    return token


def code_from_paste(text: str, *, state: str | None = None) -> str:
    """The code a person pasted: the bare code, or the redirected URL that carries it."""
    pasted = text.strip()
    if "code=" not in pasted and "error=" not in pasted:
        if not pasted or any(ch.isspace() for ch in pasted):
            raise AuthError("That does not look like a sign-in code.", hint="Copy the whole code the instance shows.")
        return pasted
    query = parse_qs(urlsplit(pasted).query or pasted)
    return _code_from_query(query, state=state)


def _code_from_query(query: dict[str, list[str]], *, state: str | None) -> str:
    if "error" in query:
        reason = query.get("error_description", query["error"])[0]
        raise AuthError(f"The sign-in was not approved ({reason[:200]}).", hint="Start the sign-in again.")
    if state is not None and query.get("state", [""])[0] != state:
        raise AuthError(
            "The sign-in answer does not belong to this attempt.", hint="Start the sign-in again from Parley."
        )
    code = query.get("code", [""])[0]
    if not code:
        raise AuthError("The sign-in answer carried no code.", hint="Start the sign-in again.")
    return code


class LoopbackReceiver:
    """Waits on 127.0.0.1 for the instance's redirect back from the browser; one sign-in, then closes."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = http.server.HTTPServer((host, port), _CallbackHandler)
        self._server.receiver = self  # type: ignore[attr-defined]
        self._done = threading.Event()
        self._cancelled = False
        self._query: dict[str, list[str]] = {}
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="oauth-loopback", daemon=True
        )
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{CALLBACK_PATH}"

    def wait_for_code(self, *, state: str, timeout: float) -> str:
        """The code from the redirect; AuthError if none came in time, the person declined, or state differs."""
        if not self._done.wait(timeout):
            raise AuthError(
                "The browser did not come back with a sign-in in time.",
                hint="Try again, or use the 'paste the code' sign-in instead.",
            )
        if self._cancelled:
            raise SignInCancelled("The sign-in was cancelled.")
        return _code_from_query(self._query, state=state)

    def cancel(self) -> None:
        """End a `wait_for_code` in progress at once (with SignInCancelled); later redirects are refused."""
        self._cancelled = True
        self._done.set()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _received(self, query: dict[str, list[str]]) -> bool:
        if self._done.is_set():
            return False
        self._query = query
        self._done.set()
        return True


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._answer(404, "Not found.")  # the browser asking for /favicon.ico and the like
            return
        receiver: LoopbackReceiver = self.server.receiver  # type: ignore[attr-defined]
        if receiver._received(parse_qs(parts.query)):
            self._answer(200, "Parley received the sign-in. You can close this tab and return to Parley.")
        else:
            self._answer(409, "This sign-in was already received.")

    def _answer(self, status: int, message: str) -> None:
        body = f"<!doctype html><html><body><p>{message}</p></body></html>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass  # the query holds the code: keep it out of stderr


class BrowserSignIn:
    """One sign-in to one instance: register Parley, open the browser, take whichever answer comes first.

    `begin()` registers an app for the loopback and the out-of-band redirects and returns the URL to open;
    `wait()` blocks until the browser comes back to the loopback receiver; `redeem()` takes a pasted code
    (or the redirected URL) meanwhile. Both return the access token. `paste_url` is a sign-in page whose
    instance shows the code to paste, for a browser that cannot reach this computer. All of these talk
    to the network: call them off the GUI thread. `cancel()` (any thread) ends a waiting `wait()`.
    """

    def __init__(self, base_url: str, *, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or make_session()
        self._receiver: LoopbackReceiver | None = None
        self._app: RegisteredApp | None = None
        self._loopback: AuthorizationRequest | None = None
        self._out_of_band: AuthorizationRequest | None = None
        self.url = ""  # the sign-in page to open, once begun

    def __repr__(self) -> str:
        return f"<BrowserSignIn {self.base_url}>"

    def begin(self) -> str:
        receiver = LoopbackReceiver()
        try:
            app = register_app(self._session, self.base_url, redirect_uris=(receiver.redirect_uri, OOB_REDIRECT_URI))
        except BaseException:
            receiver.close()
            raise
        self._receiver, self._app = receiver, app
        self._loopback = authorization_request(app, redirect_uri=receiver.redirect_uri)
        self._out_of_band = authorization_request(app, redirect_uri=OOB_REDIRECT_URI)
        self.url = self._loopback.url
        return self.url

    @property
    def paste_url(self) -> str:
        return self._started()[2].url

    def wait(self, timeout: float = BROWSER_WAIT_S) -> str:
        app, loopback, _ = self._started()
        assert self._receiver is not None
        try:
            code = self._receiver.wait_for_code(state=loopback.state, timeout=timeout)
        finally:
            self._receiver.close()  # one answer per sign-in: stop listening on the port
        return exchange_code(self._session, app, loopback, code)

    def redeem(self, pasted: str) -> str:
        """The token for a pasted code: a bare code comes from the out-of-band page, a URL names its attempt."""
        app, loopback, out_of_band = self._started()
        text = pasted.strip()
        states = parse_qs(urlsplit(text).query or text).get("state", [])
        attempt = loopback if loopback.state in states else out_of_band
        code = code_from_paste(text, state=attempt.state if states else None)
        return exchange_code(self._session, app, attempt, code)

    def cancel(self) -> None:
        if self._receiver is not None:
            self._receiver.cancel()
        abort_session(self._session)

    def close(self) -> None:
        if self._receiver is not None:
            self._receiver.close()
        self._session.close()

    def _started(self) -> tuple[RegisteredApp, AuthorizationRequest, AuthorizationRequest]:
        if self._app is None or self._loopback is None or self._out_of_band is None:
            raise RuntimeError("begin() the sign-in first")
        return self._app, self._loopback, self._out_of_band


def obtain_token(
    instance_url: str,
    *,
    open_browser: Callable[[str], Any] | None = None,
    stdin: IO[str] | None = None,
    out: IO[str] | None = None,
    timeout: float = BROWSER_WAIT_S,
) -> str:
    """Sign in on a terminal: print the URL (and try to open a browser), then take the loopback redirect
    or a code pasted on stdin, whichever comes first. Returns the access token."""
    flow = BrowserSignIn(instance_url)

    def announce(url: str, out: IO[str]) -> None:
        print(f"Open this address in a browser and approve Parley:\n\n  {url}\n", file=out)
        print(
            "Waiting for the browser to come back to Parley. If that browser runs on another computer, open\n\n"
            f"  {flow.paste_url}\n\ninstead, then paste the code it shows here and press Enter.",
            file=out,
            flush=True,
        )

    return race_on_terminal(
        flow, what="Mastodon", announce=announce, open_browser=open_browser, stdin=stdin, out=out, timeout=timeout
    )
