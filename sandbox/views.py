"""JSON views of a conversation as Genesys serves them: `MessageConversation`
(`/api/v2/conversations/messages/{id}`), `Conversation` (`/api/v2/conversations/{id}`) and the
`v2.routing.queues.{id}.conversations.messages` / `v2.users.{id}.conversations.messages` snapshot,
and the generic `v2.routing.queues.{id}.conversations` / `v2.users.{id}.conversations` body."""

from __future__ import annotations

from typing import Any

from om_bridge.sandbox import seed
from om_bridge.sandbox.model import Conversation, MessageRecord, Participant
from om_bridge.sandbox.state import Store


def _ref(kind: str, ident: str | None, name: str | None = None) -> dict | None:
    if not ident:
        return None
    out: dict[str, Any] = {"id": ident}
    if name:
        out["name"] = name
    out["selfUri"] = f"/api/v2/{kind}/{ident}"
    return out


def _address(conv: Conversation, p: Participant, integration_name: str) -> tuple[dict, dict]:
    """(fromAddress, toAddress): inbound legs go customer -> integration."""
    customer = {
        "name": conv.customer_name or conv.customer_id,
        "addressNormalized": conv.customer_id,
        "addressRaw": conv.customer_id,
        "addressDisplayable": conv.customer_id,
    }
    integ = {
        "name": integration_name,
        "addressNormalized": conv.integration_id,
        "addressRaw": conv.integration_id,
        "addressDisplayable": integration_name,
    }
    return customer, integ


def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def _details(store: Store, p: Participant) -> list[dict]:
    return [store.messages[m].details() for m in p.message_ids if m in store.messages]


def media_participant(
    store: Store, conv: Conversation, p: Participant, snapshot: bool = False
) -> dict:
    """`MessageMediaParticipant` (or, with `snapshot`, the topic participant of docs/reference/genesys-completion-detection.md §A.5)."""
    integ = store.integrations.get(conv.integration_id, {})
    from_addr, to_addr = _address(conv, p, integ.get("name", ""))
    out: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "address": p.address,
        "startTime": p.start_time,
        "connectedTime": p.connected_time,
        "endTime": p.end_time,
        "purpose": p.purpose,
        "state": p.state,
        "direction": p.direction,
        "disconnectType": p.disconnect_type,
        "held": False,
        "wrapupRequired": p.wrapup_required if p.purpose == "agent" else None,
        "user": (
            _ref("users", p.user_id, p.user_name)
            if not snapshot
            else ({"id": p.user_id} if p.user_id else None)
        ),
        "queue": (
            _ref("routing/queues", p.queue_id, p.queue_name)
            if not snapshot
            else ({"id": p.queue_id} if p.queue_id else None)
        ),
        "attributes": dict(p.attributes),
        "errorInfo": p.error_info,
        "wrapup": _topic_wrapup(p.wrapup) if snapshot else p.wrapup,
        "startAcwTime": p.start_acw_time,
        "endAcwTime": p.end_acw_time,
        "type": "open",
    }
    if snapshot:
        out["initialState"] = p.initial_state
        out["messages"] = [
            {
                "message": {"id": d["messageId"]},
                "messageTime": d["messageTime"],
                "messageStatus": d["messageStatus"],
                "messageSegmentCount": 1,
            }
            for d in _details(store, p)
        ]
    else:
        out["startAlertingTime"] = p.start_alerting_time
        out["toAddress"], out["fromAddress"] = to_addr, from_addr
        out["messages"] = _details(store, p)
    if p.purpose == "agent" and p.queue_id:
        out["conversationRoutingData"] = {
            "queue": {"id": p.queue_id},
            "priority": 0,
            "skills": [],
            "scoredAgents": [],
        }
    return _clean(out)


def message_conversation(store: Store, conv: Conversation) -> dict:
    """`MessageConversation`."""
    return {
        "id": conv.id,
        "participants": [media_participant(store, conv, p) for p in conv.participants],
        "otherMediaUris": [],
        "recentTransfers": [],
        "divisions": seed.home_division_membership(),
        "selfUri": f"/api/v2/conversations/messages/{conv.id}",
    }


def snapshot(store: Store, conv: Conversation) -> dict:
    """Body of the queue/user `conversations.messages` topics (docs/reference/genesys-completion-detection.md §A.5)."""
    return {
        "id": conv.id,
        "participants": [
            media_participant(store, conv, p, snapshot=True) for p in conv.participants
        ],
        "otherMediaUris": [],
    }


def _topic_wrapup(wrapup: dict | None) -> dict | None:
    """A wrap-up as the topic models' `Wrapup` has it: no `name` (the REST `Wrapup` has one)."""
    return {k: v for k, v in wrapup.items() if k != "name"} if wrapup else None


def _topic_error(error: dict | None) -> dict | None:
    """`errorInfo` as the topic models' `ErrorDetails` have it (no `details`/`errors` lists)."""
    if not error:
        return None
    keys = ("status", "code", "message", "messageWithParams", "messageParams", "contextId")
    return {k: error[k] for k in keys if k in error}


def event_conversation(store: Store, conv: Conversation) -> dict:
    """Body of the generic `v2.routing.queues.{id}.conversations` (SDK
    `QueueConversationEventTopicConversation`) and `v2.users.{id}.conversations`
    (`ConversationEventTopicConversation`) topics: the conversation with each participant's
    message communication in `messages[]`, as in the generic `Conversation` view."""
    integ = store.integrations.get(conv.integration_id, {})
    parts = []
    for p in conv.participants:
        from_addr, to_addr = _address(conv, p, integ.get("name", ""))
        details = [
            _clean(
                {
                    "messageId": d["messageId"],
                    "messageTime": d["messageTime"],
                    "messageStatus": d["messageStatus"],
                    "messageSegmentCount": d["messageSegmentCount"],
                    "errorInfo": _topic_error(d.get("errorInfo")),
                }
            )
            for d in _details(store, p)
        ]
        comm = _clean(
            {
                "id": p.communication_id,
                "state": p.state,
                "initialState": p.initial_state,
                "direction": p.direction,
                "held": False,
                "errorInfo": _topic_error(p.error_info),
                "provider": "PureCloud Messaging",
                "disconnectType": p.disconnect_type,
                "connectedTime": p.connected_time,
                "disconnectedTime": p.end_time,
                "toAddress": to_addr,
                "fromAddress": from_addr,
                "messages": details,
                "type": "open",
                "wrapup": _topic_wrapup(p.wrapup),
                "afterCallWork": (
                    {
                        "state": "complete" if p.end_acw_time else "pending",
                        "startTime": p.start_acw_time,
                        "endTime": p.end_acw_time,
                    }
                    if p.start_acw_time
                    else None
                ),
                "afterCallWorkRequired": p.wrapup_required if p.purpose == "agent" else None,
            }
        )
        routing = (
            {"queue": {"id": p.queue_id}, "priority": 0, "skills": [], "scoredAgents": []}
            if p.purpose == "agent" and p.queue_id
            else None
        )
        parts.append(
            _clean(
                {
                    "id": p.id,
                    "connectedTime": p.connected_time,
                    "endTime": p.end_time,
                    "userId": p.user_id,
                    "name": p.name,
                    "queueId": p.queue_id,
                    "purpose": p.purpose,
                    "address": p.address,
                    "wrapupRequired": p.wrapup_required if p.purpose == "agent" else None,
                    "wrapup": _topic_wrapup(p.wrapup),
                    "startAcwTime": p.start_acw_time,
                    "endAcwTime": p.end_acw_time,
                    "conversationRoutingData": routing,
                    "attributes": dict(p.attributes),
                    "messages": [comm],
                }
            )
        )
    return {
        "id": conv.id,
        "maxParticipants": 10,
        "participants": parts,
        "recentTransfers": [],
        "recordingState": "none",
        "divisions": seed.home_division_membership(),
    }


def conversation(store: Store, conv: Conversation) -> dict:
    """`Conversation` (generic media view): each participant's `messages[]` are its message
    communications, whose `id` is the communication id the agent APIs take."""
    integ = store.integrations.get(conv.integration_id, {})
    parts = []
    for p in conv.participants:
        from_addr, to_addr = _address(conv, p, integ.get("name", ""))
        comm = _clean(
            {
                "state": p.state,
                "initialState": p.initial_state,
                "id": p.communication_id,
                "held": False,
                "direction": p.direction,
                "disconnectType": p.disconnect_type,
                "startAlertingTime": p.start_alerting_time,
                "connectedTime": p.connected_time,
                "disconnectedTime": p.end_time,
                "provider": "PureCloud Messaging",
                "type": "open",
                "toAddress": to_addr,
                "fromAddress": from_addr,
                "messages": _details(store, p),
                "wrapup": p.wrapup,
                "afterCallWork": (
                    {
                        "state": "complete" if p.end_acw_time else "pending",
                        "startTime": p.start_acw_time,
                        "endTime": p.end_acw_time,
                    }
                    if p.start_acw_time
                    else None
                ),
                "afterCallWorkRequired": p.wrapup_required if p.purpose == "agent" else None,
            }
        )
        parts.append(
            _clean(
                {
                    "id": p.id,
                    "startTime": p.start_time,
                    "endTime": p.end_time,
                    "connectedTime": p.connected_time,
                    "name": p.name,
                    "userUri": f"/api/v2/users/{p.user_id}" if p.user_id else None,
                    "userId": p.user_id,
                    "queueId": p.queue_id,
                    "queueName": p.queue_name,
                    "purpose": p.purpose,
                    "participantType": "External" if p.purpose == "customer" else "Internal",
                    "address": p.address,
                    "wrapupRequired": p.wrapup_required if p.purpose == "agent" else None,
                    "wrapup": p.wrapup,
                    "attributes": dict(p.attributes),
                    "startAcwTime": p.start_acw_time,
                    "endAcwTime": p.end_acw_time,
                    "messages": [comm],
                }
            )
        )
    return _clean(
        {
            "id": conv.id,
            "startTime": conv.start_time,
            "endTime": conv.end_time,
            "participants": parts,
            "maxParticipants": 10,
            "recordingState": "none",
            "state": "disconnected" if conv.ended else "connected",
            "divisions": seed.home_division_membership(),
            "selfUri": f"/api/v2/conversations/{conv.id}",
        }
    )


def message_data(record: MessageRecord) -> dict:
    return record.to_message_data()
