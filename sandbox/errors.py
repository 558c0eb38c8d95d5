"""Genesys `ErrorBody` responses (docs/reference/genesys-open-messaging.md §8.2), shared by every sandbox route."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, jsonify

# Default message per code, worded as Genesys words them (docs/reference/genesys-open-messaging.md §8.2).
DEFAULT_MESSAGES: dict[str, str] = {
    "bad.request": "The request could not be understood by the server due to malformed syntax.",
    "authentication.required": "No authentication bearer token specified in authorization header.",
    "bad.credentials": "Invalid login credentials.",
    "credentials.expired": "The supplied credentials are expired and cannot be used.",
    "not.authorized": "You are not authorized to perform the requested action.",
    "missing.permissions": "You are not authorized to perform the requested action.",
    "not.found": "The requested resource was not found.",
    "conflict": "The request conflicts with the current state of the target resource.",
    "request.entity.too.large": "The request is over the size limit. Maximum bytes: %s",
    "unsupported.media.type": "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect Content-Type value in the header.",
    "too.many.requests.retry.after": "Rate limit exceeded the maximum. Retry the request in [%s] seconds",
    "internal.server.error": "The server encountered an unexpected condition which prevented it from fulfilling the request.",
    "service.unavailable": "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance).",
    "request.timeout": "The request timed out.",
    "client.timeout": "The client did not produce a request within the server timeout limit.",
    "method.not.allowed": "HTTP method not allowed for this resource.",
}

# Code used when only a status is known (fault injection, generic handlers).
CODE_FOR_STATUS: dict[int, str] = {
    400: "bad.request",
    401: "bad.credentials",
    403: "not.authorized",
    404: "not.found",
    405: "method.not.allowed",
    408: "client.timeout",
    409: "conflict",
    413: "request.entity.too.large",
    415: "unsupported.media.type",
    429: "too.many.requests.retry.after",
    500: "internal.server.error",
    502: "internal.server.error",
    503: "service.unavailable",
    504: "request.timeout",
}


class EngineError(Exception):
    """A refused action: HTTP `status`, Genesys `code` and a message naming the problem; API views
    turn it into an `ErrorBody`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_dict(
    status: int, code: str | None = None, message: str | None = None, **extra: Any
) -> dict:
    """The `ErrorBody` dict: `message`, `code`, `status`, a fresh `contextId`, `details`, `errors` and
    any `extra` fields (`messageParams`, `messageWithParams`, `entityId`, `limit`, ...)."""
    code = code or CODE_FOR_STATUS.get(status, "bad.request")
    body: dict[str, Any] = {
        "message": message if message is not None else DEFAULT_MESSAGES.get(code, code),
        "code": code,
        "status": status,
        "contextId": str(uuid.uuid4()),
        "details": [],
        "errors": [],
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def error_body(
    status: int, code: str | None = None, message: str | None = None, **extra: Any
) -> Response:
    """A JSON `ErrorBody` response with HTTP `status` (the code defaults from the status).

    The `contextId` is also sent as the `ININ-Correlation-Id` header, as Genesys does.
    """
    body = error_dict(status, code, message, **extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["ININ-Correlation-Id"] = body["contextId"]
    return resp
