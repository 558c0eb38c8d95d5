"""`HandoverEngine`: runs the flow per input, starts handovers, relays to the agent, ends them.

Lifecycle (docs/design.md §6): requested → queue (first message accepted by Genesys) → active (an
agent is connected: seen on a new agent leg, the agent's typing or first message) → completed |
cancelled | error; every change is a `source: "system"` output, and after the end the flow resumes
with `input.handover.status` (the Lookup of Cognigy's "Send Genesys Bot Messages" recipe catches it).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from om_bridge.bridge.cognigy import INJECT, NOTIFY, CognigyReturn
from om_bridge.bridge.flow import FlowInput, FlowRuntime, Output, SessionState, load_chart
from om_bridge.bridge.genesys.wire import Customer, message_body, typing_body
from om_bridge.bridge.handover import messages, replies
from om_bridge.bridge.handover.agent_side import AgentSide
from om_bridge.bridge.handover.agent_watch import AgentWatch
from om_bridge.bridge.handover.agents import AgentDirectory
from om_bridge.bridge.handover.hosted import CognigyHosted
from om_bridge.bridge.handover.inbound import InboundQueue
from om_bridge.bridge.handover.local_flow import LocalFlow
from om_bridge.bridge.handover.outbox import Outbox
from om_bridge.bridge.handover.outcome import LINES_KEPT, build_outcome
from om_bridge.bridge.handover.ports import ConversationWatch, FlowHost, Outputs, iso_now
from om_bridge.bridge.handover.receipts import ReceiptSender
from om_bridge.bridge.handover.starter import Starter
from om_bridge.bridge.store import Handover, SessionKey

if TYPE_CHECKING:
    from om_bridge.bridge.config import Config
    from om_bridge.bridge.flags import Flags
    from om_bridge.bridge.genesys.clients import ClientRegistry
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import InboundCompletion, OutboxItem, Store

log = logging.getLogger(__name__)

# Forward-only order of the open statuses (a late "queue" must never undo "active").
STATUS_ORDER = {"requested": 0, "queue": 1, "active": 2}
# A flow that asks for a handover again while handling its refusal must not loop forever.
MAX_FLOW_RUNS = 3
# Conversations a handover moved away from, remembered so a late webhook of one cannot move it back.
MAX_LEFT_CONVERSATIONS = 10


class HandoverEngine:
    """The handover dispatcher: endpoint inputs, Genesys webhooks and end requests all land here."""

    def __init__(
        self,
        *,
        config: Config,
        flags: Flags,
        store: Store,
        clients: ClientRegistry,
        outputs: Outputs,
        metrics: Metrics,
        clock: Callable[[], float],
        cognigy: CognigyReturn,
        hosted_flows: Mapping[str, FlowHost],
    ) -> None:
        self.config, self.flags, self.store, self.clients = config, flags, store, clients
        self.outputs, self.metrics, self.clock = outputs, metrics, clock
        # Completion detection; the composition root gives it once built (`watch_with`).
        self.completion: ConversationWatch | None = None
        self._runtimes: dict[str, FlowRuntime] = {}
        self._runtimes_lock = threading.Lock()
        self.cognigy = cognigy
        # Where each session's flow runs, by URL token: Cognigy-hosted endpoints have their own
        # host; every other endpoint's flow runs here.
        self._hosted_flows = dict(hosted_flows)
        self._local_flow = LocalFlow(self)
        reliability = config.bridge
        self.outbox = Outbox(
            store,
            clients,
            config,
            metrics,
            on_sent=self._after_send,
            on_resolved=self._integration_resolved,
            on_dead=self._dead_letter,
            clock=clock,
            lease_seconds=reliability.lease_seconds,
            in_flight_seconds=reliability.in_flight_seconds,
            senders={INJECT: self.cognigy.send, NOTIFY: self.cognigy.send},
        )
        self.cognigy.put_item = self.outbox.put
        self.hosted = CognigyHosted(self, config=config, store=store)
        self.receipts = ReceiptSender(clients, metrics)
        self.starter = Starter(self, config=config, flags=flags, store=store, outputs=outputs)
        agents = AgentDirectory(store, clients, clock)
        self.agent_side = AgentSide(
            self,
            config=config,
            flags=flags,
            store=store,
            outputs=outputs,
            agents=agents,
            metrics=metrics,
        )
        self.cognigy.on_receipt = self.agent_side.receipt
        self.agent_watch = AgentWatch(self, store=store, clients=clients, clock=clock)
        self.inbound = InboundQueue(
            store,
            self._handle_inbound,
            metrics,
            clock=clock,
            lease_seconds=reliability.lease_seconds,
        )
        self.relayed = metrics.counter(
            "messages_relayed_total", "Messages relayed between users and agents", ["direction"]
        )
        self.handovers = metrics.counter("handovers_total", "Handover status changes", ["status"])
        self._load_flows()

    def _load_flows(self) -> None:
        """Load every endpoint's flow now: a chart whose values cannot work stops start-up with
        an error naming the node, and unsupported settings are logged once (docs/flows.md)."""
        from om_bridge.bridge.config import ConfigError

        for i, endpoint in enumerate(self.config.endpoints.values()):
            try:
                self.runtime(endpoint.flow)
            except ValueError as exc:  # ChartError, an unregistered node type
                raise ConfigError(f"endpoints[{i}].flow: {exc}") from None

    def flow_of(self, key: SessionKey) -> FlowHost:
        """Where the session's flow runs (chosen by its endpoint)."""
        return self._hosted_flows.get(key.url_token, self._local_flow)

    def watch_with(self, completion: ConversationWatch) -> None:
        """Completion detection, which is built after the engine (it ends handovers through it)."""
        self.completion = completion

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers: accepted webhooks and the durable outbox (both resume what a
        previous process left pending)."""
        self.receipts.start()
        self.inbound.start()
        self.outbox.start()
        self.agent_watch.start()

    def stop(self) -> None:
        """Finish webhook work in hand, stop the workers; what is not done stays in the store."""
        self.inbound.stop()
        self.agent_watch.stop()
        self.receipts.stop()
        self.outbox.stop()
        self.cognigy.close()

    # -- endpoint side --------------------------------------------------------------------
    def handle_input(
        self,
        url_token: str,
        user_id: str,
        session_id: str,
        text: str | None,
        data: dict[str, Any] | None,
        *,
        profile: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """One user input: relayed to the agent during a handover, otherwise run through the flow.
        A `profile` the channel gives is merged into the session's contact profile first; a
        relayed input goes to Genesys with `message_id` when given (an idempotent input's).

        Returns the Cognigy REST reply `{text, data, outputStack, userId, sessionId}`.
        """
        endpoint = self.config.endpoint(url_token)
        key = SessionKey(url_token, user_id, session_id)
        with self.store.session_lock(key):
            handover = self.store.open_handover_for_session(key)
            if handover is not None:
                self.relay_user_input(handover, text, data, message_id)
                state = self.load_state(key)
                if profile:
                    state.profile.update(profile)
                self._add_line(state, handover, "user", text, data)
                self.store.save_session(key, state.to_dict())
                return replies.rest_reply(user_id, session_id, self._repeat_accepted(handover))
            state = self.load_state(key)
            if profile:
                state.profile.update(profile)
            flow_input = FlowInput(
                text=text, data=data, user_id=user_id, session_id=session_id, url_token=url_token
            )
            outputs, state = self.run_flow(endpoint, key, state, flow_input)
            self.store.save_session(key, state.to_dict())
        return replies.rest_reply(user_id, session_id, replies.for_user(outputs))

    @staticmethod
    def _repeat_accepted(handover: Handover) -> list[Output]:
        """ "Repeat Handover Accepted Message": said again to a user who writes before an agent
        has joined."""
        request = handover.settings.get("request") or {}
        text = request.get("accepted_message")
        if handover.status == "active" or not request.get("repeat_handover_message") or not text:
            return []
        return [Output(text=text, data=None, destination="userOnly")]

    def user_typing(self, key: SessionKey) -> None:
        """The user is typing: a Typing event to the agent once Genesys knows the conversation."""
        handover = self.store.open_handover_for_session(key)
        if handover is None or handover.status == "requested":
            return
        body = typing_body(Customer(handover.customer_id), None)
        self.put(handover, "typing", body)

    def user_connected(self, key: SessionKey) -> None:
        """The user came back: "User joined the conversation" when the node enables it."""
        self._presence(key, "enable_user_connects_message", messages.USER_JOINED)

    def user_disconnected(self, key: SessionKey) -> None:
        """The user left the chat: "User left the conversation" when the node enables it."""
        self._presence(key, "enable_user_disconnects_message", messages.USER_LEFT)

    def user_ended(self, key: SessionKey) -> None:
        """The user left this conversation for good (e.g. started a new one): "User left the
        conversation" to the agent (when enabled), then the Genesys conversation's customer is
        disconnected, so no agent is offered an abandoned chat; the handover ends `cancelled`
        once that is done (or failed for good), or earlier through completion detection."""
        with self.store.session_lock(key):
            handover = self.store.open_handover_for_session(key)
            if handover is None:
                return
            data = dict(handover.data or {})
            data["user_left"] = True
            handover = self.store.update_handover(handover.id, data=data)
        self.user_disconnected(key)
        self.put(handover, "disconnect", {})

    def _presence(self, key: SessionKey, setting: str, text: str) -> None:
        handover = self.store.open_handover_for_session(key)
        if handover is None:
            return
        request = handover.settings.get("request") or {}
        if not request.get(setting, True):  # both default on (Cognigy's guide)
            return
        self.send_text_to_agent(handover, text)

    # -- Genesys side ---------------------------------------------------------------------
    def handle_genesys_message(
        self, provider_id: str, payload: dict[str, Any], completion: InboundCompletion | None = None
    ) -> None:
        """A verified, deduplicated outbound webhook body from Genesys; the agent output it
        carries is stored together with the removal of its inbound item (`completion`)."""
        self.agent_side.handle(provider_id, payload, completion)

    def accept_genesys_message(
        self, provider_id: str, payload: dict[str, Any], dedupe_key: str, ttl_seconds: float
    ) -> bool:
        """Store a webhook body durably (with its dedupe mark) before the route answers 2xx;
        it is handled in the background, in order per customer. False for a duplicate."""
        return self.inbound.accept(dedupe_key, ttl_seconds, payload, provider_id)

    def _handle_inbound(self, item: OutboxItem, completion: InboundCompletion) -> None:
        self.handle_genesys_message(item.payload["provider_id"], item.payload["body"], completion)

    # -- the handover's conversation, for its outcome and the session transcript -------------
    def _line(
        self, handover: Handover, source: str, text: str | None, data: Any
    ) -> dict[str, Any] | None:
        if not text and not data:
            return None
        return {
            "handover": handover.id,
            "source": source,
            "text": text,
            "data": data or None,
            "time": iso_now(self.clock),
        }

    def _add_line(
        self, state: SessionState, handover: Handover, source: str, text: str | None, data: Any
    ) -> None:
        line = self._line(handover, source, text, data)
        if line is None:
            return
        state.handover_lines.append(line)
        if len(state.handover_lines) > LINES_KEPT:
            del state.handover_lines[: len(state.handover_lines) - LINES_KEPT]

    def record_agent_line(self, handover: Handover, text: str | None, data: Any) -> None:
        """Keep what the agent wrote (for the outcome's transcript and the session transcript):
        appended to the saved state in one store step under the session lock's rules, without
        loading and saving the whole state."""
        line = self._line(handover, "agent", text, data)
        if line is None:
            return
        try:
            self.store.append_session_line(handover.session, line, LINES_KEPT)
        except Exception:  # the message reached the user; only its transcript line is missing
            log.exception(messages.LOG_LINE_NOT_KEPT, handover.id)

    def conversation_of(self, handover: Handover) -> dict[str, Any] | None:
        """The handover's Genesys conversation (participants, wrap-up), or None when unknown or
        unreadable (the outcome then names the agent last seen, without wrap-up)."""
        if not handover.conversation_id:
            return None
        try:
            client = self.clients.for_provider(handover.provider_id)
            return client.get_message_conversation(handover.conversation_id)
        except Exception as exc:
            log.warning(messages.LOG_OUTCOME_LOOKUP_FAILED, handover.id, type(exc).__name__)
            return None

    def outcome(
        self,
        handover: Handover,
        state: SessionState | None = None,
        conversation: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The `input.handover` object of an ended handover (docs/flows.md "The handover
        outcome"); the same object goes into the `completed` input of the Cognigy-hosted mode.
        Reads the conversation from Genesys unless given."""
        if state is None:
            state = self.load_state(handover.session)
        if conversation is None:
            conversation = self.conversation_of(handover)
        lines = [line for line in state.handover_lines if line.get("handover") == handover.id]
        return build_outcome(handover, lines, conversation, self._user_of(handover))

    def _user_of(self, handover: Handover) -> Any:
        def user_of(user_id: str) -> dict[str, Any] | None:
            try:
                return self.clients.for_provider(handover.provider_id).get_user(user_id)
            except Exception as exc:
                log.warning(messages.LOG_OUTCOME_LOOKUP_FAILED, handover.id, type(exc).__name__)
                return None

        return user_of

    def end_handover(self, handover_id: str, status: str, reason: str) -> bool:
        """End a handover exactly once, then resume the flow with `input.handover` = the outcome
        (status, reason, agent, wrap-up, transcript...); the handover's lines join the session
        transcript, so a later handover's first message includes them."""
        store = self.store
        handover = store.get_handover(handover_id)
        if handover is None:
            return False
        key = handover.session
        if status == "completed" and (handover.data or {}).get("user_left"):
            status = "cancelled"  # the user left first; the agent side only followed
        # Read before taking the session lock: user inputs are not held up by a Genesys call.
        conversation = self.conversation_of(handover) if handover.is_open else None
        with store.session_lock(key):
            if not store.finish_handover(handover_id, status, reason):
                log.info(messages.LOG_HANDOVER_END_DUPLICATE, handover_id, status)
                return False
            ended = store.get_handover(handover_id) or handover
            log.info(messages.LOG_HANDOVER_ENDED, handover_id, status, reason)
            self.handovers.labels(status).inc()
            if self.completion is not None:
                try:
                    self.completion.untrack(ended)
                except Exception:
                    log.exception(messages.LOG_TRACK_FAILED, handover_id)
            self.outputs.emit(key, replies.status_output(status, handover_id, reason=reason))
            state = self.load_state(key)
            event = self.outcome(ended, state, conversation)
            lines = [line for line in state.handover_lines if line.get("handover") == ended.id]
            state.handover_lines = [
                line for line in state.handover_lines if line.get("handover") != ended.id
            ]
            for line in lines:
                state.record({k: line.get(k) for k in ("source", "text", "data", "time")})
            outputs, state = self.flow_of(key).ended(key, state, event)
            self.store.save_session(key, state.to_dict())
            for output in replies.for_user(outputs):
                self.outputs.emit(key, replies.bot_output(output))
        return True

    # -- shared helpers (used by Starter and AgentSide) -----------------------------------
    def runtime(self, flow: str) -> FlowRuntime:
        """The (cached) runtime of a flow template or file."""
        with self._runtimes_lock:
            runtime = self._runtimes.get(flow)
            if runtime is None:
                runtime = FlowRuntime(load_chart(flow))
                self._runtimes[flow] = runtime
            return runtime

    def load_state(self, key: SessionKey) -> SessionState:
        """The session's flow state, or a fresh one."""
        saved = self.store.load_session(key)
        return SessionState.from_dict(saved) if saved else SessionState.new()

    def run_flow(
        self, endpoint: Any, key: SessionKey, state: SessionState, flow_input: FlowInput
    ) -> tuple[list[Output], SessionState]:
        """Run the endpoint's flow; a handover request starts a handover (or, refused, re-enters the
        flow at once with `input.handover.status = "error"`). Call with the session lock held."""
        runtime = self.runtime(endpoint.flow)
        outputs: list[Output] = []
        reported = False
        for _ in range(MAX_FLOW_RUNS):
            result = runtime.run(state, flow_input)
            state = result.state
            outputs.extend(result.outputs)
            if result.error is not None:
                log.warning(
                    messages.LOG_FLOW_ERROR,
                    key.as_str(),
                    result.error.node_id,
                    result.error.message,
                )
                if reported:
                    break  # the flow's own error path failed too: stop, never loop
                # The flow hears of its failure as Cognigy reports a handover error: the run
                # goes on below the failed node with input.handover.status = "error", so the
                # template's error case tells the user instead of a silent dead end.
                reported = True
                state.wait_node = runtime.chart.successor(result.error.node_id)
                flow_input = FlowInput.event(
                    key,
                    {
                        "status": "error",
                        "error": {"reason": "error", "message": str(result.error)},
                    },
                )
                continue
            if result.handover is None:
                break
            accepted, error = self.starter.begin(endpoint, key, state, result.handover)
            if error is None:
                if accepted:
                    outputs.append(Output(text=accepted, data=None, destination="userOnly"))
                break
            flow_input = FlowInput.event(key, {"status": "error", "error": error})
        return outputs, state

    def put(self, handover: Handover, kind: str, body: dict[str, Any], **extra: Any) -> int:
        """Queue one Genesys call for a handover (ordered behind its earlier calls)."""
        payload = {
            "provider_id": handover.provider_id,
            "handover_id": handover.id,
            "integration_id": handover.integration_id,
            "body": body,
        }
        payload.update(extra)
        return self.outbox.put(handover.id, kind, payload)

    def send_text_to_agent(
        self,
        handover: Handover,
        text: str | None,
        content: list[Any] | None = None,
        *,
        from_user: bool = False,
        message_id: str | None = None,
    ) -> None:
        """An inbound (customer → agent) message with a fixed messageId (`message_id`, else a
        new one), through the outbox; `from_user` marks what the user typed (they are told if it
        can never be delivered)."""
        if not text and not content:
            return
        body = message_body(
            Customer(handover.customer_id),
            message_id or str(uuid.uuid4()),
            text=text,
            content=content,
            time=None,
            custom_attributes=None,
            metadata=None,
        )
        if from_user:
            self.put(handover, "message", body, from_user=True)
        else:
            self.put(handover, "message", body)
        self.relayed.labels("to_agent").inc()

    def relay_user_input(
        self,
        handover: Handover,
        text: str | None,
        data: dict[str, Any] | None,
        message_id: str | None = None,
    ) -> None:
        """A user message during a handover: a quick-reply answer, or text/attachments."""
        if self.agent_side.answer_quick_reply(handover, text, message_id):
            return
        self.send_text_to_agent(
            handover,
            text,
            replies.attachments(data) or None,
            from_user=True,
            message_id=message_id,
        )

    def agent_started_early(self, conversation_id: str) -> None:
        """A new agent leg on a conversation not (yet) known to any handover."""
        self.agent_watch.early(conversation_id)
        # The handover may have learned this conversation between the event's lookup and the
        # line above (its `learned` then found nothing to read): look once more.
        handover = self.store.handover_by_conversation(conversation_id)
        if handover is not None and handover.is_open:
            self.agent_watch.learned(handover.id, conversation_id)

    def agent_changed(self, handover_id: str) -> None:
        """An event says the handover's agent may have changed or connected (a transfer's end
        events, a new agent leg, the agent's typing): re-read the participants once."""
        self.agent_watch.changed(handover_id)

    def advance(self, handover_id: str, status: str, **fields: Any) -> Handover | None:
        """Move an open handover forward (never back) and announce the change; returns it.

        The read-check-write runs under the store's session lock, not a process lock: with a
        shared (Redis) store the outbox worker of one process ("queue") and the webhook of another
        ("active") may race, and a stale "queue" must not overwrite "active". The status output is
        emitted under the same lock, so status outputs keep the order of the changes.
        """
        found = self.store.get_handover(handover_id)
        if found is None or not found.is_open:
            return None
        agent = None
        if status == "active" and found.status != "active":
            # the banner names the agent as soon as they connect (looked up outside the lock)
            if found.settings.get("display_agent_details"):
                agent = self.agent_side.agents.details(found)
        with self.store.session_lock(found.session):
            current = self.store.get_handover(handover_id)
            if current is None or not current.is_open:
                return None
            changes = dict(fields)
            moved = STATUS_ORDER.get(status, -1) > STATUS_ORDER.get(current.status, -1)
            if moved:
                changes["status"] = status
            changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
            if not changes:
                return current
            updated = self.store.update_handover(handover_id, **changes)
            if moved:
                log.info(messages.LOG_HANDOVER_STATUS, handover_id, current.status, status)
                self.handovers.labels(status).inc()
                output = replies.status_output(status, handover_id)
                if agent and status == "active":
                    output["data"]["agent"] = agent
                self.outputs.emit(updated.session, output)
        if moved:
            request = updated.settings.get("request") or {}
            if request.get(
                {"queue": "send_on_queue_event", "active": "send_on_active_event"}.get(status, "")
            ):
                self.run_event(updated, {"status": status})
        return updated

    def handover_transferred(self, handover_id: str) -> None:
        """An agent transferred the conversation (their leg ended with a transfer): the user is
        told through a `system` output (`data.handover.event = "transferred"`, status unchanged),
        and the cached agent is dropped so the next agent's name is looked up afresh."""
        handover = self.store.get_handover(handover_id)
        if handover is None or not handover.is_open:
            return
        with self.store.session_lock(handover.session):
            if handover.agent:
                self.store.update_handover(handover_id, agent=None)
            self.outputs.emit(
                handover.session,
                replies.status_output(handover.status, handover_id, event="transferred"),
            )

    def run_event(
        self, handover: Handover, event: dict[str, Any], data: dict[str, Any] | None = None
    ) -> None:
        """Re-enter the flow with a handover event (`input.handover = event`), as Cognigy does for
        "Send Queue Event" / "Send Active Event" and Genesys bot messages: its outputs go to the
        user, and those for the agent to the agent while the handover is open."""
        self.flow_of(handover.session).handover_event(handover, event, data)

    def run_event_locally(
        self, handover: Handover, event: dict[str, Any], data: dict[str, Any] | None = None
    ) -> None:
        """`run_event` for a session whose flow runs here."""
        key = handover.session
        endpoint = self.config.endpoints.get(key.url_token)
        if endpoint is None:
            return
        with self.store.session_lock(key):
            state = self.load_state(key)
            flow_input = FlowInput.event(key, event, data=data)
            outputs, state = self.run_flow(endpoint, key, state, flow_input)
            self.store.save_session(key, state.to_dict())
        current = self.store.get_handover(handover.id) or handover
        for output in replies.for_user(outputs):
            self.outputs.emit(key, replies.bot_output(output))
        if current.is_open:
            for output in replies.for_agent(outputs):
                self.send_text_to_agent(current, output.text)

    def learn_conversation(
        self, handover: Handover, conversation_id: str | None, integration_id: str | None = None
    ) -> Handover:
        """Record the Genesys conversation id the first time it is seen and start end detection;
        a different one later means the customer is in another conversation now: follow it."""
        if (
            conversation_id
            and handover.conversation_id
            and conversation_id != handover.conversation_id
        ):
            handover = self.follow_conversation(handover, conversation_id)
        fields: dict[str, Any] = {}
        if conversation_id and not handover.conversation_id:
            fields["conversation_id"] = conversation_id
        if integration_id and not handover.integration_id:
            fields["integration_id"] = integration_id
        if not fields:
            return handover
        with self.store.session_lock(handover.session):  # other processes learn it too
            current = self.store.get_handover(handover.id)
            if current is None:
                return handover
            fields = {k: v for k, v in fields.items() if not getattr(current, k)}
            if not fields:
                return current
            updated = self.store.update_handover(handover.id, **fields)
        if "conversation_id" in fields and updated.is_open:
            self.agent_watch.learned(updated.id, fields["conversation_id"])
        if "conversation_id" in fields and self.completion is not None and updated.is_open:
            try:
                self.completion.track(updated)
            except Exception:
                log.exception(messages.LOG_TRACK_FAILED, handover.id)
        return updated

    def follow_conversation(self, handover: Handover, conversation_id: str) -> Handover:
        """Genesys put the customer in another conversation (after an outage, or after the old
        one ended with its end event lost): record it, move end detection to it and check it
        through REST at once. A conversation the handover has already left is never gone back
        to (a late webhook of the old one changes nothing)."""
        with self.store.session_lock(handover.session):
            current = self.store.get_handover(handover.id)
            if current is None or not current.is_open:
                return current or handover
            old = current.conversation_id
            left = list((current.data or {}).get("left_conversations") or [])
            if conversation_id == old or conversation_id in left:
                return current
            if old:
                left = [*left, old][-MAX_LEFT_CONVERSATIONS:]
            data = {**(current.data or {}), "left_conversations": left}
            updated = self.store.update_handover(
                handover.id, conversation_id=conversation_id, data=data
            )
        log.warning(messages.LOG_CONVERSATION_CHANGED, handover.id, old, conversation_id)
        completion = self.completion
        if completion is not None:
            try:
                completion.conversation_changed(updated, old)
            except Exception:
                log.exception(messages.LOG_TRACK_FAILED, handover.id)
        return updated

    # -- outbox callbacks -----------------------------------------------------------------
    def _integration_resolved(self, item: OutboxItem, integration_id: str) -> None:
        # Stored before the first message goes out, so a webhook answering it can be routed.
        handover_id = item.payload.get("handover_id")
        if handover_id:
            handover = self.store.get_handover(handover_id)
            if handover is not None and not handover.integration_id:
                self.learn_conversation(handover, None, integration_id)

    def _dead_letter(self, item: OutboxItem, reason: str) -> None:
        # Genesys refused the opening message for good (bad integration, credentials, body):
        # the handover cannot happen, so it ends in error and the flow takes over again.
        handover_id = item.payload.get("handover_id")
        if item.kind == NOTIFY:
            self.cognigy.refused(item)
            return
        if item.kind == "disconnect" and handover_id:
            # Genesys refused to disconnect (e.g. a missing permission): the user is gone anyway.
            self.end_handover(handover_id, "cancelled", messages.USER_ENDED_REASON)
            return
        if item.kind == "message" and item.payload.get("first") and handover_id:
            self.end_handover(handover_id, "error", messages.START_FAILED.format(error=reason))
            return
        # Something the user typed will never reach the agent (refused, or the conversation
        # ended while it waited in the outbox): say so instead of dropping it silently.
        if item.payload.get("from_user") and handover_id:
            handover = self.store.get_handover(handover_id)
            if handover is not None:
                self._tell_undelivered(handover, item, reason)

    def _tell_undelivered(self, handover: Handover, item: OutboxItem, reason: str) -> None:
        body = item.payload.get("body") or {}
        text = body.get("text") or (body.get("buttonResponse") or {}).get("text") or ""
        template = (
            messages.UNDELIVERED_ENDED
            if reason == messages.HANDOVER_ENDED_REASON
            else messages.UNDELIVERED
        )
        self.outputs.emit(
            handover.session,
            {
                "source": "system",
                "text": template.format(text=text or "(attachment)"),
                "data": {
                    "undelivered": {"text": text or None, "reason": reason, "handover": handover.id}
                },
            },
        )

    def _after_send(self, item: OutboxItem, integration_id: str, result: Any) -> None:
        if item.kind == "disconnect":
            self.end_handover(item.payload["handover_id"], "cancelled", messages.USER_ENDED_REASON)
            return
        if item.kind != "message":
            return
        handover = self.store.get_handover(item.payload.get("handover_id", ""))
        if handover is None or not handover.is_open:
            return
        # Every message is sent with prefetchConversationId: the answer names the conversation
        # the customer is in, which changes when Genesys opened a new one.
        conversation_id = result.get("conversationId") if isinstance(result, dict) else None
        handover = self.learn_conversation(handover, conversation_id, integration_id)
        if item.payload.get("first"):
            self.advance(handover.id, "queue")
