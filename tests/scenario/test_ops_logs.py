"""`[bridge] log_format = "json"`: one JSON object per line, and the request id of a message is
carried into the background work done for it (the outbox sending it to Genesys); `om-bridge serve`
with OM_BRIDGE_LOG_FORMAT=json writes nothing but JSON lines, gunicorn's own included."""

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


def test_serve_with_json_logs_writes_only_json_lines(tmp_path):
    """`om-bridge serve` with OM_BRIDGE_LOG_FORMAT=json and --log-level: serve's banner, gunicorn's
    own lines (start, worker boot, SIGTERM, shutdown) and the bridge's are all JSON objects, with
    nothing else on stdout or stderr."""
    import os
    import signal
    import subprocess
    import sys

    from om_bridge.bridge.config import write_config
    from om_bridge.bridge.demo import demo_config, demo_environ, sandbox_demo_config
    from om_bridge.sandbox.server import SandboxServer
    from tests.conftest import free_port
    from tests.scenario.harness import FAST_SANDBOX, HOST, merge

    port = free_port()
    bridge_url = f"http://{HOST}:{port}"
    sandbox = SandboxServer(
        config=merge(sandbox_demo_config(bridge_url), FAST_SANDBOX), host=HOST, port=0
    )
    sandbox.start()
    config_path = tmp_path / "om-bridge.toml"
    write_config(config_path, demo_config(bridge_url, sandbox.url, tmp_path / "data"))
    env = {**os.environ, **demo_environ(), "OM_BRIDGE_LOG_FORMAT": "json"}
    for name in ("OM_BRIDGE_STORE", "OM_BRIDGE_CONFIG", "GUNICORN_CMD_ARGS", "OM_BRIDGE_LOG_LEVEL"):
        env.pop(name, None)
    argv = [sys.executable, "-m", "om_bridge", "serve", "--config", str(config_path)]
    argv += ["--port", str(port), "--data-dir", str(tmp_path / "data"), "--log-level", "debug"]
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:

        def ready() -> bool:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                return requests.get(bridge_url + "/readyz", timeout=30).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(ready, 90, interval=0.2, what="/readyz of serve")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            output = proc.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0]
        sandbox.stop()
    assert proc.returncode == 0, output
    lines = []
    for raw in output.splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            pytest.fail(f"not a JSON line: {raw!r}\n{output}")
    messages = [(x["logger"], x["message"]) for x in lines]
    loggers = {logger for logger, _ in messages}
    assert {"om_bridge.bridge.cli", "gunicorn.error"} <= loggers, messages
    assert any(m.startswith("om-bridge listening on") for _, m in messages)
    assert any(m.startswith("Booting worker") for _, m in messages)
    assert any(m == "Shutting down: Master" for _, m in messages)
    assert any(x["level"] == "DEBUG" for x in lines), "--log-level debug reaches the bridge"
