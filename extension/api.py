"""What a node function receives: the `cognigy`-like API object and the node's parameters.

Node functions only see this surface (mirroring extension-tools' `INodeFunctionBaseParams`), so they
run unchanged in the bridge's flow runtime and behind the extension's HTTP call, and never touch
Flask or a store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

DESTINATIONS: Final = ("userOnly", "agentOnly", "userAndAgent")
# The Say node's "Handover Output Destination" default is "User and Agent" (docs/reference/cognigy-model.md §2.4).
DEFAULT_DESTINATION: Final = "userAndAgent"
# Handover node "Flow Continuation": "Below this Node" / "At current AgentInject Entrypoint"
# (RAC `resolveBehavior`, docs/reference/cognigy-model.md §2.1).
FLOW_CONTINUATIONS: Final = ("resetEntrypoint", "continueEntrypoint")


@dataclass
class Output:
    """One bot output and where it goes while a handover is active."""

    text: str | None
    data: dict | None
    destination: str = DEFAULT_DESTINATION
    # Say "Exclude from Transcript" (`preventTranscript`): not written to the session transcript.
    prevent_transcript: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "data": self.data,
            "destination": self.destination,
        }
        if self.prevent_transcript:
            out["preventTranscript"] = True
        return out


@dataclass
class HandoverRequest:
    """What a Handover to Human Agent node asks the handover engine to do."""

    node_id: str
    provider: str | None
    accepted_message: str | None
    language: str | None
    skills: list[str]
    priority: int | None
    custom_attributes: dict[str, str]
    enable_user_connects_message: bool
    enable_user_disconnects_message: bool
    display_agent_details: bool
    flow_continuation: str  # one of FLOW_CONTINUATIONS
    repeat_handover_message: bool = False  # "Repeat Handover Accepted Message"
    send_on_queue_event: bool = False  # "Send Queue Event": the flow runs on status "queue"
    send_on_active_event: bool = False  # "Send Active Event": the flow runs on status "active"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HandoverRequest:
        """The inverse of `to_dict`; keys added later fall back to their defaults (a request stored
        by an earlier version lacks them)."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class ChildConfig:
    """A child node as the parent's function sees it (`childConfigs[]`: id, type, config)."""

    id: str
    type: str
    config: dict[str, Any]


class NodeApi(Protocol):
    """The actions a node function may take (a subset of Cognigy's `api`, in Python naming)."""

    def say(
        self,
        text: str | None,
        data: dict | None = None,
        *,
        destination: str = DEFAULT_DESTINATION,
        prevent_transcript: bool = False,
    ) -> None: ...
    def set_next_node(self, node_id: str) -> None: ...
    def wait_for_input(self, node_id: str) -> None: ...
    def stop_execution(self) -> None: ...
    def add_to_context(self, key: str, value: Any, mode: str = "simple") -> None: ...
    def update_profile(self, key: str, value: Any) -> None: ...
    def handover(self, request: HandoverRequest) -> None: ...
    def set_input(self, text: str | None, data: dict | None) -> None: ...
    def add_to_input(self, key: str, value: Any) -> None: ...
    def transcript(self) -> list[dict[str, Any]]: ...
    def execution_amount(self, node_id: str) -> int: ...
    def parse_cognigy_script_text(self, text: str) -> str: ...
    def parse_cognigy_script_condition(self, condition: str) -> bool: ...
    def parse_cognigy_script_value(self, expression: str) -> Any: ...


@dataclass
class Cognigy:
    """The `cognigy` object: `api` plus the session's `input`, `context` and `profile`."""

    api: NodeApi
    input: dict[str, Any]
    context: dict[str, Any]
    profile: dict[str, Any]


@dataclass
class NodeParams:
    """Everything a node function gets: `cognigy`, its evaluated `config`, `child_configs`,
    `node_id`."""

    cognigy: Cognigy
    config: dict[str, Any]
    node_id: str
    child_configs: list[ChildConfig] = field(default_factory=list)


NodeFunction = Callable[[NodeParams], None]


class NodeError(Exception):
    """A node cannot do its job with the config it was given; the runtime reports it with the node's
    id."""
