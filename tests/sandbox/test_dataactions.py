"""Data-action output: Cognigy's `{userId, topic, disconnectType}` body or the detail body, the
credential header, the trigger's match criteria, retries, faults and runtime reconfiguration."""

from __future__ import annotations

import base64

import pytest
import requests

from om_bridge.sandbox.agentclient import AgentClient
from om_bridge.sandbox.config import ConfigError
from om_bridge.sandbox.dataactions import DataActionSettings
from om_bridge.sandbox.seed import DEMO_INTEGRATION_ID
from om_bridge.sandbox.server import SandboxServer
from tests.browser import Receiver, bearer, send_inbound
from tests.conftest import wait_until

CID = "2a7e9c31-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
INTEG = DEMO_INTEGRATION_ID


def event(suffix: str, **extra) -> tuple[str, dict]:
    customer_side = suffix.startswith("customer.")
    body = {
        "eventTime": 1717236432000,
        "conversationId": CID,
        "mediaType": "MESSAGE",
        "messageType": "OPEN",
        "addressFrom": "cust-7" if customer_side else INTEG,
        "addressTo": INTEG if customer_side else "cust-7",
        **extra,
    }
    return f"v2.detail.events.conversation.{CID}.{suffix}", body


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def sandbox_for(receiver: Receiver, **action) -> SandboxServer:
    config = {
        "url": receiver.url + "/handover/genesysCloudOM",
        "auth": {"type": "header", "header": "Authorization", "value": "Bearer shared-cred"},
        "retry_delay_seconds": 0.01,
        **action,
    }
    return SandboxServer(config={"data_action": config}).start()


def publish(server, topic_body: tuple[str, dict]) -> None:
    server.app.extensions["sandbox"].bus.publish(*topic_body)


def calls(server) -> list[dict]:
    return requests.get(f"{server.url}/sandbox/data-action", timeout=5).json()["deliveries"]


def settled(server, count: int) -> bool:
    cs = calls(server)
    return len(cs) >= count and all(c["outcome"] != "pending" for c in cs)


def test_cognigy_bodies_and_credential(receiver):
    server = sandbox_for(receiver)
    try:
        publish(server, event("user.end", disconnectType="CLIENT", userId="agent-1"))
        publish(server, event("acw", wrapupCode="Resolved"))
        publish(server, event("customer.end", disconnectType="PEER"))
        publish(server, event("customer.start"))  # not a configured topic
        publish(server, event("customer.end", mediaType="CHAT"))  # fails the match criteria
        wait_until(lambda: settled(server, 3), what="three calls")
        bodies = [r.json() for r in receiver.requests]
        assert bodies == [
            {
                "userId": "cust-7",
                "topic": "v2.detail.events.conversation.id.user.end",
                "disconnectType": "CLIENT",
            },
            {"userId": "cust-7", "topic": "v2.detail.events.conversation.id.acw"},
            {
                "userId": "cust-7",
                "topic": "v2.detail.events.conversation.id.customer.end",
                "disconnectType": "PEER",
            },
        ]
        req = receiver.requests[0]
        assert req.path == "/handover/genesysCloudOM"
        assert req.headers["Authorization"] == "Bearer shared-cred"
        assert req.headers["Content-Type"] == "application/json"
    finally:
        server.stop()


def test_detail_body_and_basic_credential(receiver):
    server = sandbox_for(
        receiver,
        body="detail",
        auth={"type": "basic", "username": "genesys", "password": "pw"},
        topics=["v2.detail.events.conversation.{id}.customer.end"],
    )
    try:
        topic, body = event("customer.end", disconnectType="PEER")
        publish(server, (topic, body))
        publish(server, event("user.end", disconnectType="CLIENT"))
        wait_until(lambda: settled(server, 1), what="one call")
        [req] = receiver.requests
        assert req.json() == body
        assert req.headers["Authorization"] == "Basic " + base64.b64encode(b"genesys:pw").decode()
    finally:
        server.stop()


def test_retries_are_configurable(receiver):
    receiver.script[:] = [(500, {}), (429, {"Retry-After": "0"}), (500, {})]
    server = sandbox_for(receiver, retries=2)
    try:
        publish(server, event("acw"))
        wait_until(lambda: settled(server, 1), what="first call settled")
        publish(server, event("acw"))
        wait_until(lambda: settled(server, 2), what="calls settled")
        assert [c["outcome"] for c in calls(server)] == ["gave-up", "delivered"]
        assert [a["status"] for a in calls(server)[0]["attempts"]] == [500, 429, 500]
    finally:
        server.stop()


def test_no_retry_by_default_and_never_on_4xx(receiver):
    receiver.script[:] = [(503, {}), (404, {})]
    server = sandbox_for(receiver)
    try:
        publish(server, event("acw"))
        wait_until(lambda: settled(server, 1), what="first call")
        server.app.extensions["sandbox.data_action"].configure(
            DataActionSettings.from_section(
                {"url": receiver.url, "retries": 3, "retry_delay_seconds": 0.01}
            )
        )
        publish(server, event("acw"))
        publish(server, event("acw"))
        wait_until(lambda: settled(server, 3), what="all calls")
        assert [c["outcome"] for c in calls(server)] == ["gave-up", "failed", "delivered"]
        assert len(receiver.requests) == 3
    finally:
        server.stop()


def test_fault_duplicate_and_timeout(receiver):
    server = sandbox_for(receiver, retries=1)
    try:
        requests.post(
            f"{server.url}/sandbox/faults",
            json={"target": "data-action", "mode": "duplicate"},
            timeout=5,
        )
        publish(server, event("acw"))
        wait_until(lambda: len(receiver.requests) == 2, what="duplicated call")
        assert receiver.requests[0].body == receiver.requests[1].body
        requests.post(
            f"{server.url}/sandbox/faults",
            json={"target": "data-action", "mode": "drop"},
            timeout=5,
        )
        publish(server, event("acw"))
        wait_until(lambda: settled(server, 2), what="retried call")
        assert [a["status"] for a in calls(server)[-1]["attempts"]] == [None, 200]
    finally:
        server.stop()


def test_runtime_configuration_and_validation(receiver):
    with SandboxServer() as server:
        publish(server, event("acw"))  # disabled by default
        bad = requests.put(
            f"{server.url}/sandbox/data-action",
            json={"url": receiver.url, "body": "xml"},
            timeout=5,
        )
        assert bad.status_code == 400 and "data_action.body" in bad.json()["message"]
        bad = requests.put(
            f"{server.url}/sandbox/data-action",
            json={"url": receiver.url, "topics": ["v2.users.{id}.presence"]},
            timeout=5,
        )
        assert bad.status_code == 400 and "data_action.topics" in bad.json()["message"]
        ok = requests.put(
            f"{server.url}/sandbox/data-action",
            json={
                "url": receiver.url,
                "auth": {"type": "header", "header": "X-Key", "value": "k-123"},
            },
            timeout=5,
        )
        assert ok.status_code == 200 and ok.json()["action"]["auth"]["value"] == "***"
        publish(server, event("acw"))
        wait_until(lambda: receiver.requests, what="call after PUT")
        assert receiver.requests[0].headers["X-Key"] == "k-123"
        assert len(receiver.requests) == 1


def test_settings_errors_name_the_key():
    with pytest.raises(ConfigError, match="data_action.timeout_seconds"):
        DataActionSettings.from_section({"timeout_seconds": 120})
    with pytest.raises(ConfigError, match="data_action.auth.value"):
        DataActionSettings.from_section({"auth": {"type": "header"}})
    with pytest.raises(ConfigError, match="data_action.match"):
        DataActionSettings.from_section({"match": {"mediaType": 1}})


def test_a_real_conversation(receiver):
    server = sandbox_for(receiver)
    agent = AgentClient(server.url, "alex@example.com", "demo-agent-password")
    try:
        token = bearer(server.url, ("bridge-client", "bridge-secret-0123456789"))
        cid = send_inbound(server.url, token, DEMO_INTEGRATION_ID, "cust-da-1", "agent please")
        agent.wait_for_offer()
        agent.answer(cid)
        agent.disconnect(cid)
        agent.wrap_up(cid, "Resolved")
        wait_until(lambda: settled(server, 3), what="user.end, customer.end, acw calls")
        topics = {r.json()["topic"]: r.json() for r in receiver.requests}
        assert set(topics) == {
            "v2.detail.events.conversation.id.user.end",
            "v2.detail.events.conversation.id.customer.end",
            "v2.detail.events.conversation.id.acw",
        }
        assert all(b["userId"] == "cust-da-1" for b in topics.values())
        assert topics["v2.detail.events.conversation.id.user.end"]["disconnectType"] == "CLIENT"
    finally:
        agent.close()
        server.stop()
