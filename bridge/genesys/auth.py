"""OAuth client-credentials tokens for Genesys Cloud, cached and refreshed ahead of expiry."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from . import messages
from .errors import GenesysConnectionError, GenesysError, error_from_response
from .failures import describe_failure

log = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
# Genesys' default token lifetime; only used when a token response omits expires_in.
DEFAULT_LIFETIME = 86400.0


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_at: float


class TokenProvider:
    """Client-credentials tokens for one (login_base, client_id); one refresh at a time."""

    def __init__(
        self,
        login_base: str,
        client_id: str,
        client_secret: str,
        session: requests.Session,
        *,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = 60.0,
        timeout: float | tuple[float, float] = (3.05, 10.0),
    ):
        self.login_base = login_base.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._session = session
        self._clock = clock
        self._margin = refresh_margin
        self._timeout = timeout
        self._lock = threading.Lock()
        self._current: _Token | None = None
        self.refresh_count = 0

    @property
    def key(self) -> tuple[str, str]:
        """The cache key: tokens are per login host and OAuth client id."""
        return (self.login_base, self.client_id)

    def __repr__(self) -> str:  # never show the secret or the token
        return f"TokenProvider(login_base={self.login_base!r}, client_id={self.client_id!r})"

    def token(self) -> str:
        """A valid access token, fetching a new one only when the cached one is due for refresh."""
        current = self._current
        if current is not None and self._clock() < current.refresh_at:
            return current.value
        if not self.client_id or not self._secret:
            raise ValueError(messages.credentials_missing())
        with self._lock:
            # Another thread may have refreshed while this one waited for the lock: reuse its token.
            current = self._current
            if current is not None and self._clock() < current.refresh_at:
                return current.value
            self._current = self._fetch()
            return self._current.value

    def invalidate(self, token: str) -> None:
        """Force the next token() to refresh, unless `token` was already replaced by a newer one."""
        with self._lock:
            if self._current is not None and self._current.value == token:
                self._current = None

    def _fetch(self) -> _Token:
        started = self._clock()
        try:
            # docs/reference/genesys-open-messaging.md §1.2: Basic auth, form body, grant_type only (no scope for this grant).
            response = self._session.post(
                self.login_base + TOKEN_PATH,
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self._secret),
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            error = GenesysConnectionError(
                messages.connection_failed(describe_failure(exc)), method="POST", path=TOKEN_PATH
            )
            error.maybe_sent = False  # the login call, not the call it was made for
            raise error from None
        if not response.ok:
            raise error_from_response(response, "POST", TOKEN_PATH)
        try:
            data = response.json()
        except ValueError:
            data = None
        value = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(value, str) or not value:
            raise GenesysError(
                messages.token_response_invalid(),
                status=response.status_code,
                method="POST",
                path=TOKEN_PATH,
            )
        try:
            lifetime = float(data.get("expires_in", DEFAULT_LIFETIME))
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME
        # Very short tokens (tests, sandbox) refresh at half their lifetime, not a fixed margin.
        margin = self._margin if lifetime > 2 * self._margin else lifetime / 2
        self.refresh_count += 1
        log.info(messages.log_token_refreshed(lifetime))
        return _Token(value=value, refresh_at=started + lifetime - margin)
