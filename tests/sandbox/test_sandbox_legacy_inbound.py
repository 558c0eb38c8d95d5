"""The deprecated `POST /api/v2/conversations/messages/inbound/open` (docs/reference/genesys-open-messaging.md
§3.2), driven by the official SDK's `post_conversations_messages_inbound_open`: the integration is
named by `channel.to.id`, `type` picks a text or a receipt, the answer is an `OpenNormalizedMessage`
(checked strictly against the SDK model by `StrictApiClient`)."""

from __future__ import annotations

import pytest
import requests
from PureCloudPlatformClientV2 import ConversationsApi
from PureCloudPlatformClientV2.models import (
    OpenMessagingChannel,
    OpenMessagingFromRecipient,
    OpenMessagingToRecipient,
    OpenNormalizedMessage,
)
from PureCloudPlatformClientV2.rest import ApiException
from sandbox_testkit import INTEGRATION, WebhookReceiver, auth, sdk_client, start, token, verify

from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient

LEGACY = "/api/v2/conversations/messages/inbound/open"


@pytest.fixture
def env():
    receiver = WebhookReceiver()
    server = start(receiver=receiver)
    agent = AgentClient(server.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    yield server, sdk_client(server.url), receiver, agent
    agent.close()
    server.stop()
    receiver.stop()


def _legacy_text(customer: str, text: str, message_id: str) -> OpenNormalizedMessage:
    channel = OpenMessagingChannel()
    channel.platform, channel.type, channel.message_id = "Open", "Private", message_id
    to = OpenMessagingToRecipient()
    to.id = INTEGRATION
    frm = OpenMessagingFromRecipient()
    frm.id, frm.id_type, frm.nickname = customer, "Opaque", "Jane"
    channel.to, channel.pcFrom, channel.time = to, frm, "2025-05-02T09:31:22.733Z"
    body = OpenNormalizedMessage()
    body.channel, body.type, body.text, body.direction = channel, "Text", text, "Inbound"
    return body


def _post(api, body: OpenNormalizedMessage) -> OpenNormalizedMessage:
    return ConversationsApi(api).post_conversations_messages_inbound_open(body)


def test_legacy_text_reaches_the_agent_and_the_answer_reaches_the_webhook(env):
    server, api, receiver, agent = env
    echo = _post(api, _legacy_text("cust-legacy-1", "hello via legacy", "legacy-1"))
    assert echo.id and echo.type == "Text" and echo.direction == "Inbound"
    assert echo.text == "hello via legacy"
    assert echo.channel.id == INTEGRATION and echo.channel.to.id == INTEGRATION
    assert echo.channel.pcFrom.id == "cust-legacy-1" and echo.channel.message_id == "legacy-1"

    agent.go_on_queue()
    offer = agent.wait_for_offer()
    cid = offer["id"]
    conv = ConversationsApi(api).get_conversations_message(cid)
    customer = conv.participants[0]
    assert customer.purpose == "customer" and customer.messages[0].message_id == echo.id

    agent.answer(cid)
    sent = agent.send_text(cid, "Hi, Alex here")
    receiver.wait_for(lambda: receiver.of_type("Text", "Hi, Alex here"), "the agent's answer")
    hit = receiver.of_type("Text", "Hi, Alex here")[0]
    assert verify(hit)
    assert hit.json["channel"]["to"]["id"] == "cust-legacy-1"
    assert hit.json["conversationId"] == cid and hit.json["id"] == sent["id"]

    # a receipt through the same legacy route: `type: Receipt`, `id` = the agent message
    rc = OpenNormalizedMessage()
    rc.channel = _legacy_text("cust-legacy-1", "", "legacy-rc").channel
    rc.type, rc.id, rc.status = "Receipt", sent["id"], "Delivered"
    rc_echo = _post(api, rc)
    assert rc_echo.type == "Receipt" and rc_echo.status == "Delivered" and rc_echo.id == sent["id"]
    status = ConversationsApi(api).get_conversations_message_message(cid, sent["id"]).status
    assert status == "delivery-success"


def test_legacy_repeat_of_a_message_id_posts_nothing_twice(env):
    server, api, receiver, agent = env
    first = _post(api, _legacy_text("cust-legacy-2", "once", "legacy-dup"))
    again = _post(api, _legacy_text("cust-legacy-2", "once", "legacy-dup"))
    assert again.id == first.id
    store = server.sandbox.store
    with store.lock:
        inbound = [m for m in store.messages.values() if m.direction == "inbound"]
    assert [m.id for m in inbound] == [first.id]


@pytest.mark.parametrize(
    ("change", "status", "names"),
    [
        (lambda b: b.pop("type"), 400, "'type'"),
        (lambda b: b.update(type="Event"), 400, "body.type"),
        (lambda b: b["channel"].pop("to"), 400, "'channel.to'"),
        (lambda b: b["channel"]["to"].update(id="no-such-integration"), 404, "no-such-integration"),
        (lambda b: b.pop("text"), 400, "'text'"),
        (lambda b: b["channel"]["from"].pop("idType"), 400, "channel.from.idType"),
    ],
)
def test_legacy_bad_input_is_a_clear_4xx_and_changes_nothing(env, change, status, names):
    server, _api, receiver, _agent = env
    body = {
        "channel": {
            "platform": "Open",
            "type": "Private",
            "messageId": "legacy-bad",
            "to": {"id": INTEGRATION},
            "from": {"id": "cust-legacy-3", "idType": "Opaque"},
            "time": "2025-05-02T09:31:22.733Z",
        },
        "type": "Text",
        "text": "hello",
    }
    change(body)
    tok = token(server.url)
    resp = requests.post(f"{server.url}{LEGACY}", json=body, headers=auth(tok), timeout=5)
    assert resp.status_code == status, resp.text
    assert names in resp.json()["message"]
    assert server.sandbox.store.conversations == {}
    assert receiver.hits == []


def test_legacy_route_requires_a_token(env):
    server, api, _receiver, _agent = env
    resp = requests.post(f"{server.url}{LEGACY}", json={}, timeout=5)
    assert resp.status_code == 401
    api.access_token = "not-a-token"
    with pytest.raises(ApiException) as info:
        _post(api, _legacy_text("cust-legacy-4", "hi", "legacy-4"))
    assert info.value.status == 401
