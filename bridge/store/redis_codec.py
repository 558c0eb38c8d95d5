"""How records are laid out in Redis hashes (strings only; absent field = None)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from om_bridge.bridge.store.records import Handover, OutboxItem, SessionKey

_JSON_FIELDS = ("settings", "agent", "data")
_FLOAT_FIELDS = ("created_at", "updated_at", "ended_at", "pending_end_at")
_STR_FIELDS = (
    "id",
    "provider_id",
    "integration_id",
    "customer_id",
    "conversation_id",
    "status",
    "end_reason",
)


def dumps(value: Any) -> str:
    """Compact JSON."""
    return json.dumps(value, separators=(",", ":"))


def customer_index(integration_id: str | None, customer_id: str) -> str:
    """The part of the open-by-customer index key naming one Open Messaging customer."""
    return quote(integration_id or "", safe="") + ":" + quote(customer_id, safe="")


def encode_handover(h: Handover) -> dict[str, str]:
    """A handover as hash fields, with `_skey` and `_cust` so scripts can find its index keys."""
    out: dict[str, str] = {
        "url_token": h.session.url_token,
        "user_id": h.session.user_id,
        "session_id": h.session.session_id,
        "_skey": h.session.as_str(),
        "_cust": customer_index(h.integration_id, h.customer_id),
    }
    for name in _STR_FIELDS:
        value = getattr(h, name)
        if value is not None:
            out[name] = value
    for name in _FLOAT_FIELDS:
        value = getattr(h, name)
        if value is not None:
            out[name] = repr(float(value))
    for name in _JSON_FIELDS:
        value = getattr(h, name)
        if value is not None:
            out[name] = dumps(value)
    return out


def decode_handover(raw: dict[str, str]) -> Handover | None:
    """The inverse of `encode_handover` (None for an empty hash)."""
    if not raw:
        return None
    return Handover(
        id=raw["id"],
        session=SessionKey(raw["url_token"], raw["user_id"], raw["session_id"]),
        provider_id=raw["provider_id"],
        integration_id=raw.get("integration_id"),
        customer_id=raw["customer_id"],
        conversation_id=raw.get("conversation_id"),
        status=raw["status"],
        settings=json.loads(raw.get("settings", "{}")),
        agent=json.loads(raw["agent"]) if "agent" in raw else None,
        created_at=float(raw["created_at"]),
        updated_at=float(raw["updated_at"]),
        ended_at=float(raw["ended_at"]) if "ended_at" in raw else None,
        end_reason=raw.get("end_reason"),
        pending_end_at=float(raw["pending_end_at"]) if "pending_end_at" in raw else None,
        data=json.loads(raw.get("data", "{}")),
    )


def decode_item(raw: dict[str, str] | list[str]) -> OutboxItem:
    """An outbox item from its hash (a dict, or the flat list HGETALL gives inside Lua)."""
    if isinstance(raw, list):
        raw = dict(zip(raw[::2], raw[1::2], strict=False))
    return OutboxItem(
        id=int(raw["id"]),
        key=raw["key"],
        kind=raw["kind"],
        payload=json.loads(raw["payload"]),
        attempts=int(raw["attempts"]),
        next_attempt_at=float(raw["next_attempt_at"]),
        last_error=raw.get("last_error"),
        created_at=float(raw["created_at"]),
    )
