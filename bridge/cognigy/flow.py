"""`CognigyFlow`: the flow host of a `[[cognigy_endpoints]]` session, whose flow runs in Cognigy.

Handover events and Genesys bot messages go into the flow through Inject; agent outputs reach
the user through Notify (the output hub's forward), and their Delivered receipt is sent once
Cognigy took the Notify (`CognigyReturn.send`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from om_bridge.bridge.cognigy.delivery import CognigyReturn
    from om_bridge.bridge.flow import Output, SessionState
    from om_bridge.bridge.store import Handover, InboundCompletion, SessionKey, Store


class _Outputs(Protocol):
    def emit(
        self,
        session_key: SessionKey,
        output: dict[str, Any],
        *,
        receipt: Mapping[str, Any] | None = None,
    ) -> int: ...


class _Text(Protocol):
    @property
    def text(self) -> str | None: ...


class CognigyFlow:
    """Implements the core's `FlowHost` port for sessions whose flow runs in Cognigy."""

    def __init__(self, cognigy: CognigyReturn, store: Store, outputs: _Outputs) -> None:
        self._cognigy, self._store, self._outputs = cognigy, store, outputs

    def handover_event(
        self, handover: Handover, event: dict[str, Any], data: dict[str, Any] | None
    ) -> None:
        self._cognigy.inject(handover.session, None, {**(data or {}), "handover": dict(event)})

    def ended(
        self, key: SessionKey, state: SessionState, event: dict[str, Any]
    ) -> tuple[list[Output], SessionState]:
        # The same resuming input a standalone flow gets, through Inject.
        self._cognigy.inject_status(key, event)
        return [], state

    def bot_message(
        self, handover: Handover, event: _Text, completion: InboundCompletion | None
    ) -> None:
        # The seed's recipe in Cognigy: Lookup → Case genericHandoverUpdate → Say; queued in the
        # transaction that retires the webhook (exactly once).
        with self._store.completing_inbound(completion):
            self._cognigy.inject_bot_message(handover.session, event.text)

    def deliver(
        self,
        handover: Handover,
        output: dict[str, Any],
        receipt: Mapping[str, Any],
        completion: InboundCompletion | None,
    ) -> bool:
        # The receipt waits for Cognigy to take the Notify.
        with self._store.completing_inbound(completion):
            self._outputs.emit(handover.session, output, receipt=receipt)
        return False
