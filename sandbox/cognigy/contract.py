"""The bodies Cognigy's Inject and Notify take, checked as Cognigy's API reference and
`@cognigy/rest-api-client`'s types define them ("Inject a message to a flow", "Send a Message as
an AI Agent Output"; `IInjectRestDataBody_2_0`, `INotifyRestDataBody_2_0`, `TAttachments`):

- Inject: `{text: string, data: object, URLToken: string, sessionId: string, userId: string}`,
  every one required, nothing else;
- Notify: the same plus optional `attachments`: a list of `IFileAttachment` (`file` /
  `document`), `IImageAttachment`, `IVideoAttachment`, `IAudioAttachment`, `IStickerAttachment`
  (each `{type, name, url, caption?}`), `ILocationAttachment` (`{type: "location", latitude,
  longitude, name?, title?, address?}`) or `IContactAttachment` (`{type: "contact", …}`).

A body that breaks a rule gets a 400 naming it (`ContractError`). Written for the emulator from
those artifacts; tests/unit/cognigy/test_cognigy_contract.py holds it to a schema derived from
the package's published types.
"""

from __future__ import annotations

from typing import Any

INJECT_KEYS = ("text", "data", "URLToken", "sessionId", "userId")
NOTIFY_KEYS = (*INJECT_KEYS, "attachments")
MEDIA_TYPES = ("file", "document", "image", "video", "audio", "sticker")
MEDIA_KEYS = {"type": str, "name": str, "url": str, "caption": str}
LOCATION_KEYS = {
    "type": str,
    "latitude": (int, float),
    "longitude": (int, float),
    "name": str,
    "title": str,
    "address": str,
}
CONTACT_KEYS = {
    "type",
    "addresses",
    "birthday",
    "emails",
    "name",
    "org",
    "phones",
    "urls",
    "photos",
    "gender",
    "languages",
    "timeZone",
    "notes",
}


class ContractError(ValueError):
    """A body Cognigy's types forbid; the message names the field."""


def _attachment(i: int, item: Any) -> None:
    where = f"attachments[{i}]"
    if not isinstance(item, dict):
        raise ContractError(f"{where} must be an object")
    kind = item.get("type")
    if kind in MEDIA_TYPES:
        allowed: dict[str, Any] = MEDIA_KEYS
        required = ("type", "name", "url")
    elif kind == "location":
        allowed, required = LOCATION_KEYS, ("type", "latitude", "longitude")
    elif kind == "contact":
        extra = sorted(set(item) - CONTACT_KEYS)
        if extra:
            raise ContractError(f"{where} has unknown field(s) {extra}")
        return
    else:
        raise ContractError(
            f"{where}.type must be one of {[*MEDIA_TYPES, 'location', 'contact']}, not {kind!r}"
        )
    for key in required:
        if key not in item:
            raise ContractError(f"{where}.{key} is required for type {kind!r}")
    for key, value in item.items():
        if key not in allowed:
            raise ContractError(f"{where} has unknown field {key!r}")
        if isinstance(value, bool) or not isinstance(value, allowed[key]):
            raise ContractError(f"{where}.{key} has the wrong type")


def check(call: str, body: Any) -> dict[str, Any]:
    """The body of an Inject (`call` "inject") or Notify ("notify"); raises ContractError."""
    if not isinstance(body, dict):
        raise ContractError("the body must be a JSON object")
    allowed = NOTIFY_KEYS if call == "notify" else INJECT_KEYS
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise ContractError(f"unknown field(s) {extra}: an {call} body has {list(allowed)}")
    for key in ("URLToken", "userId", "sessionId", "text"):
        if key not in body:
            raise ContractError(f"{key} is required")
        if not isinstance(body[key], str):
            raise ContractError(f"{key} must be a string")
    for key in ("URLToken", "userId", "sessionId"):
        if not body[key]:
            raise ContractError(f"{key} must not be empty")
    if "data" not in body:
        raise ContractError("data is required (an object; {} for none)")
    if not isinstance(body["data"], dict):
        raise ContractError("data must be an object")
    if "attachments" in body:
        if not isinstance(body["attachments"], list):
            raise ContractError("attachments must be a list")
        for i, item in enumerate(body["attachments"]):
            _attachment(i, item)
    return body
