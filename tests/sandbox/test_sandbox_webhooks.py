"""Outbound webhook delivery: retries on 5xx/429/timeout with the same id, none on 400 (message
marked failed), retry budget, per-conversation order."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sandbox_testkit import WebhookReceiver, inbound, start, token, verify

from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient
from om_bridge.sandbox.config import SandboxConfig


def _session(config: dict, responder):
    receiver = WebhookReceiver(responder=responder)
    server = start(config, receiver)
    agent = AgentClient(server.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD)
    cid = inbound(server.url, token(server.url), "cust-wh").json()["conversationId"]
    agent.wait_for_offer()
    agent.answer(cid)
    assert server.sandbox.webhooks.wait_idle()
    return receiver, server, agent, cid


def _failing_first(n: int, status: int, text: str):
    seen = {"n": 0}
    lock = threading.Lock()

    def responder(hit):
        if hit.json.get("text") != text:
            return 200
        with lock:
            seen["n"] += 1
            return status if seen["n"] <= n else 200

    return responder


@pytest.mark.parametrize("status", [503, 500, 429])
def test_retry_on_5xx_and_429_with_same_id(status):
    receiver, server, agent, cid = _session({}, _failing_first(2, status, "retry me"))
    try:
        sent = agent.send_text(cid, "retry me")
        assert server.sandbox.webhooks.wait_idle()
        hits = receiver.of_type("Text", "retry me")
        assert len(hits) == 3
        assert {h.json["id"] for h in hits} == {sent["id"]}
        assert all(verify(h) for h in hits)
        assert server.sandbox.store.messages[sent["id"]].status == "sent"
    finally:
        agent.close()
        server.stop()
        receiver.stop()


def test_retry_on_timeout():
    state = {"slow": True}

    def responder(hit):
        if hit.json.get("text") == "slow" and state["slow"]:
            state["slow"] = False
            time.sleep(0.6)  # longer than the configured 0.2 s webhook timeout
        return 200

    receiver, server, agent, cid = _session({"webhook": {"timeout": 0.2}}, responder)
    try:
        sent = agent.send_text(cid, "slow")
        assert server.sandbox.webhooks.wait_idle()
        hits = receiver.of_type("Text", "slow")
        assert len(hits) == 2 and hits[0].json["id"] == hits[1].json["id"] == sent["id"]
        assert server.sandbox.store.messages[sent["id"]].status == "sent"
    finally:
        agent.close()
        server.stop()
        receiver.stop()


def test_no_retry_on_400_message_marked_failed():
    receiver, server, agent, cid = _session({}, _failing_first(10, 400, "rejected"))
    try:
        sent = agent.send_text(cid, "rejected")
        assert server.sandbox.webhooks.wait_idle()
        assert len(receiver.of_type("Text", "rejected")) == 1
        record = server.sandbox.store.messages[sent["id"]]
        assert record.status == "failed" and record.error_info
    finally:
        agent.close()
        server.stop()
        receiver.stop()


def test_retry_budget_is_configurable():
    receiver, server, agent, cid = _session(
        {"webhook": {"retries": 2}}, _failing_first(100, 502, "never")
    )
    try:
        sent = agent.send_text(cid, "never")
        assert server.sandbox.webhooks.wait_idle()
        assert len(receiver.of_type("Text", "never")) == 3  # first attempt + 2 retries
        assert server.sandbox.store.messages[sent["id"]].status == "failed"
    finally:
        agent.close()
        server.stop()
        receiver.stop()


def test_deliveries_of_a_conversation_stay_in_order():
    receiver, server, agent, cid = _session({}, _failing_first(1, 503, "m0"))
    try:
        for i in range(6):
            agent.send_text(cid, f"m{i}")
        assert server.sandbox.webhooks.wait_idle()
        texts = [t for t in receiver.texts() if t and t.startswith("m")]
        # m0 was retried once; nothing overtook it
        assert texts == ["m0", "m0", "m1", "m2", "m3", "m4", "m5"]
    finally:
        agent.close()
        server.stop()
        receiver.stop()


class _RecordedPause(threading.Event):
    """Stands in for the dispatcher's stop event: records each pause between attempts instead of
    sleeping it, so the Genesys defaults (5 s apart) can be checked without waiting 25 s."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(timeout)
        return self.is_set()


def test_genesys_defaults_five_retries_five_seconds_apart():
    cfg = SandboxConfig()
    assert (cfg.webhook_timeout, cfg.webhook_retries, cfg.webhook_retry_delay) == (10.0, 5, 5.0)
    receiver, server, agent, cid = _session(
        {"webhook": {"retry_delay": 5.0}}, _failing_first(100, 503, "down")
    )
    try:
        pause = _RecordedPause()
        server.sandbox.webhooks._stop = pause
        sent = agent.send_text(cid, "down")
        assert server.sandbox.webhooks.wait_idle()
        hits = receiver.of_type("Text", "down")
        assert len(hits) == 6 and {h.json["id"] for h in hits} == {sent["id"]}  # 1 + 5 retries
        assert len({h.body for h in hits}) == 1 and all(verify(h) for h in hits)
        assert pause.pauses == [5.0] * 5
        assert server.sandbox.store.messages[sent["id"]].status == "failed"
    finally:
        agent.close()
        server.stop()
        receiver.stop()


@pytest.mark.parametrize("status", [401, 403, 404, 409])
def test_other_4xx_are_never_retried(status):
    receiver, server, agent, cid = _session({}, _failing_first(10, status, "refused"))
    try:
        sent = agent.send_text(cid, "refused")
        assert server.sandbox.webhooks.wait_idle()
        assert len(receiver.of_type("Text", "refused")) == 1
        assert server.sandbox.store.messages[sent["id"]].status == "failed"
    finally:
        agent.close()
        server.stop()
        receiver.stop()


def _workers_stopped(server) -> bool:
    return not any(t.is_alive() for t in server.sandbox.webhooks._threads)


def test_stop_cuts_a_post_in_flight_and_writes_nothing_afterwards():
    release = threading.Event()
    arrived = threading.Event()

    def responder(hit):
        if hit.json.get("text") == "stuck":
            arrived.set()
            release.wait(30)  # a receiver that does not answer within the sandbox's life
        return 200

    receiver, server, agent, cid = _session({"webhook": {"timeout": 30.0}}, responder)
    try:
        sent = agent.send_text(cid, "stuck")
        assert arrived.wait(10), "the POST reached the receiver"
        server.stop()
        assert _workers_stopped(server), "no webhook worker may outlive stop()"
        # the cut POST left its outcome unrecorded: the stopped sandbox was not written to
        assert server.sandbox.store.messages[sent["id"]].status == "queued"
    finally:
        release.set()
        agent.close()
        server.stop()
        receiver.stop()


def test_stop_cancels_a_pending_retry():
    receiver, server, agent, cid = _session(
        {"webhook": {"retry_delay": 30.0}}, _failing_first(5, 503, "retry later")
    )
    try:
        sent = agent.send_text(cid, "retry later")
        receiver.wait_for(lambda: receiver.of_type("Text", "retry later"), "first attempt")
        server.stop()
        assert _workers_stopped(server)
        assert len(receiver.of_type("Text", "retry later")) == 1
        assert server.sandbox.store.messages[sent["id"]].status == "queued"
    finally:
        agent.close()
        server.stop()
        receiver.stop()


def test_stop_logs_a_delivery_held_by_a_reorder_fault(monkeypatch, caplog):
    import requests

    from om_bridge.sandbox import webhooks as sandbox_webhooks

    monkeypatch.setattr(sandbox_webhooks, "REORDER_HOLD_SECONDS", 60.0)
    receiver, server, agent, cid = _session({}, None)
    try:
        resp = requests.post(
            f"{server.url}/sandbox/faults", timeout=5, json={"target": "webhook", "mode": "reorder"}
        )
        assert resp.status_code == 201
        sent = agent.send_text(cid, "held back")
        receiver.wait_for(
            lambda: requests.get(f"{server.url}/sandbox/faults", timeout=5).json()["faults"] == [],
            "the reorder fault taken",
        )
        caplog.set_level(logging.WARNING, logger="om_bridge.sandbox.webhooks")
        server.stop()
        assert _workers_stopped(server)
        held = [
            r
            for r in caplog.records
            if r.name == "om_bridge.sandbox.webhooks"
            and sent["id"] in r.getMessage()
            and "reorder" in r.getMessage()
        ]
        assert held, "the held delivery must be logged, not silently lost"
        assert not receiver.of_type("Text", "held back")
        assert server.sandbox.webhooks.wait_idle(0), "every queued delivery is accounted for"
    finally:
        agent.close()
        server.stop()
        receiver.stop()
