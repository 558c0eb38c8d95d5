"""Open Messaging inbound API (docs/reference/genesys-open-messaging.md §3-§4): customer messages, typing events, receipts and
structured responses, answered 202 with the normalized echo. Also registers the integrations API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request
from flask.typing import ResponseReturnValue

from om_bridge.sandbox import integrations, media, messages, validation
from om_bridge.sandbox.apiutil import BadRequest, created, handles_errors, json_body, sandbox
from om_bridge.sandbox.auth import require_auth
from om_bridge.sandbox.engine import message_id
from om_bridge.sandbox.errors import error_body
from om_bridge.sandbox.state import now_iso

bp = Blueprint("sandbox_openmessaging", __name__)
BASE = "/api/v2/conversations/messages/<integration_id>/inbound/open"
LEGACY = "/api/v2/conversations/messages/inbound/open"
PERMISSION = "conversation:message:create"


def _integration(integration_id: str) -> dict:
    integ = sandbox().store.integrations.get(integration_id)
    if integ is None:
        raise BadRequest(
            messages.NOT_FOUND_ENTITY.format(kind="Integration", id=integration_id),
            code="not.found",
            status=404,
        )
    return integ


def _channel(integ: dict, frm: dict, at: str, mid: str | None) -> dict:
    """`OpenMessagingChannel` of an inbound message: from = customer, to = the integration."""
    out: dict[str, Any] = {"id": integ["id"], "platform": "Open", "type": "Private"}
    if mid:
        out["messageId"] = mid
    out["to"] = {"id": integ["id"], "nickname": integ["name"]}
    out["from"] = frm
    out["time"] = at
    return out


def _prefetch() -> bool:
    return request.args.get("prefetchConversationId", "").lower() == "true"


def _repeated_record(integ: dict, sender: dict, provider_message_id: str | None) -> Any:
    """The stored message this customer already sent with this `channel.messageId`, or None."""
    if not provider_message_id:
        return None
    store = sandbox().store
    with store.lock:
        mid = store.inbound_ids.get((integ["id"], sender["id"], provider_message_id))
        return store.messages.get(mid or "")


def _repeated(integ: dict, sender: dict, provider_message_id: str | None) -> Any:
    """The answer to an inbound message whose `channel.messageId` this customer already sent on
    this integration (while its conversation is kept): the first message's echo, and nothing is
    posted again. docs/reference/genesys-open-messaging.md §12 leaves open whether Genesys dedupes
    on it; the sandbox does, as the reference's §8.3 treats it as the idempotency key."""
    record = _repeated_record(integ, sender, provider_message_id)
    if record is None:
        return None
    echo = {k: v for k, v in record.normalized.items() if k != "direction"}
    if _prefetch():
        echo["conversationId"] = record.conversation_id
    return created(echo, 202)


@bp.post(f"{BASE}/message")
@require_auth(PERMISSION)
@handles_errors
def inbound_message(integration_id: str) -> ResponseReturnValue:
    integ = _integration(integration_id)
    msg = validation.inbound_message(json_body())
    with sandbox().store.lock:  # the repeat check and the post are one step
        repeated = _repeated(integ, msg["sender"], msg["messageId"])
        if repeated is not None:
            return repeated
        normalized, conv = _post_inbound(integ, msg)
    # `OpenMessageNormalizedMessage` has no `direction` (the stored normalized message does)
    echo = {k: v for k, v in normalized.items() if k != "direction"}
    if _prefetch():
        echo["conversationId"] = conv.id
    return created(echo, 202)


def _post_inbound(integ: dict, msg: dict) -> tuple[dict, Any]:
    """Post a validated inbound text/attachment message; (its normalized message, the conversation)."""
    mid = message_id()
    normalized: dict[str, Any] = {
        "id": mid,
        "channel": _channel(integ, msg["sender"], msg["time"], msg["messageId"]),
        "type": "Text",
    }
    if msg["customAttributes"]:
        normalized["channel"]["metadata"] = {"customAttributes": msg["customAttributes"]}
    if msg["text"] is not None:
        normalized["text"] = msg["text"]
    rehosted = media.rehost_inbound(msg["content"]) if msg["content"] else []
    if msg["content"]:
        normalized["content"] = msg["content"]
    if msg["metadata"]:
        normalized["metadata"] = msg["metadata"]
    normalized["direction"] = "Inbound"
    conv, _record = sandbox().engine.inbound_message(
        integ,
        msg["sender"],
        normalized,
        msg["text"],
        msg["messageId"],
        msg["customAttributes"],
        now_iso(),
    )
    if rehosted:
        media.register_inbound(rehosted, conv.id, conv.customer().communication_id or "")
    return normalized, conv


@bp.post(f"{BASE}/event")
@require_auth(PERMISSION)
@handles_errors
def inbound_event(integration_id: str) -> ResponseReturnValue:
    integ = _integration(integration_id)
    ev = validation.inbound_event(json_body())
    sandbox().engine.inbound_typing(integ, ev["sender"]["id"])
    echo = {
        "id": message_id(),
        "channel": _channel(integ, ev["sender"], ev["time"], ev["messageId"]),
        "type": "Event",
        "events": [
            {"eventType": "Typing", "typing": {"type": "On", "duration": 5000}}
            for _ in range(ev["count"])
        ],
    }
    return created(echo, 202)


@bp.post(f"{BASE}/receipt")
@require_auth(PERMISSION)
@handles_errors
def inbound_receipt(integration_id: str) -> ResponseReturnValue:
    integ = _integration(integration_id)
    return _post_receipt(integ, validation.inbound_receipt(json_body()))


def _post_receipt(integ: dict, rc: dict, frm: dict | None = None) -> Any:
    """Record a validated receipt for an outbound message; answered with its normalized echo
    (`from` the integration unless the request named a sender)."""
    channel = {
        "id": integ["id"],
        "platform": "Open",
        "type": "Private",
        "messageId": rc["id"],
        "to": rc["to"],
        "from": frm or {"id": integ["id"], "idType": "Opaque", "nickname": integ["name"]},
        "time": rc["time"],
    }
    echo: dict[str, Any] = {
        "id": rc["id"],
        "channel": channel,
        "type": "Receipt",
        "status": rc["status"],
        "direction": "Outbound",
    }
    if rc["reasons"]:
        echo["reasons"] = rc["reasons"]
    if rc["isFinalReceipt"] is not None:
        echo["isFinalReceipt"] = rc["isFinalReceipt"]
    sandbox().engine.receipt(integ, rc["id"], rc["status"], rc["reasons"], echo)
    return created(echo, 202)


@bp.post(f"{BASE}/structured/response")
@require_auth(PERMISSION)
@handles_errors
def structured_response(integration_id: str) -> ResponseReturnValue:
    integ = _integration(integration_id)
    sr = validation.structured_response(json_body())
    repeated = _repeated(integ, sr["sender"], sr["messageId"])
    if repeated is not None:
        return repeated
    engine = sandbox().engine
    store = sandbox().store
    with store.lock:
        origin = store.messages.get(sr["originatingMessageId"])
        conv = store.conversations.get(origin.conversation_id) if origin else None
        if (
            conv is None
            or conv.ended
            or conv.integration_id != integ["id"]
            or conv.customer_id != sr["sender"]["id"]
        ):
            # a structured response must belong to an existing conversation
            return error_body(
                400,
                "bad.request",
                messages.NOT_FOUND_ENTITY.format(
                    kind="Originating message in an active conversation",
                    id=sr["originatingMessageId"],
                ),
            )
        mid = message_id()
        button = {k: sr["button"][k] for k in ("type", "text", "payload")}
        normalized: dict[str, Any] = {
            "id": mid,
            "channel": _channel(integ, sr["sender"], sr["time"], sr["messageId"]),
            "type": "Structured",
            "direction": "Inbound",
            "content": [{"contentType": "ButtonResponse", "buttonResponse": button}],
        }
        if sr["metadata"]:
            normalized["metadata"] = sr["metadata"]
        engine.inbound_message(
            integ,
            sr["sender"],
            normalized,
            button["text"],
            sr["messageId"],
            sr["customAttributes"],
            now_iso(),
        )
    return created(normalized, 202)


@bp.post(LEGACY)
@require_auth(PERMISSION)
@handles_errors
def legacy_inbound() -> ResponseReturnValue:
    """The deprecated `POST /api/v2/conversations/messages/inbound/open`
    (docs/reference/genesys-open-messaging.md §3.2): one `OpenNormalizedMessage` route for texts
    and receipts, the integration addressed by `channel.to.id`; answered with the normalized
    message, `id` filled in and `direction` kept (the model has it, and no `conversationId`)."""
    body = json_body()
    kind, integration_id = validation.legacy_addressing(body)
    integ = _integration(integration_id)
    if kind == "Receipt":
        channel = body["channel"]
        frm = validation.sender(channel) if channel.get("from") is not None else None
        return _post_receipt(integ, validation.inbound_receipt(body), frm)
    msg = validation.inbound_message(body)
    with sandbox().store.lock:  # the repeat check and the post are one step
        record = _repeated_record(integ, msg["sender"], msg["messageId"])
        normalized = record.normalized if record is not None else _post_inbound(integ, msg)[0]
        return created(dict(normalized), 202)


def init_app(app: Flask) -> None:
    """Register the inbound Open Messaging routes and the integrations API."""
    app.register_blueprint(bp)
    app.register_blueprint(integrations.bp)
