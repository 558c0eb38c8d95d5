"""`LocalFlow`: the flow host of an `[[endpoints]]` session, whose flow runs on the bridge's own
flow runtime (`bridge/flow/`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from om_bridge.bridge.flow import FlowInput

if TYPE_CHECKING:
    from om_bridge.bridge.flow import Output, SessionState
    from om_bridge.bridge.handover.engine import HandoverEngine
    from om_bridge.bridge.handover.events import BotMessage
    from om_bridge.bridge.store import Handover, InboundCompletion, SessionKey


class LocalFlow:
    """Implements the `FlowHost` port with the engine's flow runs."""

    def __init__(self, engine: HandoverEngine) -> None:
        self._engine = engine

    def handover_event(
        self, handover: Handover, event: dict[str, Any], data: dict[str, Any] | None
    ) -> None:
        self._engine.run_event_locally(handover, event, data)

    def ended(
        self, key: SessionKey, state: SessionState, event: dict[str, Any]
    ) -> tuple[list[Output], SessionState]:
        endpoint = self._engine.config.endpoints.get(key.url_token)
        if endpoint is None:  # no flow to resume; the lines still join the transcript
            return [], state
        return self._engine.run_flow(endpoint, key, state, FlowInput.event(key, event))

    def bot_message(
        self, handover: Handover, event: BotMessage, completion: InboundCompletion | None
    ) -> None:
        self._engine.agent_side.bot_message_in_flow(event, handover)

    def deliver(
        self,
        handover: Handover,
        output: dict[str, Any],
        receipt: Mapping[str, Any],
        completion: InboundCompletion | None,
    ) -> bool:
        # The output and the end of the inbound item commit together: exactly once.
        with self._engine.store.completing_inbound(completion):
            self._engine.outputs.emit(handover.session, output)
        return True
