"""Bounds of anonymous traffic on `POST /endpoint/<urlToken>` over real HTTP: new sessions per
client address (X-Forwarded-For only from trusted proxies) and per endpoint, the cap on stored
sessions without an open handover; a refused new session stores nothing."""

from __future__ import annotations

import time
import types
import uuid

import pytest
import requests

from om_bridge.bridge.store import SessionKey


def new_session(env, address: str | None = None, session_id: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": address} if address else {}
    return requests.post(
        env.endpoint_url(),
        json={
            "userId": "flooder",
            "sessionId": session_id or uuid.uuid4().hex,
            "text": "x" * 2000,
        },
        headers=headers,
        timeout=30,
    )


def stored_sessions(env) -> int:  # type: ignore[no-untyped-def]
    return env.ctx.store.count_sessions_without_handover()


@pytest.fixture
def limits_clock(monkeypatch):  # type: ignore[no-untyped-def]
    """The clock of the `limits` library's in-memory windows (the bridge runs in this process),
    moved by the test: a flood "within 30 s" is one whatever the machine's speed."""
    import limits.storage.memory

    now = [time.time()]
    monkeypatch.setattr(limits.storage.memory, "time", types.SimpleNamespace(time=lambda: now[0]))
    return now


def test_a_flood_of_400_new_sessions_from_one_address_gets_at_most_150(bridge_env, limits_clock):
    # The defaults: 120 new sessions per address in any 60 s. The 400 arrive over 30 s.
    env = bridge_env
    env.say("hello")  # a session started before the flood
    before = stored_sessions(env)
    statuses = []
    for _ in range(400):
        limits_clock[0] += 30.0 / 400
        statuses.append(new_session(env).status_code)
    accepted = statuses.count(200)
    assert accepted <= 150
    assert accepted + 1 == 120  # exactly the window's limit, with the session started before
    assert set(statuses) == {200, 429}
    assert stored_sessions(env) - before == accepted  # refused ones stored nothing
    resp = new_session(env)
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1
    body = resp.json()
    assert body["error"] == "rate_limited"
    assert "new_sessions_per_minute_per_address" in body["message"]
    # An existing session goes on: the gate counts new sessions only.
    env.say("still here")
    # A minute later the window has moved on: new sessions from the address are admitted again.
    limits_clock[0] += 61.0
    assert new_session(env).status_code == 200


@pytest.mark.bridge_env(
    config={"bridge": {"new_sessions_per_minute_per_address": 3, "trusted_proxies": ["127.0.0.1"]}}
)
def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(bridge_env):
    env = bridge_env
    office, other = "203.0.113.7", "198.51.100.20"
    assert [new_session(env, office).status_code for _ in range(3)] == [200, 200, 200]
    assert new_session(env, office).status_code == 429
    # Another client behind the same proxy has its own budget; the right-most untrusted hop counts.
    assert new_session(env, other).status_code == 200
    assert new_session(env, f"{office}, {other}").status_code == 200
    assert new_session(env, f"{other}, 127.0.0.1").status_code == 200  # a trusted hop is skipped


@pytest.mark.bridge_env(config={"bridge": {"new_sessions_per_minute_per_address": 3}})
def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(bridge_env):
    env = bridge_env
    statuses = [new_session(env, f"203.0.113.{n}").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.bridge_env(
    config={
        "bridge": {
            "new_sessions_per_minute_per_endpoint": 4,
            "trusted_proxies": ["127.0.0.0/8"],
        }
    }
)
def test_the_endpoint_limit_counts_every_address(bridge_env):
    env = bridge_env
    statuses = [new_session(env, f"192.0.2.{n}").status_code for n in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    resp = new_session(env, "192.0.2.200")
    assert resp.status_code == 429
    assert "new_sessions_per_minute_per_endpoint" in resp.json()["message"]


@pytest.mark.bridge_env(config={"bridge": {"max_sessions_without_handover": 3}})
def test_no_new_session_while_the_store_is_at_its_cap(bridge_env):
    env = bridge_env
    for n in range(3):
        env.say("hello", session_id=f"capped-{n}")
    resp = new_session(env)
    assert resp.status_code == 503, resp.text
    assert resp.json()["error"] == "session_capacity"
    assert "max_sessions_without_handover" in resp.json()["message"]
    assert int(resp.headers["Retry-After"]) >= 1
    assert stored_sessions(env) == 3
    # The sessions the store keeps go on.
    env.say("again", session_id="capped-0")
    key = SessionKey(env.url_token, env.user_id, "capped-1")
    assert env.ctx.store.load_session(key) is not None
