"""Fault injection (admin routes, config, every mode, API and webhook targets) and the per-token
rate limit."""

from __future__ import annotations

import pytest
import requests
from sandbox_testkit import WebhookReceiver, auth, inbound, start, token

from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient

QUEUES = "/api/v2/routing/queues"


@pytest.fixture
def server():
    srv = start()
    yield srv
    srv.stop()


def _fault(url: str, **fault) -> dict:
    resp = requests.post(f"{url}/sandbox/faults", json=fault, timeout=5)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_status_fault_with_retry_after_then_normal(server):
    tok = token(server.url)
    made = _fault(
        server.url,
        target="api",
        mode="status",
        status=503,
        retry_after=7,
        path="/api/v2/routing/*",
        count=1,
    )
    listed = requests.get(f"{server.url}/sandbox/faults", timeout=5).json()["faults"]
    assert [f["id"] for f in listed] == [made["id"]]
    resp = requests.get(server.url + QUEUES, headers=auth(tok), timeout=5)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "7"
    assert resp.json()["code"] == "service.unavailable" and resp.json()["contextId"]
    assert requests.get(server.url + QUEUES, headers=auth(tok), timeout=5).status_code == 200
    assert requests.get(f"{server.url}/sandbox/faults", timeout=5).json()["faults"] == []


def test_fault_matches_method_and_path_only(server):
    tok = token(server.url)
    _fault(
        server.url,
        target="api",
        mode="status",
        status=500,
        method="POST",
        path="/api/v2/routing/*",
        count=-1,
    )
    assert requests.get(server.url + QUEUES, headers=auth(tok), timeout=5).status_code == 200
    assert (
        requests.get(
            f"{server.url}/api/v2/users/{seed.DEMO_AGENT_ID}", headers=auth(tok), timeout=5
        ).status_code
        == 200
    )
    assert requests.delete(f"{server.url}/sandbox/faults", timeout=5).status_code == 204
    assert requests.get(f"{server.url}/sandbox/faults", timeout=5).json()["faults"] == []


def test_delay_fault(server):
    tok = token(server.url)
    _fault(server.url, target="api", mode="delay", delay=1.0, path=QUEUES)
    with pytest.raises(requests.Timeout):
        requests.get(server.url + QUEUES, headers=auth(tok), timeout=0.3)
    assert requests.get(server.url + QUEUES, headers=auth(tok), timeout=5).status_code == 200


def test_drop_fault_closes_without_response(server):
    tok = token(server.url)
    _fault(server.url, target="api", mode="drop", path=QUEUES)
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + QUEUES, headers=auth(tok), timeout=5)
    assert requests.get(server.url + QUEUES, headers=auth(tok), timeout=5).status_code == 200


@pytest.mark.parametrize(
    "fault, field",
    [
        ({"target": "mainframe"}, "target"),
        ({"mode": "explode"}, "mode"),
        ({"mode": "status", "status": 200}, "status"),
        ({"mode": "delay"}, "delay"),
        ({"target": "api", "mode": "duplicate"}, "mode"),
        ({"status": 500, "count": 0}, "count"),
        ({"status": 500, "colour": "red"}, "colour"),
    ],
)
def test_invalid_fault_is_rejected_naming_the_field(server, fault, field):
    resp = requests.post(f"{server.url}/sandbox/faults", json=fault, timeout=5)
    assert resp.status_code == 400 and f"'{field}'" in resp.json()["message"]
    assert requests.get(f"{server.url}/sandbox/faults", timeout=5).json()["faults"] == []


def test_faults_from_config():
    srv = start(
        {"faults": [{"target": "api", "mode": "status", "status": 429, "count": 2, "path": QUEUES}]}
    )
    try:
        tok = token(srv.url)
        for _ in range(2):
            resp = requests.get(srv.url + QUEUES, headers=auth(tok), timeout=5)
            assert resp.status_code == 429 and resp.headers["Retry-After"]
            assert resp.json()["code"] == "too.many.requests.retry.after"
        assert requests.get(srv.url + QUEUES, headers=auth(tok), timeout=5).status_code == 200
    finally:
        srv.stop()


def test_rate_limit_per_token():
    srv = start({"rate_limit": {"per_minute": 3}})
    try:
        tok, other = token(srv.url), token(srv.url)
        for _ in range(3):
            assert requests.get(srv.url + QUEUES, headers=auth(tok), timeout=5).status_code == 200
        resp = requests.get(srv.url + QUEUES, headers=auth(tok), timeout=5)
        assert resp.status_code == 429
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
        body = resp.json()
        assert body["code"] == "too.many.requests.retry.after"
        assert body["limit"]["value"] == 3
        assert requests.get(srv.url + QUEUES, headers=auth(other), timeout=5).status_code == 200
        put = requests.put(f"{srv.url}/sandbox/rate-limit", json={"perMinute": 0}, timeout=5)
        assert put.status_code == 200
        assert requests.get(srv.url + QUEUES, headers=auth(tok), timeout=5).status_code == 200
        bad = requests.put(f"{srv.url}/sandbox/rate-limit", json={"perMinute": -1}, timeout=5)
        assert bad.status_code == 400
        assert requests.get(f"{srv.url}/sandbox/rate-limit", timeout=5).json() == {"perMinute": 0}
    finally:
        srv.stop()


@pytest.fixture
def answered():
    receiver = WebhookReceiver()
    srv = start(receiver=receiver)
    agent = AgentClient(srv.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    cid = inbound(srv.url, token(srv.url), "cust-f").json()["conversationId"]
    agent.wait_for_offer()
    agent.answer(cid)
    assert srv.sandbox.webhooks.wait_idle()
    yield srv, receiver, agent, cid
    agent.close()
    srv.stop()
    receiver.stop()


def test_webhook_status_fault_retryable_and_not(answered):
    srv, receiver, agent, cid = answered
    _fault(srv.url, target="webhook", mode="status", status=503, path="/handover/*")
    first = agent.send_text(cid, "after 503")
    assert srv.sandbox.webhooks.wait_idle()
    assert len(receiver.of_type("Text", "after 503")) == 1
    assert srv.sandbox.store.messages[first["id"]].status == "sent"
    _fault(srv.url, target="webhook", mode="status", status=400)
    second = agent.send_text(cid, "after 400")
    assert srv.sandbox.webhooks.wait_idle()
    assert receiver.of_type("Text", "after 400") == []
    assert srv.sandbox.store.messages[second["id"]].status == "failed"


def test_webhook_drop_is_a_timeout_then_retried(answered):
    srv, receiver, agent, cid = answered
    _fault(srv.url, target="webhook", mode="drop")
    sent = agent.send_text(cid, "dropped once")
    assert srv.sandbox.webhooks.wait_idle()
    assert len(receiver.of_type("Text", "dropped once")) == 1
    assert srv.sandbox.store.messages[sent["id"]].status == "sent"


def test_webhook_duplicate(answered):
    srv, receiver, agent, cid = answered
    _fault(srv.url, target="webhook", mode="duplicate")
    agent.send_text(cid, "twice")
    assert srv.sandbox.webhooks.wait_idle()
    hits = receiver.of_type("Text", "twice")
    assert len(hits) == 2 and hits[0].body == hits[1].body


def test_webhook_reorder(answered):
    srv, receiver, agent, cid = answered
    _fault(srv.url, target="webhook", mode="reorder")
    agent.send_text(cid, "A")
    agent.send_text(cid, "B")
    assert srv.sandbox.webhooks.wait_idle()
    assert [t for t in receiver.texts() if t in ("A", "B")] == ["B", "A"]


def test_webhook_delay(answered):
    srv, receiver, agent, cid = answered
    _fault(srv.url, target="webhook", mode="delay", delay=0.3)
    agent.send_text(cid, "late")
    assert srv.sandbox.webhooks.wait_idle()
    assert len(receiver.of_type("Text", "late")) == 1
    assert requests.get(f"{srv.url}/sandbox/faults", timeout=5).json()["faults"] == []


@pytest.mark.parametrize("body", ["null", "[]", "[{}]", '"x"', "1", "not json"])
def test_fault_body_that_is_not_an_object_is_a_400(server, body):
    resp = requests.post(
        f"{server.url}/sandbox/faults",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert resp.status_code == 400 and resp.json()["code"] == "bad.request"
    assert requests.get(f"{server.url}/sandbox/faults", timeout=5).json()["faults"] == []
