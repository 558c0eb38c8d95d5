"""The conversation engine: threading, the inbound message flow, queues and routing, and every
agent action, publishing queue/user snapshots and detail events on the bus and queuing outbound
webhooks. All methods run under `store.lock`; bus listeners are called under it too (they must be
quick), which keeps every topic in state-change order."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sandbox import messages, views
from sandbox.events import DETAIL_PREFIX, detail_event, disconnect_enum, duration_ms
from sandbox.model import Conversation, MessageRecord, Participant, new_id
from sandbox.state import now_iso

ROUTABLE = ("IDLE", "INTERACTING")


class EngineError(Exception):
    """A refused action: HTTP `status`, Genesys `code` and a message naming the problem."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def message_id() -> str:
    """Genesys message ids are 32 hex characters."""
    return uuid.uuid4().hex


class ConversationEngine:
    """State machine of the sandbox's Open Messaging conversations."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store
        self.config = sandbox.config
        self.waiting: dict[str, list[str]] = {}  # queue id -> conversation ids, oldest first
        self.last_position: dict[str, int] = {}  # conversation id -> last position announced
        self.customer_typing: dict[str, str] = {}  # conversation id -> time of last inbound typing

    # ---------------------------------------------------------------- publishing
    def _publish_state(self, conv: Conversation) -> None:
        body = views.snapshot(self.store, conv)
        for qid in conv.queues:
            self.sandbox.bus.publish(f"v2.routing.queues.{qid}.conversations.messages", body)
        for uid in conv.agent_ids():
            self.sandbox.bus.publish(f"v2.users.{uid}.conversations.messages", body)

    def _detail(self, conv: Conversation, p: Participant, suffix: str, when: str,
                **extra: Any) -> None:
        body = detail_event(conv, p, when, "home", **extra)
        self.sandbox.bus.publish(f"v2.detail.events.conversation.{conv.id}.{suffix}", body)

    def _start_event(self, conv: Conversation, p: Participant) -> None:
        extra: dict[str, Any] = {}
        if p.purpose == "agent":
            extra = {"userId": p.user_id, "queueId": p.queue_id}
        elif p.purpose == "acd":
            extra = {"queueId": p.queue_id}
        elif p.purpose == "workflow":
            extra = {"flowId": p.flow_id, "flowType": "INBOUNDSHORTMESSAGE"}
        self._detail(conv, p, f"{DETAIL_PREFIX[p.purpose]}.start", p.start_time, **extra)

    # ---------------------------------------------------------------- lookups
    def conversation(self, cid: str) -> Conversation:
        conv = self.store.conversations.get(cid)
        if conv is None:
            raise EngineError(404, "not.found", messages.NOT_FOUND_ENTITY.format(
                kind="Conversation", id=cid))
        return conv

    def participant(self, conv: Conversation, pid: str) -> Participant:
        p = conv.participant(pid)
        if p is None:
            raise EngineError(404, "not.found", messages.NOT_FOUND_ENTITY.format(
                kind="Participant", id=pid))
        return p

    # ---------------------------------------------------------------- inbound
    def inbound_message(self, integ: dict, sender: dict, normalized: dict, text: str | None,
                        provider_message_id: str | None, custom_attributes: dict[str, str],
                        at: str) -> tuple[Conversation, MessageRecord]:
        """Record a customer message: join the customer's open conversation, re-open a recently
        ended one (threading window), or start a new one through the inbound flow."""
        with self.store.lock:
            conv, fresh = self._thread(integ, sender, custom_attributes)
            customer = conv.customer()
            record = MessageRecord(
                id=normalized["id"], conversation_id=conv.id, direction="inbound",
                status="received", timestamp=at, participant_id=customer.id,
                normalized=normalized, text=text, provider_message_id=provider_message_id,
                from_address=conv.customer_id, to_address=conv.integration_id)
            self._add_message(conv, customer, record)
            if custom_attributes:
                customer.attributes.update(custom_attributes)
            if self.config.inbound_receipts:
                self.sandbox.webhooks.send_receipt(integ, conv, record)
            if fresh:
                self._customer_start(conv)
                self._run_flow(integ, conv)
            else:
                self._publish_state(conv)
            return conv, record

    def _thread(self, integ: dict, sender: dict,
                attributes: dict[str, str]) -> tuple[Conversation, bool]:
        key = (integ["id"], sender["id"])
        existing = self.store.conversations.get(self.store.threads.get(key, ""))
        now = now_iso()
        if existing is not None and not existing.ended:
            return existing, False
        window = self.config.threading_window_minutes * 60.0
        if existing is not None and window > 0 and existing.ended_at is not None \
                and time.time() - existing.ended_at <= window:
            # Re-open the same conversation id: the customer is back, the flow runs again.
            existing.end_time = None
            existing.ended_at = None
            customer = existing.customer()
            customer.state, customer.end_time, customer.disconnect_type = "connected", None, None
            customer.connected_time = now
            return existing, True
        conv = Conversation(id=new_id(), integration_id=integ["id"], customer_id=sender["id"],
                            customer_id_type=sender.get("idType", "Opaque"), start_time=now,
                            customer_name=sender.get("nickname") or _full_name(sender))
        customer = Participant(purpose="customer", state="connected", start_time=now,
                               initial_state="connected", connected_time=now,
                               name=conv.customer_name, address=sender["id"],
                               attributes=dict(attributes))
        conv.participants.append(customer)
        self.store.conversations[conv.id] = conv
        self.store.threads[key] = conv.id
        return conv, True

    def _customer_start(self, conv: Conversation) -> None:
        self._start_event(conv, conv.customer())

    def _add_message(self, conv: Conversation, p: Participant, record: MessageRecord) -> None:
        self.store.messages[record.id] = record
        conv.message_ids.append(record.id)
        p.message_ids.append(record.id)

    def _run_flow(self, integ: dict, conv: Conversation) -> None:
        """The inbound message flow: Send Response "Connected", then Transfer to ACD."""
        flow = self.store.integration_flow(integ) or {}
        now = now_iso()
        wf = Participant(purpose="workflow", state="connected", start_time=now,
                         initial_state="connected", connected_time=now,
                         name=flow.get("name", "Inbound Message Flow"),
                         flow_id=flow.get("id"), flow_name=flow.get("name"))
        conv.participants.append(wf)
        self._start_event(conv, wf)
        if self.config.connected_text:
            self.bot_message(integ, conv, wf, self.config.connected_text)
        queue_id = flow.get("queue_id")
        end = now_iso()
        wf.state, wf.end_time, wf.disconnect_type = "disconnected", end, "transfer"
        self._detail(conv, wf, "flow.end", end, flowId=wf.flow_id, flowType="INBOUNDSHORTMESSAGE",
                     disconnectType="TRANSFER", exitReason="TRANSFER", transferType="ACD",
                     connectedDurationMs=duration_ms(wf.connected_time, end))
        if queue_id is None or queue_id not in self.store.queues:
            self._publish_state(conv)
            return
        self._enter_queue(integ, conv, queue_id)

    def bot_message(self, integ: dict, conv: Conversation, p: Participant, text: str) -> MessageRecord:
        """A flow (Bot) text message to the customer through the webhook."""
        return self._outbound(integ, conv, p, text, originating="Bot", user_id=None)

    def _outbound(self, integ: dict, conv: Conversation, p: Participant, text: str | None,
                  originating: str, user_id: str | None,
                  content: list[dict] | None = None) -> MessageRecord:
        mid = message_id()
        at = now_iso()
        envelope = self.sandbox.webhooks.text_envelope(integ, conv, mid, at, text, originating,
                                                       content or [])
        normalized = {k: v for k, v in envelope.items() if k != "conversationId"}
        record = MessageRecord(id=mid, conversation_id=conv.id, direction="outbound",
                               status="queued", timestamp=at, participant_id=p.id,
                               normalized=normalized, text=text, created_by=user_id,
                               originating_entity=originating, from_address=conv.integration_id,
                               to_address=conv.customer_id)
        self._add_message(conv, p, record)
        self.sandbox.webhooks.send(integ, conv.id, envelope, record_id=mid)
        return record

    def _enter_queue(self, integ: dict, conv: Conversation, queue_id: str) -> None:
        now = now_iso()
        queue = self.store.queues[queue_id]
        acd = Participant(purpose="acd", state="connected", start_time=now,
                          initial_state="connected", connected_time=now,
                          name=queue.get("name"), queue_id=queue_id, queue_name=queue.get("name"))
        conv.participants.append(acd)
        if queue_id not in conv.queues:
            conv.queues.append(queue_id)
        self.waiting.setdefault(queue_id, []).append(conv.id)
        self._start_event(conv, acd)
        self._publish_state(conv)
        self._route(queue_id)

    # ---------------------------------------------------------------- routing
    def _agent_load(self, user_id: str) -> int:
        n = 0
        for conv in self.store.conversations.values():
            if conv.ended:
                continue
            n += sum(1 for p in conv.participants
                     if p.purpose == "agent" and p.user_id == user_id and p.active)
        return n

    def _eligible_agent(self, queue_id: str, conv: Conversation) -> dict | None:
        declined = {p.user_id for p in conv.participants if p.purpose == "agent"
                    and p.disconnect_type == "client" and p.connected_time is None}
        candidates = [u for u in self.store.users.values()
                      if queue_id in u.get("queues", []) and u.get("routing_status") in ROUTABLE
                      and u["id"] not in declined
                      and self._agent_load(u["id"]) < self.config.agent_capacity]
        # longest idle first, like Genesys' default "most available" distribution
        candidates.sort(key=lambda u: (self._agent_load(u["id"]), u.get("status_time", "")))
        return candidates[0] if candidates else None

    def _waiting_conv(self, conv: Conversation) -> bool:
        return not conv.ended and any(p.active for p in conv.legs("acd")) and \
            not any(p.active for p in conv.legs("agent"))

    def _route(self, queue_id: str) -> None:
        """Offer waiting conversations of `queue_id` to eligible agents, then announce positions."""
        waiting = self.waiting.get(queue_id, [])
        for cid in list(waiting):
            conv = self.store.conversations.get(cid)
            if conv is None or not self._waiting_conv(conv):
                continue
            agent = self._eligible_agent(queue_id, conv)
            if agent is None:
                break
            self._offer(conv, agent, queue_id)
        self._announce_positions(queue_id)

    def route_all(self) -> None:
        """Re-run routing on every queue (after an agent's routing status changed)."""
        with self.store.lock:
            for qid in list(self.waiting):
                self._route(qid)

    def _offer(self, conv: Conversation, user: dict, queue_id: str | None) -> Participant:
        now = now_iso()
        queue = self.store.queues.get(queue_id or "", {})
        agent = Participant(purpose="agent", state="alerting", start_time=now,
                            initial_state="alerting", start_alerting_time=now,
                            name=user.get("name"), user_id=user["id"], user_name=user.get("name"),
                            queue_id=queue_id, queue_name=queue.get("name"), direction="inbound",
                            address=conv.customer_id)
        conv.participants.append(agent)
        self._set_status(user, "INTERACTING")
        self._start_event(conv, agent)
        self._publish_state(conv)
        return agent

    def _set_status(self, user: dict, status: str) -> None:
        if user.get("routing_status") != status:
            user["routing_status"] = status
            user["status_time"] = now_iso()

    def _release_agent(self, user_id: str | None) -> None:
        user = self.store.users.get(user_id or "")
        if user and user.get("routing_status") == "INTERACTING" and self._agent_load(user["id"]) == 0:
            self._set_status(user, "IDLE")

    def _announce_positions(self, queue_id: str) -> None:
        waiting = [cid for cid in self.waiting.get(queue_id, [])
                   if cid in self.store.conversations
                   and self._waiting_conv(self.store.conversations[cid])]
        self.waiting[queue_id] = waiting
        if not self.config.queue_position_messages:
            return
        for pos, cid in enumerate(waiting, start=1):
            conv = self.store.conversations[cid]
            if any(p.state == "alerting" for p in conv.legs("agent")):
                continue
            if self.last_position.get(cid) == pos:
                continue
            self.last_position[cid] = pos
            integ = self.store.integrations.get(conv.integration_id)
            acd = next(p for p in reversed(conv.participants) if p.purpose == "acd")
            if integ is not None:
                self.bot_message(integ, conv, acd,
                                 self.config.queue_position_text.format(position=pos))

    def set_routing_status(self, user_id: str, status: str) -> dict:
        """PUT routingstatus: `IDLE` puts the agent on queue (and triggers routing), `OFF_QUEUE` off."""
        allowed = ("IDLE", "OFF_QUEUE")
        if status not in allowed:
            raise EngineError(400, "bad.request", messages.STATUS_UNKNOWN.format(
                status=status, allowed=", ".join(allowed)))
        with self.store.lock:
            user = self.store.users[user_id]
            if status == "IDLE" and self._agent_load(user_id) > 0:
                status = "INTERACTING"
            self._set_status(user, status)
            self.route_all()
            return user

    # ---------------------------------------------------------------- agent actions
    def patch_participant(self, cid: str, pid: str, body: dict, actor_user: str | None) -> None:
        """`MediaParticipantRequest`: state connected (answer) / disconnected (end), `wrapup`."""
        with self.store.lock:
            conv = self.conversation(cid)
            p = self.participant(conv, pid)
            state = body.get("state")
            if state == "connected":
                self._answer(conv, p)
            elif state == "disconnected":
                self._disconnect(conv, p)
            elif state is not None:
                raise EngineError(400, "bad.request", messages.PARTICIPANT_STATE.format(
                    pid=pid, state=p.state, target=state))
            if body.get("wrapup") is not None:
                self.apply_wrapup(conv, p, body["wrapup"])
            elif body.get("wrapupSkipped") and p.purpose == "agent" and p.state == "disconnected":
                self.apply_wrapup(conv, p, {"code": "ININ-WRAP-UP-SKIPPED", "name": "Skipped"})

    def _answer(self, conv: Conversation, p: Participant) -> None:
        if p.purpose != "agent" or p.state != "alerting" or conv.ended:
            raise EngineError(400, "bad.request", messages.PARTICIPANT_STATE.format(
                pid=p.id, state=p.state, target="connected"))
        now = now_iso()
        p.state, p.connected_time = "connected", now
        for acd in conv.legs("acd", active_only=True):
            acd.state, acd.end_time, acd.disconnect_type = "disconnected", now, "transfer"
            self._detail(conv, acd, "acd.end", now, queueId=acd.queue_id, disconnectType="TRANSFER",
                         acdOutcome="ANSWERED", answeredUserId=p.user_id, usedRouting="STANDARD",
                         connectedDurationMs=duration_ms(acd.connected_time, now),
                         flowType="INBOUNDSHORTMESSAGE")
        self._publish_state(conv)
        if p.queue_id:
            self._announce_positions(p.queue_id)

    def _disconnect(self, conv: Conversation, p: Participant) -> None:
        if not p.active:
            raise EngineError(400, "bad.request", messages.PARTICIPANT_STATE.format(
                pid=p.id, state=p.state, target="disconnected"))
        if p.purpose == "customer":
            self._end_conversation(conv, customer_type="client", others_type="peer")
            return
        if p.purpose != "agent":
            raise EngineError(400, "bad.request", messages.PARTICIPANT_STATE.format(
                pid=p.id, state=p.state, target="disconnected"))
        declined = p.state == "alerting"
        self._end_agent_leg(conv, p, "client")
        if declined:
            user = self.store.users.get(p.user_id or "")
            if user is not None and self._agent_load(user["id"]) == 0:
                self._set_status(user, "NOT_RESPONDING")
            self._publish_state(conv)
            if p.queue_id:
                self._route(p.queue_id)
            return
        if not any(x.active for x in conv.participants if x.purpose in ("agent", "acd")):
            self._end_conversation(conv, customer_type="peer", others_type="peer")
        else:
            self._publish_state(conv)

    def _end_agent_leg(self, conv: Conversation, p: Participant, dtype: str) -> None:
        now = now_iso()
        was_connected = p.state == "connected"
        p.state, p.end_time, p.disconnect_type = "disconnected", now, dtype
        if was_connected:
            p.wrapup_required = True
            p.start_acw_time = now
        self._detail(conv, p, "user.end", now, userId=p.user_id, queueId=p.queue_id,
                     disconnectType=disconnect_enum(dtype),
                     interactingDurationMs=duration_ms(p.connected_time, now),
                     alertingDurationMs=duration_ms(p.start_alerting_time,
                                                    p.connected_time or now))
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
                self._detail(conv, p, "acd.end", now, queueId=p.queue_id,
                             disconnectType=disconnect_enum(others_type), acdOutcome="ABANDON",
                             flowType="INBOUNDSHORTMESSAGE")
            else:
                p.state, p.end_time, p.disconnect_type = "disconnected", now, others_type
        customer = conv.customer()
        customer.state, customer.end_time, customer.disconnect_type = "disconnected", now, customer_type
        conv.end_time, conv.ended_at = now, time.time()
        self.last_position.pop(conv.id, None)
        self._detail(conv, customer, "customer.end", now, disconnectType=disconnect_enum(customer_type),
                     interactingDurationMs=duration_ms(customer.connected_time, now))
        self._publish_state(conv)
        for qid in conv.queues:
            self._announce_positions(qid)
            self._route(qid)

    def apply_wrapup(self, conv: Conversation, p: Participant, wrapup: dict) -> None:
        """Wrap-up of a disconnected agent leg: ends after-call work, publishes `acw` + `wrapup`."""
        if p.purpose != "agent" or p.state != "disconnected" or not isinstance(wrapup, dict) \
                or not isinstance(wrapup.get("code"), str):
            raise EngineError(400, "bad.request", messages.WRAPUP_NOT_ALLOWED)
        now = now_iso()
        p.end_acw_time = now
        p.wrapup = {k: v for k, v in {
            "code": wrapup["code"], "name": wrapup.get("name") or wrapup["code"],
            "notes": wrapup.get("notes"), "tags": wrapup.get("tags") or [],
            "durationSeconds": (duration_ms(p.start_acw_time, now) or 0) // 1000,
            "endTime": now}.items() if v is not None}
        acw_ms = duration_ms(p.start_acw_time, now)
        self._detail(conv, p, "acw", now, userId=p.user_id, queueId=p.queue_id,
                     wrapupCode=wrapup["code"], wrapupNotes=wrapup.get("notes"),
                     wrapupDurationMs=acw_ms)
        self._detail(conv, p, "wrapup", now, queueId=p.queue_id, wrapupCode=wrapup["code"],
                     wrapupNotes=wrapup.get("notes"), wrapupDurationMs=acw_ms)
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
                raise EngineError(400, "bad.request", messages.PARTICIPANT_STATE.format(
                    pid=pid, state=p.state, target="transfer"))
            if queue_id and queue_id not in self.store.queues:
                raise EngineError(404, "not.found", messages.NOT_FOUND_ENTITY.format(
                    kind="Queue", id=queue_id))
            if user_id and user_id not in self.store.users:
                raise EngineError(404, "not.found", messages.NOT_FOUND_ENTITY.format(
                    kind="User", id=user_id))
            self._end_agent_leg(conv, p, "transfer")
            integ = self.store.integrations.get(conv.integration_id, {})
            if queue_id:
                self.last_position.pop(conv.id, None)
                self._enter_queue(integ, conv, queue_id)
            else:
                self._offer(conv, self.store.users[user_id], p.queue_id)

    def agent_send(self, cid: str, comm_id: str, user_id: str | None, text: str | None,
                   content: list[dict] | None = None) -> MessageRecord:
        """An agent's message on its communication: recorded and delivered to the webhook."""
        with self.store.lock:
            conv = self.conversation(cid)
            p = conv.by_communication(comm_id)
            if p is None or p.purpose != "agent" or p.state != "connected" or conv.ended:
                raise EngineError(400, "bad.request", messages.NOT_AN_AGENT.format(
                    cid=comm_id, id=cid))
            integ = self.store.integrations.get(conv.integration_id)
            if integ is None:
                raise EngineError(404, "not.found", messages.NOT_FOUND_ENTITY.format(
                    kind="Integration", id=conv.integration_id))
            record = self._outbound(integ, conv, p, text, "Human", p.user_id, content)
            self._publish_state(conv)
            return record

    def agent_typing(self, cid: str, comm_id: str, duration: int) -> None:
        with self.store.lock:
            conv = self.conversation(cid)
            p = conv.by_communication(comm_id)
            if p is None or p.purpose != "agent" or p.state != "connected" or conv.ended:
                raise EngineError(400, "bad.request", messages.NOT_AN_AGENT.format(
                    cid=comm_id, id=cid))
            integ = self.store.integrations.get(conv.integration_id)
            if integ is not None and self.store.typing_enabled(integ, "outbound"):
                self.sandbox.webhooks.send_typing(integ, conv, duration)

    def inbound_typing(self, integ: dict, customer_id: str) -> Conversation | None:
        """Customer typing: remembered for the console when inbound typing is enabled."""
        with self.store.lock:
            conv = self.store.conversations.get(
                self.store.threads.get((integ["id"], customer_id), ""))
            if conv is not None and not conv.ended and self.store.typing_enabled(integ, "inbound"):
                self.customer_typing[conv.id] = now_iso()
            return conv

    def receipt(self, integ: dict, mid: str, status: str, reasons: list[dict],
                normalized: dict) -> MessageRecord:
        """Receipt for an outbound message: `Delivered` → delivery-success, `Failed` →
        delivery-failed with `errorInfo`."""
        with self.store.lock:
            record = self.store.messages.get(mid)
            conv = self.store.conversations.get(record.conversation_id) if record else None
            if record is None or conv is None or conv.integration_id != integ["id"] \
                    or record.direction != "outbound":
                raise EngineError(404, "not.found", messages.NOT_FOUND_ENTITY.format(
                    kind="Message", id=mid))
            mapped = {"Delivered": "delivery-success", "Failed": "delivery-failed",
                      "Sent": "sent", "Published": "published", "Removed": "removed",
                      "Read": "read"}
            record.status = mapped.get(status, record.status)
            record.receipts.append(normalized)
            if status == "Failed":
                reason = reasons[0] if reasons else {"code": "GeneralError", "message": "Failed"}
                record.error_info = {"code": reason.get("code", "GeneralError"),
                                     "message": reason.get("message", ""),
                                     "messageWithParams": reason.get("message", ""),
                                     "messageParams": {}, "status": 400,
                                     "contextId": str(uuid.uuid4()), "details": [], "errors": []}
            self._publish_state(conv)
            return record

    def delivery_result(self, record_id: str, ok: bool, error: str | None) -> None:
        """Outcome of the webhook delivery of an outbound message (sent / failed)."""
        with self.store.lock:
            record = self.store.messages.get(record_id)
            if record is None or record.status not in ("queued",):
                return
            record.status = "sent" if ok else "failed"
            if not ok:
                record.error_info = {"code": "webhook.delivery.failed", "message": error or "",
                                     "status": 502, "details": [], "errors": []}

    def agent_conversations(self, user_id: str) -> list[Conversation]:
        """Active conversations where `user_id` has an alerting/connected leg or pending wrap-up."""
        with self.store.lock:
            out = []
            for conv in self.store.conversations.values():
                legs = [p for p in conv.participants if p.purpose == "agent" and p.user_id == user_id]
                if any(p.active or (p.wrapup_required and p.wrapup is None) for p in legs):
                    out.append(conv)
            return out


def _full_name(sender: dict) -> str | None:
    name = " ".join(x for x in (sender.get("firstName"), sender.get("lastName")) if x)
    return name or None
