"""Loads the built extension's build/module.js in Node.js and checks it against @cognigy/extension-
tools' createExtension / createNodeDescriptor, then runs its node functions against a live
bridge."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from om_bridge.extension.build import build_extension
from om_bridge.extension.fields import PLATFORM_FIELD_TYPES
from om_bridge.extension.jsmodule import NOT_RELAYED, UNAVAILABLE
from om_bridge.extension.registry import extension_node_types

JS_DIR = Path(__file__).resolve().parents[2] / "js"
pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def node_tools():
    """Node.js plus @cognigy/extension-tools from tests/js/node_modules (installed here when
    missing)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the extension's module.js cannot be loaded")
    if not (JS_DIR / "node_modules" / "@cognigy" / "extension-tools").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install @cognigy/extension-tools")
        subprocess.run(
            [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(JS_DIR)],
            check=True,
            timeout=300,
        )
    return node


def run_checker(node, ext_dir, calls):
    proc = subprocess.run(
        [
            node,
            str(JS_DIR / "check_extension.js"),
            str(ext_dir),
            json.dumps(sorted(PLATFORM_FIELD_TYPES)),
            json.dumps(calls),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=JS_DIR,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def base_input():
    return {
        "text": "agent please",
        "data": {},
        "userId": "u-7",
        "sessionId": "s-7",
        "URLToken": "demo",
    }


def test_module_matches_extension_tools_and_nodes_call_the_bridge(
    node_tools, bridge_server, tmp_path
):
    url, started = bridge_server
    archive = build_extension(tmp_path / "dist", bridge_url=url)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(tmp_path / "ext", filter="data")
    key = {"apiKey": "test-key"}
    transcript = [
        {"role": "user", "type": "input", "payload": {"text": "hi", "data": {}}},
        {"role": "assistant", "type": "output", "payload": {"text": "Hello!", "data": {}}},
    ]
    calls = [
        {
            "type": "handoverV2",
            "nodeId": "ho1",
            "input": {**base_input(), "inputId": "in-1", "transcript": transcript},
            "config": {
                "text": "Connecting…",
                "genesysLanguage": "english",
                "genesysSkills": ["billing"],
                "genesysPriority": "",
                "genesysCustomAttributesMode": "json",
                "genesysCustomAttributes": {"region": "EU"},
                "bridgeConnection": {"bridgeUrl": url + "/", "apiKey": "test-key"},
            },
        },
        {
            "type": "handoverV2",
            "nodeId": "ho2",
            "input": base_input(),
            "config": {"genesysLanguage": "none", "bridgeConnection": key},
        },
        {
            "type": "relayToAgent",
            "nodeId": "r1",
            "input": {**base_input(), "text": "my order", "inputId": "in-2"},
            "config": {"bridgeConnection": key},
        },
        {
            "type": "relayToAgent",
            "nodeId": "r2",
            "input": base_input(),
            "config": {"bridgeConnection": {"apiKey": "wrong"}},
        },
        {
            "type": "handoverV2",
            "nodeId": "ho3",
            "input": base_input(),
            "config": {"bridgeConnection": {"bridgeUrl": "http://127.0.0.1:9", "apiKey": "k"}},
        },
    ]
    report = run_checker(node_tools, tmp_path / "ext", calls)

    exported = {t["type"]: t for t in report["types"]}
    assert (
        set(exported)
        == {n.type for n in extension_node_types()}
        == {
            "handoverV2",
            "relayToAgent",
        }
    )
    assert exported["handoverV2"]["hasFunction"] and exported["relayToAgent"]["hasFunction"]
    assert report["fieldTypesOutside014"] == []

    started_call, refused_call, relayed, wrong_key, bridge_down = report["results"]
    assert [c[0] for c in bridge_down["api"]] == ["say", "addToContext", "stopExecution"]
    assert bridge_down["api"][0][1] == UNAVAILABLE
    assert bridge_down["api"][1][2]["status"] == "error"
    [(name, key_path, stored, mode)] = started_call["api"]
    assert (name, key_path, mode) == ("addToContext", "omBridge.handover", "simple")
    assert stored["id"] == "h-1" and stored["custom_attributes"] == {"region": "EU"}
    request, body = started[0]
    assert (request.language, request.skills, request.priority) == ("english", ["billing"], None)
    assert request.custom_attributes == {"region": "EU"}
    assert body["input"]["userId"] == "u-7" and body["input"]["inputId"] == "in-1"
    assert body["transcript"] == transcript
    calls_made = refused_call["api"]
    assert calls_made[0] == [
        "say",
        "No agent",
        {},
        {"liveAgentSettings": {"outputDestination": "userOnly"}},
    ]
    assert [c[0] for c in calls_made] == ["say", "addToContext", "stopExecution"]
    assert relayed == {"api": []}
    assert started[2] == (
        "relay",
        {"input": {**base_input(), "text": "my order", "inputId": "in-2"}},
    )
    # The bridge refused the key: the user is told (and Cognigy's log gets the reason).
    assert "error" not in wrong_key
    assert wrong_key["api"][0][:2] == ["say", NOT_RELAYED]
