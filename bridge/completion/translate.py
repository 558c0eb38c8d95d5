"""Thin translators: each input shape becomes a `CompletionEvent` (or None when it says nothing
about completion). No decisions here; the dispatcher decides.

A registry maps each detail-topic suffix to its translator (`DETAIL_TRANSLATORS`); the suffixes are
declared in `events.DETAIL_SUFFIXES` and a test fails when the two disagree."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from . import events as ev
from .events import CompletionEvent

_DETAIL_TOPIC = re.compile(r"^v2\.detail\.events\.conversation\.([^.]+)\.(.+)$")
# EventBridge `source`: aws.partner/genesys.com[.test]/cloud/<orgId>/<suffix> (docs/reference/genesys-completion-detection.md §B.1).
_SOURCE = re.compile(r"^aws\.partner/genesys\.com[^/]*/cloud/([^/]+)/")
# Detail-topic placeholders: EventBridge's `{id}` and Cognigy's literal `id` (docs/reference/genesys-completion-detection.md §C.5).
_PLACEHOLDERS = ("{id}", "id")

Translator = Callable[[Mapping[str, Any], str], CompletionEvent]


def _common(kind: str, body: Mapping[str, Any], source: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "source": source,
        "conversation_id": _str(body.get("conversationId")),
        "disconnect_type": ev.normalise_disconnect(body.get("disconnectType")),
        "event_time": ev.epoch_seconds(body.get("eventTime")),
        "participant_id": _str(body.get("participantId")),
        "media_type": _str(body.get("mediaType")),
        "message_type": _str(body.get("messageType")),
    }


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _customer_end(body: Mapping[str, Any], source: str) -> CompletionEvent:
    return CompletionEvent(**_common(ev.CUSTOMER_END, body, source))


def _user_end(body: Mapping[str, Any], source: str) -> CompletionEvent:
    # user.end also fires when the agent transfers; the disconnect type tells them apart.
    kind = ev.TRANSFER if ev.is_transfer(_str(body.get("disconnectType"))) else ev.AGENT_END
    return CompletionEvent(**_common(kind, body, source))


def _acw(body: Mapping[str, Any], source: str) -> CompletionEvent:
    # AfterCallWork has no disconnectType; it fires on transfers as well as on real ends.
    return CompletionEvent(**_common(ev.ACW, body, source))


def _user_start(body: Mapping[str, Any], source: str) -> CompletionEvent:
    return CompletionEvent(**_common(ev.AGENT_START, body, source))


DETAIL_TRANSLATORS: dict[str, Translator] = {
    "customer.end": _customer_end,
    "user.end": _user_end,
    "acw": _acw,
    "user.start": _user_start,
}


def split_topic(topic: str) -> tuple[str | None, str]:
    """(conversation id or None for a pattern, suffix) of a detail topic; a bare suffix such as
    `customer.end` gives (None, suffix). Non-detail topics give (None, topic)."""
    match = _DETAIL_TOPIC.match(topic)
    if not match:
        return None, topic
    conversation, suffix = match.group(1), match.group(2)
    if conversation in _PLACEHOLDERS:
        return None, suffix
    return conversation, suffix


def from_detail(
    topic: str, body: Mapping[str, Any], source: str, organization_id: str | None = None
) -> CompletionEvent | None:
    """A detail event (topic or suffix + body) to an internal event; None for unhandled suffixes."""
    conversation, suffix = split_topic(topic)
    translator = DETAIL_TRANSLATORS.get(suffix)
    if translator is None:
        return None
    event = translator(body, source)
    updates: dict[str, Any] = {}
    if event.conversation_id is None and conversation:
        updates["conversation_id"] = conversation
    if organization_id:
        updates["organization_id"] = organization_id
    if updates:
        event = CompletionEvent(**{**_as_dict(event), **updates})
    return event


def _as_dict(event: CompletionEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in CompletionEvent.__slots__}


def from_eventbridge(envelope: Mapping[str, Any]) -> CompletionEvent | None:
    """An EventBridge envelope (docs/reference/genesys-completion-detection.md §B.2): the concrete topic is `detail.topicName`;
    the organisation comes from `source`."""
    detail = envelope["detail"]
    match = _SOURCE.match(str(envelope.get("source", "")))
    org = match.group(1) if match else None
    return from_detail(detail["topicName"], detail["eventBody"], ev.EVENTBRIDGE, org)


def detail_suffix_of(body: Mapping[str, Any]) -> str | None:
    """The suffix of a data-action detail body that names no topic, told apart by its fields
    (docs/reference/genesys-completion-detection.md §B.3): AcdEnd has `acdOutcome`, FlowEnd `flowId`/`exitReason`, AfterCallWork a
    `userId` with wrap-up fields and no `disconnectType`, UserEnd a `userId` with one,
    CustomerEnd no `userId` and a `disconnectType`."""
    if "acdOutcome" in body or "flowId" in body or "exitReason" in body:
        return None
    if body.get("userId"):
        if "wrapupCode" in body or "wrapupDurationMs" in body or not body.get("disconnectType"):
            return "acw"
        return "user.end"
    if body.get("disconnectType"):
        return "customer.end"
    return None


def from_data_action(body: Mapping[str, Any]) -> CompletionEvent | None:
    """A Web Services Data Action body: Cognigy's `{userId, topic, disconnectType}` (no
    conversation id, no time: the handover is found by customer id) or a detail-event body."""
    topic = _str(body.get("topic"))
    if body.get("conversationId"):
        suffix = split_topic(topic)[1] if topic else detail_suffix_of(body)
        if suffix is None:
            return None
        return from_detail(suffix, body, ev.DATA_ACTION)
    if topic is None:
        return None
    event = from_detail(split_topic(topic)[1], body, ev.DATA_ACTION)
    if event is None:
        return None
    return CompletionEvent(**{**_as_dict(event), "customer_id": _str(body.get("userId"))})


_ENDED_STATES = ("disconnected", "terminated")


def from_conversation(conversation: Mapping[str, Any], source: str) -> CompletionEvent | None:
    """A conversation snapshot (queue/user conversation topics, or REST `MessageConversation`):
    a customer-end event when the customer participant has ended (Genesys's own blueprint tests
    for the customer's `endTime`, docs/reference/genesys-completion-detection.md §A.6 rule 2); None otherwise."""
    conversation_id = _str(conversation.get("id"))
    for participant in conversation.get("participants") or []:
        if not isinstance(participant, Mapping) or participant.get("purpose") != "customer":
            continue
        ended = participant.get("state") in _ENDED_STATES or bool(participant.get("endTime"))
        if ended:
            return CompletionEvent(
                kind=ev.CUSTOMER_END,
                source=source,
                conversation_id=conversation_id,
                disconnect_type=ev.normalise_disconnect(participant.get("disconnectType")),
                event_time=ev.epoch_seconds(participant.get("endTime")),
                participant_id=_str(participant.get("id")),
            )
    return None
