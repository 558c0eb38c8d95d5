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
    calls = [
        {
            "type": "say",
            "nodeId": "say1",
            "input": base_input(),
            "config": {
                "say": {"type": "text", "text": ["You are number 2 in the queue"]},
                "handoverOutput": "userOnly",
                "bridgeConnection": key,
            },
        },
        {
            "type": "handoverV2",
            "nodeId": "ho1",
            "input": base_input(),
            "config": {
                "text": "Connecting…",
                "genesysLanguage": "english",
                "genesysSkills": ["billing"],
                "genesysPriority": 1,
                "genesysCustomAttributesMode": "json",
                "genesysCustomAttributes": {"region": "EU"},
                "bridgeConnection": {"bridgeUrl": url + "/", "apiKey": "test-key"},
            },
        },
        {
            "type": "switch",
            "nodeId": "lk1",
            "input": {**base_input(), "handover": {"status": "completed"}},
            "config": {
                "switch": {"type": "handoverStatus", "operator": "ci.handover.status"},
                "bridgeConnection": key,
            },
            "childConfigs": [
                {
                    "id": "c-upd",
                    "type": "case",
                    "config": {"case": {"value": "genericHandoverUpdate"}},
                },
                {"id": "c-done", "type": "case", "config": {"case": {"value": "completed"}}},
            ],
        },
        {
            "type": "goTo",
            "nodeId": "go1",
            "input": base_input(),
            "config": {
                "flowNode": {"flow": "", "node": "lk1"},
                "executionMode": "wait",
                "bridgeConnection": key,
            },
        },
        {
            "type": "addToContext",
            "nodeId": "ctx1",
            "input": base_input(),
            "config": {
                "key": "topic",
                "value": "billing",
                "mode": "simple",
                "bridgeConnection": key,
            },
        },
        {
            "type": "say",
            "nodeId": "say2",
            "input": base_input(),
            "config": {
                "say": {"type": "text", "text": ["x"]},
                "bridgeConnection": {"apiKey": "wrong"},
            },
        },
        {
            "type": "updateProfile",
            "nodeId": "prof1",
            "input": base_input(),
            "config": {"profileKey": "firstname", "value": "Ada", "bridgeConnection": key},
        },
    ]
    report = run_checker(node_tools, tmp_path / "ext", calls)

    exported = {t["type"]: t for t in report["types"]}
    assert set(exported) == {n.type for n in extension_node_types()}
    assert exported["handoverV2"]["hasFunction"] and not exported["case"]["hasFunction"]
    assert exported["case"]["parentType"] == "switch"

    say, handover, lookup, go_to, context, refused, profile = report["results"]
    assert say == {
        "api": [
            [
                "say",
                "You are number 2 in the queue",
                None,
                {"liveAgentSettings": {"outputDestination": "userOnly"}},
            ]
        ]
    }
    assert handover["api"][0][:2] == ["addToContext", "omBridge.handover"]
    assert handover["api"][0][2]["custom_attributes"] == {"region": "EU"}
    assert [(r.language, r.skills, r.priority, i["userId"]) for r, i in started] == [
        ("english", ["billing"], 1, "u-7")
    ]
    assert lookup == {"api": [["setNextNode", "c-done"]]}
    assert go_to == {"api": [["setNextNode", "lk1"], ["stopExecution"]]}
    assert context == {"api": [["addToContext", "topic", "billing", "simple"]]}
    assert "401" in refused["error"] and refused["api"] == []
    assert profile == {"api": [["updateProfile", "firstname", "Ada"]]}


def test_say_quick_replies_and_buttons_reach_cognigys_api_in_its_default_channel_form(
    node_tools, bridge_server, tmp_path
):
    url, _started = bridge_server
    archive = build_extension(tmp_path / "dist", bridge_url=url)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(tmp_path / "ext", filter="data")
    key = {"apiKey": "test-key"}
    quick = {
        "type": "quickReplies",
        "text": [],
        "_cognigy": {
            "_default": {
                "_quickReplies": {
                    "type": "quick_replies",
                    "text": "Did that help?",
                    "quickReplies": [{"title": "Yes", "payload": "yes"}],
                }
            }
        },
    }
    buttons = {
        "type": "buttons",
        "text": [],
        "_cognigy": {
            "_default": {
                "_buttons": {
                    "type": "buttons",
                    "text": "More",
                    "buttons": [{"type": "web_url", "title": "Docs", "url": "https://x.test"}],
                }
            }
        },
    }
    calls = [
        {
            "type": "say",
            "nodeId": f"say-{i}",
            "input": base_input(),
            "config": {"say": say, "preventTranscript": True, "bridgeConnection": key},
        }
        for i, say in enumerate((quick, buttons))
    ]
    first, second = run_checker(node_tools, tmp_path / "ext", calls)["results"]
    (name, text, data, settings) = first["api"][0]
    assert (name, text, settings) == (
        "say",
        "Did that help?",
        {"liveAgentSettings": {"outputDestination": "userAndAgent"}},
    )
    assert data["_cognigy"]["_default"]["_quickReplies"] == {
        "type": "quick_replies",
        "text": "Did that help?",
        "quickReplies": [
            {"id": 0, "contentType": "postback", "title": "Yes", "payload": "yes", "imageUrl": None}
        ],
    }
    (_, text, data, _) = second["api"][0]
    assert text == "More"
    assert data["_cognigy"]["_default"]["_buttons"]["buttons"] == [
        {"id": 0, "type": "web_url", "title": "Docs", "payload": "Docs", "url": "https://x.test"}
    ]
