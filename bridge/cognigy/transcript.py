"""The bot conversation a Cognigy-hosted Handover node sends, as the engine's transcript entries.

Where it comes from: Cognigy's built-in **Get Transcript** node (Service nodes; Store Location
Input or Context, key `transcript` by default) placed above the Handover node; the extension's
Handover node reads `input.transcript`, else `context.transcript`, and sends it with the request
(docs/cognigy-setup.md). An extension cannot read Cognigy's transcript itself:
@cognigy/extension-tools' `INodeExecutionAPI` offers no transcript method.

Accepted entry shapes (Cognigy's transcript steps and the `{source, text}` turns other Cognigy
extensions read): `{role, type?, payload: {text, data}}` or `{source, text, data}`; roles `user`
→ User, `assistant` / `bot` → Bot, `agent` → Agent; other roles (system, tool) are left out.
"""

from __future__ import annotations

from typing import Any

# Transcript entries kept from one request (the newest), as the standalone runtime keeps.
MAX_ENTRIES = 200
SOURCES = {"user": "user", "assistant": "bot", "bot": "bot", "agent": "agent"}


def entries(value: Any) -> list[dict[str, Any]]:
    """Normalised `{source, text, data}` entries of a transcript value (anything else → [])."""
    if not isinstance(value, list):
        return []
    out: list[dict[str, Any]] = []
    for raw in value:
        if not isinstance(raw, dict):
            continue
        who = str(raw.get("source") or raw.get("role") or "").lower()
        source = SOURCES.get(who)
        if source is None:
            continue
        nested = raw.get("payload")
        payload: dict[str, Any] = nested if isinstance(nested, dict) else raw
        text = payload.get("text")
        data = payload.get("data")
        out.append(
            {
                "source": source,
                "text": text if isinstance(text, str) else None,
                "data": data if isinstance(data, dict) and data else None,
            }
        )
    return out[-MAX_ENTRIES:]
