"""Wire conformance with the official Python SDK's models: one conversation exercising every kind of
change the sandbox has (inbound text, attachment, typing, flow quick replies, agent text and typing,
receipts, a structured response, a transfer, the end and the wrap-up), then every webhook body,
every notification frame read from a real WebSocket and every event the sandbox published is
checked strictly (unknown key, wrong type or disallowed enum value fails) against the SDK model
`sdk_wire_models.json` names for it. API responses are checked by `StrictApiClient` on each call."""

from __future__ import annotations

import json

import pytest
import requests
import websocket
from PureCloudPlatformClientV2 import ChannelTopic, ConversationsApi, NotificationsApi
from sandbox_testkit import (
    INBOUND,
    BusRecorder,
    WebhookReceiver,
    auth,
    inbound,
    sdk_client,
    start,
    token,
)

from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient
from tests.conftest import wait_until
from tests.sandbox.sdk_strict import (
    StrictApiClient,
    event_violations,
    frame_violations,
    topic_model,
    violations,
    webhook_violations,
)

QUEUE = seed.DEMO_QUEUE_ID
SECOND_QUEUE = seed.SECOND_QUEUE_ID
AGENT = seed.DEMO_AGENT_ID
CUSTOMER = "cust-wire-1"


@pytest.fixture
def env():
    receiver = WebhookReceiver()
    server = start(receiver=receiver)
    bus = BusRecorder(server)
    agent = AgentClient(server.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    sockets: list[websocket.WebSocket] = []
    yield server, receiver, bus, agent, sockets
    for ws in sockets:
        ws.close()
    agent.close()
    bus.unsubscribe()
    server.stop()
    receiver.stop()


def _subscribe(api, topics: list[str]) -> dict:
    notifications = NotificationsApi(api)
    channel = notifications.post_notifications_channels()
    items = []
    for topic in topics:
        item = ChannelTopic()
        item.id = topic
        items.append(item)
    listing = notifications.put_notifications_channel_subscriptions(channel.id, items)
    assert [t.state for t in listing.entities] == ["Permitted"] * len(topics)
    return {"id": channel.id, "connectUri": channel.connect_uri}


def _frames_until(ws: websocket.WebSocket, done) -> list[dict]:
    frames: list[dict] = []
    while not done(frames):
        frames.append(json.loads(ws.recv()))
    return frames


def _run_conversation(server, receiver, agent, api) -> str:
    """Drive one conversation through every change the sandbox models; returns its id."""
    tok = token(server.url)
    attrs = {"channel": {"metadata": {"customAttributes": {"language": "en"}}}}
    first = inbound(server.url, tok, CUSTOMER, "I need a human")
    assert first.status_code == 202, first.text
    cid = first.json()["conversationId"]
    body = {
        "channel": {
            "from": {"id": CUSTOMER, "idType": "Opaque"},
            "time": "2025-05-02T09:31:30.000Z",
            "messageId": "wire-attachment",
            **attrs["channel"],
        },
        "content": [
            {
                "attachment": {
                    "mediaType": "Image",
                    "url": f"{server.url}/sandbox/console",
                    "mime": "image/png",
                    "filename": "photo.png",
                }
            }
        ],
    }
    requests.post(f"{server.url}{INBOUND}/message", json=body, headers=auth(tok), timeout=5)
    typing = {
        "channel": {"from": {"id": CUSTOMER, "idType": "Opaque"}, "time": "2025-05-02T09:31:31Z"},
        "events": [{"eventType": "Typing"}],
    }
    assert requests.post(
        f"{server.url}{INBOUND}/event", json=typing, headers=auth(tok), timeout=5
    ).ok
    bot = requests.post(
        f"{server.url}/sandbox/conversations/{cid}/bot-messages",
        json={"text": "Pick one", "quickReplies": ["Yes", "No"]},
        timeout=5,
    )
    assert bot.status_code in (200, 201, 202), bot.text

    agent.go_on_queue()
    agent.wait_for_offer()
    agent.answer(cid)
    agent.send_typing(cid)
    sent = agent.send_text(cid, "Hi, Alex here")
    assert violations(sent, "MessageData") == []
    receiver.wait_for(lambda: receiver.of_type("Text", "Hi, Alex here"), "agent text")
    conv_api = ConversationsApi(api)
    for status, mid in (("Delivered", sent["id"]), ("Failed", sent["id"])):
        receipt = {
            "id": mid,
            "channel": {"to": {"id": CUSTOMER}, "time": "2025-05-02T09:32:08.592Z"},
            "status": status,
        }
        if status == "Failed":
            receipt["reasons"] = [{"code": "GeneralError", "message": "gone"}]
        resp = requests.post(
            f"{server.url}{INBOUND}/receipt", json=receipt, headers=auth(tok), timeout=5
        )
        assert resp.status_code == 202, resp.text
    conv_api.get_conversations_message_message(cid, sent["id"])  # strict MessageData
    structured = {
        "channel": {
            "from": {"id": CUSTOMER, "idType": "Opaque"},
            "time": "2025-05-02T09:32:10Z",
            "messageId": "wire-button",
        },
        "buttonResponse": {"type": "QuickReply", "text": "Yes", "payload": "Yes"},
        "originatingMessageId": sent["id"],
    }
    resp = requests.post(
        f"{server.url}{INBOUND}/structured/response",
        json=structured,
        headers=auth(tok),
        timeout=5,
    )
    assert resp.status_code == 202, resp.text
    agent.transfer_to_queue(cid, SECOND_QUEUE)
    conv_api.get_conversations_message(cid)  # strict MessageConversation
    conv_api.get_conversation(cid)  # strict Conversation
    return cid


def _agent_sdk(url: str) -> StrictApiClient:
    """The SDK logged in as the demo agent (password grant), for the user topics."""
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
    return api


def _connect(server, channel: dict, sockets: list) -> websocket.WebSocket:
    ws = websocket.create_connection(channel["connectUri"], timeout=10)
    sockets.append(ws)

    def attached() -> bool:
        listing = requests.get(f"{server.url}/sandbox/notifications/channels", timeout=5).json()
        return any(c["id"] == channel["id"] and c["connected"] for c in listing["entities"])

    wait_until(attached, what="socket attached")
    return ws


def test_every_webhook_frame_and_event_matches_the_sdk_models(env):
    server, receiver, bus, agent, sockets = env
    api = sdk_client(server.url)
    conversation_topics = [
        f"v2.routing.queues.{QUEUE}.conversations",
        f"v2.routing.queues.{SECOND_QUEUE}.conversations",
        f"v2.users.{AGENT}.conversations",
        f"v2.routing.queues.{QUEUE}.conversations.messages",
        f"v2.users.{AGENT}.conversations.messages",
    ]
    agent_ws = _connect(server, _subscribe(_agent_sdk(server.url), conversation_topics), sockets)
    cid = _run_conversation(server, receiver, agent, api)
    # the transfer left the agent's leg disconnected and waiting for its wrap-up
    detail = [f"v2.detail.events.conversation.{cid}.{s}" for s in ("acw", "wrapup", "user.end")]
    detail_ws = _connect(server, _subscribe(api, detail), sockets)
    agent.wrap_up(cid, "Resolved", "done")

    def all_topics(wanted: list[str]):
        return lambda frames: set(wanted) <= {f.get("topicName") for f in frames}

    frames = _frames_until(agent_ws, all_topics(conversation_topics))
    frames += _frames_until(detail_ws, all_topics(detail[:2]))
    problems = [p for f in frames for p in frame_violations(f)]
    assert problems == [], problems

    hits = list(receiver.hits)
    kinds = {h.json["type"] for h in hits}
    assert {"Text", "Structured", "Event", "Receipt"} <= kinds, kinds
    problems = [
        f"webhook {h.json.get('type')}: {p}" for h in hits for p in webhook_violations(h.json)
    ]
    assert problems == [], problems

    published = list(bus.events)
    topics = {t for t, _ in published}
    for suffix in ("customer.start", "flow.start", "flow.end", "acd.start", "acd.end"):
        assert f"v2.detail.events.conversation.{cid}.{suffix}" in topics
    assert f"v2.users.{AGENT}.conversations" in topics
    assert all(topic_model(t) for t in topics), [t for t in topics if not topic_model(t)]
    problems = [p for t, body in published for p in event_violations(t, body)]
    assert problems == [], problems
    wrapups = [b for t, b in published if t.endswith(".acw") or t.endswith(".wrapup")]
    assert wrapups and all("divisionId" not in b for b in wrapups)
    starts = [b for t, b in published if t.endswith(".customer.start")]
    assert starts[0]["divisionId"] == seed.HOME_DIVISION_ID


def test_generic_topics_follow_the_conversation(env):
    """`v2.routing.queues.{id}.conversations` and `v2.users.{id}.conversations` are published on
    each change with the conversation's participants and their message communications."""
    server, receiver, bus, agent, _ = env
    tok = token(server.url)
    cid = inbound(server.url, tok, "cust-generic-1", "hello").json()["conversationId"]
    agent.go_on_queue()
    agent.wait_for_offer()
    agent.answer(cid)
    agent.disconnect(cid)
    queue_bodies = bus.bodies(f"v2.routing.queues.{QUEUE}.conversations")
    user_bodies = bus.bodies(f"v2.users.{AGENT}.conversations")
    assert queue_bodies and user_bodies
    assert all(b["id"] == cid for b in queue_bodies + user_bodies)

    def leg(body: dict, purpose: str) -> dict:
        return [p for p in body["participants"] if p["purpose"] == purpose][-1]

    states = [leg(b, "agent")["messages"][0]["state"] for b in user_bodies]
    assert states[0] == "alerting" and "connected" in states and states[-1] == "disconnected"
    last = queue_bodies[-1]
    customer = leg(last, "customer")
    assert customer["messages"][0]["state"] == "disconnected"
    assert customer["messages"][0]["messages"][0]["messageStatus"] == "received"
    assert leg(last, "agent")["userId"] == AGENT and leg(last, "acd")["queueId"] == QUEUE
    assert last["divisions"][0]["division"]["id"] == seed.HOME_DIVISION_ID
    # the same change is published on the message topic and the generic topic
    assert len(queue_bodies) == len(bus.bodies(f"v2.routing.queues.{QUEUE}.conversations.messages"))


def test_division_ids_are_the_seeded_uuid(env):
    server, *_ = env
    api = sdk_client(server.url)
    from PureCloudPlatformClientV2 import RoutingApi, UsersApi

    assert RoutingApi(api).get_routing_queue(QUEUE).division.id == seed.HOME_DIVISION_ID
    assert UsersApi(api).get_user(AGENT).division.id == seed.HOME_DIVISION_ID
    cid = inbound(server.url, token(server.url), "cust-div-1", "hi").json()["conversationId"]
    conv = ConversationsApi(api).get_conversations_message(cid)
    assert conv.divisions[0].division.id == seed.HOME_DIVISION_ID


def test_customer_typing_time_only_on_the_named_request_option(env):
    server, _receiver, _bus, agent, _ = env
    tok = token(server.url)
    cid = inbound(server.url, tok, "cust-typing-1", "hi").json()["conversationId"]
    agent.go_on_queue()
    agent.wait_for_offer()
    typing = {
        "channel": {
            "from": {"id": "cust-typing-1", "idType": "Opaque"},
            "time": "2025-05-02T09:31:31Z",
        },
        "events": [{"eventType": "Typing"}],
    }
    requests.post(f"{server.url}{INBOUND}/event", json=typing, headers=auth(tok), timeout=5)
    plain = agent.conversations()
    assert [c["id"] for c in plain] == [cid] and "sandboxCustomerTypingTime" not in plain[0]
    assert violations({"entities": plain}, "MessageConversationEntityListing") == []
    with_option = agent.conversations(customer_typing=True)
    assert with_option[0]["sandboxCustomerTypingTime"]
