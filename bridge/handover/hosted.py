"""The bridge side of the extension's nodes in a Cognigy-hosted flow: starting a handover for the
Cognigy session and relaying the user's inputs to the agent (docs/design.md §12).

The Handover node's request runs through the same engine as a standalone flow's Handover node
(feature gating, transcript first message with both filters, custom attributes, profile names with
Send Profile, the durable outbox, completion detection, agent details, Genesys bot messages). The
Relay node posts each input that reaches the flow while a handover is open; Cognigy may run a node
again for the same input, so inputs are deduplicated on `input.inputId`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from om_bridge.bridge.cognigy import messages, transcript
from om_bridge.bridge.errors import BridgeError
from om_bridge.bridge.flow import SessionState
from om_bridge.bridge.handover import messages as handover_messages
from om_bridge.bridge.store import SessionKey

if TYPE_CHECKING:
    from om_bridge.bridge.config import Config
    from om_bridge.bridge.handover.engine import HandoverEngine
    from om_bridge.bridge.store import Store
    from om_bridge.extension.api import HandoverRequest

log = logging.getLogger(__name__)
# How long an input id is remembered against a repeated run of the same node.
INPUT_DEDUPE_SECONDS = 24 * 3600.0


class HostedError(BridgeError, ValueError):
    """A request the bridge refuses; `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message, status=status)


def session_of(payload: dict[str, Any], config: Any) -> tuple[SessionKey, Any, dict[str, Any]]:
    """The Cognigy session (`input.URLToken/userId/sessionId`) and its configured endpoint."""
    raw = payload.get("input")
    if not isinstance(raw, dict):
        raise HostedError(messages.BAD_REQUEST.format(problem="'input' must be an object"))
    parts = []
    for name in ("URLToken", "userId", "sessionId"):
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            raise HostedError(
                messages.BAD_REQUEST.format(problem=f"input.{name} must be a non-empty string")
            )
        parts.append(value)
    key = SessionKey(*parts)
    endpoint = config.cognigy_endpoints.get(key.url_token)
    if endpoint is None:
        raise HostedError(messages.UNKNOWN_TOKEN.format(token=key.url_token), 404)
    return key, endpoint, raw


def _attachment(item: Any) -> Any:
    """A user's attachment in the engine's shape `{url, mime, filename}`, also from the names
    Cognigy's webchat uses (`mimeType`, `name`)."""
    if not isinstance(item, dict):
        return item
    out = dict(item)
    out.setdefault("mime", item.get("mimeType") or item.get("type"))
    out.setdefault("filename", item.get("name"))
    return {k: v for k, v in out.items() if v is not None}


def _input_mark(key: SessionKey, input_id: Any) -> str | None:
    if not isinstance(input_id, str) or not input_id:
        return None
    return f"cognigy-input:{key.as_str()}:{input_id}"


class CognigyHosted:
    """Handover start and input relay for the extension routes."""

    def __init__(self, engine: HandoverEngine, *, config: Config, store: Store) -> None:
        self.engine = engine
        self.config, self.store = config, store

    def start(self, request: HandoverRequest, payload: dict[str, Any]) -> dict[str, Any]:
        """Start the handover a Handover node asked for; the answer tells the node what to say
        and whether the flow continues (`started`) or stops (`refused`)."""
        key, endpoint, raw = session_of(payload, self.config)
        state = SessionState.new()
        profile = payload.get("profile")
        state.profile = dict(profile) if isinstance(profile, dict) else {}
        state.transcript = transcript.entries(payload.get("transcript"))
        store = self.store
        with store.session_lock(key):
            accepted, error = self.engine.starter.begin(endpoint, key, state, request)
            mark = _input_mark(key, raw.get("inputId"))
            if mark is not None:
                # The input that asked for the handover is in the transcript already: the Relay
                # node below the Handover node must not send it again.
                store.seen(mark, INPUT_DEDUPE_SECONDS)
        if error is None:
            handover = store.open_handover_for_session(key)
            outputs = (
                [{"text": accepted, "data": None, "destination": "userOnly"}] if accepted else []
            )
            return {
                "status": "started",
                "outputs": outputs,
                "handover": {"id": handover.id if handover else None, "status": "requested"},
            }
        log.warning(messages.LOG_START_REFUSED, key.as_str(), error.get("message"))
        return {
            "status": "refused",
            "outputs": [{"text": messages.UNAVAILABLE, "data": None, "destination": "userOnly"}],
            "handover": {"id": None, "status": "error", "error": error},
        }

    def relay(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Relay one user input to the agent of the session's open handover (once per input id);
        handover events the bridge injected are never relayed."""
        key, _endpoint, raw = session_of(payload, self.config)
        text = raw.get("text") if isinstance(raw.get("text"), str) else None
        data = raw.get("data") if isinstance(raw.get("data"), dict) else None
        if data and isinstance(data.get("attachments"), list):
            data = {**data, "attachments": [_attachment(a) for a in data["attachments"]]}
        if data and isinstance(data.get("handover"), dict):
            return {"relayed": False, "reason": "handover_event", "outputs": []}
        store = self.store
        with store.session_lock(key):
            mark = _input_mark(key, raw.get("inputId"))
            if mark is not None and store.seen(mark, INPUT_DEDUPE_SECONDS):
                return {"relayed": False, "reason": "duplicate", "outputs": []}
            handover = store.open_handover_for_session(key)
            if handover is None:
                said = text or "(attachment)"
                note = handover_messages.UNDELIVERED_ENDED.format(text=said)
                return {
                    "relayed": False,
                    "reason": "no_handover",
                    "outputs": [{"text": note, "data": None, "destination": "userOnly"}],
                }
            if not text and not (data and data.get("attachments")):
                return {"relayed": False, "reason": "empty", "outputs": []}
            self.engine.relay_user_input(handover, text, data)
            # As for a standalone session: the line joins the handover's transcript (its
            # outcome), and "Repeat Handover Accepted Message" answers before an agent joined.
            state = self.engine.load_state(key)
            self.engine._add_line(state, handover, "user", text, data)
            store.save_session(key, state.to_dict())
            repeated = [
                {"text": o.text, "data": o.data, "destination": o.destination}
                for o in self.engine._repeat_accepted(handover)
            ]
        return {"relayed": True, "outputs": repeated}
