"""Request body caps, enforced while the body streams in (also for chunked bodies without a
`Content-Length`), so no route reads more than its cap into memory.

Flask's `MAX_CONTENT_LENGTH` is the ceiling for every route; a `before_request` hook lowers it to
the route's own cap (plus one byte). Werkzeug answers a `Content-Length` above it with 413 before
reading anything, and stops reading a chunked body at it (the WSGI servers the bridge runs on,
gunicorn and werkzeug's, terminate chunked input); `CappedRequest.get_data` turns a body that
reached it into a 413 instead of a silently truncated body.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Flask, Request, request
from werkzeug.exceptions import RequestEntityTooLarge

from om_bridge.bridge.completion.payloads import MAX_BODY_BYTES as EVENT_MAX_BYTES
from om_bridge.bridge.endpoint.uploads import MAX_UPLOAD_BYTES
from om_bridge.bridge.endpoint.validation import MAX_BODY_BYTES as INPUT_MAX_BYTES
from om_bridge.bridge.webhooks.routes import MAX_BODY_BYTES as WEBHOOK_MAX_BYTES

# Routes that read only a userId from a small JSON body (connect/disconnect/typing beacons), and
# any route not named below (GET routes read no body).
SMALL_BODY_BYTES: Final = 4 * 1024
EXTENSION_MAX_BYTES: Final = 256 * 1024

ROUTE_LIMITS: Final[dict[str, int]] = {
    "endpoint.post_input": INPUT_MAX_BYTES,
    "genesys_webhook.genesys_webhook": WEBHOOK_MAX_BYTES,
    "completion_eventbridge.eventbridge_event": EVENT_MAX_BYTES,
    "om_bridge_extension.execute_route": EXTENSION_MAX_BYTES,
    # A user's file for the agent: its own limit, checked again by the route while it reads.
    "endpoint_uploads.upload": MAX_UPLOAD_BYTES,
}
CEILING: Final = max(ROUTE_LIMITS.values())


class CappedRequest(Request):
    """A request whose body, once read, is at most its route's cap (else 413)."""

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> Any:
        data = super().get_data(cache=cache, as_text=False, parse_form_data=parse_form_data)
        cap = self.max_content_length
        if cap is not None and len(data) >= cap:  # the cap is the route's limit + 1
            raise RequestEntityTooLarge()
        return data.decode("utf-8", "replace") if as_text else data


def body_limit(endpoint: str | None) -> int:
    """The body cap in bytes of the view `endpoint` (Flask's endpoint name)."""
    return ROUTE_LIMITS.get(endpoint or "", SMALL_BODY_BYTES)


def too_large_message() -> str:
    """The 413 answer's message, naming the cap of the route asked."""
    limit = (request.max_content_length or CEILING + 1) - 1
    size = request.content_length
    if size is not None:
        return f"the request body is {size} bytes; the limit of this route is {limit} bytes"
    return f"the request body is larger than the limit of this route, {limit} bytes"


def init_app(app: Flask) -> None:
    """Set the ceiling and the per-route caps."""
    app.request_class = CappedRequest
    app.config["MAX_CONTENT_LENGTH"] = CEILING + 1

    @app.before_request
    def _cap_body() -> None:
        request.max_content_length = body_limit(request.endpoint) + 1
