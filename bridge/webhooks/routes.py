"""`POST /handover/genesysCloudOM`: the Open Messaging outbound webhook (and data-action ends).

Order of checks, each before the next touches the body: size cap → signature over the raw bytes
(every configured provider's secret, constant time) → JSON → schema → dedupe and durable enqueue
(one store step) → answer 2xx; the engine relays it in the background, in order per customer, and
a crash before that only delays it (the stored item is handled after its lease). Genesys signs the
exact bytes it sends (base64): nothing re-serialises first. A genuine message of a type we do not
handle is answered 2xx and ignored (Genesys treats a non-2xx as a failure of the chat).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from jsonschema.exceptions import best_match

from om_bridge.bridge import jsonbody
from om_bridge.bridge.errors import BridgeError, error_response
from om_bridge.bridge.genesys.signature import verify_signature
from om_bridge.bridge.genesys.wire import epoch
from om_bridge.bridge.handover.events import WIRE_TYPES
from om_bridge.bridge.handover.inbound import DEDUPE_TTL_SECONDS, dedupe_key
from om_bridge.bridge.webhooks import messages
from om_bridge.bridge.webhooks.fastschema import Check, compile_schema

if TYPE_CHECKING:
    from prometheus_client import Counter

    from om_bridge.bridge.completion import CompletionService
    from om_bridge.bridge.config import Config, Provider
    from om_bridge.bridge.handover.engine import HandoverEngine
    from om_bridge.bridge.metrics import Metrics

log = logging.getLogger(__name__)
bp = Blueprint("genesys_webhook", __name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
# Genesys' own platform cap (request.bytes.max); nothing genuine is larger.
MAX_BODY_BYTES = 512_000
# Genesys retries one delivery for at most 85 s (docs/reference/genesys-open-messaging.md §5.7);
# a message whose channel.time is older than this (the retry window plus room for clock skew) is
# refused as a replay.
MAX_AGE_SECONDS = 300.0
PROVIDER_TYPE = "genesysCloudOM"
# Keys every EventBridge envelope has (docs/reference/genesys-completion-detection.md §B.2).
ENVELOPE_KEYS = ("detail-type", "source", "detail")
# The Open Messaging types the bridge handles: those the core has a typed event for.
HANDLED_TYPES = frozenset(WIRE_TYPES)
# Log lines name an unhandled type, capped in length (metrics count it as "other").
TYPE_LABEL_MAX = 40


@dataclass(frozen=True)
class WebhookDeps:
    """What the webhook route works with, given by the composition root (`init_app`)."""

    config: Config
    engine: HandoverEngine
    completion: CompletionService | None
    metrics: Metrics
    clock: Callable[[], float]


EXTENSION = "om-bridge.webhooks"


def _ctx() -> WebhookDeps:
    deps: WebhookDeps = current_app.extensions[EXTENSION]
    return deps


def _rid() -> str:
    return str(g.get("request_id", "-"))


def _error(status: int, error: str, message: str, **extra: Any) -> tuple[Response, int]:
    log.info(messages.LOG_REJECTED, _rid(), error, status)
    return error_response(BridgeError(message, status=status, code=error, **extra)), status


def _secret(provider: Provider) -> str:
    return provider.webhook_secret.reveal()


def verifying_provider(ctx: WebhookDeps, raw: bytes, header: str) -> str | None:
    """The id of the provider whose webhook secret signed `raw`, or None."""
    match = None
    for provider_id, provider in ctx.config.providers.items():
        if provider.type != PROVIDER_TYPE:
            continue
        secret = _secret(provider)
        # Check every provider (no early exit) so timing does not tell which secret matched.
        if secret and verify_signature(secret, raw, header) and match is None:
            match = provider_id
    return match


@bp.post("/handover/genesysCloudOM")
def genesys_webhook() -> ResponseReturnValue:
    """Verify, validate, dedupe and hand a webhook to the engine; 2xx for anything genuine."""
    ctx = _ctx()
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _error(
            413,
            "payload_too_large",
            messages.TOO_LARGE.format(size=request.content_length, limit=MAX_BODY_BYTES),
        )
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        return _error(
            413, "payload_too_large", messages.TOO_LARGE.format(size=len(raw), limit=MAX_BODY_BYTES)
        )
    header = request.headers.get(SIGNATURE_HEADER)
    if header is None:
        # Unsigned: an EventBridge API destination (Cognigy's guide points it here, with the
        # API key in Authorization) or a data-action end request; told apart by key and shape.
        if ctx.completion is not None and _is_eventbridge(ctx, raw):
            return ctx.completion.handle_eventbridge(request.headers.get("Authorization"), raw)
        return _data_action(ctx, raw)
    provider_id = verifying_provider(ctx, raw, header)
    if provider_id is None:
        return _error(401, "invalid_signature", messages.BAD_SIGNATURE)
    try:
        payload = jsonbody.loads(raw)
        if jsonbody.may_hold_surrogates(raw):
            payload = jsonbody.scrub(payload)
    except jsonbody.BodyError as exc:
        return _error(400, "invalid_json", messages.INVALID_JSON.format(error=exc))
    problem = _schema_problem(payload)
    if problem is not None:
        return _error(400, "schema_invalid", problem[1], path=problem[0])
    message_id, kind = payload["id"], payload["type"]
    counter = _outcomes(ctx)
    if kind not in HANDLED_TYPES:
        log.info(messages.LOG_IGNORED, _rid(), message_id, kind[:TYPE_LABEL_MAX])
        counter.labels("ignored", "other").inc()
        return _reply("ignored")
    channel_time = (payload.get("channel") or {}).get("time") or ""
    age = _age_seconds(channel_time, ctx.clock())
    if age is not None and age > MAX_AGE_SECONDS:
        # Older than Genesys' whole retry sequence can be: a replay, not a delivery.
        counter.labels("stale", kind).inc()
        return _error(
            400,
            "stale_message",
            messages.STALE.format(time=channel_time[:40], age=int(age), limit=int(MAX_AGE_SECONDS)),
        )
    # The Genesys message id alone: a retry of one message keeps its id, and a re-signed copy with
    # another channel.time is the same message shown twice (docs/reference/genesys-open-messaging.md
    # §5.7 also names channel.time; it is not needed to tell messages apart).
    # Stored at once, whatever its channel.time: a delivery that arrives after a later message of
    # its conversation is placed before it when relayed (OutputHub), not held here.
    if not ctx.engine.accept_genesys_message(
        provider_id,
        payload,
        dedupe_key(provider_id, message_id),
        DEDUPE_TTL_SECONDS,
    ):
        log.info(messages.LOG_DUPLICATE, _rid(), message_id)
        counter.labels("duplicate", kind).inc()
        return _reply("duplicate")
    # Per-message success is counted, and logged at DEBUG: an INFO line per relayed message
    # costs more than the rest of the route (rejections and duplicates stay at INFO).
    log.debug(messages.LOG_ACCEPTED, _rid(), kind, message_id, provider_id)
    counter.labels("accepted", kind).inc()
    return _reply("accepted")


def _age_seconds(channel_time: str, now: float) -> float | None:
    """Seconds since `channel.time`, None when absent or unparseable."""
    at = epoch(channel_time)
    return None if at is None else now - at


_REPLIES: dict[str, bytes] = {}


def _reply(status: str) -> Response:
    # The three success bodies are constants: no jsonify (and its app-json lookups) per request.
    body = _REPLIES.get(status)
    if body is None:
        body = _REPLIES[status] = json.dumps({"status": status}).encode()
    return current_app.response_class(body, status=200, mimetype="application/json")


def _outcomes(ctx: WebhookDeps) -> Counter:
    return ctx.metrics.counter(
        "genesys_webhooks_total",
        "Signed, valid Genesys webhooks by outcome and message type",
        ["outcome", "type"],
    )


_FAST: list[Check | None] = []


def _fast_check() -> Check | None:
    if not _FAST:
        from om_bridge.schemas import load_schema

        _FAST.append(compile_schema(load_schema("genesys-webhook")))
    return _FAST[0]


def _schema_problem(payload: Any) -> tuple[str, str] | None:
    from om_bridge.schemas import validator  # imported lazily: the registry is built on first use

    # The common case (a valid body) takes the compiled fast path; only an invalid body pays
    # for jsonschema collecting every error and picking the most relevant.
    fast = _fast_check()
    checker = validator("genesys-webhook")
    if fast(payload) if fast is not None else checker.is_valid(payload):
        return None
    error = best_match(checker.iter_errors(payload))
    if error is None:
        return None
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path, messages.SCHEMA_INVALID.format(path=path, error=error.message)


def _is_eventbridge(ctx: WebhookDeps, raw: bytes) -> bool:
    """An EventBridge delivery: its Authorization is the EventBridge API key (constant time),
    or its body has the EventBridge envelope's shape (`detail-type`, `source`, `detail`), in
    which case the EventBridge handler answers the missing or wrong key."""
    from om_bridge.bridge.completion.payloads import same_secret

    key = ctx.completion.settings.eventbridge_key if ctx.completion is not None else ""
    if key and same_secret(request.headers.get("Authorization"), key):
        return True
    if b'"detail-type"' not in raw:
        return False  # cheap: no envelope without this key
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(body, dict) and all(k in body for k in ENVELOPE_KEYS)


def _data_action(ctx: WebhookDeps, raw: bytes) -> tuple[Response, int]:
    # Without a signature this is Cognigy's data-action end request (Triggers + Web Services Data
    # Action), authenticated by its own credential: the completion service decides.
    if ctx.completion is None:
        return _error(404, "not_found", messages.NO_DATA_ACTIONS)
    status, body = ctx.completion.handle_data_action(request.headers, raw)
    log.info(messages.LOG_DATA_ACTION, _rid(), status)
    return jsonify(body), status
