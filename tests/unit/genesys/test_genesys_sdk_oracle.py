"""Every request body the client builds fits its route's SDK model, with no unknown fields."""

from __future__ import annotations

import re

import pytest
import responses
from genesys_testkit import API, FakeClock, add_token, api_calls, body_of, make_client
from PureCloudPlatformClientV2 import ApiClient, models

from om_bridge.bridge.genesys import SDK_MODELS, Customer

SDK = ApiClient()
INTEGRATIONS = API + "/api/v2/conversations/messaging/integrations/open"
INBOUND = API + "/api/v2/conversations/messages/int-1/inbound/open"
CHANNELS = API + "/api/v2/notifications/channels"
# docs/reference/genesys-open-messaging.md §3.1: the SDK's ConversationChannelMetadata lacks customAttributes, yet it is where
# Genesys reads participant data — the one documented field outside the model.
ALLOWED_EXTRA = {("OpenInboundMessageMessagingChannel", "metadata", "customAttributes")}

CUSTOMER = Customer(
    "cust-1",
    id_type="email",
    nickname="Jane",
    first_name="Jane",
    last_name="Doe",
    email="jane@example.com",
    image="https://img.example/j.png",
)


def deserialize(data, klass: str):
    return SDK._ApiClient__deserialize(data, klass)


def unknown_fields(data: dict, klass: str, trail: str = "") -> list[str]:
    """Keys of `data` that the SDK model `klass` does not declare, recursing into nested models."""
    model = getattr(models, klass)()
    by_wire = {wire: model.swagger_types[attr] for attr, wire in model.attribute_map.items()}
    problems = []
    for key, value in data.items():
        if key not in by_wire:
            problems.append(f"{trail}{key}")
            continue
        sub = by_wire[key]
        if isinstance(value, dict) and hasattr(models, sub):
            extra = {k: v for k, v in value.items() if (klass, key, k) not in ALLOWED_EXTRA}
            problems += unknown_fields(extra, sub, f"{trail}{key}.")
        list_of = re.fullmatch(r"list\[(\w+)\]", sub)
        if isinstance(value, list) and list_of and hasattr(models, list_of.group(1)):
            for i, item in enumerate(value):
                problems += unknown_fields(item, list_of.group(1), f"{trail}{key}[{i}].")
    return problems


def enum_outdated(obj) -> bool:
    """The SDK marks enum values it does not know as 'outdated_sdk_version'."""
    return "outdated_sdk_version" in repr(obj.to_dict() if hasattr(obj, "to_dict") else obj)


@pytest.fixture
def sent():
    """Drive every body-building client call and return {route: body}."""
    clock = FakeClock()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        add_token(rsps)
        for suffix in ("/message", "/event", "/receipt", "/structured/response"):
            rsps.add(responses.POST, INBOUND + suffix, json={"id": "x"})
        rsps.add(responses.POST, INTEGRATIONS, json={"id": "i"})
        rsps.add(responses.PATCH, INTEGRATIONS + "/i", json={"id": "i"})
        rsps.add(responses.PUT, CHANNELS + "/ch/subscriptions", json={})
        rsps.add(responses.POST, CHANNELS + "/ch/subscriptions", json={})
        rsps.add(responses.PATCH, API + "/api/v2/conversations/messages/c/participants/p", json={})
        client = make_client(clock)
        client.send_message(
            "int-1",
            CUSTOMER,
            message_id="m1",
            text="hi",
            content=[
                {
                    "attachment": {
                        "mediaType": "Image",
                        "url": "https://img.example/a.png",
                        "mime": "image/png",
                        "filename": "a.png",
                    }
                }
            ],
            custom_attributes={"queueId": "q1", "priority": 2},
            metadata={"source": "webchat"},
        )
        client.send_typing("int-1", CUSTOMER)
        client.send_receipt(
            "int-1",
            "g1",
            "cust-1",
            "Failed",
            reasons=[{"code": "GeneralError", "message": "unreachable"}],
        )
        client.send_structured_response(
            "int-1",
            CUSTOMER,
            message_id="m2",
            text="Yes",
            payload="yes",
            originating_message_id="g2",
        )
        client.create_integration(
            "dep",
            "https://b.example/h",
            "0123456789abcdef",
            webhook_headers={"X-A": "1"},
            supported_content_id="sc",
            messaging_setting_id="ms",
        )
        client.patch_integration(
            "i",
            name="dep2",
            webhook_url="https://b.example/h2",
            webhook_secret="fedcba9876543210",
            webhook_headers={"X-B": "2"},
            supported_content_id="sc2",
            messaging_setting_id="ms2",
        )
        client.subscribe("ch", ["v2.detail.events.conversation.c1.customer.end"], replace=True)
        client.subscribe("ch", ["v2.detail.events.conversation.c2.customer.end"], replace=False)
        client.patch_participant("c", "p", {"state": "disconnected"})
        calls = api_calls(rsps)
    routes = [
        "/inbound/open/message",
        "/inbound/open/event",
        "/inbound/open/receipt",
        "/inbound/open/structured/response",
    ]
    keys = list(SDK_MODELS)
    assert len(calls) == len(keys)
    out = {}
    for route, call in zip(keys, calls):
        assert call.request.method == route.split()[0]
        out[route] = body_of(call)
    assert all(any(r in k for k in out) for r in routes)
    return out


def test_every_route_has_an_sdk_model():
    for klass in SDK_MODELS.values():
        name = re.fullmatch(r"(?:list\[)?(\w+)\]?", klass).group(1)
        assert hasattr(models, name), klass


def test_bodies_have_no_fields_outside_the_sdk_models(sent):
    for route, body in sent.items():
        klass = SDK_MODELS[route]
        items = body if isinstance(body, list) else [body]
        name = re.fullmatch(r"(?:list\[)?(\w+)\]?", klass).group(1)
        for item in items:
            assert unknown_fields(item, name) == [], route


def test_bodies_deserialize_with_values_intact(sent):
    for route, body in sent.items():
        obj = deserialize(body, SDK_MODELS[route])
        assert not enum_outdated(obj), route
    message = deserialize(
        sent[next(k for k in sent if k.endswith("/message"))], "OpenInboundNormalizedMessage"
    )
    assert message.channel.message_id == "m1" and message.text == "hi"
    assert message.channel.pcFrom.id_type == "Email"
    assert message.channel.time.utcoffset().total_seconds() == 0
    assert message.content[0].attachment.media_type == "Image"
    assert message.metadata == {"source": "webchat"}
    receipt = deserialize(
        sent[next(k for k in sent if k.endswith("/receipt"))], "OpenInboundNormalizedReceipt"
    )
    assert (receipt.id, receipt.status, receipt.channel.to.id) == ("g1", "Failed", "cust-1")
    assert receipt.reasons[0].code == "GeneralError" and receipt.is_final_receipt is True
    event = deserialize(
        sent[next(k for k in sent if k.endswith("/event"))], "OpenInboundNormalizedEvent"
    )
    assert event.events[0].event_type == "Typing" and event.channel.pcFrom.id == "cust-1"
    structured = deserialize(
        sent[next(k for k in sent if k.endswith("/response"))],
        "OpenInboundStructuredResponseMessage",
    )
    assert structured.button_response.type == "QuickReply"
    assert structured.originating_message_id == "g2"
    patch = deserialize(
        sent[next(k for k in sent if k.endswith("{participantId}"))], "MediaParticipantRequest"
    )
    assert patch.state == "disconnected"


def test_custom_attributes_are_the_only_exception(sent):
    body = sent[next(k for k in sent if k.endswith("/message"))]
    assert body["channel"]["metadata"] == {"customAttributes": {"queueId": "q1", "priority": "2"}}
    # Without the documented exception the oracle would flag it, so the check has teeth.
    model = models.ConversationChannelMetadata()
    assert "customAttributes" not in model.attribute_map.values()


def test_oracle_flags_unknown_fields():
    bad = {
        "channel": {
            "from": {"id": "x", "idType": "Opaque", "platform": "Open"},
            "time": "2025-01-01T00:00:00.000Z",
            "to": {"id": "i"},
        },
        "text": "x",
        "direction": "Inbound",
    }
    assert sorted(unknown_fields(bad, "OpenInboundNormalizedMessage")) == [
        "channel.from.platform",
        "channel.to",
        "direction",
    ]
