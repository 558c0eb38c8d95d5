"""EventBridge output: envelopes, API destination headers and auth, retry rules, faults, runtime
reconfiguration, and the events a real conversation produces."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest
import requests

from om_bridge.sandbox.agentclient import AgentClient
from om_bridge.sandbox.eventbridge import EventBridgeSettings, build_envelope, topic_pattern
from om_bridge.sandbox.eventbridge.outbound import RetryPolicy, parse_retry_after
from om_bridge.sandbox.seed import DEMO_INTEGRATION_ID, DEMO_ORG_ID
from om_bridge.sandbox.server import SandboxServer
from tests.browser import Receiver, bearer, send_inbound
from tests.conftest import wait_until

CID = "9c4b2a10-5e3d-4c7b-8a6f-1e2d3c4b5a69"
END = f"v2.detail.events.conversation.{CID}.customer.end"
START = f"v2.detail.events.conversation.{CID}.customer.start"
ACW = f"v2.detail.events.conversation.{CID}.acw"
BODY = {
    "eventTime": 1717236432000,
    "conversationId": CID,
    "participantId": "p1",
    "mediaType": "MESSAGE",
    "messageType": "OPEN",
    "direction": "INBOUND",
    "disconnectType": "PEER",
    "addressFrom": "cust-1",
    "addressTo": DEMO_INTEGRATION_ID,
}


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def sandbox_for(receiver: Receiver, **eventbridge) -> SandboxServer:
    config = {
        "url": receiver.url + "/handover/genesysCloudOM/eventbridge",
        "retry_delay_seconds": 0.01,
        "max_retry_delay_seconds": 0.05,
        **eventbridge,
    }
    return SandboxServer(config={"eventbridge": config}).start()


def publish(server, topic: str, body: dict | None = None) -> None:
    server.app.extensions["sandbox"].bus.publish(topic, body or BODY)


def deliveries(server) -> list[dict]:
    return requests.get(f"{server.url}/sandbox/eventbridge", timeout=5).json()["deliveries"]


def settled(server, count: int) -> bool:
    ds = deliveries(server)
    return len(ds) >= count and all(d["outcome"] != "pending" for d in ds)


def test_envelope_shape():
    settings = EventBridgeSettings.from_section(
        {"source_suffix": "cx-events", "account": "210987654321", "region": "eu-west-1"}
    )
    now = datetime(2025, 6, 1, 10, 7, 12, 345000, tzinfo=UTC)
    env = build_envelope(END, BODY, settings, "org-1", now)
    assert list(env) == [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ]
    assert env["version"] == "0"
    assert re.fullmatch(r"[0-9a-f-]{36}", env["id"])
    assert env["detail-type"] == "v2.detail.events.conversation.{id}.customer.end"
    assert env["source"] == "aws.partner/genesys.com/cloud/org-1/cx-events"
    assert (env["account"], env["region"], env["resources"]) == ("210987654321", "eu-west-1", [])
    assert env["time"] == "2025-06-01T10:07:12Z"
    detail = env["detail"]
    assert detail["topicName"] == END and detail["version"] == "2"
    assert detail["eventBody"] == BODY
    assert re.fullmatch(r"[0-9a-f-]{36}", detail["metadata"]["CorrelationId"])
    assert detail["timestamp"] == "2025-06-01T10:07:12.345Z"
    assert topic_pattern("v2.routing.queues.q1.conversations.messages") is None


def test_delivery_headers_and_api_key(receiver):
    server = sandbox_for(
        receiver,
        auth={"type": "apikey", "header": "Authorization", "value": "demo-eventbridge-key"},
    )
    try:
        publish(server, START)  # not a configured topic
        publish(server, END)
        wait_until(lambda: len(receiver.requests) >= 1, what="EventBridge delivery")
        wait_until(lambda: settled(server, 1), what="delivery settled")
        [req] = receiver.requests
        assert req.method == "POST" and req.path == "/handover/genesysCloudOM/eventbridge"
        assert req.headers["Authorization"] == "demo-eventbridge-key"
        assert req.headers["User-Agent"] == "Amazon/EventBridge/ApiDestinations"
        assert req.headers["Content-Type"] == "application/json; charset=utf-8"
        assert req.headers["Range"] == "bytes=0-1048575"
        env = req.json()
        assert env["detail"]["topicName"] == END
        assert env["source"] == f"aws.partner/genesys.com/cloud/{DEMO_ORG_ID}/om-bridge"
        assert env["detail"]["eventBody"] == BODY
    finally:
        server.stop()


def test_basic_auth(receiver):
    server = sandbox_for(receiver, auth={"type": "basic", "username": "eb", "password": "pw"})
    try:
        publish(server, END)
        wait_until(lambda: receiver.requests, what="delivery")
        expected = "Basic " + base64.b64encode(b"eb:pw").decode()
        assert receiver.requests[0].headers["Authorization"] == expected
    finally:
        server.stop()


def test_retries_5xx_and_429_with_the_same_event(receiver):
    receiver.script[:] = [(503, {}), (429, {"Retry-After": "0"}), (500, {})]
    server = sandbox_for(receiver)
    try:
        publish(server, END)
        wait_until(lambda: settled(server, 1), what="delivery settled")
        assert [d["status"] for d in deliveries(server)[0]["attempts"]] == [503, 429, 500, 200]
        assert deliveries(server)[0]["outcome"] == "delivered"
        assert len({r.json()["id"] for r in receiver.requests}) == 1
    finally:
        server.stop()


def test_other_4xx_are_not_retried(receiver):
    receiver.script[:] = [(400, {}), (401, {})]
    server = sandbox_for(receiver)
    try:
        publish(server, END)
        publish(server, ACW)
        publish(server, END)
        wait_until(lambda: settled(server, 3), what="deliveries settled")
        assert [d["outcome"] for d in deliveries(server)] == ["failed", "failed", "delivered"]
        assert len(receiver.requests) == 3
    finally:
        server.stop()


def test_gives_up_after_max_attempts(receiver):
    receiver.script[:] = [(502, {})] * 5
    server = sandbox_for(receiver, max_attempts=3)
    try:
        publish(server, END)
        wait_until(lambda: settled(server, 1), what="delivery settled")
        assert deliveries(server)[0]["outcome"] == "gave-up"
        assert len(receiver.requests) == 3
    finally:
        server.stop()


def test_negative_retry_after_stops(receiver):
    receiver.script[:] = [(429, {"Retry-After": "-1"})]
    server = sandbox_for(receiver)
    try:
        publish(server, END)
        wait_until(lambda: settled(server, 1), what="delivery settled")
        assert deliveries(server)[0]["outcome"] == "failed"
        assert len(receiver.requests) == 1
    finally:
        server.stop()


def test_retry_after_is_the_floor_of_the_backoff():
    policy = RetryPolicy(
        max_attempts=5, base_delay=0.5, max_delay=8, budget=60, retry_status=lambda s: True
    )
    assert policy.next_delay(1, None) == 0.5
    assert policy.next_delay(3, None) == 2.0
    assert policy.next_delay(1, 7.0) == 7.0  # Retry-After longer than the backoff wins
    assert policy.next_delay(3, 0.1) == 2.0  # the more conservative of both
    assert policy.next_delay(10, None) == 8  # capped
    assert parse_retry_after("3") == 3.0 and parse_retry_after("soon") is None


def test_slow_receiver_times_out_and_is_retried(receiver):
    receiver.script[:] = [(200, {}, 1.0)]
    server = sandbox_for(receiver, timeout_seconds=0.2)
    try:
        publish(server, END)
        wait_until(lambda: settled(server, 1), what="delivery settled")
        statuses = [a["status"] for a in deliveries(server)[0]["attempts"]]
        # the slow answer timed out; a retry on a loaded machine may time out too before one lands
        assert statuses[0] is None and statuses[-1] == 200 and set(statuses[1:-1]) <= {None}
    finally:
        server.stop()


def test_faults_duplicate_reorder_status_drop(receiver):
    server = sandbox_for(receiver)
    try:

        def fault(**f):
            resp = requests.post(
                f"{server.url}/sandbox/faults", json={"target": "eventbridge", **f}, timeout=5
            )
            assert resp.status_code in (200, 201), resp.text

        fault(mode="duplicate")
        publish(server, END, {**BODY, "n": 1})
        wait_until(lambda: len(receiver.requests) == 2, what="duplicate")
        first, second = receiver.requests
        assert first.body == second.body
        fault(mode="reorder")
        publish(server, END, {**BODY, "n": 2})
        publish(server, ACW, {**BODY, "n": 3})
        wait_until(lambda: len(receiver.requests) == 4, what="reordered pair")
        assert [r.json()["detail"]["eventBody"]["n"] for r in receiver.requests[2:]] == [3, 2]
        fault(mode="status", status=503)
        fault(mode="drop")
        publish(server, END, {**BODY, "n": 4})
        wait_until(lambda: settled(server, 4), what="retried delivery")
        assert [a["status"] for a in deliveries(server)[-1]["attempts"]] == [503, None, 200]
    finally:
        server.stop()


def test_runtime_destination(receiver):
    with SandboxServer() as server:
        publish(server, END)  # disabled by default: nothing to deliver
        resp = requests.put(
            f"{server.url}/sandbox/eventbridge",
            json={"url": receiver.url, "auth": {"type": "apikey", "value": "secret-key"}},
            timeout=5,
        )
        assert resp.status_code == 200
        assert resp.json()["destination"]["auth"]["value"] == "***"
        bad = requests.put(
            f"{server.url}/sandbox/eventbridge", json={"url": receiver.url, "timeout": 3}, timeout=5
        )
        assert bad.status_code == 400 and "eventbridge.timeout" in bad.json()["message"]
        bad = requests.put(
            f"{server.url}/sandbox/eventbridge",
            json={"url": receiver.url, "auth": {"type": "oauth"}},
            timeout=5,
        )
        assert bad.status_code == 400 and "auth.type" in bad.json()["message"]
        view = requests.get(f"{server.url}/sandbox/eventbridge", timeout=5).json()
        assert view["destination"]["url"] == receiver.url
        assert "secret-key" not in str(view)
        publish(server, END)
        wait_until(lambda: receiver.requests, what="delivery after PUT")
        assert receiver.requests[0].headers["Authorization"] == "secret-key"
        assert len(receiver.requests) == 1


def test_a_real_conversation_end(receiver):
    server = sandbox_for(receiver)
    agent = AgentClient(server.url, "alex@example.com", "demo-agent-password")
    try:
        token = bearer(server.url, ("bridge-client", "bridge-secret-0123456789"))
        cid = send_inbound(server.url, token, DEMO_INTEGRATION_ID, "cust-eb-1", "I need a human")
        agent.wait_for_offer()
        agent.answer(cid)
        agent.disconnect(cid)
        agent.wrap_up(cid)

        wait_until(lambda: len(receiver.requests) >= 3, what="user.end, customer.end, acw")
        by_type = {r.json()["detail-type"]: r.json() for r in receiver.requests}
        end = by_type["v2.detail.events.conversation.{id}.customer.end"]["detail"]
        assert end["topicName"] == f"v2.detail.events.conversation.{cid}.customer.end"
        body = end["eventBody"]
        assert (body["mediaType"], body["messageType"], body["conversationId"]) == (
            "MESSAGE",
            "OPEN",
            cid,
        )
        assert isinstance(body["eventTime"], int)
        assert "v2.detail.events.conversation.{id}.user.end" in by_type
        assert "v2.detail.events.conversation.{id}.acw" in by_type
        wait_until(lambda: settled(server, 3), what="deliveries settled")
        assert len(receiver.requests) == 3  # customer.start etc. are not configured
    finally:
        agent.close()
        server.stop()


def test_a_duplicated_attempt_counts_once_against_max_attempts(receiver):
    # the duplicated first attempt gets 503 twice, the retry 503: two attempts, three requests
    receiver.script[:] = [(503, {})] * 3
    server = sandbox_for(receiver, max_attempts=2)
    try:
        resp = requests.post(
            f"{server.url}/sandbox/faults",
            timeout=5,
            json={"target": "eventbridge", "mode": "duplicate"},
        )
        assert resp.status_code in (200, 201), resp.text
        publish(server, END)
        wait_until(lambda: settled(server, 1), what="delivery settled")
        [delivery] = deliveries(server)
        assert delivery["outcome"] == "gave-up"
        assert [a["status"] for a in delivery["attempts"]] == [503, 503]
        assert delivery["attempts"][0]["duplicateStatus"] == 503
        assert len(receiver.requests) == 3
        assert len({r.body for r in receiver.requests}) == 1
    finally:
        server.stop()


def test_stop_cuts_a_delivery_in_flight():
    import threading

    from sandbox_testkit import WebhookReceiver

    release = threading.Event()

    def answer_late(_hit) -> int:  # type: ignore[no-untyped-def]
        release.wait(30)  # slower than the sandbox lives
        return 200

    slow = WebhookReceiver(responder=answer_late)
    server = SandboxServer(config={"eventbridge": {"url": slow.url, "timeout_seconds": 30}}).start()
    try:
        publish(server, END)
        wait_until(lambda: len(slow.hits) == 1, what="the POST in flight")
        server.stop()
        worker = server.app.extensions["sandbox.eventbridge"].worker._thread
        assert not worker.is_alive(), "the delivery worker may not outlive stop()"
    finally:
        release.set()
        server.stop()
        slow.stop()
