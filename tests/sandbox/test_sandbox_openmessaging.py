"""Open Messaging inbound API: validation bodies, 404/413, prefetch, threading window, typing
gating, receipts and structured responses."""

from __future__ import annotations

import pytest
import requests
from sandbox_testkit import INBOUND, INTEGRATION, WebhookReceiver, auth, inbound, start, token

from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient


@pytest.fixture
def env():
    receiver = WebhookReceiver()
    server = start(receiver=receiver)
    yield server, token(server.url), receiver
    server.stop()
    receiver.stop()


def _post(url: str, tok: str, kind: str, body: object) -> requests.Response:
    return requests.post(f"{url}{INBOUND}/{kind}", json=body, headers=auth(tok), timeout=5)


FROM = {"id": "cust-v", "idType": "Opaque"}
TIME = "2025-05-02T09:31:22.733Z"


@pytest.mark.parametrize(
    "body, needle",
    [
        ({"channel": {"from": FROM, "time": TIME}}, "should match some schema in anyOf"),
        (
            {"channel": {"from": {"id": "c", "idType": "Handle"}, "time": TIME}, "text": "x"},
            "allowed values: Email, Phone, Opaque",
        ),
        ({"channel": {"from": {"id": "c"}, "time": TIME}, "text": "x"}, "idType"),
        ({"channel": {"from": FROM}, "text": "x"}, "channel.time"),
        ({"channel": {"from": FROM, "time": "yesterday"}, "text": "x"}, "date-time"),
        ({"text": "x"}, "'channel'"),
        (
            {"channel": {"from": FROM, "time": TIME}, "text": "x", "metadata": {"a": {"b": "c"}}},
            "malformed syntax",
        ),
        (
            {
                "channel": {"from": FROM, "time": TIME, "metadata": {"customAttributes": {"n": 1}}},
                "text": "x",
            },
            "malformed syntax",
        ),
        (
            {
                "channel": {"from": FROM, "time": TIME},
                "content": [{"attachment": {"mediaType": "Sticker", "url": "u", "mime": "m"}}],
            },
            "mediaType",
        ),
    ],
)
def test_inbound_message_validation(env, body, needle):
    server, tok, _ = env
    resp = _post(server.url, tok, "message", body)
    assert resp.status_code == 400, resp.text
    err = resp.json()
    assert err["code"] in ("bad.request", "invalid.date") and needle in err["message"]
    assert err["contextId"] and err["details"] == [] and err["errors"] == []
    assert server.sandbox.store.conversations == {}


def test_not_json_unknown_integration_and_too_large(env):
    server, tok, _ = env
    resp = requests.post(
        f"{server.url}{INBOUND}/message", data=b"{nope", headers=auth(tok), timeout=5
    )
    assert resp.status_code == 400 and resp.json()["code"] == "bad.request"
    resp = requests.post(
        f"{server.url}/api/v2/conversations/messages/unknown-id/inbound/open/message",
        json={"channel": {"from": FROM, "time": TIME}, "text": "x"},
        headers=auth(tok),
        timeout=5,
    )
    assert resp.status_code == 404 and resp.json()["code"] == "not.found"
    resp = _post(
        server.url, tok, "message", {"channel": {"from": FROM, "time": TIME}, "text": "x" * 512001}
    )
    assert resp.status_code == 413
    assert resp.json()["code"] == "request.entity.too.large"
    assert "512000" in resp.json()["message"]
    assert server.sandbox.store.conversations == {}


def test_idtype_case_insensitive_and_prefetch_only_on_request(env):
    server, tok, _ = env
    resp = _post(
        server.url,
        tok,
        "message",
        {
            "channel": {
                "from": {"id": "cust-e", "idType": "email"},
                "time": TIME,
                "metadata": {"customAttributes": {"queue": "vip"}},
            },
            "text": "hi",
        },
    )
    assert resp.status_code == 202
    echo = resp.json()
    assert "conversationId" not in echo
    assert echo["channel"]["from"]["idType"] == "Email"
    assert echo["channel"]["to"]["id"] == INTEGRATION and echo["type"] == "Text"
    second = inbound(server.url, tok, "cust-e", "again")
    conv = server.sandbox.store.conversations[second.json()["conversationId"]]
    assert conv.customer().attributes == {"queue": "vip"}


def test_threading_window_zero_starts_new_conversation(env):
    server, tok, _ = env
    first = inbound(server.url, tok, "cust-t").json()["conversationId"]
    assert inbound(server.url, tok, "cust-t").json()["conversationId"] == first
    agent = AgentClient(server.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    agent.wait_for_offer()
    agent.answer(first)
    agent.disconnect(first)
    after = inbound(server.url, tok, "cust-t").json()["conversationId"]
    assert after != first
    agent.close()


def test_threading_window_reopens_same_conversation():
    receiver = WebhookReceiver()
    server = start({"conversations": {"threading_window_minutes": 60}}, receiver)
    try:
        tok = token(server.url)
        first = inbound(server.url, tok, "cust-w").json()["conversationId"]
        agent = AgentClient(server.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
        agent.wait_for_offer()
        agent.answer(first)
        agent.disconnect(first)
        assert server.sandbox.store.conversations[first].ended
        again = inbound(server.url, tok, "cust-w").json()["conversationId"]
        assert again == first
        conv = server.sandbox.store.conversations[first]
        assert not conv.ended and conv.customer().state == "connected"
        assert [p.purpose for p in conv.participants].count("workflow") == 2
        # the flow ran again: a second "Connected" reached the webhook
        receiver.wait_for(lambda: len(receiver.of_type("Text", "Connected")) == 2)
        agent.close()
    finally:
        server.stop()
        receiver.stop()


def test_typing_event_only_when_setting_enables_it(env):
    server, tok, _ = env
    cid = inbound(server.url, tok, "cust-typ").json()["conversationId"]
    body = {
        "channel": {"from": {"id": "cust-typ", "idType": "Opaque"}, "time": TIME},
        "events": [{"eventType": "Typing"}],
    }
    resp = _post(server.url, tok, "event", body)
    assert resp.status_code == 202 and resp.json()["events"][0]["typing"]["type"] == "On"
    assert cid in server.sandbox.engine.customer_typing
    server.sandbox.engine.customer_typing.clear()
    server.sandbox.store.messaging_settings[seed.DEMO_MESSAGING_SETTING_ID]["typing_inbound"] = (
        False
    )
    assert _post(server.url, tok, "event", body).status_code == 202
    assert cid not in server.sandbox.engine.customer_typing
    bad = _post(server.url, tok, "event", {**body, "events": [{"eventType": "Presence"}]})
    assert bad.status_code == 400 and "Typing" in bad.json()["message"]


def test_failed_receipt_records_error_info(env):
    server, tok, receiver = env
    cid = inbound(server.url, tok, "cust-r").json()["conversationId"]
    agent = AgentClient(server.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    agent.wait_for_offer()
    agent.answer(cid)
    sent = agent.send_text(cid, "are you there?")
    body = {
        "id": sent["id"],
        "channel": {"to": {"id": "cust-r"}, "time": TIME},
        "status": "Failed",
        "isFinalReceipt": True,
        "reasons": [{"code": "GeneralError", "message": "recipient unreachable"}],
    }
    resp = _post(server.url, tok, "receipt", body)
    assert resp.status_code == 202 and resp.json()["type"] == "Receipt"
    assert resp.json()["direction"] == "Outbound"
    data = requests.get(
        f"{server.url}/api/v2/conversations/messages/{cid}/messages/{sent['id']}",
        headers=auth(tok),
        timeout=5,
    ).json()
    assert data["status"] == "delivery-failed"
    assert data["normalizedReceipts"][0]["status"] == "Failed"
    conv = requests.get(
        f"{server.url}/api/v2/conversations/messages/{cid}", headers=auth(tok), timeout=5
    ).json()
    agent_leg = [p for p in conv["participants"] if p["purpose"] == "agent"][0]
    assert agent_leg["messages"][0]["errorInfo"]["message"] == "recipient unreachable"
    # receipts: unknown id → 404, unsupported status → 400
    assert _post(server.url, tok, "receipt", {**body, "id": "nope"}).status_code == 404
    bad = _post(server.url, tok, "receipt", {**body, "status": "Read"})
    assert bad.status_code == 400 and "Delivered, Failed" in bad.json()["message"]
    agent.close()


def test_structured_response_requires_existing_conversation(env):
    server, tok, _ = env
    body = {
        "channel": {"from": FROM, "time": TIME},
        "buttonResponse": {"type": "QuickReply", "text": "Yes", "payload": "yes"},
        "originatingMessageId": "unknown",
    }
    resp = _post(server.url, tok, "structured/response", body)
    assert resp.status_code == 400
    bad = _post(
        server.url,
        tok,
        "structured/response",
        {**body, "buttonResponse": {"type": "Swipe", "text": "a", "payload": "b"}},
    )
    assert bad.status_code == 400 and "QuickReply" in bad.json()["message"]


def test_a_repeated_channel_message_id_is_answered_with_the_first_message(env):
    server, tok, _receiver = env
    body = {
        "channel": {
            "from": {"id": "cust-dup", "idType": "Opaque"},
            "time": TIME,
            "messageId": "ext-repeated-1",
        },
        "text": "only once",
    }
    q = "?prefetchConversationId=true"
    first = requests.post(
        f"{server.url}{INBOUND}/message{q}", json=body, headers=auth(tok), timeout=5
    )
    again = requests.post(
        f"{server.url}{INBOUND}/message{q}", json=body, headers=auth(tok), timeout=5
    )
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()  # same Genesys message id and conversation
    cid = first.json()["conversationId"]
    bulk = requests.post(
        f"{server.url}/api/v2/conversations/messages/{cid}/messages/bulk",
        json=[],
        headers=auth(tok),
        timeout=5,
    ).json()["entities"]
    inbound_texts = [
        m["normalizedMessage"].get("text") for m in bulk if m.get("direction") == "inbound"
    ]
    assert inbound_texts == ["only once"]
    # Another messageId, or the same one from another customer, is a new message.
    other = dict(body, channel=dict(body["channel"], messageId="ext-repeated-2"))
    assert (
        requests.post(
            f"{server.url}{INBOUND}/message", json=other, headers=auth(tok), timeout=5
        ).json()["id"]
        != first.json()["id"]
    )
    stranger = dict(
        body, channel=dict(body["channel"], **{"from": {"id": "c2", "idType": "Opaque"}})
    )
    assert (
        requests.post(
            f"{server.url}{INBOUND}/message", json=stranger, headers=auth(tok), timeout=5
        ).json()["id"]
        != first.json()["id"]
    )
