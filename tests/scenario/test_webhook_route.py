"""POST /handover/genesysCloudOM: signature, validation, size cap, dedupe, routing and receipts."""

from __future__ import annotations

import json

from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.handover_helpers import (
    SandboxReader,
    agent_texts,
    collect,
    customer_of,
    handover_of,
    start_handover,
)
from tests.scenario.webhook_replay import compact, payload, post_raw, replay


def _marker_then(env, conversation_id, text="marker"):
    """Post a valid agent text and wait for it: everything posted before was handled by then."""
    resp, _ = replay(
        env.bridge_url,
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        text=text,
    )
    assert resp.status_code == 200
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == text)


def test_bad_signature_is_401_and_changes_nothing(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    body = payload(
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        text="forged",
    )
    raw = compact(body)
    for bad in (
        dict(secret="not-the-secret"),
        dict(signature="sha256=AAAA"),
        dict(signature="3f676129f756cb5c"),
    ):
        resp = post_raw(env.bridge_url, raw, **bad)
        assert resp.status_code == 401
        assert resp.json()["error"] == "invalid_signature"
        assert "not-the-secret" not in resp.text and seed.DEMO_WEBHOOK_SECRET not in resp.text
    _marker_then(env, conversation_id)
    assert "forged" not in agent_texts(env)
    # Nothing was recorded for dedupe either: the genuine message with the same id goes through.
    assert post_raw(env.bridge_url, raw).json()["status"] == "accepted"
    collect(env, lambda o: o["source"] == "agent" and o.get("text") == "forged")


def test_duplicate_webhook_delivered_once(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    body = payload(
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        text="only once",
    )
    raw = compact(body)
    assert post_raw(env.bridge_url, raw).json()["status"] == "accepted"
    second = post_raw(env.bridge_url, raw)
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    _marker_then(env, conversation_id)
    assert agent_texts(env).count("only once") == 1


def test_malformed_oversized_and_schema_invalid_bodies(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    resp = post_raw(env.bridge_url, b'{"id": "x", "channel": ')
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_json"

    body = payload(
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        text="no recipient",
    )
    del body["channel"]["to"]
    resp = post_raw(env.bridge_url, compact(body))
    assert resp.status_code == 400
    assert resp.json()["error"] == "schema_invalid" and resp.json()["path"] == "$.channel"
    assert "to" in resp.json()["message"]

    body = payload(
        "outbound_text", customer_id=customer_of(env), conversation_id=conversation_id, type=7
    )
    resp = post_raw(env.bridge_url, compact(body))
    assert resp.status_code == 400 and resp.json()["path"] == "$.type"

    big = payload(
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        text="x" * 600_000,
    )
    resp = post_raw(env.bridge_url, compact(big))
    assert resp.status_code == 413 and resp.json()["error"] == "payload_too_large"

    _marker_then(env, conversation_id)
    assert agent_texts(env) == ["marker"]


def test_unsigned_request_is_a_data_action_request(bridge_env):
    env = bridge_env
    raw = json.dumps(
        {
            "userId": env.user_id,
            "topic": "v2.detail.events.conversation.x.customer.end",
            "disconnectType": "PEER",
        }
    ).encode()
    resp = post_raw(env.bridge_url, raw, secret=None)
    # Not a webhook: the completion service answers. Without a credential it is a request to
    # check, and no handover is open for this user, so nothing is to be checked.
    assert resp.status_code == 200 and resp.json()["status"] == "ignore"
    assert resp.headers["Content-Type"].startswith("application/json")


def test_message_for_no_open_handover_gets_failed_receipt(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env, agent_answers=True)
    handover = handover_of(env)
    # The bridge considers the handover over while Genesys still has the agent connected.
    assert env.ctx.engine.end_handover(handover.id, "cancelled", "test")
    env.agent.send_text(conversation_id, "are you still there?")
    reader = SandboxReader(env.sandbox_url)

    def failed() -> bool:
        message = reader.outbound(conversation_id, "are you still there?") or {}
        return message.get("status") == "delivery-failed"

    wait_until(failed, 10, interval=0.2, what="a Failed receipt")
    message = reader.outbound(conversation_id, "are you still there?")
    assert message["normalizedReceipts"][-1]["reasons"][0]["code"] == "InvalidDestination"
    assert "are you still there?" not in agent_texts(env)


def test_receipts_are_bookkeeping_only(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    resp, _ = replay(
        env.bridge_url,
        "outbound_receipt",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
    )
    assert resp.status_code == 200
    _marker_then(env, conversation_id)
    agent_outputs = [o for o in env.outputs(0)["outputs"] if o["source"] == "agent"]
    assert [o["text"] for o in agent_outputs] == ["marker"]


def test_genuine_message_of_an_unknown_type_is_answered_2xx_and_ignored(bridge_env, caplog):
    """A signed message of a type the bridge does not handle is not an anomaly: 2xx (so Genesys
    neither retries nor fails the chat), logged, counted, and nothing reaches the user."""
    env = bridge_env
    conversation_id = start_handover(env)
    body = payload(
        "outbound_text",
        customer_id=customer_of(env),
        conversation_id=conversation_id,
        type="Carrier-Pigeon",
        text="coo",
    )
    with caplog.at_level("INFO", logger="om_bridge.bridge.webhooks.routes"):
        resp = post_raw(env.bridge_url, compact(body))
    assert resp.status_code == 200 and resp.json() == {"status": "ignored"}
    assert any(
        "Carrier-Pigeon" in r.getMessage() and body["id"] in r.getMessage() for r in caplog.records
    )
    metrics = env.ctx.metrics.render().decode()
    assert 'genesys_webhooks_total{outcome="ignored",type="other"} 1.0' in metrics
    # Not queued (other, genuine webhooks of the sandbox may be in flight at this moment).
    assert not [i for i in env.ctx.store.inbound_pending() if body["id"] in repr(i.payload)]
    _marker_then(env, conversation_id)
    assert "coo" not in agent_texts(env)
