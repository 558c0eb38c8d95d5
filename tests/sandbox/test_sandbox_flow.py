"""The inbound message flow, queue positions, routing, answer/transfer/disconnect/wrap-up states,
and what reaches the webhook and the bus along the way."""

from __future__ import annotations

import json

import pytest
import requests
from sandbox_testkit import BusRecorder, WebhookReceiver, auth, inbound, start, token, verify

from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient

M = "/api/v2/conversations/messages"


@pytest.fixture
def env():
    receiver = WebhookReceiver()
    server = start(
        {
            "seed": {
                "users": [
                    {"id": seed.DEMO_AGENT_ID, "routing_status": "OFF_QUEUE"},
                    {"id": seed.SECOND_AGENT_ID, "routing_status": "OFF_QUEUE"},
                ],
                "integrations": [
                    {"id": seed.DEMO_INTEGRATION_ID, "webhookHeaders": {"X-Tenant": "demo"}}
                ],
            }
        },
        receiver,
    )
    bus = BusRecorder(server)
    alex = AgentClient(server.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    sam = AgentClient(server.url, seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
    yield server, token(server.url), receiver, bus, alex, sam
    alex.close()
    sam.close()
    server.stop()
    receiver.stop()


def _conv(server, tok, cid):
    return requests.get(f"{server.url}{M}/{cid}", headers=auth(tok), timeout=5).json()


def _legs(conv, purpose):
    return [p for p in conv["participants"] if p["purpose"] == purpose]


def test_connected_and_queue_positions_reach_the_signed_webhook(env):
    server, tok, receiver, _bus, alex, _sam = env
    first = inbound(server.url, tok, "cust-a", "first").json()["conversationId"]
    second = inbound(server.url, tok, "cust-b", "second").json()["conversationId"]
    receiver.wait_for(lambda: len(receiver.of_type("Text")) == 4, "flow messages")
    by_customer = {}
    for hit in receiver.hits:
        assert verify(hit), "signature must verify over the exact bytes"
        assert (
            hit.body == json.dumps(hit.json, separators=(",", ":"), ensure_ascii=False).encode()
        ), "compact JSON"
        assert hit.headers["X-Tenant"] == "demo"
        assert hit.headers["Content-Type"] == "application/json"
        by_customer.setdefault(hit.json["channel"]["to"]["id"], []).append(hit.json)
    a = by_customer["cust-a"]
    assert [(m["type"], m.get("text")) for m in a] == [
        ("Receipt", None),
        ("Text", "Connected"),
        ("Text", "You are number 1 in the queue"),
    ]
    assert a[0]["status"] == "Delivered" and a[0]["direction"] == "Inbound"
    assert all(m["originatingEntity"] == "Bot" for m in a[1:])
    assert a[1]["conversationId"] == first
    assert a[1]["channel"]["from"] == {
        "nickname": "om-bridge-demo",
        "id": seed.DEMO_INTEGRATION_ID,
        "idType": "Opaque",
    }
    assert by_customer["cust-b"][-1]["text"] == "You are number 2 in the queue"

    # the first customer leaves the queue: the second moves up and is told so
    customer = _legs(_conv(server, tok, first), "customer")[0]
    resp = requests.patch(
        f"{server.url}{M}/{first}/participants/{customer['id']}",
        json={"state": "disconnected"},
        headers=auth(tok),
        timeout=5,
    )
    assert resp.status_code == 202
    receiver.wait_for(
        lambda: receiver.of_type("Text", "You are number 1 in the queue")
        and any(
            h.json["channel"]["to"]["id"] == "cust-b"
            for h in receiver.of_type("Text", "You are number 1 in the queue")
        )
    )
    ended = _conv(server, tok, first)
    assert _legs(ended, "customer")[0]["disconnectType"] == "client"
    assert _legs(ended, "acd")[0]["state"] == "disconnected"

    # an agent coming on queue is offered the waiting conversation
    alex.go_on_queue()
    offered = alex.wait_for_offer()
    assert offered["id"] == second


def test_answer_transfer_disconnect_wrapup_states(env):
    server, tok, receiver, bus, alex, sam = env
    alex.go_on_queue()
    cid = inbound(server.url, tok, "cust-c").json()["conversationId"]
    alex.wait_for_offer()
    alex.answer(cid)
    conv = _conv(server, tok, cid)
    assert _legs(conv, "acd")[0]["state"] == "disconnected"
    assert _legs(conv, "acd")[0]["disconnectType"] == "transfer"
    assert _legs(conv, "agent")[0]["state"] == "connected"
    assert (
        requests.get(
            f"{server.url}/api/v2/users/{seed.DEMO_AGENT_ID}/routingstatus",
            headers=auth(tok),
            timeout=5,
        ).json()["status"]
        == "INTERACTING"
    )

    alex.send_typing(cid)
    alex.send_text(cid, "Let me get my supervisor")
    receiver.wait_for(lambda: receiver.of_type("Text", "Let me get my supervisor"))
    human = receiver.of_type("Text", "Let me get my supervisor")[0].json
    assert human["originatingEntity"] == "Human" and human["direction"] == "Outbound"
    receiver.wait_for(lambda: receiver.of_type("Event"))
    typing = receiver.of_type("Event")[0].json
    assert typing["events"] == [{"eventType": "Typing", "typing": {"type": "On", "duration": 5000}}]
    assert "originatingEntity" not in typing

    alex.transfer_to_queue(cid, seed.SECOND_QUEUE_ID)
    conv = _conv(server, tok, cid)
    first_leg = _legs(conv, "agent")[0]
    assert first_leg["state"] == "disconnected" and first_leg["disconnectType"] == "transfer"
    assert first_leg["wrapupRequired"] is True and first_leg["startAcwTime"]
    assert _legs(conv, "acd")[-1]["queue"]["id"] == seed.SECOND_QUEUE_ID
    assert _legs(conv, "customer")[0]["state"] == "connected"
    alex.wrap_up(cid, "Transferred")

    sam.go_on_queue()
    sam.wait_for_offer()
    sam.answer(cid)
    sam.send_text(cid, "Sam here")
    sam.disconnect(cid)
    conv = _conv(server, tok, cid)
    customer = _legs(conv, "customer")[0]
    assert customer["state"] == "disconnected" and customer["disconnectType"] == "peer"
    sam_leg = _legs(conv, "agent")[-1]
    assert sam_leg["disconnectType"] == "client" and sam_leg["user"]["id"] == seed.SECOND_AGENT_ID
    sam.wrap_up(cid, "Resolved", "all good")
    conv = _conv(server, tok, cid)
    assert _legs(conv, "agent")[-1]["wrapup"]["code"] == "Resolved"
    assert _legs(conv, "agent")[-1]["endAcwTime"]
    assert _legs(conv, "agent")[0]["wrapup"]["code"] == "Transferred"
    assert (
        requests.get(
            f"{server.url}/api/v2/users/{seed.SECOND_AGENT_ID}/routingstatus",
            headers=auth(tok),
            timeout=5,
        ).json()["status"]
        == "IDLE"
    )

    transcript = alex.transcript(cid)
    assert [(m["direction"], m["normalizedMessage"].get("text")) for m in transcript] == [
        ("inbound", "hello"),
        ("outbound", "Connected"),
        ("outbound", "Let me get my supervisor"),
        ("outbound", "You are number 1 in the queue"),  # waiting on the second queue
        ("outbound", "Sam here"),
    ]
    assert transcript[2]["createdBy"]["id"] == seed.DEMO_AGENT_ID
    assert transcript[1]["normalizedMessage"]["originatingEntity"] == "Bot"

    # detail events, in order, with Genesys' UPPERCASE enums
    suffixes = [
        t.split(f"{cid}.")[1]
        for t in bus.topics()
        if t.startswith(f"v2.detail.events.conversation.{cid}.")
    ]
    assert suffixes == [
        "customer.start",
        "flow.start",
        "flow.end",
        "acd.start",
        "user.start",
        "acd.end",
        "user.end",
        "acd.start",
        "acw",
        "wrapup",
        "user.start",
        "acd.end",
        "user.end",
        "customer.end",
        "acw",
        "wrapup",
    ]
    user_ends = bus.bodies(f"{cid}.user.end")
    assert [b["disconnectType"] for b in user_ends] == ["TRANSFER", "CLIENT"]
    assert user_ends[0]["userId"] == seed.DEMO_AGENT_ID
    end = bus.bodies(f"{cid}.customer.end")[0]
    assert end["disconnectType"] == "PEER" and end["mediaType"] == "MESSAGE"
    assert end["messageType"] == "OPEN" and end["addressFrom"] == "cust-c"
    assert isinstance(end["eventTime"], int) and end["conversationId"] == cid
    acw = bus.bodies(f"{cid}.acw")[-1]
    assert acw["wrapupCode"] == "Resolved" and acw["addressTo"] == "cust-c"
    assert "disconnectType" not in acw
    assert bus.bodies(f"{cid}.acd.end")[0]["acdOutcome"] == "ANSWERED"
    # snapshots on both queues' and both agents' topics; the last one shows the end
    for topic in (
        f"v2.routing.queues.{seed.DEMO_QUEUE_ID}.conversations.messages",
        f"v2.routing.queues.{seed.SECOND_QUEUE_ID}.conversations.messages",
        f"v2.users.{seed.DEMO_AGENT_ID}.conversations.messages",
        f"v2.users.{seed.SECOND_AGENT_ID}.conversations.messages",
    ):
        snaps = [b for t, b in bus.events if t == topic and b["id"] == cid]
        assert snaps, topic
    last = [
        b
        for t, b in bus.events
        if t == f"v2.routing.queues.{seed.SECOND_QUEUE_ID}.conversations.messages"
    ][-1]
    cust = [p for p in last["participants"] if p["purpose"] == "customer"][0]
    assert cust["state"] == "disconnected" and cust["disconnectType"] == "peer" and cust["endTime"]


def test_transfer_to_user_and_declined_offer(env):
    server, tok, _receiver, bus, alex, sam = env
    alex.go_on_queue()
    cid = inbound(server.url, tok, "cust-d").json()["conversationId"]
    alex.wait_for_offer()
    alex.answer(cid)
    alex.transfer_to_user(cid, seed.SECOND_AGENT_ID)
    sam.wait_for_offer()
    # Sam declines: the conversation does not end, the agent leg ends, and the conversation goes
    # back to the queue it was last in (Demo Queue) and is routed again: Alex is offered it
    sam.disconnect(cid)
    assert alex.wait_for_offer()["id"] == cid
    conv = _conv(server, tok, cid)
    assert _legs(conv, "customer")[0]["state"] == "connected"
    assert [p["state"] for p in _legs(conv, "agent")] == [
        "disconnected",
        "disconnected",
        "alerting",
    ]
    acds = _legs(conv, "acd")
    assert [a["queue"]["id"] for a in acds] == [seed.DEMO_QUEUE_ID, seed.DEMO_QUEUE_ID]
    assert acds[-1]["state"] == "connected"
    assert not bus.bodies(f"{cid}.customer.end")
    assert len(bus.bodies(f"{cid}.acd.start")) == 2
    alex.answer(cid)
    assert _legs(_conv(server, tok, cid), "acd")[-1]["state"] == "disconnected"


def test_agent_actions_on_wrong_state_are_rejected(env):
    server, tok, _receiver, _bus, alex, _sam = env
    alex.go_on_queue()
    cid = inbound(server.url, tok, "cust-e").json()["conversationId"]
    conv = alex.wait_for_offer()
    leg = alex.my_leg(conv)
    resp = requests.patch(
        f"{server.url}{M}/{cid}/participants/{leg['id']}",
        json={"state": "parked"},
        headers=auth(tok),
        timeout=5,
    )
    assert resp.status_code == 400 and "parked" in resp.json()["message"]
    resp = requests.patch(
        f"{server.url}{M}/{cid}/participants/{leg['id']}",
        json={"wrapup": {"code": "x"}},
        headers=auth(tok),
        timeout=5,
    )
    assert resp.status_code == 400
    resp = requests.post(
        f"{server.url}{M}/{cid}/participants/{leg['id']}/replace",
        json={"queueId": seed.SECOND_QUEUE_ID, "userId": seed.SECOND_AGENT_ID},
        headers=auth(alex.token),
        timeout=5,
    )
    assert resp.status_code == 400 and "exactly one" in resp.json()["message"]
    assert requests.get(f"{server.url}{M}/nope", headers=auth(tok), timeout=5).status_code == 404
    # a refused wrap-up refuses the whole PATCH: the leg is neither answered nor ended
    for body in (
        {"state": "connected", "wrapup": {"code": 5}},
        {"state": "connected", "wrapup": {"code": "x"}},
        {"state": "disconnected", "wrapup": "resolved"},
    ):
        resp = requests.patch(
            f"{server.url}{M}/{cid}/participants/{leg['id']}",
            json=body,
            headers=auth(alex.token),
            timeout=5,
        )
        assert resp.status_code == 400, body
    assert alex.my_leg(alex.conversation(cid))["state"] == "alerting"


def test_agent_attachment_reaches_the_webhook_with_a_served_url(env):
    server, tok, receiver, _bus, alex, _sam = env
    alex.go_on_queue()
    cid = inbound(server.url, tok, "cust-att").json()["conversationId"]
    alex.wait_for_offer()
    alex.answer(cid)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    sent = alex.send_attachment(cid, "receipt.png", png, "image/png", text="your receipt")
    receiver.wait_for(lambda: receiver.of_type("Text", "your receipt"))
    hit = receiver.of_type("Text", "your receipt")[0].json
    att = hit["content"][0]["attachment"]
    assert hit["content"][0]["contentType"] == "Attachment" and hit["id"] == sent["id"]
    assert (att["mediaType"], att["mime"], att["filename"]) == ("Image", "image/png", "receipt.png")
    assert requests.get(att["url"], timeout=5).content == png
    resp = requests.post(
        f"{server.url}{M}/{cid}/communications/{alex.communication_id(cid)}/messages",
        json={"mediaIds": ["nope"]},
        headers=auth(alex.token),
        timeout=5,
    )
    assert resp.status_code == 400 and "nope" in resp.json()["message"]


def test_bot_quick_replies_are_structured_and_answerable(env):
    server, tok, receiver, _bus, _alex, _sam = env
    cid = inbound(server.url, tok, "cust-qr").json()["conversationId"]
    resp = requests.post(
        f"{server.url}/sandbox/conversations/{cid}/bot-messages",
        json={"text": "Wait or leave a message?", "quickReplies": ["Wait", "Leave"]},
        timeout=5,
    )
    assert resp.status_code == 202
    receiver.wait_for(lambda: receiver.of_type("Structured"))
    hit = receiver.of_type("Structured")[0].json
    assert hit["originatingEntity"] == "Bot" and hit["text"] == "Wait or leave a message?"
    assert [c["quickReply"]["payload"] for c in hit["content"]] == ["Wait", "Leave"]
    answer = {
        "channel": {
            "from": {"id": "cust-qr", "idType": "Opaque"},
            "time": "2025-05-02T09:33:00.000Z",
        },
        "buttonResponse": {"type": "QuickReply", "text": "Wait", "payload": "Wait"},
        "originatingMessageId": hit["id"],
    }
    resp = requests.post(
        f"{server.url}/api/v2/conversations/messages/{seed.DEMO_INTEGRATION_ID}"
        "/inbound/open/structured/response",
        json=answer,
        headers=auth(tok),
        timeout=5,
    )
    assert resp.status_code == 202
    assert resp.json()["content"][0]["buttonResponse"]["payload"] == "Wait"
    conv = _conv(server, tok, cid)
    assert len(_legs(conv, "customer")[0]["messages"]) == 2
    bad = requests.post(
        f"{server.url}/sandbox/conversations/{cid}/bot-messages", json={"text": ""}, timeout=5
    )
    assert bad.status_code == 400


def test_declined_queue_offer_goes_to_the_next_agent():
    receiver = WebhookReceiver()
    server = start(
        {
            "seed": {
                "users": [
                    {
                        "id": seed.SECOND_AGENT_ID,
                        "queues": [seed.DEMO_QUEUE_ID, seed.SECOND_QUEUE_ID],
                    }
                ]
            }
        },
        receiver,
    )
    alex = AgentClient(server.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    sam = AgentClient(server.url, seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
    try:
        tok = token(server.url)
        cid = inbound(server.url, tok, "cust-decline").json()["conversationId"]
        alex.wait_for_offer()
        sam.go_on_queue()
        alex.disconnect(cid)  # decline the alerting offer
        assert sam.wait_for_offer()["id"] == cid
        status = requests.get(
            f"{server.url}/api/v2/users/{seed.DEMO_AGENT_ID}/routingstatus",
            headers=auth(tok),
            timeout=5,
        ).json()["status"]
        assert status == "NOT_RESPONDING"
        conv = _conv(server, tok, cid)
        assert _legs(conv, "acd")[0]["state"] == "connected"
        assert _legs(conv, "customer")[0]["state"] == "connected"
    finally:
        alex.close()
        sam.close()
        server.stop()
        receiver.stop()


def test_wrapup_is_applied_once(env):
    server, tok, _receiver, bus, alex, _sam = env
    alex.go_on_queue()
    cid = inbound(server.url, tok, "cust-wrap").json()["conversationId"]
    alex.wait_for_offer()
    alex.answer(cid)
    alex.disconnect(cid)
    alex.wrap_up(cid, "Resolved", "first")
    leg = alex.my_leg(alex.conversation(cid))
    url = f"{server.url}{M}/{cid}/participants/{leg['id']}"
    for body in ({"wrapup": {"code": "Again"}}, {"wrapupSkipped": True}):
        resp = requests.patch(url, json=body, headers=auth(alex.token), timeout=5)
        assert resp.status_code == 409, body
        err = resp.json()
        assert err["code"] == "conflict" and err["status"] == 409 and err["contextId"]
        assert leg["id"] in err["message"] and "Resolved" in err["message"]
    conv = requests.get(
        f"{server.url}/api/v2/conversations/{cid}", headers=auth(tok), timeout=5
    ).json()
    comm = [p for p in conv["participants"] if p["id"] == leg["id"]][0]["messages"][0]["id"]
    resp = requests.post(
        f"{url}/communications/{comm}/wrapup",
        json={"code": "Again"},
        headers=auth(alex.token),
        timeout=5,
    )
    assert resp.status_code == 409 and resp.json()["code"] == "conflict"
    wrapup = requests.get(f"{url}/wrapup", headers=auth(tok), timeout=5).json()
    assert wrapup["code"] == "Resolved" and wrapup["notes"] == "first"
    assert len(bus.bodies(f"{cid}.acw")) == 1 and len(bus.bodies(f"{cid}.wrapup")) == 1


def test_declined_transfer_returns_to_the_queue_it_was_last_in_and_waits_there(env):
    server, tok, receiver, _bus, alex, sam = env
    alex.go_on_queue()
    cid = inbound(server.url, tok, "cust-back").json()["conversationId"]
    alex.wait_for_offer()
    alex.answer(cid)
    alex.transfer_to_queue(cid, seed.SECOND_QUEUE_ID)
    sam.go_on_queue()
    sam.wait_for_offer()
    sam.answer(cid)
    sam.transfer_to_user(cid, seed.DEMO_AGENT_ID)
    alex.wait_for_offer()
    sam.go_off_queue()
    alex.disconnect(cid)  # Alex declines the direct transfer; nobody is on Second Queue now
    conv = _conv(server, tok, cid)
    acd = _legs(conv, "acd")[-1]
    assert acd["queue"]["id"] == seed.SECOND_QUEUE_ID and acd["state"] == "connected"
    assert _legs(conv, "customer")[0]["state"] == "connected"
    assert not any(p["state"] in ("alerting", "connected") for p in _legs(conv, "agent"))
    receiver.wait_for(
        lambda: len(receiver.of_type("Text", "You are number 1 in the queue")) == 2,
        "the position on the queue it went back to",
    )
    sam.go_on_queue()  # the waiting conversation is routed again
    assert sam.wait_for_offer()["id"] == cid
    sam.answer(cid)
    sam.send_text(cid, "Back with Sam")
    receiver.wait_for(lambda: receiver.of_type("Text", "Back with Sam"))
