"""Starting a handover: feature gating, the handover record, the first message (transcript)."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from om_bridge.bridge.genesys.wire import Customer, message_body
from om_bridge.bridge.handover import first_message, messages, replies
from om_bridge.bridge.store import Handover, SessionKey, new_customer_id
from om_bridge.bridge.store.errors import StoreConflict

if TYPE_CHECKING:
    from om_bridge.bridge.config import Config
    from om_bridge.bridge.flags import Flags
    from om_bridge.bridge.flow import HandoverRequest, SessionState
    from om_bridge.bridge.handover.engine import HandoverEngine
    from om_bridge.bridge.handover.ports import Outputs
    from om_bridge.bridge.store import Store

log = logging.getLogger(__name__)
PROVIDER_TYPE = "genesysCloudOM"


class Starter:
    """Turns a Handover node's request into an open handover and its first Genesys message."""

    def __init__(
        self,
        engine: HandoverEngine,
        *,
        config: Config,
        flags: Flags,
        store: Store,
        outputs: Outputs,
    ) -> None:
        self.engine = engine
        self.config, self.flags, self.store, self.outputs = config, flags, store, outputs

    def refusal(self, endpoint: Any, provider_id: str | None) -> str | None:
        """Why this endpoint may not hand over to this provider (naming the switch), or None."""
        if not provider_id:
            return messages.NO_PROVIDER.format(url_token=endpoint.url_token)
        provider = self.config.providers.get(provider_id)
        if provider is None:
            return messages.UNKNOWN_PROVIDER.format(provider=provider_id)
        kind = getattr(provider, "type", PROVIDER_TYPE)
        if kind != PROVIDER_TYPE:
            return messages.UNSUPPORTED_PROVIDER_TYPE.format(provider=provider_id, type=kind)
        environment = getattr(self.config.bridge, "environment", "production")
        return self.flags.refusal(endpoint.organisation, environment)

    def begin(
        self, endpoint: Any, key: SessionKey, state: SessionState, request: HandoverRequest
    ) -> tuple[str | None, dict[str, Any] | None]:
        """Open the handover and queue its first message; returns (accepted message, None), or
        (None, input.handover.error) when it may not start. Call with the session lock held."""
        provider_id = request.provider or getattr(endpoint, "handover_provider", None) or None
        refused = self.refusal(endpoint, provider_id)
        if refused:
            log.info(messages.LOG_HANDOVER_REFUSED, key.as_str(), refused)
            self.engine.handovers.labels("refused").inc()
            return None, {"reason": "unsupported", "message": refused}
        assert provider_id is not None  # refusal() answers NO_PROVIDER without one
        provider = self.config.provider(provider_id)
        first_name = last_name = nickname = None
        if getattr(provider, "send_profile", False):
            first_name, last_name = first_message.profile_names(state.profile)
            nickname = first_message.profile_nickname(state.profile)
        settings = {
            "request": request.to_dict(),
            "queue_id": provider.queue_id,
            "display_agent_details": bool(request.display_agent_details),
        }
        # The Genesys customer id (`channel.from.id`) is this handover's own: only this session
        # sends with it and only this handover receives what Genesys addresses to it (the user
        # id travels in the custom attributes). docs/design.md §6.
        handover = Handover.new(key, provider_id, customer_id=new_customer_id(), settings=settings)
        try:
            handover = self.store.create_handover(handover)
        except StoreConflict:
            return None, {"reason": "error", "message": messages.HANDOVER_ALREADY_OPEN}
        body = self._first_body(
            endpoint,
            key,
            state,
            request,
            provider,
            handover.customer_id,
            first_name,
            last_name,
            nickname,
        )
        self.engine.put(handover, "message", body, first=True, prefetch=True)
        log.info(messages.LOG_HANDOVER_STARTED, handover.id, key.as_str(), provider_id)
        self.engine.handovers.labels("requested").inc()
        self.outputs.emit(key, replies.status_output("requested", handover.id))
        return request.accepted_message, None

    def _first_body(
        self,
        endpoint: Any,
        key: SessionKey,
        state: SessionState,
        request: HandoverRequest,
        provider: Any,
        customer_id: str,
        first_name: str | None,
        last_name: str | None,
        nickname: str | None = None,
    ) -> dict[str, Any]:
        flags = self.flags
        text = first_message.format_transcript(
            state.transcript,
            filter_empty=bool(getattr(flags, "filter_empty_messages", False)),
            filter_unsupported=bool(getattr(flags, "filter_unsupported_messages", False)),
        )
        attrs = first_message.custom_attributes(
            queue_id=provider.queue_id,
            language=request.language,
            skills=list(request.skills),
            priority=request.priority,
            user_id=key.user_id,
            session_id=key.session_id,
            url_token=key.url_token,
            copilot_base_url=getattr(endpoint, "copilot_base_url", "") or None,
            node_attributes=request.custom_attributes or {},
            first_name=first_name,
            last_name=last_name,
        )
        # Genesys shows these on the customer participant (channel.from, Send Profile on).
        customer = Customer(
            customer_id, first_name=first_name, last_name=last_name, nickname=nickname
        )
        return message_body(
            customer,
            str(uuid.uuid4()),
            text=text,
            content=None,
            time=None,
            custom_attributes=attrs,
            metadata=None,
        )
