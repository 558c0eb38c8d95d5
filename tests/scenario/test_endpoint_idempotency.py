"""`Idempotency-Key` on `POST /endpoint/<urlToken>` over real HTTP (bridge + sandbox): the same
input posted twice with one key reaches the agent once and gets the first answer again; the key
is the session's own; a different body with a used key, or a malformed key, is refused."""

from __future__ import annotations

import sqlite3
import threading
import uuid

import requests

from om_bridge.bridge.store import SessionKey
from tests.conftest import wait_until
from tests.scenario.handover_helpers import SandboxReader, start_handover


def post(env, text: str, key: str | None, session_id: str | None = None) -> requests.Response:  # type: ignore[no-untyped-def]
    headers = {"Idempotency-Key": key} if key is not None else {}
    return requests.post(
        env.endpoint_url(),
        json={"userId": env.user_id, "sessionId": session_id or env.session_id, "text": text},
        headers=headers,
        timeout=30,
    )


def test_the_same_input_twice_with_one_key_reaches_the_agent_once(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    reader = SandboxReader(env.sandbox_url)
    key = uuid.uuid4().hex
    first = post(env, "only once please", key)
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = post(env, "only once please", key)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    post(env, "the next one", uuid.uuid4().hex).raise_for_status()
    wait_until(
        lambda: "the next one" in reader.inbound_texts(conversation_id),
        20,
        what="the next message at the agent",
    )
    seen = reader.inbound_texts(conversation_id)
    assert seen.count("only once please") == 1, seen
    # Without a key, the same text twice is two messages (the user may well repeat themselves).
    post(env, "twice", None).raise_for_status()
    post(env, "twice", None).raise_for_status()
    wait_until(
        lambda: reader.inbound_texts(conversation_id).count("twice") == 2,
        20,
        what="both unkeyed messages at the agent",
    )


def test_concurrent_posts_with_one_key_are_handled_once(bridge_env):
    env = bridge_env
    conversation_id = start_handover(env)
    reader = SandboxReader(env.sandbox_url)
    key = uuid.uuid4().hex
    answers: list[requests.Response] = []
    threads = [
        threading.Thread(target=lambda: answers.append(post(env, "at once", key))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert sum(1 for a in answers if "Idempotent-Replayed" not in a.headers) == 1
    post(env, "after them", uuid.uuid4().hex).raise_for_status()
    wait_until(
        lambda: "after them" in reader.inbound_texts(conversation_id),
        20,
        what="the message after the concurrent ones",
    )
    assert reader.inbound_texts(conversation_id).count("at once") == 1


def test_a_key_is_kept_durably_and_per_session(bridge_env):
    env = bridge_env
    key = "same-key"
    first = post(env, "hello", key)
    assert first.status_code == 200, first.text
    # The answer outlives a restart of the bridge (it is in the store).
    env.restart_bridge()
    again = post(env, "hello", key)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    # Another session's same key is another request.
    other = post(env, "hello", key, session_id="another-session")
    assert other.status_code == 200
    assert "Idempotent-Replayed" not in other.headers


def test_a_used_key_with_another_body_is_refused_and_changes_nothing(bridge_env):
    env = bridge_env
    key = uuid.uuid4().hex
    assert post(env, "hello", key).status_code == 200
    skey = SessionKey(env.url_token, env.user_id, env.session_id)
    state = env.ctx.store.load_session(skey)
    outputs = env.outputs(0)["outputs"]
    resp = post(env, "something else", key)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == "idempotency_key_reused"
    assert resp.json()["path"] == "Idempotency-Key"
    assert env.ctx.store.load_session(skey) == state
    assert env.outputs(0)["outputs"] == outputs


def test_a_malformed_key_is_refused(bridge_env):
    env = bridge_env
    for bad in ("", "x" * 256, "tab\tinside"):
        resp = post(env, "hello", bad)
        assert resp.status_code == 400, (bad, resp.text)
        assert resp.json()["path"] == "Idempotency-Key"
        assert "Idempotency-Key" in resp.json()["message"]
    skey = SessionKey(env.url_token, env.user_id, env.session_id)
    assert env.ctx.store.load_session(skey) is None


def test_a_refused_input_is_not_kept_and_its_resend_may_succeed(bridge_env):
    env = bridge_env
    env.restart_bridge(config={"bridge": {"max_sessions_without_handover": 1}})
    env.say("hello", session_id="the-one-session")
    key = uuid.uuid4().hex
    refused = post(env, "hello", key)
    assert refused.status_code == 503
    env.restart_bridge(config={"bridge": {"max_sessions_without_handover": 0}})
    resp = post(env, "hello", key)
    assert resp.status_code == 200, resp.text
    assert "Idempotent-Replayed" not in resp.headers


def test_a_resend_after_a_crash_before_the_answer_was_kept_is_the_same_message(bridge_env):
    # A crash after the input went into the outbox but before its answer was kept: the re-send
    # is handled again, and its message carries the same channel.messageId (derived from the
    # key), which Genesys answers without posting it twice.
    env = bridge_env
    conversation_id = start_handover(env)
    reader = SandboxReader(env.sandbox_url)
    key = uuid.uuid4().hex
    post(env, "handled twice, posted once", key).raise_for_status()
    wait_until(
        lambda: "handled twice, posted once" in reader.inbound_texts(conversation_id),
        20,
        what="the message at the agent",
    )
    with sqlite3.connect(env.ctx.store.path) as conn:
        assert conn.execute("DELETE FROM answers").rowcount == 1
    again = post(env, "handled twice, posted once", key)
    assert again.status_code == 200
    assert "Idempotent-Replayed" not in again.headers  # handled again
    post(env, "a later one", uuid.uuid4().hex).raise_for_status()
    wait_until(
        lambda: "a later one" in reader.inbound_texts(conversation_id),
        20,
        what="the later message at the agent",
    )
    assert reader.inbound_texts(conversation_id).count("handled twice, posted once") == 1
