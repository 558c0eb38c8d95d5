"""Conversation, participant and message records of the sandbox, with their Genesys JSON views
(`MessageConversation`, `Conversation`, queue/user topic snapshots, `MessageData`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

ACTIVE_STATES = ("alerting", "connected")


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Participant:
    """One leg of a conversation (`customer`, `workflow`, `acd` or `agent`)."""

    purpose: str
    state: str
    start_time: str
    id: str = field(default_factory=new_id)
    communication_id: str = field(default_factory=new_id)
    name: str | None = None
    address: str | None = None
    direction: str = "inbound"
    initial_state: str | None = None
    start_alerting_time: str | None = None
    connected_time: str | None = None
    end_time: str | None = None
    disconnect_type: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    queue_id: str | None = None
    queue_name: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)
    wrapup_required: bool = False
    wrapup: dict | None = None
    start_acw_time: str | None = None
    end_acw_time: str | None = None
    flow_id: str | None = None
    flow_name: str | None = None
    error_info: dict | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass
class MessageRecord:
    """One message of a conversation (`MessageData`)."""

    id: str
    conversation_id: str
    direction: str  # inbound | outbound
    status: str
    timestamp: str
    participant_id: str
    normalized: dict  # ConversationNormalizedMessage / Open normalized body
    text: str | None = None
    provider_message_id: str | None = None
    created_by: str | None = None  # user id of an agent sender
    originating_entity: str | None = None  # Human | Bot for outbound
    from_address: str | None = None
    to_address: str | None = None
    receipts: list[dict] = field(default_factory=list)
    error_info: dict | None = None

    def details(self) -> dict:
        """`MessageDetails` entry of a participant's `messages[]`."""
        out: dict[str, Any] = {
            "messageId": self.id,
            "messageURI": f"/api/v2/conversations/messages/{self.conversation_id}/messages/{self.id}",
            "messageStatus": self.status,
            "messageSegmentCount": 1,
            "messageTime": self.timestamp,
        }
        if self.error_info:
            out["errorInfo"] = self.error_info
        return out

    def to_message_data(self) -> dict:
        """`MessageData` view."""
        out: dict[str, Any] = {
            "id": self.id,
            "providerMessageId": self.provider_message_id,
            "timestamp": self.timestamp,
            "fromAddress": self.from_address,
            "toAddress": self.to_address,
            "direction": self.direction,
            "messengerType": "open",
            "status": self.status,
            "normalizedMessage": self.normalized,
            "normalizedReceipts": self.receipts,
            "conversationId": self.conversation_id,
            "selfUri": f"/api/v2/conversations/messages/{self.conversation_id}/messages/{self.id}",
        }
        if self.created_by:
            out["createdBy"] = {
                "id": self.created_by,
                "selfUri": f"/api/v2/users/{self.created_by}",
            }
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class Conversation:
    """An Open Messaging conversation of one customer on one integration."""

    id: str
    integration_id: str
    customer_id: str
    customer_id_type: str
    start_time: str
    participants: list[Participant] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    end_time: str | None = None
    ended_at: float | None = None  # monotonic-free wall clock seconds, for threading
    queues: list[str] = field(default_factory=list)  # every queue the conversation touched
    customer_name: str | None = None

    @property
    def ended(self) -> bool:
        return self.end_time is not None

    def participant(self, pid: str) -> Participant | None:
        return next((p for p in self.participants if p.id == pid), None)

    def by_communication(self, cid: str) -> Participant | None:
        return next((p for p in self.participants if p.communication_id == cid), None)

    def customer(self) -> Participant:
        return next(p for p in self.participants if p.purpose == "customer")

    def legs(self, purpose: str, active_only: bool = False) -> list[Participant]:
        return [
            p for p in self.participants if p.purpose == purpose and (p.active or not active_only)
        ]

    def agent_ids(self) -> list[str]:
        seen: list[str] = []
        for p in self.participants:
            if p.purpose == "agent" and p.user_id and p.user_id not in seen:
                seen.append(p.user_id)
        return seen
