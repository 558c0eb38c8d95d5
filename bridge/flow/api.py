"""`RuntimeApi`: the `cognigy.api` object node functions call; it records their effects for the
runtime (outputs, jumps, waits, context changes, a handover) and evaluates CognigyScript for
them."""

from __future__ import annotations

from typing import Any

from om_bridge.extension import script
from om_bridge.extension.api import DESTINATIONS, HandoverRequest, NodeError, Output


class RuntimeApi:
    """Records what one node did; the runtime reads the effects after the node function returns."""

    def __init__(
        self,
        scope: dict[str, Any],
        node_counts: dict[str, int],
        transcript: list[dict[str, Any]] | None = None,
    ) -> None:
        self.scope = scope  # {"input": ..., "context": ..., "profile": ...}, shared across the run
        self.node_counts = node_counts
        self._transcript = transcript if transcript is not None else []
        self.outputs: list[Output] = []
        self.next_node: str | None = None
        self.wait_node: str | None = None
        self.stopped = False
        self.handover_request: HandoverRequest | None = None

    def say(
        self,
        text: str | None,
        data: dict | None = None,
        *,
        destination: str = "userAndAgent",
        prevent_transcript: bool = False,
    ) -> None:
        if destination not in DESTINATIONS:
            raise NodeError(f"Handover Output Destination must be one of {list(DESTINATIONS)}")
        self.outputs.append(
            Output(
                text=text,
                data=data,
                destination=destination,
                prevent_transcript=prevent_transcript,
            )
        )

    def set_next_node(self, node_id: str) -> None:
        self.next_node = node_id

    def wait_for_input(self, node_id: str) -> None:
        self.wait_node = node_id

    def stop_execution(self) -> None:
        self.stopped = True

    def add_to_context(self, key: str, value: Any, mode: str = "simple") -> None:
        parts = [p for p in key.split(".") if p]
        if not parts:  # e.g. "." or a key rendered from user text that holds only dots
            raise NodeError(f"Context key {key!r} names no property")
        *parents, last = parts
        target = self.scope["context"]
        for part in parents:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        if mode == "array":
            current = target.get(last)
            target[last] = (
                [*current] if isinstance(current, list) else [] if current is None else [current]
            ) + [value]
        else:
            target[last] = value

    def update_profile(self, key: str, value: Any) -> None:
        """Cognigy's `api.updateProfile(key, value)`: one key of the contact profile."""
        self.scope["profile"][key] = value

    def handover(self, request: HandoverRequest) -> None:
        self.handover_request = request

    def set_input(self, text: str | None, data: dict | None) -> None:
        self.scope["input"]["text"] = text
        self.scope["input"]["data"] = data if data is not None else {}

    def add_to_input(self, key: str, value: Any) -> None:
        self.scope["input"][key] = value

    def transcript(self) -> list[dict[str, Any]]:
        """The session's transcript so far (user inputs and bot outputs, oldest first)."""
        return [dict(e) for e in self._transcript]

    def execution_amount(self, node_id: str) -> int:
        return self.node_counts.get(node_id, 0)

    def parse_cognigy_script_text(self, text: str) -> str:
        return script.render(text, self.scope)

    def parse_cognigy_script_condition(self, condition: str) -> bool:
        return script.condition(condition, self.scope)

    def parse_cognigy_script_value(self, expression: str) -> Any:
        return script.evaluate(expression, self.scope)
