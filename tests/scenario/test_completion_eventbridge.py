"""Completion through EventBridge: the sandbox delivers detail events to
POST /handover/genesysCloudOM (Cognigy's guide; /eventbridge is an alias) like an AWS API
destination, against a real bridge."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.handover_helpers import collect, handover_of, statuses, wait_conversation_id

ROUTE = "/handover/genesysCloudOM/eventbridge"
COGNIGY_ROUTE = "/handover/genesysCloudOM"
KEY = "demo-eventbridge-key"
FAST_GRACE = {"GENESYS_OM_HANDOVER_ACW_AFTER_TRANSFER_TIMEOUT_IN_MS": "300"}


def start_handover(env) -> str:  # type: ignore[no-untyped-def]
    """User greets, asks for an agent; Alex answers. Returns the conversation id."""
    env.agent.go_on_queue()
    env.say("hello")
    env.say("I want an agent please")
    conversation_id = wait_conversation_id(env)
    assert env.agent.wait_for_offer()["id"] == conversation_id
    env.agent.answer(conversation_id)
    return conversation_id


def completed_count(env) -> int:  # type: ignore[no-untyped-def]
    return statuses(env.outputs(0)["outputs"]).count("completed")


def decisions(env, source: str, decision: str) -> float:  # type: ignore[no-untyped-def]
    metric = env.ctx.metrics.counter(
        "om_bridge_completion_events_total", "", ["source", "decision"]
    )
    return metric.labels(source, decision)._value.get()


def envelope(
    conversation_id: str,
    suffix: str = "customer.end",
    *,
    event_time_ms: int | None = None,
    org: str = seed.DEMO_ORG_ID,
    **body: object,
) -> dict:
    event = {
        "eventTime": event_time_ms if event_time_ms is not None else int(time.time() * 1000),
        "conversationId": conversation_id,
        "participantId": "p",
        "mediaType": "MESSAGE",
        "messageType": "OPEN",
        "disconnectType": "PEER",
        **body,
    }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": f"v2.detail.events.conversation.{{id}}.{suffix}",
        "source": f"aws.partner/genesys.com/cloud/{org}/om-bridge",
        "account": "123456789012",
        "time": "2024-06-01T10:07:12Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "topicName": f"v2.detail.events.conversation.{conversation_id}.{suffix}",
            "version": "2",
            "eventBody": event,
            "metadata": {"CorrelationId": "x"},
        },
    }


def post(env, body, key: str | None = KEY, route: str = ROUTE) -> requests.Response:  # type: ignore[no-untyped-def]
    headers = {"Authorization": key} if key is not None else {}
    return requests.post(env.bridge_url + route, json=body, headers=headers, timeout=10)


def test_agent_ends_handover_completed_and_flow_resumed(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    env.agent.send_text(conversation_id, "Hello from Alex")
    env.agent.disconnect(conversation_id)
    outs = collect(
        env, lambda o: o["source"] == "bot" and "back" in (o.get("text") or "").lower(), timeout=20
    )
    assert statuses(outs).count("completed") == 1
    assert handover_of(env) is None
    assert "demo bot" in env.say("hello again")["text"]
    # The end came from the sandbox's real EventBridge delivery, through the organisation check.
    wait_until(lambda: decisions(env, "eventbridge", "end") == 1, 5, what="the decision counted")
    delivered = env.sandbox_admin.eventbridge()["deliveries"]
    assert any("customer.end" in d["label"] and d["outcome"] == "delivered" for d in delivered)


@pytest.mark.bridge_env(flags=FAST_GRACE)
def test_transfer_to_another_queue_does_not_end_and_new_agent_continues(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    sam = env.agent_client(seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
    sam.go_on_queue()
    env.agent.transfer_to_queue(conversation_id, seed.SECOND_QUEUE_ID)
    env.agent.wrap_up(conversation_id)  # Alex's acw fires on the transfer too
    assert sam.wait_for_offer()["id"] == conversation_id
    # user.end (TRANSFER) is ignored; acw waits, and the sweeper finds the new leg and cancels.
    wait_until(lambda: decisions(env, "eventbridge", "wait") >= 1, 10, what="the acw wait")
    wait_until(
        lambda: handover_of(env) is not None and handover_of(env).pending_end_at is None,
        10,
        what="the pending end cancelled",
    )
    assert decisions(env, "eventbridge", "ignore") >= 1
    sam.answer(conversation_id)
    sam.send_text(conversation_id, "Sam here, I take over")
    outs = collect(
        env, lambda o: o["source"] == "agent" and o.get("text") == "Sam here, I take over"
    )
    assert "completed" not in statuses(outs)
    assert handover_of(env) is not None
    sam.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 20, what="the handover ended after Sam")
    assert completed_count(env) == 1


def test_duplicated_and_reordered_events_end_once(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    # user.end is held back and arrives after customer.end; every later event arrives twice.
    env.sandbox_admin.add_fault(target="eventbridge", mode="reorder", count=1)
    env.sandbox_admin.add_fault(target="eventbridge", mode="duplicate", count=-1)
    env.agent.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 20, what="the handover ended")
    env.agent.wrap_up(conversation_id)
    # customer.end twice (end + duplicate), the late user.end, acw twice: one end, four ignored.
    wait_until(lambda: decisions(env, "eventbridge", "ignore") >= 4, 20, what="the duplicates")
    assert decisions(env, "eventbridge", "end") == 1
    assert completed_count(env) == 1


def test_replayed_event_for_an_ended_handover_is_ignored(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    env.agent.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 20, what="the handover ended")
    again = post(env, envelope(conversation_id))
    assert again.status_code == 200 and again.json()["status"] == "ignore"
    assert completed_count(env) == 1


def test_unknown_conversation_is_ignored_with_2xx(bridge_env):
    resp = post(bridge_env, envelope(str(uuid.uuid4())))
    assert resp.status_code == 200
    assert resp.json()["status"] == "ignore" and "no handover" in resp.json()["reason"]


def test_wrong_or_missing_api_key_is_401_and_nothing_changes(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    wrong = post(env, envelope(conversation_id), key="not-the-key")
    assert wrong.status_code == 401 and "does not match" in wrong.json()["message"]
    missing = post(env, envelope(conversation_id), key=None)
    assert missing.status_code == 401 and "missing" in missing.json()["message"]
    assert KEY not in wrong.text
    h = handover_of(env)
    assert h is not None and h.is_open and h.pending_end_at is None
    assert completed_count(env) == 0


def test_stale_event_from_before_the_handover_is_ignored(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    created_ms = int(handover_of(env).created_at * 1000)
    resp = post(env, envelope(conversation_id, event_time_ms=created_ms - 60_000))
    assert resp.status_code == 200 and "stale" in resp.json()["reason"]
    assert handover_of(env) is not None


def test_other_organisation_is_refused(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    resp = post(env, envelope(conversation_id, org="11111111-2222-3333-4444-555555555555"))
    assert resp.status_code == 403 and resp.json()["error"] == "organization_mismatch"
    assert "SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK" in resp.json()["message"]
    assert handover_of(env) is not None


@pytest.mark.bridge_env(flags={"SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK": "true"})
def test_organisation_check_can_be_skipped(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    resp = post(env, envelope(conversation_id, org="11111111-2222-3333-4444-555555555555"))
    assert resp.status_code == 200 and resp.json()["status"] == "end"
    assert handover_of(env) is None


def test_schema_invalid_body_is_400_naming_the_path(bridge_env):
    env = bridge_env
    body = envelope("c-1")
    del body["detail"]["eventBody"]["conversationId"]
    resp = post(env, body)
    assert resp.status_code == 400 and resp.json()["path"] == "$['detail']['eventBody']"
    bad = requests.post(
        env.bridge_url + ROUTE,
        data=b"{not json",
        timeout=10,
        headers={"Authorization": KEY, "Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_json"


@pytest.mark.bridge_env(flags={"FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST": "false"})
def test_flag_off_refuses_with_403_naming_the_flag(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    resp = post(env, envelope(conversation_id))
    assert resp.status_code == 403
    assert resp.json()["flag"] == "FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST"
    assert handover_of(env) is not None


def test_cognigy_route_takes_eventbridge_deliveries(bridge_env):
    # Cognigy's guide points the API destination at the webhook URL itself.
    env = bridge_env
    conversation_id = start_handover(env)
    wrong = post(env, envelope(conversation_id), key="not-the-key", route=COGNIGY_ROUTE)
    assert wrong.status_code == 401 and "does not match" in wrong.json()["message"]
    missing = post(env, envelope(conversation_id), key=None, route=COGNIGY_ROUTE)
    assert missing.status_code == 401 and "missing" in missing.json()["message"]
    assert handover_of(env) is not None and handover_of(env).pending_end_at is None
    resp = post(env, envelope(conversation_id), route=COGNIGY_ROUTE)
    assert resp.status_code == 200 and resp.json()["status"] == "end", resp.text
    assert handover_of(env) is None
    assert completed_count(env) == 1
    # The sandbox's own EventBridge destination is this route (as `om-bridge demo` sets it up).
    assert env.sandbox_config["eventbridge"]["url"].endswith(COGNIGY_ROUTE)


@pytest.mark.parametrize("route", [ROUTE, COGNIGY_ROUTE])
@pytest.mark.parametrize(
    "source", ["aws.partner/genesys.com", "aws.partner/genesys.com/cloud//om-bridge"]
)
def test_source_without_an_organisation_is_refused(bridge_env, route, source):
    env = bridge_env
    conversation_id = start_handover(env)
    body = envelope(conversation_id)
    body["source"] = source
    resp = post(env, body, route=route)
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"] == "organization_mismatch"
    assert "SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK" in resp.json()["message"]
    assert handover_of(env) is not None and completed_count(env) == 0
