"""Typed events: what the edges turn their input into before the core sees it.

An outbound Open Messaging webhook body (validated against `schemas/genesys-webhook.json` by the
route) becomes one of `AgentMessage`, `BotMessage`, `AgentTyping` or `Receipt` through
`from_wire`; `WIRE_TYPES` is the one table of the Open Messaging types the bridge handles (the
webhook route answers any other type 2xx and ignores it). Completion paths have their own event,
`bridge.completion.events.CompletionEvent`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What every outbound webhook body names: its message, integration, customer, conversation."""

    provider_id: str
    message_id: str | None
    integration_id: str | None
    customer_id: str | None
    conversation_id: str | None
    # Genesys' `channel.time` (ISO 8601), by which a late delivery is placed.
    channel_time: str | None


@dataclass(frozen=True, slots=True)
class AgentMessage(WebhookEvent):
    """An agent's text, attachments, quick replies or cards (`Text` / `Structured`)."""

    text: str | None
    content: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class BotMessage(WebhookEvent):
    """A Genesys bot's message (`originatingEntity: "Bot"`), relayed into the flow."""

    text: str | None
    content: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class AgentTyping(WebhookEvent):
    """An `Event` body: one entry per Typing event in it, its duration in ms when given."""

    durations: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Receipt(WebhookEvent):
    """A receipt for a message the bridge sent (`Delivered`, `Failed`, ...)."""

    status: str | None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _common(provider_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    channel = body.get("channel") or {}
    to = channel.get("to") or {}
    return {
        "provider_id": provider_id,
        "message_id": None if body.get("id") is None else str(body["id"]),
        "integration_id": _str(channel.get("id")),
        "customer_id": _str(to.get("id")),
        "conversation_id": _str(body.get("conversationId")),
        "channel_time": _str(channel.get("time")),
    }


def _content(body: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    return tuple(c for c in body.get("content") or [] if isinstance(c, dict))


def _message(provider_id: str, body: Mapping[str, Any]) -> WebhookEvent:
    kind = BotMessage if body.get("originatingEntity") == "Bot" else AgentMessage
    text = body.get("text")
    return kind(
        **_common(provider_id, body),
        text=text if isinstance(text, str) else None,
        content=_content(body),
    )


def _events(provider_id: str, body: Mapping[str, Any]) -> WebhookEvent:
    durations = tuple(
        (e.get("typing") or {}).get("duration")
        for e in body.get("events") or []
        if isinstance(e, dict) and e.get("eventType") == "Typing"
    )
    return AgentTyping(**_common(provider_id, body), durations=durations)


def _receipt(provider_id: str, body: Mapping[str, Any]) -> WebhookEvent:
    status = body.get("status")
    return Receipt(**_common(provider_id, body), status=status if isinstance(status, str) else None)


# Open Messaging outbound `type` -> its event (docs/reference/genesys-open-messaging.md §5).
WIRE_TYPES: Final[Mapping[str, Callable[[str, Mapping[str, Any]], WebhookEvent]]] = {
    "Text": _message,
    "Structured": _message,
    "Event": _events,
    "Receipt": _receipt,
}
# The types each wire type can become: the router must have a handler for every one.
EVENT_TYPES: Final = (AgentMessage, BotMessage, AgentTyping, Receipt)


def from_wire(provider_id: str, body: Mapping[str, Any]) -> WebhookEvent | None:
    """The event a validated webhook body carries, or None for a type the bridge does not handle."""
    parse = WIRE_TYPES.get(str(body.get("type")))
    return parse(provider_id, body) if parse is not None else None


class Router:
    """One dict from event type to handler; `dispatch` hands an event to its handler."""

    def __init__(self, routes: Mapping[type, Callable[..., Any]]) -> None:
        self._routes = dict(routes)

    @property
    def handled(self) -> frozenset[type]:
        """The event types with a handler."""
        return frozenset(self._routes)

    def dispatch(self, event: object, *args: Any) -> Any:
        """Call the handler of `type(event)` with the event (and `args`); KeyError if none."""
        return self._routes[type(event)](event, *args)


__all__ = [
    "EVENT_TYPES",
    "WIRE_TYPES",
    "AgentMessage",
    "AgentTyping",
    "BotMessage",
    "Receipt",
    "Router",
    "WebhookEvent",
    "from_wire",
]
