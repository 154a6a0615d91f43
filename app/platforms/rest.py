"""What the REST connectors (Mastodon, X, Reddit) share: one HTTP session against one API, the rate limit
read from each answer, and, for the OAuth 2 platforms, the access token refreshed once on a 401."""

from __future__ import annotations

import abc
from typing import Any

import requests

from app.domain.models import AccountRef, RateLimit
from app.platforms.base import Connector
from app.platforms.http import json_body, make_session, raise_for_status, request
from app.platforms.http_abort import abort_session
from app.platforms.oauth2 import OAuthClient, TokenKeeper


class RestConnector(Connector):
    """A connector whose API lives under `_base`; subclasses make the calls (`_call`) and read the rate limit."""

    def __init__(
        self,
        account: AccountRef,
        secret: str,
        *,
        base: str,
        timeout: float | tuple[float, float],
        session: requests.Session | None,
    ) -> None:
        super().__init__(account, secret)
        self._base = base.rstrip("/")
        self._timeout = timeout
        self._session = session or make_session()
        self._rate = RateLimit()

    def rate_limit(self) -> RateLimit:
        return self._rate

    def abort(self) -> None:
        abort_session(self._session)

    def close(self) -> None:
        self._session.close()

    def _get(self, path: str, *, what: str, params: dict[str, str] | None = None) -> Any:
        return json_body(self._call("GET", path, what=what, params=params), what=what)

    @abc.abstractmethod
    def _call(self, method: str, path: str, *, what: str, **kwargs: Any) -> requests.Response:
        """One request to `_base + path`; raises what `raise_for_status` raises, `what` naming the action."""

    @abc.abstractmethod
    def _note_rate_limit(self, response: requests.Response) -> None:
        """Keep the platform's budget from the answer's headers, when it sent them."""


class OAuth2Connector(RestConnector):
    """A REST connector whose secret is a `TokenBundle`: an expired access token is refreshed once on a 401,
    and a rotated refresh token is handed back through `new_secret`."""

    #: The token type the platform wants in the Authorization header.
    token_type = "Bearer"

    def __init__(
        self,
        account: AccountRef,
        secret: str,
        *,
        base: str,
        client: OAuthClient,
        timeout: float | tuple[float, float],
        session: requests.Session | None,
    ) -> None:
        super().__init__(account, secret, base=base, timeout=timeout, session=session)
        self._tokens = TokenKeeper(client, secret, self._session, timeout=timeout)

    def new_secret(self) -> str | None:
        return self._tokens.new_secret()

    def _call(self, method: str, path: str, *, what: str, **kwargs: Any) -> requests.Response:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self._tokens.can_refresh:
            self._tokens.refresh()  # access tokens live hours at most; the refresh token gets a new one
            response = self._send(method, path, **kwargs)
        self._note_rate_limit(response)
        self._raise_for_status(response, what=what)
        return response

    def _raise_for_status(self, response: requests.Response, *, what: str) -> None:
        """Turn an error answer into a PlatformError; platforms with errors of their own override this."""
        raise_for_status(response, what=what)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"{self.token_type} {self._tokens.access_token()}", "Accept": "application/json"}
        return request(self._session, method, self._base + path, timeout=self._timeout, headers=headers, **kwargs)
