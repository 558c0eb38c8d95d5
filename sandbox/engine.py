"""The conversation engine: threading, the inbound message flow, queues and routing, and every
agent action, publishing queue/user snapshots and detail events on the bus and queuing outbound
webhooks. All methods run under `store.lock`; bus listeners are called under it too (they must be
quick), which keeps every topic in state-change order."""

from __future__ import annotations

import uuid
from typing import Any

from om_bridge.sandbox import messages, seed, views
from om_bridge.sandbox.engine_agent import AgentActions
from om_bridge.sandbox.engine_routing import Routing
from om_bridge.sandbox.errors import EngineError
from om_bridge.sandbox.events import (
    DETAIL_PREFIX,
    NO_DIVISION_SUFFIXES,
    detail_event,
    duration_ms,
)
from om_bridge.sandbox.model import Conversation, MessageRecord, Participant, new_id
from om_bridge.sandbox.state import now_iso

__all__ = ["ConversationEngine", "EngineError", "message_id"]


def message_id() -> str:
    """Genesys message ids are 32 hex characters."""
    return uuid.uuid4().hex


class ConversationEngine(Routing, AgentActions):
    """State machine of the sandbox's Open Messaging conversations."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store
        self.config = sandbox.config
        self.waiting: dict[str, list[str]] = {}  # queue id -> conversation ids, oldest first
        self.loads: dict[str, int] = {}  # user id -> active (alerting/connected) agent legs
        self.last_position: dict[str, int] = {}  # conversation id -> last position announced
        self.dirty: dict[str, int] = {}  # queue id -> first waiting index whose position changed
        self.customer_typing: dict[str, str] = {}  # conversation id -> time of last inbound typing

    # ---------------------------------------------------------------- publishing
    def _publish_state(self, conv: Conversation) -> None:
        """Every conversation change: the message topics' snapshot and the generic topics' body
        (Genesys publishes both on each change) to each queue the conversation was in and to each
        agent who had a leg in it."""
        body = views.snapshot(self.store, conv)
        generic = views.event_conversation(self.store, conv)
        bus = self.sandbox.bus
        for qid in conv.queues:
            bus.publish(f"v2.routing.queues.{qid}.conversations.messages", body)
            bus.publish(f"v2.routing.queues.{qid}.conversations", generic)
        for uid in conv.agent_ids():
            bus.publish(f"v2.users.{uid}.conversations.messages", body)
            bus.publish(f"v2.users.{uid}.conversations", generic)

    def _detail(
        self, conv: Conversation, p: Participant, suffix: str, when: str, **extra: Any
    ) -> None:
        # AfterCallWorkEvent, WrapupEvent and AttributeUpdateEvent have no divisionId
        division = None if suffix in NO_DIVISION_SUFFIXES else seed.HOME_DIVISION_ID
        body = detail_event(conv, p, when, division, **extra)
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
            raise EngineError(
                404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Conversation", id=cid)
            )
        return conv

    def participant(self, conv: Conversation, pid: str) -> Participant:
        p = conv.participant(pid)
        if p is None:
            raise EngineError(
                404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Participant", id=pid)
            )
        return p

    # ---------------------------------------------------------------- inbound
    def inbound_message(
        self,
        integ: dict,
        sender: dict,
        normalized: dict,
        text: str | None,
        provider_message_id: str | None,
        custom_attributes: dict[str, str],
        at: str,
    ) -> tuple[Conversation, MessageRecord]:
        """Record a customer message: join the customer's open conversation, re-open a recently
        ended one (threading window), or start a new one through the inbound flow."""
        with self.store.lock:
            # conversations are only created here, so pruning here bounds their number
            self._forget_ended()
            conv, fresh = self._thread(integ, sender, custom_attributes)
            customer = conv.customer()
            record = MessageRecord(
                id=normalized["id"],
                conversation_id=conv.id,
                direction="inbound",
                status="received",
                timestamp=at,
                participant_id=customer.id,
                normalized=normalized,
                text=text,
                provider_message_id=provider_message_id,
                from_address=conv.customer_id,
                to_address=conv.integration_id,
            )
            self._add_message(conv, customer, record)
            if provider_message_id:
                key = (conv.integration_id, conv.customer_id, provider_message_id)
                self.store.inbound_ids[key] = record.id
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

    def _thread(
        self, integ: dict, sender: dict, attributes: dict[str, str]
    ) -> tuple[Conversation, bool]:
        key = (integ["id"], sender["id"])
        existing = self.store.conversations.get(self.store.threads.get(key, ""))
        now = now_iso()
        if existing is not None and not existing.ended:
            return existing, False
        window = self.config.threading_window_minutes * 60.0
        if (
            existing is not None
            and window > 0
            and existing.ended_at is not None
            and self.store.clock() - existing.ended_at <= window
        ):
            # Re-open the same conversation id: the customer is back, the flow runs again.
            existing.end_time = None
            existing.ended_at = None
            customer = existing.customer()
            customer.state, customer.end_time, customer.disconnect_type = "connected", None, None
            customer.connected_time = now
            return existing, True
        conv = Conversation(
            id=new_id(),
            integration_id=integ["id"],
            customer_id=sender["id"],
            customer_id_type=sender.get("idType", "Opaque"),
            start_time=now,
            customer_name=sender.get("nickname") or _full_name(sender),
        )
        customer = Participant(
            purpose="customer",
            state="connected",
            start_time=now,
            initial_state="connected",
            connected_time=now,
            name=conv.customer_name,
            address=sender["id"],
            attributes=dict(attributes),
        )
        conv.participants.append(customer)
        self.store.conversations[conv.id] = conv
        self.store.threads[key] = conv.id
        return conv, True

    def _forget_ended(self) -> None:
        """Drop conversations ended longer ago than the retention (`[conversations]
        retention_minutes`), with what the engine and the media store keep for them; a GET of
        one is then a 404, as Genesys answers for a conversation it no longer has."""
        for conv in self.store.forget_ended(self.config.retention_seconds):
            self.customer_typing.pop(conv.id, None)
            self.last_position.pop(conv.id, None)
            media = getattr(self.sandbox, "media", None)
            if media is not None:
                media.forget_conversation(conv.id)

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
        wf = Participant(
            purpose="workflow",
            state="connected",
            start_time=now,
            initial_state="connected",
            connected_time=now,
            name=flow.get("name", "Inbound Message Flow"),
            flow_id=flow.get("id"),
            flow_name=flow.get("name"),
        )
        conv.participants.append(wf)
        self._start_event(conv, wf)
        if self.config.connected_text:
            self.bot_message(integ, conv, wf, self.config.connected_text)
        queue_id = flow.get("queue_id")
        end = now_iso()
        wf.state, wf.end_time, wf.disconnect_type = "disconnected", end, "transfer"
        self._detail(
            conv,
            wf,
            "flow.end",
            end,
            flowId=wf.flow_id,
            flowType="INBOUNDSHORTMESSAGE",
            disconnectType="TRANSFER",
            exitReason="TRANSFER",
            transferType="ACD",
            connectedDurationMs=duration_ms(wf.connected_time, end),
        )
        if queue_id is None or queue_id not in self.store.queues:
            self._publish_state(conv)
            return
        self._enter_queue(integ, conv, queue_id)

    def bot_message(
        self,
        integ: dict,
        conv: Conversation,
        p: Participant,
        text: str,
        content: list[dict] | None = None,
    ) -> MessageRecord:
        """A flow (Bot) message to the customer through the webhook (Structured with quick replies)."""
        return self._outbound(
            integ, conv, p, text, originating="Bot", user_id=None, content=content
        )

    def flow_message(self, cid: str, text: str, quick_replies: list[str]) -> MessageRecord:
        """A Bot message from the conversation's latest flow/queue leg (sandbox admin route)."""
        with self.store.lock:
            conv = self.conversation(cid)
            integ = self.store.integrations.get(conv.integration_id)
            legs = [p for p in conv.participants if p.purpose in ("workflow", "acd")]
            if conv.ended or integ is None or not legs:
                raise EngineError(400, "bad.request", messages.CONVERSATION_ENDED.format(id=cid))
            content = [
                {
                    "contentType": "QuickReply",
                    "quickReply": {"text": q, "payload": q, "action": "Message"},
                }
                for q in quick_replies
            ]
            record = self.bot_message(integ, conv, legs[-1], text, content)
            self._publish_state(conv)
            return record

    def _outbound(
        self,
        integ: dict,
        conv: Conversation,
        p: Participant,
        text: str | None,
        originating: str,
        user_id: str | None,
        content: list[dict] | None = None,
    ) -> MessageRecord:
        mid = message_id()
        at = now_iso()
        envelope = self.sandbox.webhooks.text_envelope(
            integ, conv, mid, at, text, originating, content or []
        )
        normalized = {k: v for k, v in envelope.items() if k != "conversationId"}
        record = MessageRecord(
            id=mid,
            conversation_id=conv.id,
            direction="outbound",
            status="queued",
            timestamp=at,
            participant_id=p.id,
            normalized=normalized,
            text=text,
            created_by=user_id,
            originating_entity=originating,
            from_address=conv.integration_id,
            to_address=conv.customer_id,
        )
        self._add_message(conv, p, record)
        self.sandbox.webhooks.send(integ, conv.id, envelope, record_id=mid)
        return record

    def _enter_queue(self, integ: dict, conv: Conversation, queue_id: str) -> None:
        now = now_iso()
        queue = self.store.queues[queue_id]
        acd = Participant(
            purpose="acd",
            state="connected",
            start_time=now,
            initial_state="connected",
            connected_time=now,
            name=queue.get("name"),
            queue_id=queue_id,
            queue_name=queue.get("name"),
        )
        conv.participants.append(acd)
        if queue_id not in conv.queues:
            conv.queues.append(queue_id)
        self._queue(conv, queue_id)
        self._start_event(conv, acd)
        self._publish_state(conv)
        self._route(queue_id)

    def inbound_typing(self, integ: dict, customer_id: str) -> Conversation | None:
        """Customer typing: remembered for the console when inbound typing is enabled."""
        with self.store.lock:
            conv = self.store.conversations.get(
                self.store.threads.get((integ["id"], customer_id), "")
            )
            if conv is not None and not conv.ended and self.store.typing_enabled(integ, "inbound"):
                self.customer_typing[conv.id] = now_iso()
            return conv

    def receipt(
        self, integ: dict, mid: str, status: str, reasons: list[dict], normalized: dict
    ) -> MessageRecord:
        """Receipt for an outbound message: `Delivered` → delivery-success, `Failed` →
        delivery-failed with `errorInfo`."""
        with self.store.lock:
            record = self.store.messages.get(mid)
            conv = self.store.conversations.get(record.conversation_id) if record else None
            if (
                record is None
                or conv is None
                or conv.integration_id != integ["id"]
                or record.direction != "outbound"
            ):
                raise EngineError(
                    404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Message", id=mid)
                )
            mapped = {
                "Delivered": "delivery-success",
                "Failed": "delivery-failed",
                "Sent": "sent",
                "Published": "published",
                "Removed": "removed",
                "Read": "read",
            }
            record.status = mapped.get(status, record.status)
            record.receipts.append(normalized)
            if status == "Failed":
                reason = reasons[0] if reasons else {"code": "GeneralError", "message": "Failed"}
                record.error_info = {
                    "code": reason.get("code", "GeneralError"),
                    "message": reason.get("message", ""),
                    "messageWithParams": reason.get("message", ""),
                    "messageParams": {},
                    "status": 400,
                    "contextId": str(uuid.uuid4()),
                    "details": [],
                    "errors": [],
                }
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
                record.error_info = {
                    "code": "webhook.delivery.failed",
                    "message": error or "",
                    "status": 502,
                    "details": [],
                    "errors": [],
                }


def _full_name(sender: dict) -> str | None:
    name = " ".join(x for x in (sender.get("firstName"), sender.get("lastName")) if x)
    return name or None
