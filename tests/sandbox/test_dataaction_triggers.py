"""Process Automation triggers: CRUD through the official SDK, the test endpoint, and triggers
running the data-action workflow (criteria, data formats, TTL, delay)."""

from __future__ import annotations

import json
import time

import pytest
import requests
from PureCloudPlatformClientV2 import ProcessAutomationApi
from PureCloudPlatformClientV2.rest import ApiException

from om_bridge.sandbox.dataactions.settings import DEMO_WORKFLOW_ID
from om_bridge.sandbox.server import SandboxServer
from tests.browser import Receiver, bearer
from tests.conftest import wait_until
from tests.sandbox.sdk_strict import StrictApiClient

BRIDGE = ("bridge-client", "bridge-secret-0123456789")
CID = "5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e"
END_PATTERN = "v2.detail.events.conversation.{id}.customer.end"


def trigger_body(**extra) -> dict:
    return {
        "topicName": END_PATTERN,
        "name": "Open Messaging conversation ended",
        "enabled": True,
        "target": {
            "type": "Workflow",
            "id": DEMO_WORKFLOW_ID,
            "workflowTargetSettings": {"dataFormat": "TopLevelPrimitives"},
        },
        "matchCriteria": [
            {"jsonPath": "mediaType", "operator": "Equal", "value": "MESSAGE"},
            {"jsonPath": "messageType", "operator": "Equal", "value": "OPEN"},
        ],
        **extra,
    }


def end_event(**extra) -> dict:
    return {
        "eventTime": int(time.time() * 1000),
        "conversationId": CID,
        "mediaType": "MESSAGE",
        "messageType": "OPEN",
        "disconnectType": "PEER",
        "addressFrom": "cust-t",
        "addressTo": "integration",
        "conversationExternalContactIds": ["x"],
        **extra,
    }


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def server(receiver):
    config = {"data_action": {"url": receiver.url, "topics": [], "body": "detail"}}
    with SandboxServer(config=config) as srv:
        yield srv


def api(server, method: str, path: str, **kw) -> requests.Response:
    token = bearer(server.url, BRIDGE)
    return requests.request(
        method, server.url + path, timeout=5, headers={"Authorization": f"Bearer {token}"}, **kw
    )


def test_sdk_crud_and_test_endpoint(server):
    client = StrictApiClient(host=server.url).get_client_credentials_token(*BRIDGE)
    pa = ProcessAutomationApi(client)
    created = pa.post_processautomation_triggers(trigger_body(eventTTLSeconds=300))
    assert created.id and created.version == 1 and created.topic_name == END_PATTERN
    assert created.target.workflow_target_settings.data_format == "TopLevelPrimitives"
    assert created.match_criteria[0].operator == "Equal"
    assert pa.get_processautomation_trigger(created.id).name == created.name
    listing = pa.get_processautomation_triggers(topic_name=END_PATTERN)
    assert [t.id for t in listing.entities] == [created.id]
    update = {**trigger_body(enabled=False), "version": 1}
    updated = pa.put_processautomation_trigger(created.id, update)
    assert (updated.version, updated.enabled) == (2, False)
    with pytest.raises(ApiException) as info:
        pa.put_processautomation_trigger(created.id, update)  # stale version
    assert info.value.status == 409
    topics = pa.get_processautomation_triggers_topics()
    assert END_PATTERN in topics.entities
    result = pa.post_processautomation_trigger_test(created.id, body=json.dumps(end_event()))
    assert result.trigger_matches is True
    assert [d.match for d in result.json_path_validation.details] == [True, True]
    result = pa.post_processautomation_trigger_test(
        created.id, body=json.dumps(end_event(mediaType="CHAT"))
    )
    assert result.trigger_matches is False
    # the bridge's role has no processautomation:trigger:delete
    with pytest.raises(ApiException) as info:
        pa.delete_processautomation_trigger(created.id)
    assert info.value.status == 403


def test_invalid_triggers_are_400(server):
    for bad, word in (
        (trigger_body(topicName="v2.detail.events.conversation.{id}.x"), "topicName"),
        (trigger_body(target={"type": "Workflow", "id": "unknown"}), "target.id"),
        (trigger_body(eventTTLSeconds=5), "eventTTLSeconds"),
        (trigger_body(eventTTLSeconds=60, delayBySeconds=60), "Only one"),
        (
            trigger_body(matchCriteria=[{"jsonPath": "a", "operator": "Like", "value": 1}]),
            "operator",
        ),
        (trigger_body(matchCriteria=[{"jsonPath": "a", "operator": "Equal"}]), "exactly one"),
    ):
        resp = api(server, "POST", "/api/v2/processautomation/triggers", json=bad)
        assert resp.status_code == 400, bad
        assert word in resp.json()["message"]
    assert api(server, "GET", "/api/v2/processautomation/triggers").json()["entities"] == []


def publish(server, body: dict, suffix: str = "customer.end") -> None:
    topic = f"v2.detail.events.conversation.{CID}.{suffix}"
    server.app.extensions["sandbox"].bus.publish(topic, body)


def deliveries(server) -> list[dict]:
    return requests.get(f"{server.url}/sandbox/data-action", timeout=5).json()["deliveries"]


def test_triggers_run_the_workflow(server, receiver):
    api(server, "POST", "/api/v2/processautomation/triggers", json=trigger_body())
    api(
        server,
        "POST",
        "/api/v2/processautomation/triggers",
        json=trigger_body(
            name="json",
            target={
                "type": "Workflow",
                "id": DEMO_WORKFLOW_ID,
                "workflowTargetSettings": {"dataFormat": "Json"},
            },
            matchCriteria=[{"jsonPath": "disconnectType", "operator": "In", "values": ["CLIENT"]}],
        ),
    )
    publish(server, end_event(mediaType="CHAT"))  # no trigger matches
    publish(server, end_event(n=1))  # primitives trigger
    publish(server, end_event(n=2, disconnectType="CLIENT"))  # both triggers
    wait_until(lambda: len(receiver.requests) == 3, what="three workflow runs")
    bodies = [r.json() for r in receiver.requests]
    assert bodies[0]["n"] == 1 and "conversationExternalContactIds" not in bodies[0]
    primitives = [b for b in bodies[1:] if "jsonData" not in b]
    assert len(primitives) == 1 and primitives[0]["n"] == 2
    [json_run] = [b for b in bodies[1:] if "jsonData" in b]
    assert json_run["jsonData"]["n"] == 2
    assert json_run["jsonData"]["conversationExternalContactIds"] == ["x"]


def test_ttl_drops_stale_events_and_delay_postpones(server, receiver):
    api(server, "POST", "/api/v2/processautomation/triggers", json=trigger_body(eventTTLSeconds=30))
    api(
        server,
        "POST",
        "/api/v2/processautomation/triggers",
        json=trigger_body(
            topicName="v2.detail.events.conversation.{id}.acw", delayBySeconds=600, matchCriteria=[]
        ),
    )
    publish(server, end_event(n="stale", eventTime=int((time.time() - 120) * 1000)))
    publish(server, end_event(n="late"), suffix="acw")
    publish(server, end_event(n="fresh"))
    wait_until(lambda: receiver.requests, what="fresh event run")
    assert [r.json()["n"] for r in receiver.requests] == ["fresh"]
    assert [d["outcome"] for d in deliveries(server)] == ["pending", "delivered"]
