"""Schema checks of the Open Messaging inbound bodies (docs/reference/genesys-open-messaging.md §3.1, §4.1-§4.3), with messages in
the JSON-schema style Genesys answers with. Each function returns the normalized parts or raises
`BadRequest`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, overload

from om_bridge.sandbox.apiutil import BadRequest
from om_bridge.sandbox.messages import BODY_NOT_JSON

ID_TYPES = {"email": "Email", "phone": "Phone", "opaque": "Opaque"}
MEDIA_TYPES = ("Image", "Video", "Audio", "File", "Link")
BUTTON_TYPES = ("Button", "QuickReply", "DatePicker")
RECEIPT_STATUSES = ("Delivered", "Failed")
ANYOF_MESSAGE = (
    "body should have required property 'text', body should have required property "
    "'content', body should match some schema in anyOf"
)


@overload
def _obj(value: Any, path: str, required: Literal[True] = True) -> dict: ...
@overload
def _obj(value: Any, path: str, required: bool) -> dict | None: ...
def _obj(value: Any, path: str, required: bool = True) -> dict | None:
    if value is None:
        if required:
            raise BadRequest(f"body should have required property '{path}'")
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"body.{path} should be object")
    return value


@overload
def _str(value: Any, path: str, required: Literal[True] = True) -> str: ...
@overload
def _str(value: Any, path: str, required: bool) -> str | None: ...
def _str(value: Any, path: str, required: bool = True) -> str | None:
    if value is None:
        if required:
            raise BadRequest(f"body should have required property '{path}'")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"body.{path} should be string")
    return value


def _time(value: Any, path: str) -> str:
    text = _str(value, path)
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f'body.{path} should match format "date-time"', code="invalid.date"
        ) from None
    return text


def _string_map(value: Any) -> dict[str, str] | None:
    """Genesys answers a non string->string map with its generic malformed-syntax 400."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadRequest(BODY_NOT_JSON)
    return value


def sender(channel: dict) -> dict:
    """`channel.from` with `idType` in canonical casing (the enum is matched case-insensitively)."""
    frm = _obj(channel.get("from"), "channel.from")
    _str(frm.get("id"), "channel.from.id")
    if not frm["id"]:
        raise BadRequest("body.channel.from.id should NOT be shorter than 1 characters")
    id_type = _str(frm.get("idType"), "channel.from.idType")
    canonical = ID_TYPES.get(id_type.lower())
    if canonical is None:
        raise BadRequest(
            "body.channel.from.idType should be equal to one of the allowed values: "
            "Email, Phone, Opaque"
        )
    for key in ("nickname", "firstName", "lastName", "image", "email"):
        _str(frm.get(key), f"channel.from.{key}", required=False)
    return {**frm, "idType": canonical}


def inbound_message(body: dict) -> dict:
    """`OpenInboundNormalizedMessage` → {sender, time, messageId, customAttributes, text,
    content, metadata}."""
    channel = _obj(body.get("channel"), "channel")
    frm = sender(channel)
    at = _time(channel.get("time"), "channel.time")
    mid = _str(channel.get("messageId"), "channel.messageId", required=False)
    meta = _obj(channel.get("metadata"), "channel.metadata", required=False) or {}
    attrs = _string_map(meta.get("customAttributes")) or {}
    text = body.get("text")
    content = body.get("content")
    if text is None and content is None:
        raise BadRequest(ANYOF_MESSAGE)
    _str(text, "text", required=False)
    normalized_content = []
    if content is not None:
        if not isinstance(content, list):
            raise BadRequest("body.content should be array")
        for i, item in enumerate(content):
            att = _obj(
                item.get("attachment") if isinstance(item, dict) else None,
                f"content[{i}].attachment",
            )
            media = _str(att.get("mediaType"), f"content[{i}].attachment.mediaType")
            if media not in MEDIA_TYPES:
                raise BadRequest(
                    f"body.content[{i}].attachment.mediaType should be equal to one "
                    f"of the allowed values: {', '.join(MEDIA_TYPES)}"
                )
            _str(att.get("url"), f"content[{i}].attachment.url")
            _str(att.get("mime"), f"content[{i}].attachment.mime")
            normalized_content.append({"contentType": "Attachment", "attachment": att})
    return {
        "sender": frm,
        "time": at,
        "messageId": mid,
        "customAttributes": attrs,
        "text": text,
        "content": normalized_content,
        "metadata": _string_map(body.get("metadata")),
    }


LEGACY_TYPES = ("Text", "Receipt")


def legacy_addressing(body: dict) -> tuple[str, str]:
    """(`type`, integration id) of a legacy `OpenNormalizedMessage`: `type` is required (`Text`
    or `Receipt`) and `channel.to.id` names the integration (docs/reference/genesys-open-messaging.md §3.2)."""
    kind = _str(body.get("type"), "type")
    if kind not in LEGACY_TYPES:
        raise BadRequest(
            "body.type should be equal to one of the allowed values: " + ", ".join(LEGACY_TYPES)
        )
    channel = _obj(body.get("channel"), "channel")
    to = _obj(channel.get("to"), "channel.to")
    integration_id = _str(to.get("id"), "channel.to.id")
    return kind, integration_id


def inbound_event(body: dict) -> dict:
    channel = _obj(body.get("channel"), "channel")
    frm = sender(channel)
    at = _time(channel.get("time"), "channel.time")
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise BadRequest(
            "body should have required property 'events'"
            if events is None
            else "body.events should be a non-empty array"
        )
    for i, ev in enumerate(events):
        if not isinstance(ev, dict) or ev.get("eventType") != "Typing":
            raise BadRequest(
                f"body.events[{i}].eventType should be equal to one of the allowed values: Typing"
            )
    return {"sender": frm, "time": at, "messageId": channel.get("messageId"), "count": len(events)}


def inbound_receipt(body: dict) -> dict:
    mid = _str(body.get("id"), "id")
    channel = _obj(body.get("channel"), "channel")
    to = _obj(channel.get("to"), "channel.to")
    _str(to.get("id"), "channel.to.id")
    at = _time(channel.get("time"), "channel.time")
    status = _str(body.get("status"), "status")
    if status not in RECEIPT_STATUSES:
        raise BadRequest(
            "body.status should be equal to one of the allowed values: "
            + ", ".join(RECEIPT_STATUSES)
        )
    reasons = body.get("reasons") or []
    if not isinstance(reasons, list):
        raise BadRequest("body.reasons should be array")
    for i, r in enumerate(reasons):
        if not isinstance(r, dict):
            raise BadRequest(f"body.reasons[{i}] should be object")
        _str(r.get("message"), f"reasons[{i}].message")
        _str(r.get("code"), f"reasons[{i}].code", required=False)
    final = body.get("isFinalReceipt")
    if final is not None and not isinstance(final, bool):
        raise BadRequest("body.isFinalReceipt should be boolean")
    return {
        "id": mid,
        "to": to,
        "time": at,
        "status": status,
        "reasons": reasons,
        "isFinalReceipt": final,
    }


def structured_response(body: dict) -> dict:
    channel = _obj(body.get("channel"), "channel")
    frm = sender(channel)
    at = _time(channel.get("time"), "channel.time")
    button = _obj(body.get("buttonResponse"), "buttonResponse")
    btype = _str(button.get("type"), "buttonResponse.type")
    if btype not in BUTTON_TYPES:
        raise BadRequest(
            "body.buttonResponse.type should be equal to one of the allowed values: "
            + ", ".join(BUTTON_TYPES)
        )
    _str(button.get("text"), "buttonResponse.text")
    _str(button.get("payload"), "buttonResponse.payload")
    origin = _str(body.get("originatingMessageId"), "originatingMessageId")
    meta = _obj(channel.get("metadata"), "channel.metadata", required=False) or {}
    return {
        "sender": frm,
        "time": at,
        "messageId": channel.get("messageId"),
        "button": button,
        "originatingMessageId": origin,
        "customAttributes": _string_map(meta.get("customAttributes")) or {},
        "metadata": _string_map(body.get("metadata")),
    }
