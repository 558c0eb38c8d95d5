"""Open Messaging outbound webhook bodies as Genesys sends them (compact JSON, signed over the
exact bytes; docs/reference/genesys-open-messaging.md §5-§6), written to a load generator's file."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from om_bridge.bridge.genesys.signature import compute_signature
from om_bridge.sandbox import seed


def agent_text(
    customer_id: str,
    conversation_id: str,
    text: str,
    integration_id: str = seed.DEMO_INTEGRATION_ID,
) -> dict:
    """An agent's (`originatingEntity: Human`) Text message to one customer."""
    mid = uuid.uuid4().hex
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": mid,
        "channel": {
            "id": integration_id,
            "platform": "Open",
            "type": "Private",
            "messageId": mid,
            "to": {"id": customer_id, "idType": "Opaque"},
            "from": {
                "nickname": seed.DEMO_INTEGRATION_NAME,
                "id": integration_id,
                "idType": "Opaque",
            },
            "time": now,
        },
        "conversationId": conversation_id,
        "direction": "Outbound",
        "originatingEntity": "Human",
        "type": "Text",
        "text": text,
        "content": [],
        "reasons": [],
        "relatedMessages": [],
    }


def compact(body: dict) -> bytes:
    """Genesys's wire form: compact JSON."""
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def signed(body: dict, secret: str = seed.DEMO_WEBHOOK_SECRET) -> tuple[bytes, str]:
    """The raw bytes and their `X-Hub-Signature-256` value."""
    raw = compact(body)
    return raw, compute_signature(secret, raw)


def write_requests(
    path: Path,
    bodies: Iterable[dict | tuple[bytes, str]],
    secret: str = seed.DEMO_WEBHOOK_SECRET,
) -> int:
    """Write bodies as the load generator's JSON lines, signing dicts (a (raw bytes, signature)
    pair is written as it is); how many."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for body in bodies:
            raw, signature = body if isinstance(body, tuple) else signed(body, secret)
            f.write(json.dumps({"body": raw.decode("utf-8"), "signature": signature}) + "\n")
            n += 1
    return n


def relay_bodies(targets: list[tuple[str, str]], count: int) -> list[dict]:
    """`count` agent texts spread round-robin over (customer id, conversation id) targets; each
    text carries its index so an output can be matched to its request."""
    return [
        agent_text(targets[i % len(targets)][0], targets[i % len(targets)][1], f"bench {i}")
        for i in range(count)
    ]
