"""Conformance with the official Node.js SDK (npm `purecloud-platform-client-v2`) as the client:
`tests/js/sdk_conformance.js` runs a whole conversation against a started sandbox with the SDK's
API client (client-credentials login through its gateway setting), its own webhook server and
Notifications WebSockets, and checks every response, webhook body and frame against the model
definitions the SDK ships. This test starts the sandbox, runs the script and reads its report."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from sandbox_testkit import start

from om_bridge.sandbox import seed

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SDK = JS_DIR / "node_modules" / "purecloud-platform-client-v2"
pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def node() -> str:
    """Node.js with the SDK from tests/js/node_modules (installed here when missing)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the Node.js SDK cannot be run")
    if not SDK.is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install purecloud-platform-client-v2")
        subprocess.run(
            [npm, "install", "--silent", "--no-audit", "--no-fund", "--no-package-lock"]
            + ["--prefix", str(JS_DIR)],
            check=True,
            timeout=300,
        )
    return node


def run_node_sdk(node: str, url: str) -> dict:
    """Run the Node.js SDK scenario against the sandbox at `url`; its JSON report."""
    resp = requests.post(
        f"{url}/oauth/token",
        auth=(seed.AGENT_CONSOLE_CLIENT_ID, seed.AGENT_CONSOLE_CLIENT_SECRET),
        data={
            "grant_type": "password",
            "username": seed.DEMO_AGENT_USERNAME,
            "password": seed.DEMO_AGENT_PASSWORD,
        },
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    config = {
        "url": url,
        "clientId": seed.BRIDGE_CLIENT_ID,
        "clientSecret": seed.BRIDGE_CLIENT_SECRET,
        "agentToken": resp.json()["access_token"],
        "integrationId": seed.DEMO_INTEGRATION_ID,
        "webhookSecret": seed.DEMO_WEBHOOK_SECRET,
        "queueId": seed.DEMO_QUEUE_ID,
        "agentId": seed.DEMO_AGENT_ID,
    }
    proc = subprocess.run(
        [node, "--experimental-websocket", "--no-warnings", str(JS_DIR / "sdk_conformance.js")]
        + [json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=JS_DIR,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return json.loads(proc.stdout)


def test_node_sdk_drives_a_conversation_and_everything_matches_its_models(node):
    server = start()
    try:
        report = run_node_sdk(node, server.url)
    finally:
        server.stop()
    assert report["problems"] == [], report["problems"]
    checked = report["checked"]
    assert checked["responses"] >= 20 and checked["webhooks"] >= 3 and checked["frames"] >= 10
    assert "ConversationsApi.postConversationsMessagesInboundOpen" in report["calls"]
    assert {"Text", "Event", "Structured"} <= set(report["webhookTypes"])
    q, u = seed.DEMO_QUEUE_ID, seed.DEMO_AGENT_ID
    assert {
        f"v2.routing.queues.{q}.conversations",
        f"v2.users.{u}.conversations",
        "v2.detail.events.conversation.{cid}.wrapup",
    } <= set(report["topics"])
