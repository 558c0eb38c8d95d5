"""Cognigy's own Handover to Human Agent node config, as `@cognigy/rest-api-client` declares the
node (`handoverV2.js`: its fields and defaults), works unchanged on om-bridge's node: custom
attributes from the JSON field without a mode key, Skills and Priority as CognigyScript, the rest
of Cognigy's settings reported once at load."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from om_bridge import schemas
from om_bridge.bridge.flow import FlowInput, FlowRuntime, SessionState
from om_bridge.bridge.flow.chart import Chart
from om_bridge.extension.nodes.handover import DESCRIPTOR

JS_DIR = Path(__file__).resolve().parents[2] / "js"
pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def cognigy_node() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    if not (JS_DIR / "node_modules" / "@cognigy" / "rest-api-client").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install @cognigy/rest-api-client")
        subprocess.run(
            [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(JS_DIR)],
            check=True,
            timeout=300,
        )
    proc = subprocess.run(
        [
            node,
            str(JS_DIR / "cognigy_descriptor.js"),
            "shared/charts/descriptors/service/handoverV2.js",
            "HANDOVER_V2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=JS_DIR,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def cognigy_config(descriptor: dict, **settings: object) -> dict:
    """A config as Cognigy's editor stores it: every default, then the given settings."""
    config = {f["key"]: f["defaultValue"] for f in descriptor["fields"] if "defaultValue" in f}
    config.update(settings)
    return config


def chart(config: dict) -> Chart:
    return Chart.from_dict(
        {
            "_id": "c",
            "nodes": [
                {"_id": "start", "type": "start"},
                {"_id": "handover", "type": "handoverV2", "label": "Handover", "config": config},
            ],
            "relations": [
                {"node": "start", "children": [], "next": "handover"},
                {"node": "handover", "children": [], "next": None},
            ],
        },
        "c",
    )


def test_every_field_of_cognigys_node_is_a_field_of_ours(cognigy_node):
    assert cognigy_node["type"] == "handoverToAgent"
    ours = {f.key: f.type for f in DESCRIPTOR.fields}
    theirs = {f["key"]: f["type"] for f in cognigy_node["fields"]}
    assert set(theirs) <= set(ours), set(theirs) - set(ours)
    # CognigyScript where Cognigy's node takes it.
    for key in ("genesysLanguage", "genesysSkills", "genesysPriority", "text"):
        assert ours[key] == theirs[key], key
    assert ours["genesysCustomAttributes"] == theirs["genesysCustomAttributes"] == "json"


def test_cognigys_node_config_hands_over_with_its_attributes_skills_and_priority(cognigy_node):
    config = cognigy_config(
        cognigy_node,
        text="Connecting you",
        genesysLanguage="{{ context.language }}",
        genesysSkills=["{{ context.skill }}", "billing"],
        genesysPriority="{{ context.priority }}",
        genesysCustomAttributes={"tier": "gold", "orders": 3},
    )
    assert "genesysCustomAttributesMode" not in config
    errors = list(schemas.validator("nodes/handoverV2").iter_errors(config))
    assert errors == [], [e.message for e in errors]
    loaded = chart(config)
    state = SessionState.new()
    state.context.update({"language": "german", "skill": "escalation", "priority": 3})
    result = FlowRuntime(loaded).run(
        state, FlowInput(text="agent", data=None, user_id="u", session_id="s", url_token="t")
    )
    assert result.error is None, result.error
    request = result.handover
    assert request is not None
    assert request.custom_attributes == {"tier": "gold", "orders": "3"}
    assert request.skills == ["escalation", "billing"]
    assert request.priority == 3 and request.language == "german"
    assert request.accepted_message == "Connecting you"


def test_what_we_do_not_support_of_cognigys_node_is_reported_once(cognigy_node):
    config = cognigy_config(cognigy_node, sendResolveEvent=True, liveAgentInboxId="7")
    notes = chart(config).unsupported
    for key in ("sendResolveEvent", "liveAgentInboxId", "salesforcePrechatEntities"):
        assert sum(f"({key})" in n for n in notes) == 1, key
    for key in ("genesysCustomAttributes", "genesysSkills", "genesysPriority", "resolveBehavior"):
        assert not any(f"({key})" in n for n in notes), key


def test_a_priority_that_is_no_whole_number_fails_at_run_time(cognigy_node):
    config = cognigy_config(cognigy_node, genesysPriority="{{ context.priority }}")
    state = SessionState.new()
    state.context["priority"] = "high"
    result = FlowRuntime(chart(config)).run(
        state, FlowInput(text="x", data=None, user_id="u", session_id="s", url_token="t")
    )
    assert result.error is not None and "Priority" in str(result.error)
