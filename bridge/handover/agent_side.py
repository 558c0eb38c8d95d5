"""Genesys → user: agent texts, attachments, quick replies, typing, bot messages and receipts.

Routing: the webhook names the integration (`channel.id`) and the customer (`channel.to.id`, the
per-handover customer id we sent as `channel.from.id`), which identify exactly one open handover
(docs/design.md §6); a body that does not single one out is never guessed at. Genesys retries a
webhook that is not answered 2xx, and a non-2xx can fail the whole chat, so a genuine message we
cannot deliver is answered 2xx by the route and reported with a `Failed` receipt here (docs/reference/
genesys-open-messaging.md §4.2, §5.7).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from om_bridge.bridge.flow import FlowInput
from om_bridge.bridge.genesys.errors import GenesysError
from om_bridge.bridge.genesys.wire import Customer, receipt_body, structured_response_body
from om_bridge.bridge.handover import messages, replies
from om_bridge.bridge.handover.agents import AgentDirectory
from om_bridge.bridge.handover.events import (
    AgentMessage,
    AgentTyping,
    BotMessage,
    Receipt,
    Router,
    WebhookEvent,
    from_wire,
)
from om_bridge.bridge.metrics import bounded
from om_bridge.bridge.store import Handover, InboundCompletion

if TYPE_CHECKING:
    from om_bridge.bridge.config import Config
    from om_bridge.bridge.flags import Flags
    from om_bridge.bridge.handover.engine import HandoverEngine
    from om_bridge.bridge.handover.ports import Outputs
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import Store

log = logging.getLogger(__name__)
# Open Messaging receipt statuses (docs/reference/genesys-open-messaging.md); others count as "other".
RECEIPT_STATUSES = frozenset({"Delivered", "Read", "Failed", "Published", "Sent", "Removed"})
MAX_PENDING_SETS = 5


def _pending_sets(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Remembered button sets, newest first (also the single set older records kept)."""
    sets = [e for e in data.get("structured_options") or [] if isinstance(e, dict)]
    legacy = data.get("quick_replies")
    if isinstance(legacy, dict) and legacy.get("message_id"):
        sets.append(legacy)
    return sets


def quick_reply_options(content: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`{text, payload, image}` of each QuickReply element
    (docs/reference/genesys-open-messaging.md §5.4)."""
    out = []
    for c in content:
        qr = c.get("quickReply") if c.get("contentType") == "QuickReply" else None
        if isinstance(qr, dict) and qr.get("text"):
            out.append(
                {
                    "text": qr.get("text"),
                    "payload": qr.get("payload", qr.get("text")),
                    "image": qr.get("image"),
                }
            )
    return out


def quick_replies_data(text: str | None, options: list[dict[str, Any]]) -> dict[str, Any]:
    """Cognigy's default-channel quick replies (`_cognigy._default._quickReplies`)."""
    return {
        "type": "quick_replies",
        "text": text,
        "quickReplies": [
            {
                "id": i,
                "contentType": "postback",
                "title": o.get("text"),
                "payload": o.get("payload", o.get("text")),
                "imageUrl": o.get("image"),
            }
            for i, o in enumerate(options)
        ],
    }


def card_list(content: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The cards of Card and Carousel elements, in order
    (docs/reference/genesys-open-messaging.md §5.4)."""
    cards: list[dict[str, Any]] = []
    for c in content:
        if c.get("contentType") == "Card" and isinstance(c.get("card"), dict):
            cards.append(c["card"])
        elif c.get("contentType") == "Carousel" and isinstance(c.get("carousel"), dict):
            cards.extend(x for x in c["carousel"].get("cards") or [] if isinstance(x, dict))
    return cards


def gallery_data(text: str | None, cards: list[dict[str, Any]]) -> dict[str, Any]:
    """Cognigy's default-channel gallery (`_cognigy._default._gallery`): one item per card, its
    Postback actions as postback buttons and Link actions as web_url buttons."""
    items = []
    for card in cards:
        buttons = []
        for a in card.get("actions") or []:
            if not isinstance(a, dict):
                continue
            if a.get("type") == "Link":
                buttons.append({"type": "web_url", "title": a.get("text"), "url": a.get("url")})
            else:
                buttons.append(
                    {
                        "type": "postback",
                        "title": a.get("text"),
                        "payload": a.get("payload") or a.get("text"),
                    }
                )
        items.append(
            {
                "title": card.get("title"),
                "subtitle": card.get("description"),
                "imageUrl": card.get("image"),
                "buttons": buttons,
            }
        )
    return {"type": "carousel", "fallbackText": text, "items": items}


def agent_output(event: WebhookEvent, text: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """The user's output of an agent message: with Genesys' `channel.time` as `sent` and its
    message id, by which the output hub places a delivery that arrived late."""
    output: dict[str, Any] = {"source": "agent", "text": text, "data": data or None}
    if event.channel_time:
        output["sent"] = event.channel_time
        if event.message_id:
            output["messageId"] = event.message_id
    return output


class AgentSide:
    """Handles verified outbound webhook bodies for the engine."""

    def __init__(
        self,
        engine: HandoverEngine,
        *,
        config: Config,
        flags: Flags,
        store: Store,
        outputs: Outputs,
        agents: AgentDirectory,
        metrics: Metrics,
    ) -> None:
        self.engine = engine
        self.config, self.flags, self.store, self.outputs = config, flags, store, outputs
        self.agents = agents
        self.receipts = metrics.counter(
            "genesys_receipts_total", "Receipts received from Genesys", ["status"]
        )
        # Every event `from_wire` makes has its handler here (a unit test checks it).
        self.router = Router(
            {
                AgentMessage: self._agent_message,
                BotMessage: self._bot_message,
                AgentTyping: self._typing,
                Receipt: lambda event, handover, _completion: self._receipt_received(
                    event, handover
                ),
            }
        )

    def handle(
        self, provider_id: str, payload: dict[str, Any], completion: InboundCompletion | None = None
    ) -> None:
        """Turn one webhook body into its typed event and route it; an agent output is stored
        together with the removal of its inbound item (`completion`), so a redelivery can never
        show it twice."""
        event = from_wire(provider_id, payload)
        if event is None:
            log.info(messages.LOG_UNHANDLED_TYPE, payload.get("id"), payload.get("type"))
            return
        handover = self.find(
            provider_id, event.integration_id, event.customer_id, event.conversation_id
        )
        if isinstance(event, Receipt):
            self._receipt_received(event, handover)
            return
        if handover is None:
            if isinstance(event, AgentTyping):
                log.info(
                    messages.LOG_NO_HANDOVER_EVENT, event.message_id, "Event", event.integration_id
                )
                return
            log.info(messages.LOG_NO_HANDOVER, event.message_id, event.integration_id)
            self.failed_receipt(
                provider_id,
                event.integration_id,
                event.customer_id,
                event.message_id,
                "InvalidDestination",
                messages.RECEIPT_NO_HANDOVER,
            )
            return
        handover = self.engine.learn_conversation(
            handover, event.conversation_id, event.integration_id
        )
        self.router.dispatch(event, handover, completion)

    def _receipt_received(self, event: Receipt, handover: Handover | None) -> None:
        self.receipts.labels(bounded(event.status, RECEIPT_STATUSES)).inc()
        log.debug(
            messages.LOG_RECEIPT, event.message_id, event.status, handover.id if handover else "-"
        )

    def find(
        self,
        provider_id: str,
        integration_id: str | None,
        customer_id: str | None,
        conversation_id: str | None = None,
    ) -> Handover | None:
        """The open handover of this customer on this integration, or None (also when the
        customer id does not single out one handover of this provider)."""
        if not integration_id or not customer_id:
            return None
        store = self.store
        handover = store.handover_by_customer(integration_id, customer_id, conversation_id)
        if handover is None:
            # The integration id is stored just before the first message goes out; an older
            # record (or one from a process that stopped in between) may still lack it.
            handover = store.handover_by_customer(None, customer_id, conversation_id)
        if handover is None or handover.provider_id != provider_id:
            return None
        return handover

    # -- message kinds --------------------------------------------------------------------
    def _agent_message(
        self, event: AgentMessage, handover: Handover, completion: InboundCompletion | None
    ) -> None:
        if handover.status != "active":
            handover = self.engine.advance(handover.id, "active") or handover
        data: dict[str, Any] = {}
        if handover.settings.get("display_agent_details"):
            agent = self.agents.details(handover, event.message_id, event.conversation_id)
            if agent:
                data["agent"] = agent
        content = list(event.content)
        attachments = [
            c["attachment"]
            for c in content
            if c.get("contentType") == "Attachment" and isinstance(c.get("attachment"), dict)
        ]
        if attachments:
            data["attachments"] = attachments
        text = event.text
        options = quick_reply_options(content)
        if options:
            data["_cognigy"] = {"_default": {"_quickReplies": quick_replies_data(text, options)}}
        cards = card_list(content)
        if cards:
            gallery = gallery_data(text, cards)
            data.setdefault("_cognigy", {}).setdefault("_default", {})["_gallery"] = gallery
        buttons = [dict(o, type="QuickReply") for o in options] + [
            {"text": a.get("text"), "payload": a.get("payload") or a.get("text"), "type": "Button"}
            for card in cards
            for a in card.get("actions") or []
            if isinstance(a, dict) and a.get("type") == "Postback"
        ]
        if buttons:
            self._remember_quick_replies(handover, event.message_id, buttons)
        # Kept for the handover's outcome and the session transcript before the user can see it,
        # so an end that follows the message at once still finds it.
        self.engine.record_agent_line(
            handover, text, {"attachments": attachments} if attachments else None
        )
        output = agent_output(event, text, data)
        ref = {
            "provider_id": handover.provider_id,
            "integration_id": handover.integration_id,
            "customer_id": handover.customer_id,
            "message_id": event.message_id,
        }
        try:
            due_now = self.engine.flow_of(handover.session).deliver(
                handover, output, ref, completion
            )
        except Exception as exc:
            log.warning(messages.LOG_DELIVERY_FAILED, event.message_id, type(exc).__name__)
            self.failed_receipt(
                handover.provider_id,
                handover.integration_id,
                handover.customer_id,
                event.message_id,
                "GeneralError",
                messages.RECEIPT_DELIVERY_FAILED,
            )
            return
        self.engine.relayed.labels("to_user").inc()
        if due_now:
            self.receipt(ref, delivered=True)

    def _typing(
        self, event: AgentTyping, handover: Handover, _completion: InboundCompletion | None
    ) -> None:
        for duration in event.durations:
            if handover.status != "active" or (handover.agent or {}).get("stale"):
                # Only a connected agent types: the handover is active, and after a transfer
                # this is the new agent (read once, before their first message).
                handover = self.engine.advance(handover.id, "active") or handover
                self.engine.agent_changed(handover.id)
            data: dict[str, Any] = {"typing": True}
            if duration is not None:
                data["duration"] = duration
            if handover.settings.get("display_agent_details"):
                # Looked up once (then cached) so even the first typing indicator names the agent.
                agent = self.agents.cached(handover) or self.agents.details(
                    handover, event.message_id, event.conversation_id
                )
                if agent:
                    data["agent"] = agent
            self.outputs.emit(handover.session, {"source": "agent", "text": None, "data": data})

    def _bot_message(
        self, event: BotMessage, handover: Handover, completion: InboundCompletion | None = None
    ) -> None:
        if not self.flags.handle_bot_message:
            log.debug(messages.LOG_BOT_MESSAGE_HIDDEN, event.message_id)
            return
        self.engine.flow_of(handover.session).bot_message(handover, event, completion)

    def bot_message_in_flow(self, event: BotMessage, handover: Handover) -> None:
        """A Genesys bot message for a session whose flow runs here: a `genericHandoverUpdate`
        input into the flow; its outputs to the user (quick replies kept as buttons)."""
        text = event.text
        key = handover.session
        endpoint = self.config.endpoints.get(key.url_token)
        if endpoint is None:
            return
        with self.store.session_lock(key):
            state = self.engine.load_state(key)
            flow_input = FlowInput.event(
                key, {"status": "genericHandoverUpdate"}, data={"request": {"text": text}}
            )
            outputs, state = self.engine.run_flow(endpoint, key, state, flow_input)
            self.store.save_session(key, state.to_dict())
        current = self.store.get_handover(handover.id) or handover
        # A Genesys bot message's quick replies stay buttons on the output that shows its text,
        # and a click answers them as Genesys expects (a structured response).
        options = quick_reply_options(list(event.content))
        for output in replies.for_user(outputs):
            record = replies.bot_output(output)
            if options and text and output.text == text:
                data = dict(record.get("data") or {})
                data["_cognigy"] = {
                    "_default": {"_quickReplies": quick_replies_data(text, options)}
                }
                record["data"] = data
            self.outputs.emit(key, record)
        if options and current.is_open:
            self._remember_quick_replies(
                current, event.message_id, [dict(o, type="QuickReply") for o in options]
            )
        if current.is_open:
            for output in replies.for_agent(outputs):
                self.engine.send_text_to_agent(current, output.text)

    # -- quick replies --------------------------------------------------------------------
    def _remember_quick_replies(
        self, handover: Handover, message_id: str | None, options: list[dict[str, Any]]
    ) -> None:
        """Remember the buttons of a structured message (quick replies or card postbacks) so a
        user's click is answered with a structured response naming that message; the buttons of
        the last few messages are kept, newest first."""
        if not message_id:
            return
        current = self.store.get_handover(handover.id) or handover
        data = dict(current.data or {})
        entry = {
            "message_id": message_id,
            "options": [
                {
                    "text": o.get("text"),
                    "payload": o.get("payload", o.get("text")),
                    "type": o.get("type") or "QuickReply",
                }
                for o in options
            ],
        }
        older = [e for e in _pending_sets(data) if e.get("message_id") != message_id]
        data.pop("quick_replies", None)
        data["structured_options"] = [entry, *older][:MAX_PENDING_SETS]
        self.store.update_handover(handover.id, data=data)

    def answer_quick_reply(
        self, handover: Handover, text: str | None, message_id: str | None = None
    ) -> bool:
        """If `text` picks one of the pending quick replies or card buttons, send a structured
        response to the message that offered it (docs/reference/genesys-open-messaging.md §4.3)."""
        if not text:
            return False
        pending = _pending_sets(handover.data or {})
        chosen = text.strip().lower()
        for entry in pending:
            for option in entry.get("options", []):
                if chosen not in (
                    str(option.get("text") or "").strip().lower(),
                    str(option.get("payload") or "").strip().lower(),
                ):
                    continue
                response_type = option.get("type") or "QuickReply"
                body = structured_response_body(
                    Customer(handover.customer_id),
                    message_id or str(uuid.uuid4()),
                    text=str(option.get("text") or text),
                    payload=str(option.get("payload") or text),
                    originating_message_id=entry["message_id"],
                    response_type=response_type,
                    time=None,
                )
                if response_type == "QuickReply":  # answered once; card buttons stay usable
                    data = {k: v for k, v in (handover.data or {}).items() if k != "quick_replies"}
                    data["structured_options"] = [e for e in pending if e is not entry]
                    self.store.update_handover(handover.id, data=data)
                self.engine.put(handover, "structured", body, from_user=True)
                self.engine.relayed.labels("to_agent").inc()
                return True
        return False

    # -- receipts -------------------------------------------------------------------------
    def receipt(self, ref: dict[str, Any], delivered: bool) -> None:
        """The receipt of an agent message (`ref`: provider_id, integration_id, customer_id,
        message_id): Delivered, or Failed because it could not reach the user."""
        if not delivered:
            self.failed_receipt(
                ref.get("provider_id") or "",
                ref.get("integration_id"),
                ref.get("customer_id"),
                ref.get("message_id"),
                "GeneralError",
                messages.RECEIPT_DELIVERY_FAILED,
            )
            return
        if not (ref.get("message_id") and ref.get("integration_id") and ref.get("customer_id")):
            return
        body = receipt_body(
            ref["message_id"],
            ref["customer_id"],
            "Delivered",
            reasons=None,
            is_final=True,
            time=None,
        )
        self.engine.receipts.send(
            ref["provider_id"], ref["integration_id"], ref["customer_id"], body
        )

    def failed_receipt(
        self,
        provider_id: str,
        integration_id: str | None,
        customer_id: str | None,
        message_id: str | None,
        code: str,
        text: str,
    ) -> None:
        """Tell Genesys an agent message could not reach the user (a direct, retried call)."""
        if not message_id or not customer_id or not integration_id:
            return
        try:
            body = receipt_body(
                message_id,
                customer_id,
                "Failed",
                reasons=[{"code": code, "message": text}],
                is_final=True,
                time=None,
            )
        except (ValueError, GenesysError):
            return
        self.engine.receipts.send(provider_id, integration_id, customer_id, body)
