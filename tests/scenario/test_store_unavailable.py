"""The store cannot be reached (a real redis-server, stopped): user inputs are answered 503 with
`Retry-After` and the one JSON error body, the log has one line and no traceback, nothing is
stored, and once Redis is back the same input goes through."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from om_bridge.bridge import messages
from tests.scenario.harness import BridgeEnv
from tests.scenario.redis_helpers import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_store_down_answers_503_with_retry_after(
    make_bridge_env, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    env: BridgeEnv = make_bridge_env(
        config={"bridge": {"store": redis_server.url}}, start_workers=False
    )
    first = env.say("hello")
    assert first["outputStack"], first

    redis_server.stop()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="om_bridge"):
        resp = env.post_input(
            {"userId": env.user_id, "sessionId": env.session_id, "text": "while Redis is down"}
        )
    assert resp.status_code == 503, resp.text
    assert resp.headers["Retry-After"] == "5"
    body = resp.json()
    assert body["error"] == "store_unavailable"
    assert "retry in 5 s" in body["message"]
    assert set(body) == {"error", "message"}
    unavailable = [r for r in caplog.records if r.msg == messages.LOG_STORE_UNAVAILABLE]
    assert len(unavailable) == 1
    assert unavailable[0].levelno == logging.WARNING and unavailable[0].exc_info is None
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]

    redis_server.start()  # same port, empty: the earlier session is gone with the old server
    again = env.say("back again")
    assert again["outputStack"], again
