"""The values the flow runtime exchanges with its caller: input, session state, result, error."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Protocol

from om_bridge.extension.api import HandoverRequest, Output

from . import messages

# Transcript entries kept per session (the newest). The transcript is saved with the session on
# every input and becomes the first message of a handover, so it must not grow without bound:
# an old session would otherwise cost more per message and could exceed Genesys' request size.
TRANSCRIPT_KEPT = 200


class SessionAddress(Protocol):
    """What names a session: the store's `SessionKey` has these."""

    @property
    def url_token(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def session_id(self) -> str: ...


@dataclass
class FlowInput:
    """One input for the flow: a user message, or a handover event (`handover={"status": ...}`)."""

    text: str | None
    data: dict | None
    user_id: str
    session_id: str
    url_token: str
    handover: dict | None = None  # becomes input.handover
    channel: str = "rest"

    @classmethod
    def event(cls, key: SessionAddress, handover: dict, data: dict | None = None) -> FlowInput:
        """A handover event for the session `key` (no user text): `input.handover` = `handover`."""
        return cls(
            text=None,
            data=data,
            user_id=key.user_id,
            session_id=key.session_id,
            url_token=key.url_token,
            handover=handover,
        )

    def to_input(self) -> dict[str, Any]:
        """The CognigyScript `input` object (Cognigy's names: userId, sessionId, URLToken, ...)."""
        text, data = self.text, self.data
        mode = (
            "TextData" if text and data else "TextOnly" if text else "DataOnly" if data else "Empty"
        )
        out: dict[str, Any] = {
            "text": text,
            "data": copy.deepcopy(data) if data is not None else {},
            "userId": self.user_id,
            "sessionId": self.session_id,
            "URLToken": self.url_token,
            "channel": self.channel,
            "mode": mode,
        }
        if self.handover is not None:
            out["handover"] = copy.deepcopy(self.handover)
        return out


@dataclass
class SessionState:
    """What the runtime remembers per session between inputs."""

    entrypoint: str | None
    wait_node: str | None
    context: dict
    profile: dict
    transcript: list[dict]
    node_counts: dict[str, int] = field(default_factory=dict)  # executions per node (Say "linear")
    # What the user and the agent wrote during the open handover ({handover, source, text, data,
    # time}); moved into `transcript` when the handover ends (docs/flows.md).
    handover_lines: list[dict] = field(default_factory=list)

    @classmethod
    def new(cls) -> SessionState:
        return cls(entrypoint=None, wait_node=None, context={}, profile={}, transcript=[])

    def record(self, entry: dict) -> None:
        """Append a transcript entry, dropping the oldest beyond `TRANSCRIPT_KEPT`."""
        self.transcript.append(entry)
        if len(self.transcript) > TRANSCRIPT_KEPT:
            del self.transcript[: len(self.transcript) - TRANSCRIPT_KEPT]

    def to_dict(self) -> dict[str, Any]:
        return {
            "entrypoint": self.entrypoint,
            "wait_node": self.wait_node,
            "context": copy.deepcopy(self.context),
            "profile": copy.deepcopy(self.profile),
            "transcript": copy.deepcopy(self.transcript),
            "node_counts": dict(self.node_counts),
            "handover_lines": copy.deepcopy(self.handover_lines),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SessionState:
        return cls(
            entrypoint=d.get("entrypoint"),
            wait_node=d.get("wait_node"),
            context=copy.deepcopy(d.get("context") or {}),
            profile=copy.deepcopy(d.get("profile") or {}),
            transcript=copy.deepcopy(d.get("transcript") or []),
            node_counts=dict(d.get("node_counts") or {}),
            handover_lines=copy.deepcopy(d.get("handover_lines") or []),
        )


class FlowError(Exception):
    """A node failed (bad expression, bad config, step bound); names the node's id and label."""

    def __init__(self, node_id: str, node_label: str, message: str) -> None:
        super().__init__(messages.node_failed(node_id, node_label, message))
        self.node_id, self.node_label, self.message = node_id, node_label, message


@dataclass
class FlowResult:
    """The outcome of one run: outputs in order, an optional handover request, the new state."""

    outputs: list[Output]
    handover: HandoverRequest | None
    state: SessionState
    error: FlowError | None = None


__all__ = ["FlowError", "FlowInput", "FlowResult", "HandoverRequest", "Output", "SessionState"]
