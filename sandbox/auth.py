"""Bearer-token authentication, the permission model, rate limiting and API fault injection.

`install(app)` adds a `before_request` gate for every `/api/v2/**` route (whoever registered it):
fault injection (target `api`), then the bearer token (401 `ErrorBody`), then the per-token rate
limit (429), then the 512000-byte request cap (413); it sets `flask.g.principal`.
`require_auth(*permissions)` then checks the route's permissions (403 `missing.permissions`).
"""

from __future__ import annotations

import fnmatch
import functools
import heapq
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request

from om_bridge.sandbox import messages
from om_bridge.sandbox.errors import error_body

MAX_REQUEST_BYTES = 512000  # Genesys `request.bytes.max`


@dataclass
class Principal:
    """Who a bearer token speaks for; `user_id` is None for client-credentials tokens."""

    client_id: str
    user_id: str | None
    org_id: str
    permissions: frozenset[str]
    token: str
    expires_at: float = 0.0
    grant_type: str = "client_credentials"

    def has(self, permission: str) -> bool:
        """True when one of the principal's permission patterns (`domain:entity:action`, `*` per
        segment) grants `permission`."""
        return any(permission_matches(p, permission) for p in self.permissions)


def permission_matches(granted: str, wanted: str) -> bool:
    """Genesys permission strings are `domain:entity:action`; roles may use `*` in any segment."""
    if granted == wanted or granted == "*":
        return True
    g_parts, w_parts = granted.split(":"), wanted.split(":")
    if len(g_parts) != len(w_parts):
        return False
    return all(fnmatch.fnmatchcase(w, gp) for gp, w in zip(g_parts, w_parts, strict=True))


class TokenStore:
    """Issued access tokens (opaque random strings) and their principals.

    Expired tokens are forgotten `EXPIRED_KEPT_SECONDS` after they expire (until then a request
    with one still gets Genesys' `credentials.expired` rather than `bad.credentials`). Expiries sit
    on a heap, so each `issue()` drops what has lapsed at amortised O(log n) and the store holds
    only the tokens of the last `expires_in + EXPIRED_KEPT_SECONDS` seconds."""

    EXPIRED_KEPT_SECONDS = 600.0

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._tokens: dict[str, Principal] = {}
        self._expiries: list[tuple[float, str]] = []  # heap of (expires_at, token)
        self._lock = threading.Lock()
        self._clock = clock

    def __len__(self) -> int:
        with self._lock:
            return len(self._tokens)

    def issue(
        self,
        client_id: str,
        user_id: str | None,
        org_id: str,
        permissions: frozenset[str],
        expires_in: int,
        grant_type: str,
    ) -> Principal:
        """A new token for the client (and user, for the password grant), valid `expires_in` s."""
        token = secrets.token_urlsafe(48)
        now = self._clock()
        principal = Principal(
            client_id, user_id, org_id, permissions, token, now + expires_in, grant_type
        )
        with self._lock:
            self._prune(now)
            self._tokens[token] = principal
            heapq.heappush(self._expiries, (principal.expires_at, token))
        return principal

    def get(self, token: str) -> Principal | None:
        """The token's principal (also when expired but not yet forgotten), else None."""
        with self._lock:
            return self._tokens.get(token)

    def revoke(self, token: str) -> None:
        """Forget `token` now (its heap entry lapses on its own)."""
        with self._lock:
            self._tokens.pop(token, None)

    def _prune(self, now: float) -> None:
        horizon = now - self.EXPIRED_KEPT_SECONDS
        while self._expiries and self._expiries[0][0] <= horizon:
            _expires_at, token = heapq.heappop(self._expiries)
            self._tokens.pop(token, None)


def authenticate() -> Principal | Response:
    """The principal of the request's bearer token, or the 401 `ErrorBody` Genesys answers."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not token.strip():
        return error_body(401, "authentication.required")
    sandbox = current_app.extensions["sandbox"]
    principal = sandbox.tokens.get(token.strip())
    if principal is None:
        return error_body(401, "bad.credentials")
    if principal.expires_at <= time.time():
        return error_body(401, "credentials.expired")
    return principal


def require_auth(*permissions: str, any_of: bool = False, user: bool = False) -> Callable:
    """Decorator for API views: a valid bearer token (401 otherwise) holding all `permissions`
    (or one of them with `any_of=True`), else 403 `missing.permissions` naming them. With
    `user=True` the token must carry a user (password grant). Sets `flask.g.principal`."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = getattr(g, "principal", None)
            if principal is None:
                result = authenticate()
                if isinstance(result, Response):
                    return result
                g.principal = principal = result
            if permissions:
                missing = [p for p in permissions if not principal.has(p)]
                denied = len(missing) == len(permissions) if any_of else bool(missing)
                if denied:
                    listed = ", ".join(missing)
                    text = messages.MISSING_PERMISSIONS.format(perms=f"[{listed}]")
                    return error_body(
                        403,
                        "missing.any.permissions" if any_of else "missing.permissions",
                        text,
                        messageWithParams=messages.MISSING_PERMISSIONS.format(
                            perms="[{permissions}]"
                        ),
                        messageParams={"permissions": listed},
                    )
            if user and principal.user_id is None:
                return error_body(400, "bad.request", messages.USER_CONTEXT_REQUIRED)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def drop_connection() -> None:
    """Close the client connection without an HTTP response (werkzeug's server socket)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _api_gate() -> Response | None:
    if not request.path.startswith("/api/v2/"):
        return None
    sandbox = current_app.extensions["sandbox"]
    fault = sandbox.faults.take("api", request.method, request.path)
    if fault is not None:
        if fault.mode == "delay":
            time.sleep(fault.delay)
        elif fault.mode == "drop":
            drop_connection()
            # werkzeug treats the broken pipe on write as a dropped connection
            return Response(b"", status=500)
        elif fault.mode == "status":
            retry = fault.retry_after
            if fault.status == 429 and retry is None:
                retry = 1
            resp = error_body(
                fault.status, message=(messages_for_429(retry) if fault.status == 429 else None)
            )
            if retry is not None:
                resp.headers["Retry-After"] = str(retry)
            return resp
    result = authenticate()
    if isinstance(result, Response):
        return result
    g.principal = result
    retry_after = sandbox.rate_limiter.hit(result.token)
    if retry_after is not None:
        resp = error_body(
            429,
            "too.many.requests.retry.after",
            messages_for_429(retry_after),
            messageWithParams="Rate limit exceeded the maximum. Retry the request in [{retryAfter}] seconds",
            messageParams={"retryAfter": str(retry_after)},
            limit={
                "key": "client.credentials.token.rate.per.minute",
                "namespace": "platform.api",
                "value": sandbox.rate_limiter.per_minute,
            },
        )
        resp.headers["Retry-After"] = str(retry_after)
        return resp
    if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
        return error_body(
            413,
            "request.entity.too.large",
            messages.TOO_LARGE.format(limit=MAX_REQUEST_BYTES),
            messageParams={"limit": str(MAX_REQUEST_BYTES)},
        )
    return None


def messages_for_429(retry_after: int | None) -> str:
    return f"Rate limit exceeded the maximum. Retry the request in [{retry_after or 1}] seconds"


def install(app: Flask) -> None:
    """Register the `/api/v2/**` gate on `app` (runs before any blueprint's own hooks)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _api_gate)
