"""`POST /handover/genesysCloudOM/eventbridge`: Genesys detail events forwarded by an AWS
EventBridge API destination (docs/reference/genesys-completion-detection.md §B).

A thin edge: flag → API key (constant time, before parsing) → schema → translate → dispatcher.
It answers well within EventBridge's 5 s limit: dispatching is a store lookup and, for a
customer.end, the engine's end (no Genesys call). Unknown conversations are answered 2xx so that
EventBridge does not retry events that are simply not ours."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from om_bridge.bridge.errors import BridgeError, error_response

from . import messages, payloads
from .dispatcher import FAILED, REJECT
from .translate import from_eventbridge

log = logging.getLogger(__name__)
bp = Blueprint("completion_eventbridge", __name__)
FLAG = "FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST"
EXTENSION = "om-bridge.completion"


def _answer(status: int, error: str, message: str, **extra: Any) -> Response:
    return error_response(BridgeError(message, status=status, code=error, **extra))


@bp.post("/handover/genesysCloudOM/eventbridge")
def eventbridge_event() -> Any:
    service = current_app.extensions[EXTENSION]
    authorization = request.headers.get("Authorization")
    # Flag and key first: a request without the key costs no body read (the body is also capped
    # while it streams in, see `bridge/limits.py`).
    refused = refusal(service, authorization)
    if refused is not None:
        return refused
    raw = request.get_data(cache=False)
    return service.handle_eventbridge(authorization, raw)


def refusal(service: Any, authorization: str | None) -> Response | None:
    """The answer to a request refused by the flag or the API key (None: go on)."""
    # 403, not 404: the route exists but the operator switched the feature off, and the answer
    # must say so (a 404 reads like a wrong API destination URL).
    if not service.settings.http_end_enabled:
        log.info(messages.LOG_REJECTED, "eventbridge", "flag off")
        return _answer(403, "feature_disabled", messages.FLAG_OFF, flag=FLAG)
    key = service.settings.eventbridge_key
    if not key:
        log.warning(messages.LOG_REJECTED, "eventbridge", "no API key configured")
        return _answer(401, "unauthorized", messages.KEY_NOT_CONFIGURED)
    if not payloads.same_secret(authorization, key):
        log.warning(messages.LOG_REJECTED, "eventbridge", "bad API key")
        return _answer(
            401, "unauthorized", messages.KEY_MISSING if not authorization else messages.KEY_WRONG
        )
    return None


def handle(service: Any, authorization: str | None, raw: bytes) -> Response | tuple[Response, int]:
    """The route's work, for `CompletionService.handle_eventbridge`."""
    refused = refusal(service, authorization)
    if refused is not None:
        return refused
    try:
        envelope = payloads.parse(raw, "eventbridge-event")
    except payloads.PayloadError as exc:
        log.info(messages.LOG_REJECTED, "eventbridge", exc.code)
        raise
    event = from_eventbridge(envelope)
    if event is None:
        return jsonify({"status": "ignored", "reason": "topic not used for completion"}), 200
    decision = service.dispatch(event)
    if decision.action == REJECT:
        return _answer(403, "organization_mismatch", decision.reason)
    if decision.action == FAILED:
        # 5xx: EventBridge retries; the retry finds the handover ended or ends it then.
        return _answer(500, "end_failed", decision.reason)
    return jsonify({"status": decision.action, "reason": decision.reason}), 200
