"""Store retention through the running bridge, the per-session input rate limit, and the gap
marker a reader gets when outputs it asked for were cut."""

from __future__ import annotations

import pytest

from om_bridge.bridge.store import SessionKey
from om_bridge.bridge.store.base import OUTPUTS_KEPT
from tests.conftest import wait_until
from tests.scenario.test_endpoint_sse import Events


def key(env) -> SessionKey:  # type: ignore[no-untyped-def]
    return SessionKey("demo", env.user_id, env.session_id)


def test_long_poll_and_sse_mark_the_outputs_that_were_cut(bridge_env):
    env = bridge_env
    for n in range(OUTPUTS_KEPT + 10):
        env.ctx.outputs.emit(key(env), {"source": "agent", "text": f"line {n}"})
    page = env.outputs(0)
    assert page["gap"]["from"] == 1 and page["gap"]["to"] == 10 and page["gap"]["count"] == 10
    assert "outputs_cut" in page["gap"]["reason"]
    assert page["outputs"][0]["seq"] == 11
    # A reader that is not behind gets no marker.
    assert "gap" not in env.outputs(page["next"])
    assert "gap" not in env.outputs(10)

    events = Events(env, after=3)
    try:
        block = events.next_block()
        while not any(line.startswith("event:") for line in block):
            block = events.next_block()
        fields = dict(line.split(": ", 1) for line in block if ": " in line)
        assert fields["event"] == "gap" and "id" not in fields
        assert '"from":4,"to":10' in fields["data"]
        assert events.next_event()[0] == 11
    finally:
        events.close()


@pytest.mark.bridge_env(config={"bridge": {"input_rate_per_minute": 3}})
def test_a_session_over_its_input_rate_gets_429_and_nothing_changes(bridge_env):
    env = bridge_env
    for n in range(3):
        env.say(f"message {n}")
    state = env.ctx.store.load_session(key(env))
    outputs = env.outputs(0)["outputs"]
    resp = env.post_input({"userId": env.user_id, "sessionId": env.session_id, "text": "4th"})
    assert resp.status_code == 429, resp.text
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.json()["error"] == "rate_limited"
    assert "3 inputs per minute" in resp.json()["message"]
    assert "input_rate_per_minute" in resp.json()["message"]
    assert env.ctx.store.load_session(key(env)) == state
    assert env.outputs(0)["outputs"] == outputs
    # Another session of the same user has its own budget.
    env.say("hello", session_id="another-session")


@pytest.mark.bridge_env(
    config={"bridge": {"session_retention_hours": 0.0005, "sweep_interval_seconds": 1}}
)
def test_the_sweeper_deletes_idle_sessions_with_their_outputs(bridge_env):
    env = bridge_env
    env.say("hello")
    assert env.ctx.store.load_session(key(env)) is not None
    wait_until(
        lambda: env.ctx.store.load_session(key(env)) is None
        and env.ctx.store.outputs_after(key(env), 0) == [],
        30,
        what="the idle session to be swept",
    )
