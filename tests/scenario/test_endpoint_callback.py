"""An endpoint with a callback URL gets every output POSTed in Cognigy's Webhook-endpoint format."""

from __future__ import annotations

import pytest

from om_bridge.bridge.store.records import SessionKey
from tests.browser import Receiver
from tests.conftest import wait_until


@pytest.fixture
def receiver():
    with Receiver() as rx:
        yield rx


def test_outputs_reach_the_callback_url(make_bridge_env, receiver):
    env = make_bridge_env(
        config={"endpoints": [{"url_token": "demo", "callback_url": receiver.url + "/cb"}]}
    )
    key = SessionKey("demo", env.user_id, env.session_id)
    env.ctx.outputs.emit(
        key,
        {
            "source": "agent",
            "text": "from the agent",
            "data": {"agent": {"name": "Alex Agent", "avatar": "http://x/a.png"}},
        },
    )
    env.ctx.outputs.emit(key, {"source": "system", "data": {"handover": {"status": "completed"}}})
    wait_until(lambda: len(receiver.requests) == 2, what="two callback POSTs")
    first, second = (r.json() for r in receiver.requests)
    assert receiver.requests[0].path == "/cb"
    assert first["userId"] == env.user_id and first["sessionId"] == env.session_id
    assert first["AIOutput"]["text"] == "from the agent" and first["AIOutput"]["source"] == "agent"
    assert first["AIOutput"]["data"]["agent"]["name"] == "Alex Agent"
    assert second["AIOutput"]["data"] == {"handover": {"status": "completed"}}
    # The same outputs are still available to long-poll.
    assert len(env.outputs()["outputs"]) == 2


def test_no_callback_without_a_url(bridge_env, receiver):
    key = SessionKey("demo", bridge_env.user_id, bridge_env.session_id)
    bridge_env.ctx.outputs.emit(key, {"source": "agent", "text": "x"})
    assert bridge_env.outputs()["outputs"]
    assert receiver.requests == []
