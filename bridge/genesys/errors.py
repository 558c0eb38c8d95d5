"""Typed Genesys Cloud errors parsed from `ErrorBody` (docs/reference/genesys-open-messaging.md §8.2) and OAuth errors (§1.3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from . import messages

# Genesys permission strings look like domain:entity:action (e.g. conversation:message:view).
_PERMISSION = re.compile(r"\b[A-Za-z][\w-]*:[\w*-]+:[\w*-]+\b")


class GenesysError(Exception):
    """An error from (or on the way to) Genesys Cloud, with its status, code and contextId."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        context_id: str | None = None,
        body: dict | None = None,
        method: str | None = None,
        path: str | None = None,
        text: str | None = None,
    ):
        self.message = message
        self.status = status
        self.code = code
        self.context_id = context_id
        self.body = body
        self.method = method
        self.path = path.split("?", 1)[0] if path else path
        super().__init__(text or message)

    def __str__(self) -> str:
        base = super().__str__()
        where = f" [{self.method} {self.path}]" if self.method and self.path else ""
        ctx = f" (contextId {self.context_id})" if self.context_id else ""
        return f"{base}{where}{ctx}"


class InvalidClientError(GenesysError):
    """The token endpoint rejected the OAuth client; `.which` names the wrong credential."""

    def __init__(self, which: str, **kw: Any):
        self.which = which
        super().__init__(kw.pop("message", ""), text=messages.invalid_client(which), **kw)


class AuthenticationError(GenesysError):
    """401 on an API call (token missing, expired or revoked)."""


class PermissionDeniedError(GenesysError):
    """403; `.missing_permissions` lists the permissions Genesys named, if any."""

    def __init__(self, message: str, *, missing_permissions: list[str] | None = None, **kw: Any):
        self.missing_permissions = list(missing_permissions or [])
        text = messages.permission_denied(self.missing_permissions, message)
        super().__init__(message, text=text, **kw)


class NotFoundError(GenesysError):
    """404: the resource does not exist (or is not visible to this OAuth client)."""


class BadRequestError(GenesysError):
    """A client-side 4xx (400, 409, 413, 415, …): the request itself is wrong; never retried."""


class RateLimitedError(GenesysError):
    """429; `.retry_after` is the server's Retry-After in seconds when it sent a usable one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ServerError(GenesysError):
    """5xx from Genesys."""


class GenesysConnectionError(GenesysError):
    """The request never got an HTTP answer (DNS, refused, reset, timeout). `maybe_sent` is
    False only when no connection was made (so Genesys cannot have received the request)."""

    maybe_sent: bool = True


class DeadlineExceededError(GenesysError):
    """Retries ran out of the overall deadline; `.last_error` is the error of the last attempt."""

    def __init__(
        self,
        deadline: float,
        attempts: int,
        last_error: GenesysError | None,
        *,
        reason: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ):
        self.deadline = deadline
        self.attempts = attempts
        self.last_error = last_error
        le = last_error
        text = reason or messages.deadline_exceeded(deadline, attempts)
        if le is not None:
            text += f"; last error: {Exception.__str__(le)}"
        super().__init__(
            text,
            status=le.status if le else None,
            code=le.code if le else None,
            context_id=le.context_id if le else None,
            body=le.body if le else None,
            method=method,
            path=path,
        )


class IntegrationNotFoundError(GenesysError, LookupError):
    """No Open Messaging integration has the configured deployment name; lists those that exist."""

    def __init__(self, name: str, available: list[str]):
        self.name = name
        self.available = list(available)
        super().__init__(
            messages.integration_not_found(name, self.available), status=404, code="not.found"
        )


class UnknownRegionError(ValueError):
    """The configured host is not one of the Genesys Cloud region domains."""

    def __init__(self, host: str, accepted: list[str], text: str | None = None):
        self.host = host
        self.accepted = list(accepted)
        super().__init__(text or messages.unknown_region(host, self.accepted))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or HTTP date); None when absent or garbage."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf are garbage
        return None
    return max(0.0, seconds)


def missing_permissions_of(body: dict) -> list[str]:
    """Permission names Genesys lists in a 403's `messageParams` or message text."""
    found: list[str] = []
    params = body.get("messageParams")
    candidates: list[Any] = list(params.values()) if isinstance(params, dict) else []
    candidates += [body.get("message"), body.get("messageWithParams")]
    for value in candidates:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str):
                for perm in _PERMISSION.findall(item):
                    if perm not in found:
                        found.append(perm)
    return found


def _json_body(response: requests.Response) -> dict | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def error_from_response(response: requests.Response, method: str, path: str) -> GenesysError:
    """The typed error for a non-2xx Genesys response (API `ErrorBody` or OAuth error shape)."""
    status = response.status_code
    body = _json_body(response)
    b = body or {}
    if "error" in b and "code" not in b:  # OAuth shape: error / description / error_description
        code = b.get("error")
        message = b.get("error_description") or b.get("description") or ""
    else:
        code = b.get("code")
        message = b.get("message") or ""
    message = message if isinstance(message, str) else str(message)
    kw: dict[str, Any] = dict(
        status=status, code=code, context_id=b.get("contextId"), body=body, method=method, path=path
    )
    if code == "invalid_client":
        lowered = message.lower()
        which = "client_id" if (status == 400 or "not found" in lowered) else "client_secret"
        if "authentication failed" in lowered:
            which = "client_secret"
        return InvalidClientError(which, message=message, **kw)
    text = messages.http_error(status, code, message or response.reason)
    if status == 401:
        return AuthenticationError(message, text=text, **kw)
    if status == 403:
        return PermissionDeniedError(message, missing_permissions=missing_permissions_of(b), **kw)
    if status == 404:
        return NotFoundError(message, text=text, **kw)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimitedError(message, retry_after=retry_after, text=text, **kw)
    if status >= 500:
        return ServerError(message, text=text, **kw)
    if status >= 400:
        return BadRequestError(message, text=text, **kw)
    return GenesysError(message, text=text, **kw)
