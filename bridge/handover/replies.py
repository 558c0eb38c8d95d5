"""Shapes the engine emits: Cognigy REST replies, user and system outputs, inbound content."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from om_bridge.bridge.flow import Output

USER_DESTINATIONS = frozenset({"userOnly", "userAndAgent"})
AGENT_DESTINATIONS = frozenset({"agentOnly", "userAndAgent"})
# Open Messaging attachment media types by MIME family (OpenContentAttachment.mediaType).
MEDIA_TYPES = {"image": "Image", "video": "Video", "audio": "Audio"}


def rest_reply(user_id: str, session_id: str, outputs: Iterable[Output]) -> dict[str, Any]:
    """Cognigy REST-endpoint reply: consecutive outputs concatenated, each kept in `outputStack`."""
    stack: list[dict[str, Any]] = [
        {
            "text": o.text,
            "data": o.data,
            "traceId": uuid.uuid4().hex,
            "disableSensitiveLogging": False,
            "source": "bot",
        }
        for o in outputs
    ]
    return reply_from_stack(user_id, session_id, stack)


def reply_from_stack(user_id: str, session_id: str, stack: list[dict[str, Any]]) -> dict[str, Any]:
    """The REST reply around an `outputStack`: its texts joined, its data objects merged."""
    texts = [o["text"] for o in stack if o["text"]]
    data: dict[str, Any] = {}
    for o in stack:
        if isinstance(o["data"], dict):
            data.update(o["data"])
    return {
        "text": "\n".join(texts) if texts else None,
        "data": data or None,
        "outputStack": stack,
        "userId": user_id,
        "sessionId": session_id,
    }


def for_user(outputs: Iterable[Output]) -> list[Output]:
    """Outputs the user sees (Say "Handover Output Destination" User only / User and Agent)."""
    return [o for o in outputs if o.destination != "agentOnly"]


def for_agent(outputs: Iterable[Output]) -> list[Output]:
    """Outputs that go to the agent while a handover is active (Agent only / User and Agent)."""
    return [o for o in outputs if o.destination in AGENT_DESTINATIONS and o.text]


def bot_output(output: Output) -> dict[str, Any]:
    """An asynchronous bot output for the OutputHub."""
    return {"source": "bot", "text": output.text, "data": output.data}


def status_output(status: str, handover_id: str, **extra: Any) -> dict[str, Any]:
    """A `source: "system"` output announcing a handover status change."""
    handover = {"status": status, "id": handover_id}
    handover.update({k: v for k, v in extra.items() if v is not None})
    return {"source": "system", "text": None, "data": {"handover": handover}}


def attachments(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Inbound `content` from a user's `data.attachments` ([{url, mime, filename?, text?}])."""
    items = (data or {}).get("attachments")
    if not isinstance(items, list):
        return []
    content = []
    for item in items:
        if not isinstance(item, dict) or not item.get("url") or not item.get("mime"):
            continue
        mime = str(item["mime"])
        attachment = {
            "mediaType": item.get("mediaType") or MEDIA_TYPES.get(mime.split("/", 1)[0], "File"),
            "url": str(item["url"]),
            "mime": mime,
        }
        for key in ("filename", "text", "id"):
            if item.get(key):
                attachment[key] = str(item[key])
        content.append({"attachment": attachment})
    return content
