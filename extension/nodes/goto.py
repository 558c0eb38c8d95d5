"""Go To: jump to a node, either continuing now or waiting for the next input there."""

from __future__ import annotations

from ..api import NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Condition, Field
from ..layout import Appearance, FormEntry, Preview, Section

EXECUTION_MODES = {"continue": "Go to Node and continue", "wait": "Go to Node and wait for Input"}

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
    ),
    sections=(
        Section(
            key="advanced",
            label="Advanced",
            default_collapsed=True,
            fields=("executionMode", "injectedText", "injectedData"),
        ),
    ),
    form=(FormEntry("flowNode"), FormEntry("advanced", "section")),
    preview=Preview(type="text", key="flowNode"),
    tags=("logic",),
)


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
