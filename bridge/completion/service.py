"""`CompletionService`: the app-lifetime object that owns the dispatcher, the pending-end
sweeper and the notifications listeners, and that the edges (EventBridge route, data-action
handler, listener) hand their events to."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from . import dataaction, eventbridge
from .dispatcher import CompletionDispatcher, Decision
from .events import CompletionEvent
from .listener import ListenerSettings, NotificationsListener, TopicBudgetExceeded
from .sweeper import PendingEndSweeper
from .wiring import WiringCheck, wiring_status

if TYPE_CHECKING:
    from flask import Response

    from om_bridge.bridge.config import Config
    from om_bridge.bridge.flags import Flags
    from om_bridge.bridge.genesys.clients import ClientRegistry
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import Store

log = logging.getLogger(__name__)


class HandoverControl(Protocol):
    """What completion detection does to handovers (the handover engine implements it)."""

    def end_handover(self, handover_id: str, status: str, reason: str) -> bool: ...

    def agent_changed(self, handover_id: str) -> None: ...

    def agent_started_early(self, conversation_id: str) -> None: ...

    def handover_transferred(self, handover_id: str) -> None: ...


@dataclass(frozen=True)
class CompletionSettings:
    """The flags completion reads (docs/reference/cognigy-model.md §5.1), resolved once."""

    http_end_enabled: bool
    eventbridge_key: str
    grace_seconds: float
    check_org: bool

    @classmethod
    def from_flags(cls, flags: Any) -> CompletionSettings:
        return cls(
            http_end_enabled=bool(flags.use_http_end_handover_request),
            eventbridge_key=dataaction.reveal(flags.eventbridge_api_key),
            grace_seconds=flags.acw_after_transfer_timeout_ms / 1000.0,
            check_org=not flags.skip_eventbridge_organization_id_check,
        )


class CompletionService:
    """Completion detection for every provider of the bridge (docs/design.md §7)."""

    def __init__(
        self,
        *,
        config: Config,
        flags: Flags,
        store: Store,
        clients: ClientRegistry,
        metrics: Metrics,
        clock: Callable[[], float],
        handovers: HandoverControl,
        listener_settings: ListenerSettings | None = None,
        sweeper_rescan_seconds: float = 30.0,
    ) -> None:
        self.config, self.flags, self.store, self.clients = config, flags, store, clients
        self.clock, self.handovers = clock, handovers
        self.settings = CompletionSettings.from_flags(flags)
        reconcile = config.bridge.reconcile_seconds
        self.listener_settings = listener_settings or (
            ListenerSettings(reconcile_interval=float(reconcile))
            if reconcile
            else ListenerSettings()
        )
        self.dispatcher = CompletionDispatcher(
            store,
            self._end,
            grace_seconds=self.settings.grace_seconds,
            org_of=self._org_of,
            check_org=self.settings.check_org,
            find_by_customer=self._find_by_customer,
            clock=clock,
            on_pending=self._on_pending,
            on_agent_change=self._on_agent_change,
            on_transfer=self._on_transfer,
        )
        self.sweeper = PendingEndSweeper(
            store,
            self.dispatcher,
            self._fetch,
            clock=clock,
            rescan_seconds=sweeper_rescan_seconds,
        )
        self.listeners: dict[str, NotificationsListener] = {}  # by OAuth client key
        self.only_providers: set[str] | None = None  # `om-bridge listener --provider`
        self._decisions = metrics.counter(
            "om_bridge_completion_events_total",
            "Completion events by source and decision",
            ["source", "decision"],
        )
        self.sweeper.on_decision = lambda d: self._decisions.labels("sweeper", d.action).inc()

    # --- edges -------------------------------------------------------------------------------
    def providers(self) -> Mapping[str, Any]:
        """The configured providers by id."""
        return self.config.providers

    def dispatch(
        self,
        event: CompletionEvent,
        providers: Iterable[str] | None = None,
        *,
        check_only: bool = False,
    ) -> Decision:
        """Hand one event to the dispatcher (every edge calls this); `check_only` for a request
        whose sender is not authenticated (ends only after Genesys confirms)."""
        decision = self.dispatcher.dispatch(event, providers, check_only=check_only)
        self._decisions.labels(event.source, decision.action).inc()
        return decision

    def handle_eventbridge(
        self, authorization: str | None, raw: bytes
    ) -> Response | tuple[Response, int]:
        """The EventBridge route's answer (a Flask response, with its status or without)."""
        return eventbridge.handle(self, authorization, raw)

    def handle_data_action(
        self, headers: dataaction.HeaderLookup, raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        """A data-action end request on /handover/genesysCloudOM: (status, JSON body)."""
        return dataaction.handle(self, headers, raw)

    # --- engine hooks ------------------------------------------------------------------------
    def track(self, handover: Any) -> None:
        """The conversation id of `handover` is known: the listener starts watching it."""
        listener = self._listener_for(handover.provider_id)
        if listener is None or not handover.conversation_id:
            return
        try:
            listener.track(handover.conversation_id)
        except TopicBudgetExceeded as exc:
            # The handover itself goes on; only its end cannot be seen on this OAuth client.
            log.error("%s", exc)

    def conversation_changed(self, handover: Any, old_conversation_id: str | None) -> None:
        """The handover follows another conversation now: watch it instead of the old one and
        check it through REST at once (EventBridge and data-action events are matched by the
        conversation id in the store, which already names the new one)."""
        listener = self._listener_for(handover.provider_id)
        if listener is None:
            return
        if old_conversation_id:
            listener.untrack(old_conversation_id)
        self.track(handover)
        if handover.conversation_id:
            listener.check_now([handover.conversation_id])

    def untrack(self, handover: Any) -> None:
        """The handover ended: stop watching its conversation."""
        listener = self._listener_for(handover.provider_id)
        if listener is not None and handover.conversation_id:
            listener.untrack(handover.conversation_id)

    def wiring_status(self, provider_id: str) -> list[WiringCheck]:
        """Whether the provider's completion mode is wired, with the fix when not."""
        provider = self.config.provider(provider_id)
        client = (
            self.clients.for_provider(provider_id)
            if provider.completion_mode == "notifications"
            else None
        )
        return wiring_status(self.config, self.flags, provider_id, client)

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, *, sweeper: bool = True, listeners: bool = True) -> None:
        """Start the pending-end sweeper and one notifications listener per OAuth client."""
        if sweeper:
            self.sweeper.start()
        if listeners:
            for key, (provider_ids, queue_ids) in self._listener_groups().items():
                if key in self.listeners:
                    continue
                first = self.config.provider(provider_ids[0])
                listener = NotificationsListener(
                    self.clients.for_provider(provider_ids[0]),
                    self.store,
                    self.dispatch,
                    client_id=first.client_id,
                    provider_ids=provider_ids,
                    queue_ids=queue_ids,
                    settings=self.listener_settings,
                )
                self.listeners[key] = listener
                listener.start()

    def stop(self) -> None:
        """Stop listeners and the sweeper; pending ends stay in the store."""
        for listener in list(self.listeners.values()):
            listener.stop()
        self.listeners.clear()
        self.sweeper.stop()

    # --- internals ---------------------------------------------------------------------------
    def _listener_groups(self) -> dict[str, tuple[list[str], list[str]]]:
        groups: dict[str, tuple[list[str], list[str]]] = {}
        for pid, provider in self.config.providers.items():
            if provider.completion_mode != "notifications":
                continue
            if self.only_providers is not None and pid not in self.only_providers:
                continue
            key = self._client_key(provider)
            ids, queues = groups.setdefault(key, ([], []))
            ids.append(pid)
            if provider.queue_id and provider.queue_id not in queues:
                queues.append(provider.queue_id)
        return groups

    @staticmethod
    def _client_key(provider: Any) -> str:
        # Genesys's limits are per OAuth client (per org): one listener per client id and host.
        return f"{provider.base_url or provider.host}|{provider.client_id}"

    def _listener_for(self, provider_id: str) -> NotificationsListener | None:
        provider = self.config.providers.get(provider_id)
        if provider is None or provider.completion_mode != "notifications":
            return None
        return self.listeners.get(self._client_key(provider))

    def _end(self, handover_id: str, status: str, reason: str) -> bool:
        return self.handovers.end_handover(handover_id, status, reason)

    def _org_of(self, provider_id: str) -> str | None:
        provider = self.config.providers.get(provider_id)
        return provider.organization_id if provider is not None else None

    def _on_agent_change(self, ident: str, early: bool = False) -> None:
        # `ident` is a handover id, or (early) the conversation id of an agent leg no handover
        # knows yet.
        if early:
            self.handovers.agent_started_early(ident)
        else:
            self.handovers.agent_changed(ident)

    def _on_transfer(self, handover_id: str) -> None:
        self.handovers.handover_transferred(handover_id)

    def _on_pending(self, handover_id: str, due: float) -> None:
        self.sweeper.schedule(handover_id, due)

    def _fetch(self, handover: Any) -> Mapping[str, Any]:
        client = self.clients.for_provider(handover.provider_id)
        return client.get_message_conversation(handover.conversation_id)

    def _find_by_customer(self, customer_id: str, allowed: set[str] | None) -> Any:
        """The open handover of a customer (Cognigy's data-action body names only the customer
        address, which it calls `userId`: the per-handover customer id).
        Looked up by (integration id, customer id) where the integration id is known to the
        provider's client cache or to an open handover; no scan of all handovers."""
        for pid, provider in self.config.providers.items():
            if allowed is not None and pid not in allowed:
                continue
            for integration_id in self._integration_ids(pid, provider):
                handover = self.store.handover_by_customer(integration_id, customer_id)
                if handover is not None and handover.provider_id == pid:
                    return handover
        return None

    def _integration_ids(self, provider_id: str, provider: Any) -> list[str]:
        try:
            return [
                self.clients.for_provider(provider_id).integration_id_for(provider.deployment_name)
            ]
        except Exception:
            ids = {h.integration_id for h in self.store.open_handovers(provider_id)}
            return sorted(i for i in ids if i)
