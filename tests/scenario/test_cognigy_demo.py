"""`om-bridge demo --cognigy` as a real process: emulator + bridge + Genesys sandbox start, print
their URLs, a user reaches the bot through the emulator's endpoint and is handed over, and Ctrl-C
stops everything."""

from __future__ import annotations

import shutil
import signal

import pytest
import requests

from om_bridge.bridge.demo import COGNIGY_TOKEN
from tests.conftest import free_port, wait_for_http, wait_until
from tests.scenario.test_endpoint_commands import run, stop

pytestmark = pytest.mark.node


def test_demo_cognigy_runs_everything_and_hands_over(tmp_path):
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    port, sandbox_port, cognigy_port, api_port = (free_port() for _ in range(4))
    proc = run(
        [
            "demo",
            "--cognigy",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--cognigy-port",
            str(cognigy_port),
            "--cognigy-api-port",
            str(api_port),
            "--data-dir",
            str(tmp_path / "data"),
        ]
    )
    endpoint = f"http://127.0.0.1:{cognigy_port}"
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        page = requests.get(f"{endpoint}/webchat/{COGNIGY_TOKEN}", timeout=10)
        assert page.status_code == 200 and "Cognigy emulator webchat" in page.text
        user = {"userId": "u-demo", "sessionId": "s-demo"}
        hello = requests.post(
            f"{endpoint}/{COGNIGY_TOKEN}", json={**user, "text": "hi"}, timeout=30
        )
        assert hello.status_code == 200 and "I am the bot" in hello.json()["text"]
        agent = requests.post(
            f"{endpoint}/{COGNIGY_TOKEN}", json={**user, "text": "agent"}, timeout=30
        )
        assert "connecting you with an agent" in agent.json()["text"]

        def queued() -> bool:
            outs = requests.get(
                f"{endpoint}/_emulator/sessions/{COGNIGY_TOKEN}/s-demo/outputs",
                params={"userId": "u-demo", "wait": 1},
                timeout=10,
            ).json()["outputs"]
            return any((o.get("text") or "").startswith("You are in the queue") for o in outs)

        wait_until(queued, 30, interval=0, what="the queue status injected into the flow")
    finally:
        code, out, err = stop(proc, signal.SIGINT)
    assert code == 0, err
    assert f"{endpoint}/webchat/{COGNIGY_TOKEN}" in out
    assert (
        f"http://127.0.0.1:{api_port}" in out and f"http://127.0.0.1:{sandbox_port}/console" in out
    )
    written = (tmp_path / "data" / "om-bridge.toml").read_text()
    assert "[[cognigy_endpoints]]" in written
    assert f'endpoint_base_url = "{endpoint}"' in written and "api_base_url" not in written
    for p in (port, cognigy_port, api_port):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{p}/", timeout=2)
