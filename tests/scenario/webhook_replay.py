"""Replays recorded Genesys webhook payloads (tests/fixtures/webhook/<event>.json), signed.

Placeholders `{{integration_id}}`, `{{customer_id}}`, `{{conversation_id}}`, `{{message_id}}` are
filled in; the body is sent as compact JSON and signed over those exact bytes.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import requests

from om_bridge.bridge.genesys.signature import compute_signature
from om_bridge.bridge.genesys.wire import iso_time
from om_bridge.sandbox import seed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhook"
WEBHOOK_PATH = "/handover/genesysCloudOM"


def _fill(value: Any, subs: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, sub in subs.items():
            value = value.replace("{{" + name + "}}", sub)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, subs) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, subs) for v in value]
    return value


def payload(
    event: str,
    *,
    customer_id: str,
    conversation_id: str = "",
    integration_id: str = seed.DEMO_INTEGRATION_ID,
    message_id: str | None = None,
    **overrides: Any,
) -> dict:
    """The recorded payload of `event`, placeholders filled, top-level overrides applied."""
    recorded = json.loads((FIXTURES / f"{event}.json").read_text(encoding="utf-8"))
    body = _fill(
        recorded,
        {
            "integration_id": integration_id,
            "customer_id": customer_id,
            "conversation_id": conversation_id,
            "message_id": message_id or uuid.uuid4().hex,
        },
    )
    # Delivered now, as Genesys would: the bridge refuses deliveries older than its retry window.
    if isinstance(body.get("channel"), dict) and "time" in body["channel"]:
        body["channel"]["time"] = iso_time()
    body.update(overrides)
    return body


def compact(body: Any) -> bytes:
    """Genesys' wire form: compact JSON."""
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def post_raw(
    bridge_url: str,
    raw: bytes,
    *,
    secret: str | None = seed.DEMO_WEBHOOK_SECRET,
    signature: str | None = None,
) -> requests.Response:
    """POST raw bytes to the webhook, signed with `secret` (or an explicit `signature` header)."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = compute_signature(secret, raw)
    return requests.post(bridge_url + WEBHOOK_PATH, data=raw, headers=headers, timeout=10)


def replay(bridge_url: str, event: str, **kw: Any) -> tuple[requests.Response, dict]:
    """Sign and post the recorded `event`; returns the response and the body sent."""
    body = payload(event, **kw)
    return post_raw(bridge_url, compact(body)), body
