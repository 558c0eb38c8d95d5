"""Agent actions of the conversation engine (docs/design.md §9): answer, end, decline, wrap-up,
transfer to a queue or a user, send text and typing; and the end of a conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from om_bridge.sandbox import messages
from om_bridge.sandbox.errors import EngineError
from om_bridge.sandbox.events import disconnect_enum, duration_ms
from om_bridge.sandbox.model import Conversation, MessageRecord, Participant
from om_bridge.sandbox.state import now_iso


class AgentActions:
    """Mixin of `ConversationEngine` (uses its `store`, `sandbox`, routing and publishing helpers)."""

    store: Any
    sandbox: Any
    loads: dict[str, int]
    waiting: dict[str, list[str]]
    last_position: dict[str, int]

    if TYPE_CHECKING:  # provided by `ConversationEngine` and its `Routing` mixin

        def conversation(self, cid: str) -> Conversation: ...
        def participant(self, conv: Conversation, pid: str) -> Participant: ...
        def _publish_state(self, conv: Conversation) -> None: ...
        def _detail(
            self, conv: Conversation, p: Participant, suffix: str, when: str, **extra: Any
        ) -> None: ...
        def _outbound(
            self,
            integ: dict,
            conv: Conversation,
            p: Participant,
            text: str | None,
            originating: str,
            user_id: str | None,
            content: list[dict] | None = None,
        ) -> MessageRecord: ...
        def _enter_queue(self, integ: dict, conv: Conversation, queue_id: str) -> None: ...
        def _agent_load(self, user_id: str) -> int: ...
        def _set_status(self, user: dict, status: str) -> None: ...
        def _mark(self, queue_id: str, index: int) -> None: ...
        def _route(self, queue_id: str) -> None: ...
        def _unqueue(self, conv: Conversation) -> None: ...
        def _offer(self, conv: Conversation, user: dict, queue_id: str | None) -> Participant: ...
        def _release_agent(self, user_id: str | None) -> None: ...

    def patch_participant(self, cid: str, pid: str, body: dict, actor_user: str | None) -> None:
        """`MediaParticipantRequest`: state connected (answer) / disconnected (end), `wrapup`."""
        with self.store.lock:
            conv = self.conversation(cid)
            p = self.participant(conv, pid)
            state = body.get("state")
            wrapup = body.get("wrapup")
            if wrapup is not None:
                # checked before any state change: a refused request must change nothing
                after = "disconnected" if state == "disconnected" else p.state
                if p.purpose != "agent" or after != "disconnected" or not _valid_wrapup(wrapup):
                    raise EngineError(400, "bad.request", messages.WRAPUP_NOT_ALLOWED)
            if wrapup is not None or body.get("wrapupSkipped"):
                _check_not_wrapped_up(p)
            if state == "connected":
                self._answer(conv, p)
            elif state == "disconnected":
                self._disconnect(conv, p)
            elif state is not None:
                raise EngineError(
                    400,
                    "bad.request",
                    messages.PARTICIPANT_STATE.format(pid=pid, state=p.state, target=state),
                )
            if body.get("wrapup") is not None:
                self.apply_wrapup(conv, p, body["wrapup"])
            elif body.get("wrapupSkipped") and p.purpose == "agent" and p.state == "disconnected":
                self.apply_wrapup(conv, p, {"code": "ININ-WRAP-UP-SKIPPED", "name": "Skipped"})

    def _answer(self, conv: Conversation, p: Participant) -> None:
        if p.purpose != "agent" or p.state != "alerting" or conv.ended:
            raise EngineError(
                400,
                "bad.request",
                messages.PARTICIPANT_STATE.format(pid=p.id, state=p.state, target="connected"),
            )
        now = now_iso()
        p.state, p.connected_time = "connected", now
        for acd in conv.legs("acd", active_only=True):
            acd.state, acd.end_time, acd.disconnect_type = "disconnected", now, "transfer"
            self._detail(
                conv,
                acd,
                "acd.end",
                now,
                queueId=acd.queue_id,
                disconnectType="TRANSFER",
                acdOutcome="ANSWERED",
                answeredUserId=p.user_id,
                usedRouting="STANDARD",
                connectedDurationMs=duration_ms(acd.connected_time, now),
                flowType="INBOUNDSHORTMESSAGE",
            )
        self._publish_state(conv)

    def _disconnect(self, conv: Conversation, p: Participant) -> None:
        if not p.active:
            raise EngineError(
                400,
                "bad.request",
                messages.PARTICIPANT_STATE.format(pid=p.id, state=p.state, target="disconnected"),
            )
        if p.purpose == "customer":
            self._end_conversation(conv, customer_type="client", others_type="peer")
            return
        if p.purpose != "agent":
            raise EngineError(
                400,
                "bad.request",
                messages.PARTICIPANT_STATE.format(pid=p.id, state=p.state, target="disconnected"),
            )
        declined = p.state == "alerting"
        self._end_agent_leg(conv, p, "client")
        if declined:
            user = self.store.users.get(p.user_id or "")
            if user is not None and self._agent_load(user["id"]) == 0:
                self._set_status(user, "NOT_RESPONDING")
            self._publish_state(conv)
            acd = next((x for x in conv.legs("acd", active_only=True)), None)
            if acd is not None and acd.queue_id:
                # back to the head of the queue for the next available agent
                self.waiting.setdefault(acd.queue_id, []).insert(0, conv.id)
                self._mark(acd.queue_id, 0)
                self._route(acd.queue_id)
            elif not any(x.active for x in conv.participants if x.purpose in ("agent", "acd")):
                self._requeue_after_declined_transfer(conv, p)
            return
        if not any(x.active for x in conv.participants if x.purpose in ("agent", "acd")):
            self._end_conversation(conv, customer_type="peer", others_type="peer")
        else:
            self._publish_state(conv)

    def _requeue_after_declined_transfer(self, conv: Conversation, declined: Participant) -> None:
        """A direct transfer to a user that the user declined (or never answered) left the
        customer connected with no queue or agent leg. Genesys ACD treats an unanswered offer of
        an ACD interaction by sending it back to its queue, and the transferring agent has already
        left; so the conversation goes back to the queue it was last in, as a new `acd` leg
        (`acd.start`, a position message), and is routed again. The agent who declined is not
        offered it again (see `Routing._declined`). Without a known queue nothing can route it,
        and it stays as it is."""
        queue_id = next(
            (x.queue_id for x in reversed(conv.participants) if x.purpose == "acd" and x.queue_id),
            declined.queue_id,
        )
        integ = self.store.integrations.get(conv.integration_id)
        if queue_id is None or queue_id not in self.store.queues or integ is None:
            return
        self.last_position.pop(conv.id, None)
        self._enter_queue(integ, conv, queue_id)

    def _end_agent_leg(self, conv: Conversation, p: Participant, dtype: str) -> None:
        now = now_iso()
        was_connected = p.state == "connected"
        if p.user_id and p.active:
            self.loads[p.user_id] = max(0, self.loads.get(p.user_id, 0) - 1)
        p.state, p.end_time, p.disconnect_type = "disconnected", now, dtype
        if was_connected:
            p.wrapup_required = True
            p.start_acw_time = now
        self._detail(
            conv,
            p,
            "user.end",
            now,
            userId=p.user_id,
            queueId=p.queue_id,
            disconnectType=disconnect_enum(dtype),
            interactingDurationMs=duration_ms(p.connected_time, now),
            alertingDurationMs=duration_ms(p.start_alerting_time, p.connected_time or now),
        )
        self._release_agent(p.user_id)

    def _end_conversation(self, conv: Conversation, customer_type: str, others_type: str) -> None:
        now = now_iso()
        for p in conv.participants:
            if not p.active or p.purpose == "customer":
                continue
            if p.purpose == "agent":
                self._end_agent_leg(conv, p, others_type)
            elif p.purpose == "acd":
                p.state, p.end_time, p.disconnect_type = "disconnected", now, others_type
                self._detail(
                    conv,
                    p,
                    "acd.end",
                    now,
                    queueId=p.queue_id,
                    disconnectType=disconnect_enum(others_type),
                    acdOutcome="ABANDON",
                    flowType="INBOUNDSHORTMESSAGE",
                )
            else:
                p.state, p.end_time, p.disconnect_type = "disconnected", now, others_type
        customer = conv.customer()
        customer.state, customer.end_time, customer.disconnect_type = (
            "disconnected",
            now,
            customer_type,
        )
        conv.end_time, conv.ended_at = now, self.store.clock()
        self.store.mark_ended(conv)
        self._unqueue(conv)
        self._detail(
            conv,
            customer,
            "customer.end",
            now,
            disconnectType=disconnect_enum(customer_type),
            interactingDurationMs=duration_ms(customer.connected_time, now),
        )
        self._publish_state(conv)
        for qid in conv.queues:
            self._route(qid)

    def apply_wrapup(self, conv: Conversation, p: Participant, wrapup: dict) -> None:
        """Wrap-up of a disconnected agent leg: ends after-call work, publishes `acw` + `wrapup`."""
        if p.purpose != "agent" or p.state != "disconnected" or not _valid_wrapup(wrapup):
            raise EngineError(400, "bad.request", messages.WRAPUP_NOT_ALLOWED)
        _check_not_wrapped_up(p)
        now = now_iso()
        p.end_acw_time = now
        p.wrapup = {
            k: v
            for k, v in {
                "code": wrapup["code"],
                "name": wrapup.get("name") or wrapup["code"],
                "notes": wrapup.get("notes"),
                "tags": wrapup.get("tags") or [],
                "durationSeconds": (duration_ms(p.start_acw_time, now) or 0) // 1000,
                "endTime": now,
            }.items()
            if v is not None
        }
        acw_ms = duration_ms(p.start_acw_time, now)
        self._detail(
            conv,
            p,
            "acw",
            now,
            userId=p.user_id,
            queueId=p.queue_id,
            wrapupCode=wrapup["code"],
            wrapupNotes=wrapup.get("notes"),
            wrapupDurationMs=acw_ms,
        )
        self._detail(
            conv,
            p,
            "wrapup",
            now,
            queueId=p.queue_id,
            wrapupCode=wrapup["code"],
            wrapupNotes=wrapup.get("notes"),
            wrapupDurationMs=acw_ms,
        )
        self._publish_state(conv)

    def transfer(self, cid: str, pid: str, body: dict) -> None:
        """Replace an agent leg by a queue (`queueId`) or a user (`userId`)."""
        with self.store.lock:
            conv = self.conversation(cid)
            p = self.participant(conv, pid)
            queue_id, user_id = body.get("queueId"), body.get("userId")
            if bool(queue_id) == bool(user_id):
                raise EngineError(400, "bad.request", messages.TRANSFER_TARGET)
            if p.purpose != "agent" or p.state != "connected" or conv.ended:
                raise EngineError(
                    400,
                    "bad.request",
                    messages.PARTICIPANT_STATE.format(pid=pid, state=p.state, target="transfer"),
                )
            if queue_id and queue_id not in self.store.queues:
                raise EngineError(
                    404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Queue", id=queue_id)
                )
            if user_id and user_id not in self.store.users:
                raise EngineError(
                    404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="User", id=user_id)
                )
            self._end_agent_leg(conv, p, "transfer")
            integ = self.store.integrations.get(conv.integration_id, {})
            if queue_id:
                self.last_position.pop(conv.id, None)
                self._enter_queue(integ, conv, queue_id)
            else:
                self._offer(conv, self.store.users[user_id], p.queue_id)

    def agent_send(
        self,
        cid: str,
        comm_id: str,
        user_id: str | None,
        text: str | None,
        content: list[dict] | None = None,
    ) -> MessageRecord:
        """An agent's message on its communication: recorded and delivered to the webhook."""
        with self.store.lock:
            conv = self.conversation(cid)
            p = conv.by_communication(comm_id)
            if p is None or p.purpose != "agent" or p.state != "connected" or conv.ended:
                raise EngineError(
                    400, "bad.request", messages.NOT_AN_AGENT.format(cid=comm_id, id=cid)
                )
            integ = self.store.integrations.get(conv.integration_id)
            if integ is None:
                raise EngineError(
                    404,
                    "not.found",
                    messages.NOT_FOUND_ENTITY.format(kind="Integration", id=conv.integration_id),
                )
            record = self._outbound(integ, conv, p, text, "Human", p.user_id, content)
            self._publish_state(conv)
            return record

    def agent_typing(self, cid: str, comm_id: str, duration: int) -> None:
        with self.store.lock:
            conv = self.conversation(cid)
            p = conv.by_communication(comm_id)
            if p is None or p.purpose != "agent" or p.state != "connected" or conv.ended:
                raise EngineError(
                    400, "bad.request", messages.NOT_AN_AGENT.format(cid=comm_id, id=cid)
                )
            integ = self.store.integrations.get(conv.integration_id)
            if integ is not None and self.store.typing_enabled(integ, "outbound"):
                self.sandbox.webhooks.send_typing(integ, conv, duration)

    def agent_conversations(self, user_id: str) -> list[Conversation]:
        """Active conversations where `user_id` has an alerting/connected leg or pending wrap-up."""
        with self.store.lock:
            out = []
            for conv in self.store.conversations.values():
                legs = [
                    p for p in conv.participants if p.purpose == "agent" and p.user_id == user_id
                ]
                if any(p.active or (p.wrapup_required and p.wrapup is None) for p in legs):
                    out.append(conv)
            return out


def _check_not_wrapped_up(p: Participant) -> None:
    """Genesys applies a leg's wrap-up once (after-call work ends with it). A second one is a
    well-formed request that conflicts with the leg's state, hence 409 `conflict` rather than the
    400 of a malformed request; it changes nothing and publishes no second `acw`."""
    if p.wrapup is not None:
        raise EngineError(
            409,
            "conflict",
            messages.WRAPUP_ALREADY_APPLIED.format(pid=p.id, code=p.wrapup.get("code")),
        )


def _valid_wrapup(wrapup: Any) -> bool:
    """A `WrapupInput`-like object: at least a string `code`."""
    return isinstance(wrapup, dict) and isinstance(wrapup.get("code"), str)
