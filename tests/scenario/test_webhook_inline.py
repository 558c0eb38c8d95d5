"""An agent's message on an idle customer is relayed as its webhook is accepted: the output, the
dedupe mark and the transcript line in one store step before the 2xx, no inbound item (the
inbound queue's fast path). Everything the queue guarantees still holds: exactly once, in order
behind webhooks of the customer already waiting, and a failure in the middle loses nothing."""

from __future__ import annotations

import sqlite3

from om_bridge.bridge.handover.inbound import queue_key
from om_bridge.bridge.handover.receipts import ReceiptSender
from om_bridge.bridge.store import SessionKey, open_store
from tests.conftest import wait_until
from tests.scenario.handover_helpers import (
    SandboxReader,
    agent_texts,
    collect,
    customer_of,
    handover_of,
    said,
    start_handover,
)
from tests.scenario.webhook_replay import compact, payload, post_raw


def _inlined(env) -> float:  # type: ignore[no-untyped-def]
    value = env.ctx.metrics.registry.get_sample_value("om_bridge_inbound_inline_total")
    return float(value or 0.0)


def _active_with_agent(env) -> str:  # type: ignore[no-untyped-def]
    """A handover the agent answered and spoke in (active, its agent known)."""
    conversation_id = start_handover(env, agent_answers=True)
    env.agent.send_text(conversation_id, "Hi, I am Alex.")
    collect(env, said("agent", "Hi, I am Alex."))
    wait_until(lambda: handover_of(env).status == "active", 10, what="an active handover")
    return conversation_id


def _session(env) -> SessionKey:  # type: ignore[no-untyped-def]
    return SessionKey(env.url_token, env.user_id, env.session_id)


def _stored_texts(env) -> list[str]:  # type: ignore[no-untyped-def]
    """Agent texts in the order they were stored (seq), not as a reader would place them."""
    outputs = env.ctx.store.outputs_after(_session(env), 0, 500)
    return [o["text"] for o in outputs if o["source"] == "agent"]


def test_an_agent_message_is_stored_before_its_2xx_and_reported_delivered(bridge_env):
    env = bridge_env
    conversation_id = _active_with_agent(env)
    before = _inlined(env)
    sent = env.agent.send_text(conversation_id, "Your order ships today.")
    assert sent
    collect(env, said("agent", "Your order ships today."))
    assert _inlined(env) == before + 1
    # The transcript line went in with the output, and no inbound item was written.
    lines = (env.ctx.store.load_session(_session(env)) or {}).get("handover_lines") or []
    assert "Your order ships today." in [
        line["text"] for line in lines if line["source"] == "agent"
    ]
    output = [o for o in env.outputs(0)["outputs"] if o.get("text") == "Your order ships today."]
    assert output[0]["data"]["agent"]["name"] == "Alex Agent"
    assert env.ctx.store.inbound_pending() == []
    reader = SandboxReader(env.sandbox_url)
    wait_until(
        lambda: (reader.outbound(conversation_id, "Your order ships today.") or {}).get("status")
        == "delivery-success",
        10,
        interval=0.1,
        what="a Delivered receipt",
    )


def test_the_output_is_there_when_the_2xx_is_and_a_redelivery_is_a_duplicate(bridge_env):
    env = bridge_env
    conversation_id = _active_with_agent(env)
    before = _inlined(env)
    raw = compact(
        payload(
            "outbound_text",
            customer_id=customer_of(env),
            conversation_id=conversation_id,
            text="stored by the request",
        )
    )
    assert post_raw(env.bridge_url, raw).json() == {"status": "accepted"}
    # Stored by the request itself: there the moment the 2xx is, nothing relayed it later.
    assert _stored_texts(env)[-1] == "stored by the request"
    assert _inlined(env) == before + 1
    # Genesys retrying it (its 2xx was lost) changes nothing.
    assert post_raw(env.bridge_url, raw).json() == {"status": "duplicate"}
    assert agent_texts(env).count("stored by the request") == 1


def test_a_message_queues_behind_a_waiting_webhook_of_its_customer(bridge_env):
    """A webhook of the customer is waiting in the store (here: accepted by a process that died
    holding it); the next one must not overtake it, though this process has nothing running
    for the customer."""
    env = bridge_env
    conversation_id = _active_with_agent(env)
    waiting = payload(
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        text="accepted first",
    )
    other = open_store(env.config["bridge"]["store"])
    try:
        item = other.accept_inbound(
            f"test:{waiting['id']}",
            60,
            queue_key(waiting),
            "Text",
            {"provider_id": "genesys-demo", "body": waiting},
            owner="a-process-that-died",
            lease_seconds=1.0,
        )
    finally:
        other.close()
    assert item is not None and item.attempts == 1  # the head of its key, leased
    before = _inlined(env)
    raw = compact(
        payload(
            "outbound_text",
            customer_id=customer_of(env),
            conversation_id=conversation_id,
            text="accepted second",
        )
    )
    assert post_raw(env.bridge_url, raw).json() == {"status": "accepted"}
    assert _inlined(env) == before  # queued behind the waiting one, not relayed at once
    collect(env, said("agent", "accepted second"))
    stored = _stored_texts(env)
    assert stored.index("accepted first") < stored.index("accepted second")


def test_a_store_failure_while_relaying_loses_nothing_and_repeats_nothing(bridge_env, monkeypatch):
    env = bridge_env
    conversation_id = _active_with_agent(env)
    store = env.ctx.store
    real = store._accept
    failures: list[str] = []

    def disk_error(c, accept):  # type: ignore[no-untyped-def]
        real(c, accept)  # the mark and the line are written, then the disk fails
        if not failures:
            failures.append(accept.dedupe_key)
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_accept", disk_error)
    raw = compact(
        payload(
            "outbound_text",
            customer_id=customer_of(env),
            conversation_id=conversation_id,
            text="through a disk error",
        )
    )
    # The inline step rolled back; the webhook was queued instead and relayed from the queue.
    assert post_raw(env.bridge_url, raw).json() == {"status": "accepted"}
    assert failures
    collect(env, said("agent", "through a disk error"))
    assert post_raw(env.bridge_url, raw).json() == {"status": "duplicate"}
    assert agent_texts(env).count("through a disk error") == 1
    lines = (store.load_session(_session(env)) or {}).get("handover_lines") or []
    assert [line["text"] for line in lines].count("through a disk error") == 1


def test_a_full_receipt_backlog_leaves_the_message_to_the_queue(bridge_env, monkeypatch):
    """A webhook request never waits for room in the receipt backlog: while it is full the
    message is queued, and the queue's worker is the one that waits."""
    env = bridge_env
    conversation_id = _active_with_agent(env)
    monkeypatch.setattr(ReceiptSender, "full", property(lambda self: True))
    before = _inlined(env)
    raw = compact(
        payload(
            "outbound_text",
            customer_id=customer_of(env),
            conversation_id=conversation_id,
            text="while receipts are backed up",
        )
    )
    assert post_raw(env.bridge_url, raw).json() == {"status": "accepted"}
    collect(env, said("agent", "while receipts are backed up"))
    assert _inlined(env) == before
