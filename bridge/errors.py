"""`BridgeError`: the one base of every error the bridge answers a request with.

An error carries its HTTP status, a stable machine-readable `code`, a message for people, extra
fields for the body (e.g. the offending `path`) and response headers (e.g. `Retry-After`). One
Flask error handler (`bridge/app.py`) turns every one of them into the same JSON body,
`{"error": code, "message": message, ...extra}`, on every route.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify


class BridgeError(Exception):
    """A request the bridge refuses or cannot serve now; subclasses set `status` and `code`."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})
        self.extra: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}

    @property
    def body(self) -> dict[str, Any]:
        """The JSON error body every route answers with."""
        return {"error": self.code, "message": self.message, **self.extra}


class Unavailable(BridgeError):
    """A dependency the request needs (the store) cannot be reached now: 503, try again later."""

    status = 503
    code = "unavailable"


def error_response(exc: BridgeError) -> Response:
    """The JSON answer to `exc`: its body, status and headers (inside a request)."""
    response = jsonify(exc.body)
    response.status_code = exc.status
    response.headers.update(exc.headers)
    return response


__all__ = ["BridgeError", "Unavailable", "error_response"]
