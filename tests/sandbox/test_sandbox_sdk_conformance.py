"""Conformance with the official SDK (`PureCloudPlatformClientV2`) as the client: every response
must deserialize into the SDK model with the typed fields filled."""

from __future__ import annotations

import pytest
import requests
from PureCloudPlatformClientV2 import (
    ConversationsApi,
    MediaParticipantRequest,
    OpenInboundMessageMessagingChannel,
    OpenInboundNormalizedEvent,
    OpenInboundNormalizedMessage,
    OpenInboundNormalizedReceipt,
    OpenInboundStructuredResponseMessage,
    OpenIntegrationRequest,
    OpenMessagingFromRecipient,
    OpenMessagingToRecipient,
    RoutingApi,
    UsersApi,
)
from PureCloudPlatformClientV2.api_client import ApiClient
from PureCloudPlatformClientV2.models import (
    AdditionalMessage,
    ButtonResponse,
    OpenEvent,
    OpenInboundMessagingChannel,
    OpenInboundMessagingReceiptChannel,
    WrapupInput,
)
from PureCloudPlatformClientV2.rest import ApiException
from sandbox_testkit import INTEGRATION, WebhookReceiver, sdk_client, start

from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.sandbox.sdk_strict import StrictApiClient, violations


@pytest.fixture
def env():
    receiver = WebhookReceiver()
    server = start(receiver=receiver)
    api = sdk_client(server.url)
    yield server, api, receiver
    server.stop()
    receiver.stop()


def _channel(customer: str) -> OpenInboundMessageMessagingChannel:
    ch = OpenInboundMessageMessagingChannel()
    frm = OpenMessagingFromRecipient()
    frm.id, frm.id_type, frm.nickname = customer, "Opaque", "Jane"
    ch.pcFrom = frm
    ch.time = "2025-05-02T09:31:22.733Z"
    ch.message_id = "ext-1"
    return ch


def _send(api: ApiClient, customer: str, text: str = "hello"):
    body = OpenInboundNormalizedMessage()
    body.channel, body.text = _channel(customer), text
    return ConversationsApi(api).post_conversations_message_inbound_open_message(
        INTEGRATION, body, prefetch_conversation_id=True
    )


def _agent_api(url: str) -> tuple[ApiClient, str]:
    resp = requests.post(
        f"{url}/oauth/token",
        auth=(seed.AGENT_CONSOLE_CLIENT_ID, seed.AGENT_CONSOLE_CLIENT_SECRET),
        data={
            "grant_type": "password",
            "username": seed.DEMO_AGENT_USERNAME,
            "password": seed.DEMO_AGENT_PASSWORD,
        },
        timeout=5,
    )
    api = StrictApiClient(host=url)
    api.access_token = resp.json()["access_token"]
    me = UsersApi(api).get_users_me()
    return api, me.id


def test_token_and_integrations_paging(env):
    server, api, _ = env
    assert api.access_token
    conv_api = ConversationsApi(api)
    for i in range(4):
        req = OpenIntegrationRequest()
        req.name = f"extra-{i}"
        req.outbound_notification_webhook_url = "http://127.0.0.1:9/hook"
        req.outbound_notification_webhook_signature_secret_token = "0123456789abcdef-secret"
        created = conv_api.post_conversations_messaging_integrations_open(req)
        assert created.id and created.create_status == "Initiated"
    names, page = [], 1
    while True:
        listing = conv_api.get_conversations_messaging_integrations_open(
            page_size=2, page_number=page
        )
        assert listing.total == 5 and listing.page_count == 3 and listing.page_size == 2
        names += [e.name for e in listing.entities]
        if not listing.next_uri:
            break
        page += 1
    assert page == 3
    assert sorted(names) == sorted(["om-bridge-demo"] + [f"extra-{i}" for i in range(4)])
    demo = conv_api.get_conversations_messaging_integrations_open_integration_id(INTEGRATION)
    assert demo.name == "om-bridge-demo"
    assert demo.outbound_notification_webhook_signature_secret_token == seed.DEMO_WEBHOOK_SECRET
    assert demo.messaging_setting.id == seed.DEMO_MESSAGING_SETTING_ID


def test_inbound_message_event_and_conversation_lookups(env):
    server, api, receiver = env
    conv_api = ConversationsApi(api)
    echo = _send(api, "cust-sdk-1")
    assert echo.type == "Text" and echo.text == "hello" and echo.conversation_id
    assert echo.channel.pcFrom.id == "cust-sdk-1" and echo.channel.id == INTEGRATION
    ev = OpenInboundNormalizedEvent()
    ev.channel = OpenInboundMessagingChannel()
    frm = OpenMessagingFromRecipient()
    frm.id, frm.id_type = "cust-sdk-1", "Opaque"
    ev.channel.pcFrom, ev.channel.time = frm, "2025-05-02T09:31:40.000Z"
    typing = OpenEvent()
    typing.event_type = "Typing"
    ev.events = [typing]
    ev_echo = conv_api.post_conversations_message_inbound_open_event(INTEGRATION, ev)
    assert ev_echo.type == "Event" and ev_echo.events[0].typing.type == "On"

    conv = conv_api.get_conversations_message(echo.conversation_id)
    purposes = [p.purpose for p in conv.participants]
    assert purposes == ["customer", "workflow", "acd", "agent"]
    customer = conv.participants[0]
    assert customer.state == "connected" and customer.type == "open"
    assert customer.messages[0].message_id == echo.id
    assert customer.messages[0].message_status == "received"
    assert conv.participants[1].disconnect_type == "transfer"
    assert conv.participants[3].state == "alerting"
    assert conv.participants[3].user.id == seed.DEMO_AGENT_ID

    generic = conv_api.get_conversation(echo.conversation_id)
    agent = [p for p in generic.participants if p.purpose == "agent"][0]
    assert agent.user_id == seed.DEMO_AGENT_ID and agent.messages[0].id
    assert agent.messages[0].state == "alerting"

    data = conv_api.get_conversations_message_message(echo.conversation_id, echo.id)
    assert data.direction == "inbound" and data.status == "received"
    assert data.normalized_message.text == "hello"
    details = conv_api.get_conversations_message_details(echo.id)
    assert details.conversation_id == echo.conversation_id

    user = UsersApi(api).get_user(seed.DEMO_AGENT_ID)
    assert (
        user.name == "Alex Agent"
        and user.images
        and user.images[0].image_uri.startswith(server.url)
    )
    assert (
        requests.get(user.images[0].image_uri, timeout=5)
        .headers["Content-Type"]
        .startswith("image/svg+xml")
    )
    queue = RoutingApi(api).get_routing_queue(seed.DEMO_QUEUE_ID)
    assert queue.name == "Demo Queue" and queue.member_count == 1
    queues = RoutingApi(api).get_routing_queues(page_size=1)
    assert queues.total == 2 and queues.page_count == 2 and len(queues.entities) == 1
    with pytest.raises(ApiException) as exc:
        RoutingApi(api).get_routing_queue("no-such-queue")
    assert exc.value.status == 404


def test_agent_answer_send_receipt_structured_and_end(env):
    server, api, receiver = env
    conv_api = ConversationsApi(api)
    echo = _send(api, "cust-sdk-2")
    cid = echo.conversation_id
    agent_api, agent_id = _agent_api(server.url)
    agent_conv = ConversationsApi(agent_api)
    mine = agent_conv.get_conversations_messages()
    assert [c.id for c in mine.entities] == [cid]
    leg = [p for p in mine.entities[0].participants if p.purpose == "agent"][0]
    req = MediaParticipantRequest()
    req.state = "connected"
    agent_conv.patch_conversations_message_participant(cid, leg.id, body=req)
    generic = agent_conv.get_conversation(cid)
    comm = [p for p in generic.participants if p.purpose == "agent"][0].messages[0]
    assert comm.state == "connected"

    msg = AdditionalMessage()
    msg.text_body = "Hi, I am Alex"
    data = agent_conv.post_conversations_message_communication_messages(cid, comm.id, msg)
    assert data.direction == "outbound" and data.created_by.id == agent_id
    assert data.normalized_message.originating_entity == "Human"
    receiver.wait_for(lambda: receiver.of_type("Text", "Hi, I am Alex"), "agent text")

    rc = OpenInboundNormalizedReceipt()
    rc.id, rc.status = data.id, "Delivered"
    rc.channel = OpenInboundMessagingReceiptChannel()
    to = OpenMessagingToRecipient()
    to.id = "cust-sdk-2"
    rc.channel.to, rc.channel.time = to, "2025-05-02T09:32:08.592Z"
    rc_echo = conv_api.post_conversations_message_inbound_open_receipt(INTEGRATION, rc)
    assert rc_echo.type == "Receipt" and rc_echo.status == "Delivered"
    assert conv_api.get_conversations_message_message(cid, data.id).status == "delivery-success"

    sr = OpenInboundStructuredResponseMessage()
    sr.channel = _channel("cust-sdk-2")
    # Its own channel.messageId: a repeated one is answered with the first message (idempotency).
    sr.channel.message_id = "ext-structured-1"
    button = ButtonResponse()
    button.type, button.text, button.payload = "QuickReply", "Yes", "yes"
    sr.button_response, sr.originating_message_id = button, data.id
    sr_echo = conv_api.post_conversations_message_inbound_open_structured_response(INTEGRATION, sr)
    assert sr_echo.type == "Structured"
    assert sr_echo.content[0].button_response.payload == "yes"

    end = MediaParticipantRequest()
    end.state = "disconnected"
    agent_conv.patch_conversations_message_participant(cid, leg.id, body=end)
    final = conv_api.get_conversations_message(cid)
    customer = final.participants[0]
    assert customer.state == "disconnected" and customer.disconnect_type == "peer"
    agent = [p for p in final.participants if p.purpose == "agent"][0]
    assert agent.disconnect_type == "client" and agent.wrapup_required is True
    wrapup = WrapupInput()
    wrapup.code, wrapup.notes = "resolved", "done"
    agent_conv.post_conversations_message_participant_communication_wrapup(
        cid, leg.id, comm.id, body=wrapup
    )
    after = agent_conv.get_conversation(cid)
    acw = [p for p in after.participants if p.purpose == "agent"][0].messages[0].after_call_work
    assert acw.state == "complete" and acw.end_time is not None
    wait_until(lambda: receiver.of_type("Text", "Hi, I am Alex"), what="delivery")


def test_strict_client_refuses_what_the_sdk_would_silently_drop():
    """The checker behind every SDK call above: unknown keys, wrong types and enum values the
    model does not allow are reported with their JSON path; a conforming body passes."""
    assert (
        violations({"id": "x", "name": "n", "createStatus": "Completed"}, "OpenIntegration") == []
    )
    assert violations({"id": "x", "webhookUrl": "u"}, "OpenIntegration") == [
        "$.webhookUrl: not a field of OpenIntegration"
    ]
    assert violations({"pageSize": "25"}, "OpenIntegrationEntityListing") == [
        "$.pageSize: expected int, got '25'"
    ]
    bad_acw = {"participants": [{"messages": [{"afterCallWork": {"state": "completed"}}]}]}
    assert violations(bad_acw, "Conversation") == [
        "$.participants[0].messages[0].afterCallWork.state: 'completed' is not one of "
        "['unknown', 'notApplicable', 'skipped', 'pending', 'complete']"
    ]
