"""Bodies of the detail events the sandbox publishes on its bus (docs/reference/genesys-completion-detection.md §B.3):
`v2.detail.events.conversation.{id}.<suffix>` with UPPERCASE enums and `eventTime` in epoch ms.

Addresses: on customer-side events `addressFrom` is the customer id and `addressTo` the
integration id; on agent/queue/flow events it is the other way round (`addressTo` = the customer,
which is what Cognigy's data action reads as `userId`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from om_bridge.sandbox.model import Conversation, Participant

# participant purpose -> detail-event topic prefix
DETAIL_PREFIX = {"customer": "customer", "agent": "user", "acd": "acd", "workflow": "flow"}
# detail topics whose SDK models (AfterCallWorkEvent, WrapupEvent, AttributeUpdateEvent) have no
# `divisionId`
NO_DIVISION_SUFFIXES = frozenset({"acw", "wrapup", "attributes"})


def epoch_ms(iso_time: str | None) -> int:
    """ISO-8601 (`...Z`) to epoch milliseconds."""
    if not iso_time:
        return 0
    return int(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp() * 1000)


def disconnect_enum(value: str | None) -> str | None:
    """Conversation-model disconnectType (`transfer.noanswer`) to the detail enum (`NO_ANSWER_TRANSFER`)."""
    if value is None:
        return None
    special = {
        "transfer.conference": "CONFERENCE_TRANSFER",
        "transfer.consult": "CONSULT_TRANSFER",
        "transfer.forward": "FORWARD_TRANSFER",
        "transfer.noanswer": "NO_ANSWER_TRANSFER",
        "transfer.notavailable": "NOT_AVAILABLE_TRANSFER",
        "transfer.dnd": "DND_TRANSFER",
        "endpoint.dnd": "DND_ENDPOINT",
        "transport.failure": "TRANSPORT_FAILURE",
        "session.expired": "SESSION_EXPIRED",
    }
    return special.get(value, value.upper())


def detail_event(
    conv: Conversation, p: Participant, event_time: str, division_id: str | None, **extra: Any
) -> dict:
    """Common detail-event body for participant `p`, plus `extra` type-specific fields; no
    `divisionId` when `division_id` is None (the models of `NO_DIVISION_SUFFIXES` lack it)."""
    customer_side = p.purpose == "customer"
    body: dict[str, Any] = {
        "eventTime": epoch_ms(event_time),
        "conversationId": conv.id,
        "participantId": p.id,
        "sessionId": p.communication_id,
        "mediaType": "MESSAGE",
        "provider": "PureCloud Messaging",
        "direction": "INBOUND",
        "addressFrom": conv.customer_id if customer_side else conv.integration_id,
        "addressTo": conv.integration_id if customer_side else conv.customer_id,
        "messageType": "OPEN",
        "conversationExternalContactIds": [],
        "conversationExternalOrganizationIds": [],
    }
    if division_id is not None:
        body["divisionId"] = division_id
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def duration_ms(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    return max(0, epoch_ms(end) - epoch_ms(start))
