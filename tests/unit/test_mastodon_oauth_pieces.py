"""Pure parts of the Mastodon sign-in: the PKCE challenge, the authorization URL, reading a pasted code."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.errors import AuthError, PlatformError
from app.platforms.mastodon_oauth import (
    OOB_REDIRECT_URI,
    RegisteredApp,
    authorization_request,
    code_challenge,
    code_from_paste,
    pkce_pair,
)

APP = RegisteredApp(base_url="https://m.example", client_id="cid", client_secret="very-secret")


def test_code_challenge_is_rfc_7636_s256() -> None:
    # The worked example of RFC 7636, appendix B.
    assert (
        code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_each_pkce_verifier_is_new_and_of_legal_length() -> None:
    first, second = pkce_pair(), pkce_pair()

    assert first[0] != second[0]
    assert 43 <= len(first[0]) <= 128
    assert first[1] == code_challenge(first[0])


def test_authorization_url_carries_client_redirect_scopes_state_and_challenge() -> None:
    attempt = authorization_request(APP, redirect_uri=OOB_REDIRECT_URI)

    parts = urlsplit(attempt.url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://m.example/oauth/authorize"
    assert query == {
        "client_id": "cid",
        "redirect_uri": OOB_REDIRECT_URI,
        "response_type": "code",
        "scope": "read write",
        "state": attempt.state,
        "code_challenge": code_challenge(attempt.code_verifier),
        "code_challenge_method": "S256",
    }
    assert attempt.code_verifier not in attempt.url


def test_secrets_stay_out_of_reprs() -> None:
    attempt = authorization_request(APP, redirect_uri=OOB_REDIRECT_URI)

    assert "very-secret" not in repr(APP)
    assert attempt.code_verifier not in repr(attempt)


def test_an_unregistered_redirect_is_refused_before_the_browser_opens() -> None:
    with pytest.raises(PlatformError, match="not registered"):
        authorization_request(APP, redirect_uri="http://127.0.0.1:9/callback")


@pytest.mark.parametrize(
    ("pasted", "code"),
    [
        ("  abc123-XYZ_\n", "abc123-XYZ_"),
        ("http://127.0.0.1:5000/callback?code=abc123&state=s1", "abc123"),
    ],
)
def test_a_pasted_code_or_redirect_url_gives_the_code(pasted: str, code: str) -> None:
    assert code_from_paste(pasted, state="s1") == code


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "does not look like a sign-in code"),
        ("two words", "does not look like a sign-in code"),
        ("http://127.0.0.1/callback?code=abc&state=other", "does not belong to this attempt"),
        ("http://127.0.0.1/callback?error=access_denied&error_description=denied+by+user", "not approved"),
    ],
)
def test_a_bad_paste_is_an_auth_error_saying_what_is_wrong(pasted: str, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        code_from_paste(pasted, state="s1")
