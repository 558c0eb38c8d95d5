"""A second handover in the same session while Genesys keeps ended conversations re-openable (sandbox
`conversations.threading_window_minutes` > 0): each handover has its own customer id, so the second
one gets its own conversation instead of re-opening the first; the first handover's late events (a
replayed customer.end, the agent's wrap-up done after the customer came back) must not end the second
one, and the second one's own end must not be missed — on every completion path."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
import requests

from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.handover_helpers import collect, handover_of, statuses, wait_conversation_id
from tests.scenario.test_completion_notifications import FAST as FAST_LISTENER

THREADING = {"conversations": {"threading_window_minutes": 60}}
GRACE = {"GENESYS_OM_HANDOVER_ACW_AFTER_TRANSFER_TIMEOUT_IN_MS": "300"}
KEY = "demo-eventbridge-key"
USER, PASSWORD = "genesys-actions", "data-action-password-0123"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def decisions(env, source: str, decision: str) -> float:  # type: ignore[no-untyped-def]
    metric = env.ctx.metrics.counter(
        "om_bridge_completion_events_total", "", ["source", "decision"]
    )
    return metric.labels(source, decision)._value.get()


def completed(env) -> int:  # type: ignore[no-untyped-def]
    return statuses(env.outputs(0)["outputs"]).count("completed")


def handover(env) -> str:  # type: ignore[no-untyped-def]
    """The user asks for an agent and Alex answers; the conversation id."""
    env.say("I want an agent please")
    conversation_id = wait_conversation_id(env)
    assert env.agent.wait_for_offer()["id"] == conversation_id
    env.agent.answer(conversation_id)
    return conversation_id


def first_then_second(env) -> tuple[str, str, object]:  # type: ignore[no-untyped-def]
    """Handover 1 ends by the agent (no wrap-up yet); handover 2 starts in the same session.
    Returns handover 1's conversation id, handover 2's, and handover 1 (as stored)."""
    env.agent.go_on_queue()
    env.say("hello")
    first = handover(env)
    h1 = handover_of(env)
    env.agent.disconnect(first)
    wait_until(lambda: handover_of(env) is None, 20, what="handover 1 ended")
    wait_until(lambda: completed(env) == 1, 10, what="handover 1 completed")
    second = handover(env)
    assert second != first, "a handover never re-opens another handover's conversation"
    assert handover_of(env).customer_id != h1.customer_id
    return first, second, h1


def finish_second(env, conversation_id: str) -> None:  # type: ignore[no-untyped-def]
    """Handover 2 is still open and serving; its own end is detected once."""
    assert handover_of(env) is not None, "handover 2 was ended by a late event of handover 1"
    env.agent.send_text(conversation_id, "still here for the second question")
    outs = collect(
        env,
        lambda o: o["source"] == "agent" and o.get("text") == "still here for the second question",
    )
    assert statuses(outs).count("completed") == 1
    env.agent.disconnect(conversation_id)
    wait_until(lambda: handover_of(env) is None, 20, what="handover 2 ended")
    wait_until(lambda: completed(env) == 2, 10, what="handover 2 completed")


def eventbridge_envelope(conversation_id: str, suffix: str, event_time_ms: int) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": f"v2.detail.events.conversation.{{id}}.{suffix}",
        "source": f"aws.partner/genesys.com/cloud/{seed.DEMO_ORG_ID}/om-bridge",
        "account": "123456789012",
        "time": "2024-06-01T10:07:12Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "topicName": f"v2.detail.events.conversation.{conversation_id}.{suffix}",
            "version": "2",
            "eventBody": {
                "eventTime": event_time_ms,
                "conversationId": conversation_id,
                "participantId": "p",
                "mediaType": "MESSAGE",
                "messageType": "OPEN",
                "disconnectType": "PEER",
            },
            "metadata": {"CorrelationId": "x"},
        },
    }


@pytest.mark.bridge_env(flags=GRACE, sandbox_config=THREADING)
def test_eventbridge_second_handover_is_not_ended_by_the_first_ones_late_events(bridge_env):
    env = bridge_env
    ended_ms = int(time.time() * 1000)
    conversation_id, second, _h1 = first_then_second(env)
    # EventBridge redelivers handover 1's customer.end (Genesys retries for up to four days).
    resp = requests.post(
        env.bridge_url + "/handover/genesysCloudOM/eventbridge",
        json=eventbridge_envelope(conversation_id, "customer.end", ended_ms),
        headers={"Authorization": KEY},
        timeout=10,
    )
    assert resp.status_code == 200 and resp.json()["status"] == "ignore", resp.text
    # Alex wraps up handover 1's leg now: its acw is newer than handover 2.
    waits = decisions(env, "eventbridge", "wait")
    env.agent.wrap_up(conversation_id)  # the latest disconnected leg: handover 1's
    wait_until(
        lambda: decisions(env, "eventbridge", "wait") > waits
        or decisions(env, "eventbridge", "ignore") >= 2,
        10,
        what="the late acw handled",
    )
    wait_until(
        lambda: handover_of(env) is None or handover_of(env).pending_end_at is None,
        10,
        what="no end pending for handover 2",
    )
    finish_second(env, second)


def webhook_env(make_bridge_env, topics: tuple[str, ...]):  # type: ignore[no-untyped-def]
    env = make_bridge_env(
        flags={**GRACE, "DATA_ACTION_PASSWORD": PASSWORD},
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
        sandbox_config={**THREADING, "eventbridge": {"url": ""}},
    )
    requests.put(
        env.sandbox_url + "/sandbox/data-action",
        timeout=5,
        json={
            "url": env.bridge_url + "/handover/genesysCloudOM",
            "body": "cognigy",
            "auth": {"type": "basic", "username": USER, "password": PASSWORD},
            "topics": [f"v2.detail.events.conversation.{{id}}.{t}" for t in topics],
        },
    ).raise_for_status()
    return env


def test_data_action_cognigy_body_second_handover_is_not_ended_by_the_first_ones_late_events(
    make_bridge_env,
):
    env = webhook_env(make_bridge_env, ("user.end", "acw", "customer.end"))
    conversation_id, second, h1 = first_then_second(env)
    customer_id = h1.customer_id
    # A late (retried) Cognigy body for handover 1's customer.end: no conversation id, no time.
    resp = requests.post(
        env.bridge_url + "/handover/genesysCloudOM",
        headers={"Authorization": BASIC},
        timeout=10,
        json={
            "userId": customer_id,
            "topic": "v2.detail.events.conversation.id.customer.end",
            "disconnectType": "PEER",
        },
    )
    assert resp.status_code == 200, resp.text
    # ... and Alex's wrap-up of handover 1's leg, done after handover 2 started.
    env.agent.wrap_up(conversation_id)  # the latest disconnected leg: handover 1's
    wait_until(
        lambda: handover_of(env) is None or handover_of(env).pending_end_at is None,
        10,
        what="no end pending for handover 2",
    )
    finish_second(env, second)


def test_notifications_second_handover_is_not_ended_by_the_first_ones_late_events(make_bridge_env):
    from om_bridge.bridge.completion.listener import ListenerSettings

    env = make_bridge_env(
        config={"providers": [{"id": "genesys-demo", "completion": "notifications"}]},
        sandbox_config={
            **THREADING,
            "eventbridge": {"url": ""},
            "notifications": {"heartbeat_seconds": 0.2},
        },
        start_workers=False,
    )
    env.ctx.completion.listener_settings = ListenerSettings(**FAST_LISTENER)
    env.ctx.workers.start()
    conversation_id, second, _h1 = first_then_second(env)
    [listener] = env.ctx.completion.listeners.values()
    wait_until(lambda: listener.is_tracked(second), 10, what="handover 2 watched")
    # A gap: every watched conversation is reconciled through REST; the re-opened one is live.
    checked = listener.reconciler.checked
    listener.channels.handle(("closed", 0, listener.channels.states[0].socket.generation, "test"))
    wait_until(lambda: listener.reconciler.checked > checked, 10, what="the reconciliation")
    env.agent.wrap_up(conversation_id)  # the latest disconnected leg: handover 1's
    finish_second(env, second)
