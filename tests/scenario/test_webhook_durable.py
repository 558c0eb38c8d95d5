"""Accepted webhooks are durable: stored with their dedupe mark before the 2xx, so a crash between
the answer and the relay delays an agent message but never loses or repeats it (docs/design.md §10)."""

from __future__ import annotations

from om_bridge.bridge.handover.inbound import queue_key
from om_bridge.bridge.store import open_store
from tests.conftest import wait_until
from tests.scenario.handover_helpers import agent_texts, collect, customer_of, start_handover
from tests.scenario.webhook_replay import compact, payload, post_raw, replay


def _agent_said(text: str):  # type: ignore[no-untyped-def]
    return lambda o: o["source"] == "agent" and o.get("text") == text


def _marker_then(env, conversation_id, text="marker"):  # type: ignore[no-untyped-def]
    resp, _ = replay(
        env.bridge_url,
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        text=text,
    )
    assert resp.status_code == 200
    collect(env, _agent_said(text))


def test_a_webhook_accepted_before_a_crash_reaches_the_user_once_after_restart(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    # The relay workers are gone, as after a crash between the 2xx and the relay.
    env.ctx.engine.inbound.stop()
    body = payload(
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        text="sent before the crash",
    )
    raw = compact(body)
    assert post_raw(env.bridge_url, raw).json() == {"status": "accepted"}
    assert body["id"] in [i.payload["body"]["id"] for i in env.ctx.store.inbound_pending()]
    assert "sent before the crash" not in agent_texts(env)

    env.restart_bridge()  # a new app on the same SQLite file
    collect(env, _agent_said("sent before the crash"))
    # Genesys retrying the same message after the restart is still a duplicate.
    assert post_raw(env.bridge_url, raw).json() == {"status": "duplicate"}
    _marker_then(env, conversation_id)
    assert agent_texts(env).count("sent before the crash") == 1
    assert body["id"] not in [i.payload["body"]["id"] for i in env.ctx.store.inbound_pending()]


def test_a_webhook_leased_by_a_process_that_died_is_handled_after_the_lease(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    # Another process on the same store accepted a webhook (leased to itself) and died before
    # handling it. Only the head of the customer's queue is leased on accept: while the sandbox
    # is still delivering queue updates, a planted item may land behind one of them (and is
    # then simply handled), so plant again until one is leased.
    for attempt in range(20):
        text = f"left behind {attempt}"
        body = payload(
            "outbound_text",
            customer_id=customer_of(env),
            conversation_id=conversation_id,
            text=text,
        )
        key = queue_key(body)
        wait_until(lambda k=key: not env.ctx.store.inbound_pending(k), 15, what="an idle queue")
        other = open_store(env.config["bridge"]["store"])
        try:
            item = other.accept_inbound(
                f"test:{body['id']}",
                60,
                key,
                "Text",
                {"provider_id": "genesys-demo", "body": body},
                owner="a-process-that-died",
                lease_seconds=1.0,
            )
        finally:
            other.close()
        assert item is not None
        if item.attempts == 1:
            break
        collect(env, _agent_said(text))
    else:
        raise AssertionError("the planted webhook was never the head of its queue")
    collect(env, _agent_said(text))
    _marker_then(env, conversation_id)
    assert agent_texts(env).count(text) == 1
    assert body["id"] not in [i.payload["body"]["id"] for i in env.ctx.store.inbound_pending()]


def test_messages_of_one_customer_reach_the_user_in_order(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    sent = [f"part {n}" for n in range(8)]
    for text in sent:
        resp, _ = replay(
            env.bridge_url,
            "outbound_text",
            customer_id=customer_of(env),
            conversation_id=conversation_id,
            text=text,
        )
        assert resp.json() == {"status": "accepted"}
    collect(env, _agent_said(sent[-1]))
    assert [t for t in agent_texts(env) if t.startswith("part ")] == sent
