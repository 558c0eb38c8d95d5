"""Go To: jump to a node, either continuing now or waiting for the next input there."""

from __future__ import annotations

from typing import Any

from ..api import NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Condition, Field
from ..layout import Appearance, FormEntry, Preview, Section
from ._support import set_keys, unsupported_field

EXECUTION_MODES = {"continue": "Go to Node and continue", "wait": "Go to Node and wait for Input"}
UNSUPPORTED: dict[str, str] = {
    "parseIntents": "there is no NLU",
    "parseKeyphrases": "there is no NLU (slots and keyphrases)",
    "absorbContext": "an endpoint runs one flow, so there is no other flow's context to absorb",
}

DESCRIPTOR = NodeDescriptor(
    type="goTo",
    default_label="Go To",
    summary="Continues the conversation at another node",
    appearance=Appearance(color="#9B51E0", text_color="white"),
    fields=(
        Field(
            key="flowNode",
            label="Select Node",
            type="flowNode",
            description="The target node (an Entrypoint) in this flow",
            default_value={"flow": "", "node": ""},
            params={"required": True},
        ),
        Field(
            key="executionMode",
            label="Execution Mode",
            type="select",
            default_value="continue",
            params={"options": [{"label": v, "value": k} for k, v in EXECUTION_MODES.items()]},
        ),
        Field(
            key="injectedText",
            label="Optionally Injected Text",
            type="cognigyText",
            default_value="",
            description="Replaces input.text when continuing; empty keeps it",
            condition=Condition(key="executionMode", value="continue"),
        ),
        Field(
            key="injectedData",
            label="Optionally Injected Data",
            type="json",
            default_value={},
            description="Replaces input.data when continuing; empty keeps it",
            condition=Condition(key="executionMode", value="continue"),
        ),
        unsupported_field(
            "parseIntents", "Parse Intents", "toggle", UNSUPPORTED["parseIntents"], False
        ),
        unsupported_field(
            "parseKeyphrases", "Parse Slots", "toggle", UNSUPPORTED["parseKeyphrases"], False
        ),
        unsupported_field(
            "absorbContext", "Absorb Context", "toggle", UNSUPPORTED["absorbContext"], False
        ),
    ),
    sections=(
        Section(
            key="advanced",
            label="Advanced",
            default_collapsed=True,
            fields=(
                "executionMode",
                "injectedText",
                "injectedData",
                "parseIntents",
                "parseKeyphrases",
                "absorbContext",
            ),
        ),
    ),
    form=(FormEntry("flowNode"), FormEntry("advanced", "section")),
    preview=Preview(type="text", key="flowNode"),
    tags=("logic",),
)


def check(config: dict[str, Any]) -> list[str]:
    """Load-time check of the execution mode; returns the unsupported notes."""
    mode = config.get("executionMode", "continue")
    if mode not in EXECUTION_MODES:
        raise NodeError(f"Execution Mode must be one of {list(EXECUTION_MODES)}")
    return set_keys(DESCRIPTOR, config, UNSUPPORTED)


def go_to(params: NodeParams) -> None:
    """Jump to the selected node; with "wait" the run stops and the next input starts there."""
    target = (params.config.get("flowNode") or {}).get("node")
    if not target:
        raise NodeError("Select Node is empty")
    api = params.cognigy.api
    if params.config.get("executionMode", "continue") == "wait":
        api.wait_for_input(target)
        return
    text, data = params.config.get("injectedText"), params.config.get("injectedData")
    if text or data:
        api.set_input(
            text or params.cognigy.input.get("text"), data or params.cognigy.input.get("data")
        )
    api.set_next_node(target)
