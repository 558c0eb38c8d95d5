"""The outcome of an ended handover, as the flow reads it in `input.handover` when it resumes.

`{status, reason, conversationId, agent: {name, id, avatar}, agents: [...], startedAt, endedAt,
durationSeconds, wrapup: {code, name, notes} | None, transcript: [{source, text, time}]}`; an
`error` end adds Cognigy's `error: {reason, message}`. Built by one function so the bridge-hosted
flow and the Cognigy-hosted path (the `completed` input injected into Cognigy) carry the same
object (docs/flows.md "The handover outcome").

The agents and the wrap-up come from the Genesys conversation's participant data (`GET
/api/v2/conversations/messages/{id}`: agent legs with their user, connect time and `wrapup`); the
agent named is the one who joined last (after a transfer, the one who ended it). The transcript is
what the user and the agents wrote during the handover, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from om_bridge.bridge.handover.agents import avatar_of
from om_bridge.bridge.store import Handover

# Lines of one handover kept for its outcome and the session transcript (the newest).
LINES_KEPT = 200


def iso(epoch: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds and `Z` (Genesys' format), None for None."""
    if epoch is None:
        return None
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def agent_legs(conversation: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The agent participants that connected, in the order they joined: `{id (user id), name,
    wrapup}` each (`name` as the conversation shows it, if at all)."""
    legs: list[dict[str, Any]] = []
    for p in (conversation or {}).get("participants") or []:
        if not isinstance(p, dict) or p.get("purpose") != "agent" or not p.get("connectedTime"):
            continue
        raw_user = p.get("user")
        user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
        user_id = user.get("id") or p.get("userId")
        if not user_id:
            continue
        legs.append(
            {
                "id": str(user_id),
                "name": user.get("name") or p.get("name"),
                "connected": str(p.get("connectedTime")),
                "wrapup": p.get("wrapup") if isinstance(p.get("wrapup"), dict) else None,
                "wrapup_time": str(p.get("endAcwTime") or ""),
            }
        )
    legs.sort(key=lambda leg: str(leg["connected"]))
    return legs


def _wrapup(legs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The wrap-up of the agent who ended the handover, else the latest one of any agent."""
    if not legs:
        return None
    chosen = legs[-1]["wrapup"]
    if chosen is None:
        done = [leg for leg in legs if leg["wrapup"]]
        if not done:
            return None
        chosen = max(done, key=lambda leg: str(leg["wrapup_time"]))["wrapup"]
    return {
        "code": chosen.get("code"),
        "name": chosen.get("name") or chosen.get("code"),
        "notes": chosen.get("notes"),
    }


def build_outcome(
    handover: Handover,
    lines: Iterable[Mapping[str, Any]],
    conversation: Mapping[str, Any] | None,
    user_of: Callable[[str], Mapping[str, Any] | None],
) -> dict[str, Any]:
    """The `input.handover` object of an ended handover.

    `lines` are the handover's transcript lines (`{source, text, time}`), `conversation` the
    Genesys conversation (None when unknown), `user_of(user_id)` the Genesys user (None when it
    cannot be read)."""
    legs = agent_legs(conversation)
    agents: list[dict[str, Any]] = []
    seen: set[str] = set()
    for leg in legs:
        if leg["id"] in seen:
            continue
        seen.add(leg["id"])
        user = user_of(leg["id"]) or {}
        agents.append(
            {
                "name": user.get("name") or user.get("preferredName") or leg["name"],
                "id": leg["id"],
                "avatar": avatar_of(dict(user)),
            }
        )
    last: dict[str, Any] | None = None
    if legs:
        last = next(a for a in agents if a["id"] == legs[-1]["id"])
    elif (handover.agent or {}).get("name"):  # no conversation data: the agent last seen
        known = handover.agent or {}
        last = {"name": known.get("name"), "id": known.get("id"), "avatar": known.get("avatar")}
        agents = [last]
    ended = handover.ended_at
    out: dict[str, Any] = {
        "status": handover.status,
        "reason": handover.end_reason,
        "conversationId": handover.conversation_id,
        "agent": last,
        "agents": agents,
        "startedAt": iso(handover.created_at),
        "endedAt": iso(ended),
        "durationSeconds": (
            max(0, round(ended - handover.created_at)) if ended is not None else None
        ),
        "wrapup": _wrapup(legs),
        "transcript": [
            {"source": line.get("source"), "text": line.get("text"), "time": line.get("time")}
            for line in lines
        ],
    }
    if handover.status == "error":
        out["error"] = {"reason": "error", "message": handover.end_reason or ""}
    return out
