"""The configuration `om-bridge demo` writes is complete: from a fresh shell (no feature flags in
the environment) `om-bridge check --config` passes every step against the running demo, and
`om-bridge serve --config` on the same file, with the demo's sandbox, hands over and back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from om_bridge.bridge.demo import sandbox_demo_config
from om_bridge.bridge.flags import VARIABLES
from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient
from tests.conftest import free_port, wait_for_http, wait_until

ROOT = Path(__file__).resolve().parents[2]


def fresh_environ() -> dict[str, str]:
    """The environment of a new shell: none of the flags, no OM_BRIDGE_* settings."""
    names = set(VARIABLES.values())
    return {
        k: v for k, v in os.environ.items() if k not in names and not k.startswith("OM_BRIDGE_")
    }


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "om_bridge", *args],
        cwd=cwd,
        env=fresh_environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> tuple[int, str, str]:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def outputs(bridge: str, user: str, session: str, after: int) -> dict:
    resp = requests.get(
        f"{bridge}/endpoint/demo/sessions/{session}/outputs",
        params={"userId": user, "after": after, "wait": 5},
        timeout=30,
    )
    resp.raise_for_status()
    return resp.json()


def test_demo_file_passes_check_and_serve_hands_over_and_back(tmp_path):
    port, sandbox_port = free_port(), free_port()
    bridge = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "data"
    config_file = data_dir / "om-bridge.toml"

    demo = start(
        [
            "demo",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--data-dir",
            str(data_dir),
        ],
        tmp_path,
    )
    try:
        wait_for_http(bridge + "/readyz", timeout=60)
        check = subprocess.run(
            [sys.executable, "-m", "om_bridge", "check", "--config", str(config_file), "--json"],
            cwd=tmp_path,
            env=fresh_environ(),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        code, _out, err = stop(demo)
    assert code == 0, err
    results = json.loads(check.stdout)
    failing = [(r["step"], r["detail"]) for r in results if r["status"] == "FAIL"]
    assert check.returncode == 0 and not failing, failing
    steps = {r["step"]: r["status"] for r in results}
    for step, status in steps.items():
        assert status in ("PASS", "WARN"), (step, status)

    # The same file under `om-bridge serve`, with the demo's sandbox on its port again.
    sandbox_file = tmp_path / "sandbox.json"
    sandbox_file.write_text(json.dumps(sandbox_demo_config(bridge)))
    sandbox = start(
        ["sandbox", "--port", str(sandbox_port), "--config", str(sandbox_file)], tmp_path
    )
    serve = None
    agent = None
    try:
        wait_for_http(f"http://127.0.0.1:{sandbox_port}/console", timeout=60)
        serve = start(
            ["serve", "--config", str(config_file), "--port", str(port), "--threads", "8"],
            tmp_path,
        )
        wait_for_http(bridge + "/readyz", timeout=60)
        agent = AgentClient(
            f"http://127.0.0.1:{sandbox_port}", seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD
        ).login()
        agent.go_on_queue()
        user, session = f"user-{uuid.uuid4().hex[:8]}", f"session-{uuid.uuid4().hex[:8]}"

        def say(text: str) -> dict:
            resp = requests.post(
                bridge + "/endpoint/demo",
                json={"userId": user, "sessionId": session, "text": text},
                timeout=30,
            )
            assert resp.status_code == 200, resp.text
            return resp.json()

        say("hello")
        say("I want an agent please")
        offer = agent.wait_for_offer(timeout=60)
        conversation_id = offer["id"]
        agent.answer(conversation_id)
        agent.send_text(conversation_id, "Hello from Alex")
        seen: list[dict] = []
        after = 0

        def poll(predicate) -> bool:  # type: ignore[no-untyped-def]
            nonlocal after
            page = outputs(bridge, user, session, after)
            seen.extend(page["outputs"])
            after = page["next"]
            return any(predicate(o) for o in seen)

        wait_until(
            lambda: poll(lambda o: o["source"] == "agent" and o.get("text") == "Hello from Alex"),
            60,
            what="the agent's message at the user",
        )
        statuses = [((o.get("data") or {}).get("handover") or {}).get("status") for o in seen]
        assert "completed" not in statuses  # handed over, not refused
        agent.disconnect(conversation_id)
        wait_until(
            lambda: poll(
                lambda o: ((o.get("data") or {}).get("handover") or {}).get("status") == "completed"
            ),
            60,
            what="the handover completed through the sandbox's EventBridge delivery",
        )
        assert "demo bot" in say("hello again")["text"]
    finally:
        if agent is not None:
            agent.close()
        results_serve = stop(serve, signal.SIGTERM) if serve is not None else (0, "", "")
        stop(sandbox)
    assert results_serve[0] == 0, results_serve[2]
