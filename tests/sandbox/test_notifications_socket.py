"""The channel WebSocket: heartbeats, ping/pong, event frames for subscribed topics, no durability,
one socket per channel, socket_closing, expiry, no_longer_subscribed and the fault modes."""

from __future__ import annotations

import base64
import json
import threading

import pytest
import requests
import websocket

from om_bridge.sandbox.server import SandboxServer
from tests.conftest import wait_until

BRIDGE = ("bridge-client", "bridge-secret-0123456789")
CID = "0f4d8a8e-2b7c-4f0e-9d7e-5a1c3b2e4f60"
END = f"v2.detail.events.conversation.{CID}.customer.end"
USER_END = f"v2.detail.events.conversation.{CID}.user.end"
ACW = f"v2.detail.events.conversation.{CID}.acw"


@pytest.fixture
def server():
    srv = SandboxServer(config={"notifications": {"heartbeat_seconds": 60}})
    srv.start()
    yield srv
    srv.stop()


class Client:
    """A bridge-client token plus helpers for channels and sockets."""

    def __init__(self, server) -> None:
        self.server = server
        basic = base64.b64encode(f"{BRIDGE[0]}:{BRIDGE[1]}".encode()).decode()
        resp = requests.post(
            f"{server.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
            timeout=5,
        )
        self.headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
        self.sockets: list[websocket.WebSocket] = []

    def channel(self, topics: list[str]) -> dict:
        channel = requests.post(
            f"{self.server.url}/api/v2/notifications/channels", headers=self.headers, timeout=5
        ).json()
        if topics:
            self.subscribe(channel["id"], topics)
        return channel

    def subscribe(self, channel_id: str, topics: list[str]) -> None:
        url = f"{self.server.url}/api/v2/notifications/channels/{channel_id}/subscriptions"
        resp = requests.put(url, json=[{"id": t} for t in topics], headers=self.headers, timeout=5)
        assert resp.status_code == 200, resp.text

    def connect(self, channel: dict) -> websocket.WebSocket:
        ws = websocket.create_connection(channel["connectUri"], timeout=5)
        self.sockets.append(ws)
        # The socket is attached when the server has marked the channel connected.
        wait_until(lambda: self.connected(channel["id"]), what="socket attached")
        return ws

    def connected(self, channel_id: str) -> bool:
        chans = requests.get(f"{self.server.url}/sandbox/notifications/channels", timeout=5).json()
        return any(c["id"] == channel_id and c["connected"] for c in chans["entities"])

    def close(self) -> None:
        for ws in self.sockets:
            ws.close()


@pytest.fixture
def client(server):
    c = Client(server)
    yield c
    c.close()


def publish(server, topic: str, body: dict | None = None) -> None:
    server.app.extensions["sandbox"].bus.publish(topic, body or {"conversationId": CID})


def frame(ws: websocket.WebSocket, skip_heartbeats: bool = True) -> dict:
    while True:
        data = json.loads(ws.recv())
        if (
            skip_heartbeats
            and data.get("topicName") == "channel.metadata"
            and data["eventBody"].get("message") == "WebSocket Heartbeat"
        ):
            continue
        return data


def wait_closed(ws: websocket.WebSocket) -> int | None:
    """Read until the server closes; returns the close code (None if the TCP link was cut)."""
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big") if len(data) >= 2 else None


def add_fault(server, **fault) -> None:
    resp = requests.post(
        f"{server.url}/sandbox/faults", json={"target": "websocket", **fault}, timeout=5
    )
    assert resp.status_code in (200, 201), resp.text


def test_heartbeat_frames():
    with SandboxServer(config={"notifications": {"heartbeat_seconds": 0.1}}) as srv:
        c = Client(srv)
        ws = c.connect(c.channel([]))
        first, second = frame(ws, False), frame(ws, False)
        heartbeat = {
            "topicName": "channel.metadata",
            "eventBody": {"message": "WebSocket Heartbeat"},
        }
        assert first == heartbeat and second == heartbeat
        c.close()


def test_ping_gets_pong(server, client):
    ws = client.connect(client.channel([]))
    ws.send(json.dumps({"message": "ping"}))
    assert frame(ws) == {"topicName": "channel.metadata", "eventBody": {"message": "pong"}}


def test_subscribed_events_only(server, client):
    ws = client.connect(client.channel([END]))
    publish(server, USER_END, {"conversationId": CID, "n": 1})
    body = {
        "eventTime": 1717236432000,
        "conversationId": CID,
        "mediaType": "MESSAGE",
        "messageType": "OPEN",
        "disconnectType": "PEER",
    }
    publish(server, END, body)
    got = frame(ws)
    assert got["topicName"] == END
    assert got["version"] == "2"
    assert got["eventBody"] == body
    assert len(got["metadata"]["CorrelationId"]) == 36


def test_events_while_disconnected_are_lost(server, client):
    channel = client.channel([END, ACW])
    publish(server, END, {"lost": True})
    ws = client.connect(channel)
    publish(server, ACW, {"kept": True})
    assert frame(ws)["eventBody"] == {"kept": True}


def test_second_socket_replaces_the_first(server, client):
    channel = client.channel([END])
    first = client.connect(channel)
    second = websocket.create_connection(channel["connectUri"], timeout=5)
    client.sockets.append(second)
    assert wait_closed(first) == 1000
    wait_until(lambda: client.connected(channel["id"]), what="second socket attached")
    publish(server, END, {"to": "second"})
    assert frame(second)["eventBody"] == {"to": "second"}


def test_unknown_channel_refuses_the_upgrade(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        websocket.create_connection(
            f"ws://{server.url.split('://')[1]}/channels/streaming-0-x", timeout=5
        )
    assert info.value.status_code == 404


def test_socket_closing_then_close_after_grace(server, client):
    channel = client.channel([END])
    ws = client.connect(channel)
    resp = requests.post(
        f"{server.url}/sandbox/notifications/socket-closing",
        json={"channelIds": [channel["id"]], "graceSeconds": 0.2},
        timeout=5,
    )
    assert resp.json()["channels"] == [channel["id"]]
    got = frame(ws)
    assert got["topicName"] == "v2.system.socket_closing"
    assert got["eventBody"]["channelId"] == channel["id"]
    assert wait_closed(ws) == 1001
    # the channel and its subscriptions survive: a new socket keeps receiving
    ws2 = client.connect(channel)
    publish(server, END, {"after": "reconnect"})
    assert frame(ws2)["eventBody"] == {"after": "reconnect"}


def test_expiry_closes_the_socket():
    with SandboxServer(config={"notifications": {"channel_ttl_seconds": 1}}) as srv:
        c = Client(srv)
        channel = c.channel([END])
        ws = c.connect(channel)
        assert wait_closed(ws) == 1000
        assert (
            requests.head(
                f"{srv.url}/api/v2/notifications/channels/{channel['id']}",
                headers=c.headers,
                timeout=5,
            ).status_code
            == 404
        )
        c.close()


def test_admin_expire_and_drop(server, client):
    a, b = client.channel([END]), client.channel([END])
    ws_a, ws_b = client.connect(a), client.connect(b)
    requests.post(
        f"{server.url}/sandbox/notifications/expire", json={"channelId": a["id"]}, timeout=5
    )
    assert wait_closed(ws_a) == 1000
    requests.post(
        f"{server.url}/sandbox/notifications/drop", json={"channelIds": [b["id"]]}, timeout=5
    )
    assert wait_closed(ws_b) is None  # cut, no close frame


def test_no_longer_subscribed_on_removal(server, client):
    channel = client.channel([END, ACW])
    ws = client.connect(channel)
    requests.delete(
        f"{server.url}/api/v2/notifications/channels/{channel['id']}/subscriptions",
        headers=client.headers,
        timeout=5,
    )
    got = frame(ws)
    assert got["topicName"] == f"v2.system.no_longer_subscribed.{channel['id']}"
    assert got["eventBody"]["systemTopicType"] == "no_longer_subscribed"
    publish(server, END)
    ws.send(json.dumps({"message": "ping"}))
    assert frame(ws)["eventBody"] == {"message": "pong"}  # no event frame came first


def test_fault_drop_and_duplicate(server, client):
    ws = client.connect(client.channel([END, ACW]))
    add_fault(server, mode="drop", path="*.customer.end")
    add_fault(server, mode="duplicate", path="*.acw")
    publish(server, END, {"n": 1})
    publish(server, ACW, {"n": 2})
    publish(server, END, {"n": 3})
    assert [frame(ws)["eventBody"]["n"] for _ in range(3)] == [2, 2, 3]


def test_fault_reorder_and_delay(server, client):
    ws = client.connect(client.channel([END, ACW, USER_END]))
    add_fault(server, mode="reorder", path="*.customer.end")
    publish(server, END, {"n": 1})
    publish(server, ACW, {"n": 2})
    assert [frame(ws)["eventBody"]["n"] for _ in range(2)] == [2, 1]
    add_fault(server, mode="delay", delay=0.3, path="*.user.end")
    publish(server, USER_END, {"n": 3})
    publish(server, ACW, {"n": 4})
    assert [frame(ws)["eventBody"]["n"] for _ in range(2)] == [4, 3]


def test_a_real_conversation_on_queue_and_detail_topics(server, client):
    from browser import bearer, send_inbound

    from om_bridge.sandbox.agentclient import AgentClient
    from om_bridge.sandbox.seed import DEMO_INTEGRATION_ID, DEMO_QUEUE_ID

    token = bearer(server.url, BRIDGE)
    cid = send_inbound(server.url, token, DEMO_INTEGRATION_ID, "cust-ws-1", "human please")
    queue_topic = f"v2.routing.queues.{DEMO_QUEUE_ID}.conversations.messages"
    end_topic = f"v2.detail.events.conversation.{cid}.customer.end"
    ws = client.connect(client.channel([queue_topic, end_topic]))
    agent = AgentClient(server.url, "alex@example.com", "demo-agent-password")
    try:
        agent.wait_for_offer()
        agent.answer(cid)
        agent.disconnect(cid)
        frames = []

        def customer_leg(f: dict) -> dict:
            return [p for p in f["eventBody"]["participants"] if p["purpose"] == "customer"][0]

        # read until both the end event and a snapshot showing the customer disconnected arrived
        while not (
            any(f["topicName"] == end_topic for f in frames)
            and any(
                f["topicName"] == queue_topic and customer_leg(f)["state"] == "disconnected"
                for f in frames
            )
        ):
            frames.append(frame(ws))
    finally:
        agent.close()
    snapshots = [f for f in frames if f["topicName"] == queue_topic]
    assert all(f["eventBody"]["id"] == cid and f["version"] == "2" for f in snapshots)
    assert customer_leg(snapshots[-1])["disconnectType"] == "peer"
    end = [f for f in frames if f["topicName"] == end_topic][0]["eventBody"]
    assert (end["conversationId"], end["mediaType"], end["messageType"]) == (cid, "MESSAGE", "OPEN")
    assert end["disconnectType"] == "PEER"


def _socket_threads(channel_ids: list[str]) -> list[str]:
    names = {f"ws-read-{cid}" for cid in channel_ids}
    return [
        t.name for t in threading.enumerate() if t.name in names or "simple_websocket" in t.name
    ]


def test_stop_ends_every_socket_even_with_a_silent_client():
    """A client that never answers the close frame must not keep the server's socket threads
    (and the TCP socket) alive: neither after the server closed it nor after `stop()`."""
    before = _socket_threads([])
    srv = SandboxServer(config={"notifications": {"heartbeat_seconds": 60}}).start()
    c = Client(srv)
    a, b = c.channel([END]), c.channel([END])
    c.connect(a), c.connect(b)  # the test never reads from or closes these sockets
    requests.post(f"{srv.url}/sandbox/notifications/expire", json={"channelId": a["id"]}, timeout=5)
    wait_until(
        lambda: not any(a["id"] in n for n in _socket_threads([a["id"]])),
        what="expired channel's socket released without the client's close reply",
    )
    srv.stop()
    wait_until(
        lambda: _socket_threads([a["id"], b["id"]]) == before,
        what="every server-side socket thread ended after stop()",
    )
    c.close()
