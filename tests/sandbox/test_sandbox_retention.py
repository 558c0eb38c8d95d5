"""Retention of ended conversations: kept for `[conversations] retention_minutes` (never less than
the threading window), then forgotten with their messages, so memory stays flat over long runs;
a GET of a forgotten conversation is a 404 like Genesys'."""

from __future__ import annotations

import pytest
import requests
from sandbox_testkit import auth, inbound, start, token

from om_bridge.sandbox import seed
from om_bridge.sandbox.config import ConfigError, SandboxConfig
from om_bridge.sandbox.media import Media, MediaStore

M = "/api/v2/conversations/messages"


class Clock:
    """A settable wall clock for the store (conversation end times)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _started(config: dict):  # type: ignore[no-untyped-def]
    # agents off queue: conversations wait in the queue until they end
    server = start(
        {
            "seed": {
                "users": [
                    {"id": u, "routing_status": "OFF_QUEUE"}
                    for u in (seed.DEMO_AGENT_ID, seed.SECOND_AGENT_ID)
                ]
            },
            **config,
        }
    )
    clock = Clock()
    server.sandbox.store.clock = clock
    return server, clock, token(server.url)


def _status(server, tok: str, cid: str) -> int:  # type: ignore[no-untyped-def]
    return requests.get(f"{server.url}{M}/{cid}", headers=auth(tok), timeout=5).status_code


def _end(server, tok: str, cid: str) -> None:  # type: ignore[no-untyped-def]
    conv = requests.get(f"{server.url}{M}/{cid}", headers=auth(tok), timeout=5).json()
    customer = [p for p in conv["participants"] if p["purpose"] == "customer"][0]
    resp = requests.patch(
        f"{server.url}{M}/{cid}/participants/{customer['id']}",
        json={"state": "disconnected"},
        headers=auth(tok),
        timeout=5,
    )
    assert resp.status_code == 202, resp.text


def test_retention_defaults_and_validation():
    cfg = SandboxConfig.load(None)
    assert cfg.retention_minutes == 1440 and cfg.retention_seconds == 1440 * 60
    # never shorter than the threading window
    cfg = SandboxConfig.load(
        {"conversations": {"retention_minutes": 5, "threading_window_minutes": 30}}
    )
    assert cfg.retention_seconds == 30 * 60
    with pytest.raises(ConfigError, match="conversations.retention_minutes"):
        SandboxConfig.load({"conversations": {"retention_minutes": -1}})
    with pytest.raises(ConfigError, match="conversations.retention_minutes"):
        SandboxConfig.load({"conversations": {"retention_minutes": "forever"}})


def test_ended_conversation_is_forgotten_after_retention():
    server, clock, tok = _started({"conversations": {"retention_minutes": 10}})
    try:
        old = inbound(server.url, tok, "cust-old", "hi").json()["conversationId"]
        mids = list(server.sandbox.store.conversations[old].message_ids)
        _end(server, tok, old)
        clock.now += 9 * 60
        live = inbound(server.url, tok, "cust-live").json()["conversationId"]
        assert _status(server, tok, old) == 200
        clock.now += 2 * 60  # 11 minutes after the end
        inbound(server.url, tok, "cust-new")  # new work prunes what is past its retention
        resp = requests.get(f"{server.url}{M}/{old}", headers=auth(tok), timeout=5)
        assert resp.status_code == 404
        assert resp.json()["code"] == "not.found" and old in resp.json()["message"]
        assert (
            requests.get(
                f"{server.url}/api/v2/conversations/{old}", headers=auth(tok), timeout=5
            ).status_code
            == 404
        )
        resp = requests.get(f"{server.url}{M}/{mids[0]}/details", headers=auth(tok), timeout=5)
        assert resp.status_code == 404
        assert not any(m in server.sandbox.store.messages for m in mids)
        # a conversation that has not ended is never forgotten
        assert _status(server, tok, live) == 200
        # the customer who comes back gets a new conversation
        again = inbound(server.url, tok, "cust-old").json()["conversationId"]
        assert again != old
    finally:
        server.stop()


def test_threading_window_outlasts_a_shorter_retention():
    server, clock, tok = _started(
        {"conversations": {"retention_minutes": 1, "threading_window_minutes": 30}}
    )
    try:
        first = inbound(server.url, tok, "cust-thread").json()["conversationId"]
        _end(server, tok, first)
        clock.now += 20 * 60
        inbound(server.url, tok, "cust-other")
        assert inbound(server.url, tok, "cust-thread").json()["conversationId"] == first
        _end(server, tok, first)
        clock.now += 31 * 60
        inbound(server.url, tok, "cust-other-2")
        assert _status(server, tok, first) == 404
    finally:
        server.stop()


def test_reopened_conversation_is_kept_from_its_latest_end():
    server, clock, tok = _started(
        {"conversations": {"retention_minutes": 10, "threading_window_minutes": 10}}
    )
    try:
        cid = inbound(server.url, tok, "cust-back").json()["conversationId"]
        _end(server, tok, cid)
        clock.now += 8 * 60
        assert inbound(server.url, tok, "cust-back").json()["conversationId"] == cid  # re-opened
        _end(server, tok, cid)
        clock.now += 8 * 60  # 16 minutes after the first end, 8 after the latest
        inbound(server.url, tok, "cust-other")
        assert _status(server, tok, cid) == 200
        clock.now += 3 * 60
        inbound(server.url, tok, "cust-other-2")
        assert _status(server, tok, cid) == 404
    finally:
        server.stop()


def test_memory_stays_flat_over_a_long_run():
    server, clock, tok = _started(
        {
            "conversations": {"retention_minutes": 5},
            "flow": {"inbound_receipts": False, "connected_text": ""},
        }
    )
    store = server.sandbox.store
    try:
        sizes = []
        for i in range(60):
            cid = inbound(server.url, tok, f"cust-{i}").json()["conversationId"]
            _end(server, tok, cid)
            clock.now += 60  # one conversation a minute, each kept 5 minutes
            sizes.append((len(store.conversations), len(store.messages), len(store.threads)))
        assert max(c for c, _m, _t in sizes) <= 7
        assert max(m for _c, m, _t in sizes) <= 7 * 2
        assert max(t for _c, _m, t in sizes) <= 7
        assert len(store.ended) <= 7
    finally:
        server.stop()


def test_media_of_a_forgotten_conversation_is_dropped():
    media = MediaStore()
    media.add(Media("m1", "a.png", "conv-1", "comm-1", "image/png", b"x"))
    media.add(Media("m2", "b.png", "conv-2", "comm-2", "image/png", b"y"))
    media.forget_conversation("conv-1")
    assert media.get("m1") is None and media.get("m2") is not None
