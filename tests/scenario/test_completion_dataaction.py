"""Completion through Triggers + Web Services Data Action (completion = "webhook"): the sandbox
calls POST /handover/genesysCloudOM with a credential, as a Genesys workflow's Call Data Action."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
import requests

from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.handover_helpers import collect, handover_of, statuses, wait_conversation_id

USER, PASSWORD = "genesys-actions", "data-action-password-0123"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
TOPIC = "v2.detail.events.conversation.{id}."


def webhook_env(make_bridge_env, *, body: str, topics: tuple[str, ...], grace_ms: int = 300):  # type: ignore[no-untyped-def]
    env = make_bridge_env(
        flags={
            "GENESYS_OM_HANDOVER_ACW_AFTER_TRANSFER_TIMEOUT_IN_MS": str(grace_ms),
            "DATA_ACTION_PASSWORD": PASSWORD,
        },
        config={
            "providers": [
                {
                    "id": "genesys-demo",
                    "completion": "webhook",
                    "data_action_auth": {
                        "type": "basic",
                        "username": USER,
                        "password": "env:DATA_ACTION_PASSWORD",
                    },
                }
            ]
        },
        sandbox_config={"eventbridge": {"url": ""}},
    )
    requests.put(
        env.sandbox_url + "/sandbox/data-action",
        timeout=5,
        json={
            "url": env.bridge_url + "/handover/genesysCloudOM",
            "body": body,
            "auth": {"type": "basic", "username": USER, "password": PASSWORD},
            "topics": [TOPIC + t for t in topics],
        },
    ).raise_for_status()
    return env


def start_handover(env) -> str:  # type: ignore[no-untyped-def]
    env.agent.go_on_queue()
    env.say("hello")
    env.say("I want an agent please")
    conversation_id = wait_conversation_id(env)
    assert env.agent.wait_for_offer()["id"] == conversation_id
    env.agent.answer(conversation_id)
    return conversation_id


def decisions(env, decision: str, source: str = "data-action") -> float:  # type: ignore[no-untyped-def]
    metric = env.ctx.metrics.counter(
        "om_bridge_completion_events_total", "", ["source", "decision"]
    )
    return metric.labels(source, decision)._value.get()


def completed_count(env) -> int:  # type: ignore[no-untyped-def]
    return statuses(env.outputs(0)["outputs"]).count("completed")


def post(env, body: dict, auth: str | None = BASIC) -> requests.Response:  # type: ignore[no-untyped-def]
    headers = {"Authorization": auth} if auth else {}
    return requests.post(
        env.bridge_url + "/handover/genesysCloudOM", json=body, headers=headers, timeout=10
    )


def test_cognigy_body_agent_end_ends_after_the_grace_period(make_bridge_env):
    env = webhook_env(make_bridge_env, body="cognigy", topics=("user.end", "acw"))
    conversation_id = start_handover(env)
    env.agent.disconnect(conversation_id)
    # user.end (CLIENT) waits; the sweeper checks REST after the grace period: customer gone → end.
    outs = collect(
        env, lambda o: o["source"] == "bot" and "back" in (o.get("text") or "").lower(), timeout=20
    )
    assert statuses(outs).count("completed") == 1
    assert decisions(env, "wait") >= 1
    # The end came from the sweeper after its REST check, not from the event itself.
    wait_until(lambda: decisions(env, "end", "sweeper") == 1, 5, what="the sweeper's end counted")
    assert decisions(env, "end") == 0
    assert handover_of(env) is None
    assert "demo bot" in env.say("hello again")["text"]


def test_transfer_does_not_end_and_the_new_agent_continues(make_bridge_env):
    env = webhook_env(make_bridge_env, body="cognigy", topics=("user.end", "acw"))
    conversation_id = start_handover(env)
    sam = env.agent_client(seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
    sam.go_on_queue()
    env.agent.transfer_to_queue(conversation_id, seed.SECOND_QUEUE_ID)
    env.agent.wrap_up(conversation_id)  # acw of Alex: fires on transfers too
    wait_until(lambda: decisions(env, "wait") >= 1, 10, what="the acw wait")
    wait_until(
        lambda: handover_of(env) is not None and handover_of(env).pending_end_at is None,
        10,
        what="the sweeper cancelling the pending end",
    )
    assert decisions(env, "ignore") >= 1  # user.end with TRANSFER
    assert sam.wait_for_offer()["id"] == conversation_id
    sam.answer(conversation_id)
    sam.send_text(conversation_id, "Sam here")
    outs = collect(env, lambda o: o["source"] == "agent" and o.get("text") == "Sam here")
    assert "completed" not in statuses(outs)
    sam.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 20, what="the end after Sam left")
    assert completed_count(env) == 1


def test_detail_body_customer_end_ends_at_once_and_duplicates_once(make_bridge_env):
    env = webhook_env(make_bridge_env, body="detail", topics=("customer.end",), grace_ms=60_000)
    conversation_id = start_handover(env)
    env.sandbox_admin.add_fault(target="data-action", mode="duplicate", count=-1)
    env.agent.disconnect(conversation_id)
    # The grace period is a minute: only customer.end can end it this fast.
    wait_until(lambda: handover_of(env) is None, 15, what="the end on customer.end")
    wait_until(
        lambda: decisions(env, "ignore") >= 1 and decisions(env, "end") == 1,
        10,
        what="the end and the ignored duplicate",
    )
    assert completed_count(env) == 1


def test_wrong_credential_is_401_and_nothing_changes(make_bridge_env):
    env = webhook_env(make_bridge_env, body="cognigy", topics=("user.end",))
    conversation_id = start_handover(env)
    body = {
        "conversationId": conversation_id,
        "eventTime": int(time.time() * 1000),
        "topic": "customer.end",
        "disconnectType": "PEER",
    }
    wrong = "Basic " + base64.b64encode(f"{USER}:wrong".encode()).decode()
    assert post(env, body, auth=wrong).status_code == 401
    h = handover_of(env)
    assert h is not None and h.pending_end_at is None
    assert completed_count(env) == 0
    ok = post(env, body)
    assert ok.status_code == 200 and ok.json()["status"] == "end"


def test_unknown_conversation_and_customer_are_ignored_with_2xx(make_bridge_env):
    env = webhook_env(make_bridge_env, body="cognigy", topics=("user.end",))
    unknown = post(
        env,
        {
            "conversationId": str(uuid.uuid4()),
            "eventTime": int(time.time() * 1000),
            "topic": "customer.end",
        },
    )
    assert unknown.status_code == 200 and unknown.json()["status"] == "ignore"
    stranger = post(env, {"userId": "nobody", "topic": "v2.detail.events.conversation.id.acw"})
    assert stranger.status_code == 200 and stranger.json()["status"] == "ignore"
    invalid = post(env, {"userId": "x"})
    assert invalid.status_code == 400 and "data-action.json" in invalid.json()["message"]


@pytest.mark.bridge_env()
def test_without_a_configured_credential_a_request_is_a_request_to_check(bridge_env):
    resp = post(
        bridge_env, {"userId": "u", "topic": "v2.detail.events.conversation.id.acw"}, auth=None
    )
    assert resp.status_code == 200 and resp.json()["status"] == "ignore"  # no such handover


def test_forged_unauthenticated_end_request_ends_nothing(make_bridge_env):
    # Authenticated provider or not, a request without a credential only asks for a check.
    env = webhook_env(make_bridge_env, body="cognigy", topics=("user.end",))
    conversation_id = start_handover(env)
    # Cognigy's data action names the Genesys customer (addressFrom), the handover's own id.
    customer_id = handover_of(env).customer_id
    for body in (
        {
            "conversationId": conversation_id,
            "eventTime": int(time.time() * 1000),
            "topic": "customer.end",
            "disconnectType": "PEER",
        },
        {"userId": customer_id, "topic": TOPIC + "customer.end", "disconnectType": "PEER"},
    ):
        resp = post(env, body, auth=None)
        assert resp.status_code == 200 and resp.json()["status"] == "wait", resp.text
        assert "request to check" in resp.json()["reason"]
        # Genesys shows Alex connected: the check ends nothing and forgets the request.
        wait_until(
            lambda: handover_of(env) is not None and handover_of(env).pending_end_at is None,
            20,
            what="the check dropped",
        )
    assert handover_of(env).is_open and completed_count(env) == 0
    env.agent.send_text(conversation_id, "still here")
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == "still here")


def test_a_pending_end_survives_a_bridge_restart(make_bridge_env):
    env = webhook_env(make_bridge_env, body="cognigy", topics=("user.end",))
    # The first bridge runs the engine but no sweeper: the pending end can only be kept by the store.
    env.restart_bridge()
    env.ctx.completion.stop()
    conversation_id = start_handover(env)
    env.agent.disconnect(conversation_id)
    wait_until(lambda: decisions(env, "wait") >= 1, 10, what="the user.end wait")
    pending = handover_of(env)
    assert pending is not None and pending.pending_end_at is not None
    env.restart_bridge()
    # The new process reloads the pending end, checks REST (customer gone) and ends it once.
    wait_until(lambda: handover_of(env) is None, 20, what="the end after the restart")
    wait_until(lambda: decisions(env, "end", "sweeper") == 1, 5, what="the sweeper's end")
    assert completed_count(env) == 1
    assert env.ctx.store.get_handover(pending.id).status == "completed"


def test_cognigy_guide_wiring_without_a_credential_ends_after_genesys_confirms(make_bridge_env):
    # As Cognigy's guide sets it up: the data action posts Cognigy's body to the webhook URL
    # with no credential, and the provider has no data_action_auth.
    env = make_bridge_env(
        flags={"GENESYS_OM_HANDOVER_ACW_AFTER_TRANSFER_TIMEOUT_IN_MS": "300"},
        config={"providers": [{"id": "genesys-demo", "completion": "webhook"}]},
        sandbox_config={"eventbridge": {"url": ""}},
    )
    requests.put(
        env.sandbox_url + "/sandbox/data-action",
        timeout=5,
        json={
            "url": env.bridge_url + "/handover/genesysCloudOM",
            "body": "cognigy",
            "auth": {"type": "none"},
            "topics": [TOPIC + "customer.end"],
        },
    ).raise_for_status()
    conversation_id = start_handover(env)
    env.agent.send_text(conversation_id, "Hello from Alex")
    env.agent.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 30, what="the handover ended")
    assert completed_count(env) == 1
    assert decisions(env, "wait") >= 1  # the request was checked, not taken on trust
