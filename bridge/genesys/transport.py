"""One authenticated, retrying HTTP channel to the Genesys API over a single pooled session."""

from __future__ import annotations

import http.client
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies
from urllib3.exceptions import NewConnectionError

from . import messages
from .auth import TokenProvider
from .errors import (
    AuthenticationError,
    DeadlineExceededError,
    GenesysConnectionError,
    GenesysError,
    RateLimitedError,
    error_from_response,
)
from .failures import describe_failure
from .keepalive import KeepAlivePool, NotConnected
from .regions import Hosts
from .retry import ClientPause, RetryPolicy

log = logging.getLogger(__name__)

# Enough pooled connections for a gunicorn worker's threads plus the notifications listener.
POOL_SIZE = 32


def pooled_session(pool_size: int = POOL_SIZE) -> requests.Session:
    """A Session whose HTTP(S) adapters keep up to `pool_size` connections per host for threads."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def environ_ca_bundle(environ: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle the environment names for TLS verification (REQUESTS_CA_BUNDLE, else
    CURL_CA_BUNDLE, as requests reads them), or None for the default (certifi's)."""
    environ = os.environ if environ is None else environ
    return environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or None


def pin_environment(session: requests.Session, base_urls: Iterable[str]) -> None:
    """Resolve once what requests would otherwise read from the environment on every call, then
    stop it looking (`trust_env = False`).

    Proxies (HTTP(S)_PROXY / ALL_PROXY, honouring NO_PROXY) are resolved per base URL and pinned
    as `scheme://host` entries, so operators behind a proxy keep working; REQUESTS_CA_BUNDLE /
    CURL_CA_BUNDLE becomes `session.verify`. `.netrc` is not consulted: every call carries its own
    credentials (the bearer token, or the client credentials of the token call), which a netrc
    entry would otherwise have replaced. A session that already has `trust_env = False` is left
    as it is. Environment changes after this call are not seen (restart to pick them up).
    """
    if not session.trust_env:
        return
    for url in base_urls:
        parts = urlsplit(url)
        if not parts.scheme or not parts.hostname:
            continue
        found = get_environ_proxies(url)  # {} when NO_PROXY covers the host
        proxy = found.get(parts.scheme) or found.get("all")
        if proxy:
            session.proxies.setdefault(f"{parts.scheme}://{parts.hostname}", proxy)
    if session.verify is True:
        bundle = environ_ca_bundle()
        if bundle:
            session.verify = bundle
    session.trust_env = False


class Reachability:
    """When Genesys last answered and last failed to answer (connection error, timeout, 5xx):
    readiness reads it instead of calling Genesys per probe."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self.last_ok: float | None = None
        self.last_failure: float | None = None
        self.failure: str | None = None

    def ok(self) -> None:
        self.last_ok = self.clock()

    def failed(self, what: str) -> None:
        self.last_failure, self.failure = self.clock(), what

    def record(self, error: GenesysError) -> None:
        """A call's error: unreachable (connection, timeout, 5xx) or answered (any 4xx)."""
        status = getattr(error, "status", None)
        unusable = isinstance(error, AuthenticationError)  # credentials refused: not ready either
        if unusable or status is None or (isinstance(status, int) and status >= 500):
            self.failed(f"{type(error).__name__} {status or ''}".strip())
        else:
            self.ok()


class Transport:
    """Sends API calls: bearer token, typed errors, retries, a shared 429 pause, 401 refresh."""

    def __init__(
        self,
        hosts: Hosts,
        tokens: TokenProvider,
        session: requests.Session,
        policy: RetryPolicy,
        timeout: tuple[float, float],
    ):
        self.hosts = hosts
        self.tokens = tokens
        self.session = session
        # requests would look up proxies, CA bundle and netrc on every call (~1 ms each time).
        pin_environment(session, (hosts.api_base, hosts.login_base))
        self.policy = policy
        self.timeout = timeout
        self.pause = ClientPause(policy.clock)
        self.reachability = Reachability()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        retry: bool = True,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        """Send one API call (retrying per policy) and return the 2xx response, else raise;
        `timeout` (connect, read) replaces the client's for this call."""
        policy = self.policy
        method = method.upper()
        started = policy.clock()
        attempts = 0
        refreshed = False
        last: GenesysError | None = None
        while True:
            self._wait_for_pause(started, attempts, last, method, path)
            attempts += 1
            token = None
            try:
                token = self.tokens.token()
                return self._send(method, path, token, params, json_body, timeout)
            except AuthenticationError as err:
                # An API 401 means the cached token was revoked or expired early: refresh once.
                if refreshed or token is None:
                    self.reachability.failed(type(err).__name__)
                    raise
                refreshed = True
                attempts -= 1
                log.info(messages.log_token_rejected(method, path))
                self.tokens.invalidate(token)
                last = err
                continue
            except GenesysError as err:
                last = err
                if token is None:  # no token: unreachable or refused, unusable either way
                    self.reachability.failed(_failure_of(err))
                handler = policy.handler_for(err)
                delay = handler.delay(err, attempts, policy.backoff) if handler else 0.0
                if isinstance(err, RateLimitedError):
                    if handler is None:
                        delay = (
                            err.retry_after
                            if err.retry_after is not None
                            else policy.backoff.delay(attempts)
                        )
                    log.warning(messages.log_rate_limited(method, path, delay))
                    self.pause.extend(delay)
                if not retry or handler is None or attempts >= policy.max_attempts:
                    raise
                if policy.clock() - started + delay > policy.deadline:
                    raise DeadlineExceededError(
                        policy.deadline, attempts, err, method=method, path=path
                    ) from err
                log.warning(messages.log_retry(method, path, handler.cause, delay, attempts))
                if not handler.pauses_client:  # a 429's wait happens in _wait_for_pause
                    policy.sleep(delay)
            except Exception as exc:
                # Anything else (a bug, a library's surprise) is a failed call too: readiness
                # must not say "ready" while every call fails this way.
                self.reachability.failed(describe_failure(exc))
                raise

    def _wait_for_pause(
        self, started: float, attempts: int, last: GenesysError | None, method: str, path: str
    ) -> None:
        pause = self.pause.remaining()
        if pause <= 0:
            return
        left = self.policy.deadline - (self.policy.clock() - started)
        if pause > left:
            raise DeadlineExceededError(
                self.policy.deadline,
                attempts,
                last,
                method=method,
                path=path,
                reason=messages.rate_pause_exceeds_deadline(pause, max(0.0, left)),
            )
        self.policy.sleep(pause)

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: dict | None,
        json_body: Any,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        url = self.hosts.api_base + path
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=headers,
                timeout=timeout or self.timeout,
            )
        except requests.RequestException as exc:
            what = describe_failure(exc)
            self.reachability.failed(what)
            error = GenesysConnectionError(
                messages.connection_failed(what), method=method, path=path
            )
            error.maybe_sent = _maybe_sent(exc)
            raise error from None
        return self._checked(response, method, path)

    def _checked(self, response: requests.Response, method: str, path: str) -> requests.Response:
        """The 2xx response, or its typed error; either way Genesys' reachability is recorded."""
        if not response.ok:
            refused = error_from_response(response, method, path)
            self.reachability.record(refused)
            raise refused
        self.reachability.ok()
        return response


def _failure_of(error: GenesysError) -> str:
    """What readiness says of a failed call's typed error: the cause of a connection failure
    (TLS, DNS, refused, ...), else the error class and HTTP status."""
    if isinstance(error, GenesysConnectionError):
        return describe_failure(error)
    status = getattr(error, "status", None)
    return f"{type(error).__name__} {status or ''}".strip()


def _maybe_sent(exc: requests.RequestException) -> bool:
    """False when the request cannot have reached the server: no connection was made."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        cause = exc.args[0] if exc.args else None
        reason = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the cause
        return not isinstance(reason, NewConnectionError)
    return True


def parse_body(response: requests.Response) -> dict | list | None:
    """The JSON body of a 2xx response, or None when it has none (204, HEAD, empty)."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


class LeanTransport(Transport):
    """The same calls as `Transport` (token, typed errors, retries, the shared 429 pause, 401
    refresh, timeouts) sent over kept-alive sockets (`KeepAlivePool`: the request written and
    the answer read with no HTTP library) instead of through `requests.Session.request`, whose
    per-call machinery (hooks, cookie jar, adapters, environment merging) costs several times the
    HTTP exchange on a keep-alive connection, and urllib3's layers, which still cost about as
    much again. For the per-message calls (receipts).

    It shares the token provider, retry policy and 429 pause of the `Transport` it is made from,
    and that session's pinned proxy and CA bundle (`pin_environment`): a proxy entry for the API
    host sends the calls through a urllib3 `ProxyManager` instead.
    """

    def __init__(self, base: Transport, pool_size: int = POOL_SIZE) -> None:
        self.hosts = base.hosts
        self.tokens = base.tokens
        self.session = base.session
        self.policy = base.policy
        self.timeout = base.timeout
        self.pause = base.pause
        self.reachability = base.reachability
        verify = base.session.verify
        tls: dict[str, Any] = {}
        if verify is False:
            tls = {"cert_reqs": "CERT_NONE"}
        elif isinstance(verify, str):
            tls = {"cert_reqs": "CERT_REQUIRED", "ca_certs": verify}
        parts = urlsplit(base.hosts.api_base)
        proxies = base.session.proxies or {}
        proxy = proxies.get(f"{parts.scheme}://{parts.hostname}") or proxies.get(parts.scheme)
        # Without a proxy, the calls go over plain kept-alive sockets (KeepAlivePool): the same
        # exchange for a fraction of urllib3's per-call CPU; through a proxy, urllib3's.
        self._pool = (
            urllib3.ProxyManager(proxy, maxsize=pool_size, block=False, **tls) if proxy else None
        )
        self._urllib3_timeout = urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1])
        self._direct = (
            None if proxy else KeepAlivePool(base.hosts.api_base, verify=verify, max_idle=pool_size)
        )

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: dict | None,
        json_body: Any,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        url = self.hosts.api_base + path
        if params:
            url += "?" + urlencode(params, doseq=True)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        body = None
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self._direct is not None:
            return self._send_direct(method, path, url, headers, body, timeout)
        assert self._pool is not None
        try:
            raw = self._pool.request(
                method,
                url,
                body=body,
                headers=headers,
                timeout=(
                    urllib3.Timeout(connect=timeout[0], read=timeout[1])
                    if timeout
                    else self._urllib3_timeout
                ),
                retries=False,
                redirect=False,
                preload_content=True,
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            not_sent = (
                urllib3.exceptions.NewConnectionError,
                urllib3.exceptions.ConnectTimeoutError,
            )
            raise self._failed(exc, method, path, not isinstance(exc, not_sent)) from None
        return self._answer(method, path, url, raw.status, raw.reason or "", raw.headers, raw.data)

    def _failed(
        self, exc: BaseException, method: str, path: str, maybe_sent: bool
    ) -> GenesysConnectionError:
        """The error of an exchange that failed; `maybe_sent` is False only when no connection
        was made (the request cannot have been sent)."""
        what = describe_failure(exc)
        self.reachability.failed(what)
        error = GenesysConnectionError(messages.connection_failed(what), method=method, path=path)
        error.maybe_sent = maybe_sent
        return error

    def _answer(
        self,
        method: str,
        path: str,
        url: str,
        status: int,
        reason: str,
        headers: Any,
        body: bytes,
    ) -> requests.Response:
        """A requests.Response, so errors and callers read it as they read the session's."""
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response._content = body
        response.reason = reason
        response.url = url
        response.encoding = None
        return self._checked(response, method, path)

    def _send_direct(
        self,
        method: str,
        path: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: tuple[float, float] | None,
    ) -> requests.Response:
        assert self._direct is not None
        target = url[len(self.hosts.api_base) :]
        try:
            answer = self._direct.request(method, target, headers, body, timeout or self.timeout)
        except (OSError, http.client.HTTPException) as exc:
            raise self._failed(exc, method, path, not isinstance(exc, NotConnected)) from None
        return self._answer(
            method, path, url, answer.status, answer.reason, answer.headers, answer.body
        )

    def close(self) -> None:
        """Close the pooled connections."""
        if self._pool is not None:
            self._pool.clear()
        if self._direct is not None:
            self._direct.close()
