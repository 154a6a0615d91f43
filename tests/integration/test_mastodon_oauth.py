"""Mastodon sign-in against mastodon-mock: app registration, browser redirect to the loopback receiver, paste-the-code.

mastodon-mock fakes the server side of OAuth: /oauth/authorize is an account picker with no password,
codes are predictable, and the PKCE verifier and redirect_uri are not checked at /oauth/token. These
tests therefore prove Parley's half of the flow (what it registers and sends, the redirect receiver, the
state check, the token exchange); the server's checks are real Mastodon's business.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

import pytest
import requests

from app.domain.models import AccountRef, Platform
from app.errors import AuthError
from app.platforms.http import make_session
from app.platforms.mastodon import MastodonConnector
from app.platforms.mastodon_oauth import (
    OOB_REDIRECT_URI,
    AuthorizationRequest,
    LoopbackReceiver,
    SignInCancelled,
    authorization_request,
    code_from_paste,
    exchange_code,
    register_app,
)
from tests.peers.mastodon_mock import MastodonMock
from tests.peers.oauth_browser import approve_sign_in, shown_code


def approve_in_browser(attempt: AuthorizationRequest, username: str) -> requests.Response:
    """What the person does in the browser: open the URL, pick the account, follow the redirect."""
    return approve_sign_in(attempt.url, username)


def who(server: MastodonMock, token: str) -> str:
    account = AccountRef(id=1, platform=Platform.MASTODON, name="new", base_url=server.url)
    return MastodonConnector(account, token).verify().handle


@pytest.fixture
def person(mastodon_server: MastodonMock) -> dict[str, Any]:
    return mastodon_server.create_user(f"signin_{secrets.token_hex(4)}")


def test_browser_sign_in_comes_back_to_the_loopback_receiver_and_yields_a_working_token(
    mastodon_server: MastodonMock, person: dict[str, Any]
) -> None:
    session = make_session()
    with LoopbackReceiver() as receiver:
        app = register_app(session, mastodon_server.url, redirect_uris=(receiver.redirect_uri, OOB_REDIRECT_URI))
        attempt = authorization_request(app, redirect_uri=receiver.redirect_uri)

        landed = approve_in_browser(attempt, person["username"])
        code = receiver.wait_for_code(state=attempt.state, timeout=5)

    assert landed.status_code == 200 and "You can close this tab" in landed.text
    assert landed.url.startswith(receiver.redirect_uri)
    token = exchange_code(session, app, attempt, code)
    assert who(mastodon_server, token) == "@" + person["username"]


def test_out_of_band_sign_in_takes_the_pasted_code(mastodon_server: MastodonMock, person: dict[str, Any]) -> None:
    session = make_session()
    app = register_app(session, mastodon_server.url)
    attempt = authorization_request(app, redirect_uri=OOB_REDIRECT_URI)

    shown = approve_in_browser(attempt, person["username"])
    token = exchange_code(session, app, attempt, code_from_paste(f"  {shown_code(shown)}\n"))

    assert who(mastodon_server, token) == "@" + person["username"]


def test_a_code_the_server_does_not_know_is_an_auth_error(mastodon_server: MastodonMock) -> None:
    session = make_session()
    app = register_app(session, mastodon_server.url)
    attempt = authorization_request(app, redirect_uri=OOB_REDIRECT_URI)

    with pytest.raises(AuthError, match="did not accept the code"):
        exchange_code(session, app, attempt, "made-up-code")


def test_the_receiver_ignores_stray_requests_and_refuses_an_answer_for_another_attempt() -> None:
    with LoopbackReceiver() as receiver:
        stray = requests.get(receiver.redirect_uri.replace("/callback", "/favicon.ico"), timeout=5)
        forged = requests.get(receiver.redirect_uri, params={"code": "c", "state": "someone-else"}, timeout=5)
        again = requests.get(receiver.redirect_uri, params={"code": "c2", "state": "mine"}, timeout=5)

        assert stray.status_code == 404
        assert forged.status_code == 200 and again.status_code == 409  # one sign-in per receiver
        with pytest.raises(AuthError, match="does not belong to this attempt"):
            receiver.wait_for_code(state="mine", timeout=1)


def test_a_declined_sign_in_says_so() -> None:
    with LoopbackReceiver() as receiver:
        requests.get(
            receiver.redirect_uri,
            params={"error": "access_denied", "error_description": "The resource owner denied the request."},
            timeout=5,
        )
        with pytest.raises(AuthError, match="not approved .The resource owner denied"):
            receiver.wait_for_code(state="s", timeout=1)


def test_no_answer_in_time_is_an_auth_error_offering_the_paste_fallback() -> None:
    with LoopbackReceiver() as receiver, pytest.raises(AuthError) as raised:
        receiver.wait_for_code(state="s", timeout=0.2)

    assert "paste the code" in raised.value.hint


def test_cancelling_ends_a_wait_for_the_browser_at_once_and_refuses_a_late_redirect() -> None:
    with LoopbackReceiver() as receiver:
        threading.Timer(0.1, receiver.cancel).start()
        started = time.monotonic()
        with pytest.raises(SignInCancelled):
            receiver.wait_for_code(state="s", timeout=30)
        assert time.monotonic() - started < 5, "the wait did not sit out its timeout"
        late = requests.get(receiver.redirect_uri, params={"code": "c", "state": "s"}, timeout=5)
        assert late.status_code == 409
