"""Typed webhook events: every Open Messaging type the route handles becomes an event, and every
event has a handler in the agent side's router (a type handled but not routed fails here)."""

from __future__ import annotations

from types import SimpleNamespace

from om_bridge.bridge.handover.agent_side import AgentSide
from om_bridge.bridge.handover.events import (
    EVENT_TYPES,
    WIRE_TYPES,
    AgentMessage,
    AgentTyping,
    BotMessage,
    Receipt,
    from_wire,
)
from om_bridge.bridge.metrics import Metrics
from om_bridge.bridge.webhooks.routes import HANDLED_TYPES

CHANNEL = {"id": "integration-1", "to": {"id": "customer-1"}, "time": "2026-01-01T00:00:00.000Z"}


def test_the_route_handles_exactly_the_types_with_an_event():
    assert HANDLED_TYPES == frozenset(WIRE_TYPES) == {"Text", "Structured", "Event", "Receipt"}


def test_every_event_type_has_a_route():
    side = AgentSide(
        SimpleNamespace(),  # type: ignore[arg-type]
        config=SimpleNamespace(),  # type: ignore[arg-type]
        flags=SimpleNamespace(),  # type: ignore[arg-type]
        store=SimpleNamespace(),  # type: ignore[arg-type]
        outputs=SimpleNamespace(),  # type: ignore[arg-type]
        agents=SimpleNamespace(),  # type: ignore[arg-type]
        metrics=Metrics(),
    )
    assert side.router.handled == frozenset(EVENT_TYPES)


def test_from_wire_makes_the_typed_event():
    base = {"id": "m1", "channel": CHANNEL, "conversationId": "conv-1"}
    text = from_wire("p", {**base, "type": "Text", "text": "hi", "content": [{"x": 1}, "junk"]})
    assert isinstance(text, AgentMessage)
    assert (text.message_id, text.integration_id, text.customer_id) == (
        "m1",
        "integration-1",
        "customer-1",
    )
    assert text.conversation_id == "conv-1" and text.channel_time == CHANNEL["time"]
    assert text.text == "hi" and text.content == ({"x": 1},)
    bot = from_wire("p", {**base, "type": "Structured", "originatingEntity": "Bot"})
    assert isinstance(bot, BotMessage) and bot.text is None
    typing = from_wire(
        "p",
        {
            **base,
            "type": "Event",
            "events": [
                {"eventType": "Typing", "typing": {"type": "On", "duration": 5000}},
                {"eventType": "Presence"},
                {"eventType": "Typing"},
            ],
        },
    )
    assert isinstance(typing, AgentTyping) and typing.durations == (5000, None)
    receipt = from_wire("p", {**base, "type": "Receipt", "status": "Delivered"})
    assert isinstance(receipt, Receipt) and receipt.status == "Delivered"
    assert from_wire("p", {**base, "type": "Video"}) is None
