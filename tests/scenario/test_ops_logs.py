"""`[bridge] log_format = "json"`: one JSON object per line, and the request id of a message is
carried into the background work done for it (the outbox sending it to Genesys)."""

from __future__ import annotations

import io
import json
import logging

import pytest
import requests

from om_bridge.bridge.app import configure_logging
from om_bridge.bridge.logs import JsonFormatter
from tests.conftest import wait_until
from tests.scenario.handover_helpers import start_handover

JSON_LOGS = {"bridge": {"log_format": "json", "log_level": "DEBUG"}}


@pytest.mark.bridge_env(config=JSON_LOGS)
def test_json_log_lines_carry_the_request_id_into_the_outbox(bridge_env):
    env = bridge_env
    # Logging as `om-bridge serve` sets it up from the configuration, into a buffer read here.
    out = io.StringIO()
    configure_logging(env.ctx.config, env.ctx.flags, stream=out)
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "_om_bridge", False)]
    assert isinstance(handler.formatter, JsonFormatter)
    try:
        start_handover(env, agent_answers=True)
        rid = "rid-json-0001"
        resp = requests.post(
            env.bridge_url + "/endpoint/demo",
            json={"userId": env.user_id, "sessionId": env.session_id, "text": "to the agent"},
            headers={"X-Request-Id": rid},
            timeout=30,
        )
        assert resp.status_code == 200 and resp.headers["X-Request-Id"] == rid

        def lines() -> list[dict]:
            return [json.loads(raw) for raw in out.getvalue().splitlines() if raw]

        wait_until(
            lambda: any(
                x["logger"].endswith("handover.outbox") and x["request_id"] == rid for x in lines()
            ),
            30,
            what="the outbox's log line with the request id",
        )
    finally:
        logging.getLogger().removeHandler(handler)
    line = next(x for x in lines() if x["request_id"] == rid)
    assert set(line) >= {"time", "level", "logger", "message", "request_id"}
    assert line["time"].endswith("Z")
