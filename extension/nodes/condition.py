"""If with its Then and Else children; the condition is CognigyScript without braces. Cognigy's
rule-type conditions (`condition.type: "rule"`) are accepted, reported as not supported when the flow
is loaded, and never hold (the Else branch runs)."""

from __future__ import annotations

from typing import Any

from ..api import NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Field
from ..layout import Appearance, Constraints, FormEntry, Placement, Preview
from ._child import child_descriptor

DESCRIPTOR = NodeDescriptor(
    type="if",
    default_label="If",
    summary="Branches on a CognigyScript condition",
    appearance=Appearance(color="#27AE60", text_color="white"),
    children=("then", "else"),
    constraints=Constraints(placement=Placement(children={"whitelist": ["then", "else"]})),
    fields=(
        Field(
            key="condition",
            label="Condition",
            type="condition",
            description='For example: input.text contains "agent" && !context.handedOver',
            default_value={
                "type": "condition",
                "condition": "",
                "rule": {"left": "", "operand": "eq", "right": ""},
            },
            params={"required": True},
        ),
    ),
    form=(FormEntry("condition"),),
    preview=Preview(type="text", key="condition"),
    tags=("logic",),
)
THEN = child_descriptor("then", "Then", "if", "#27AE60")
ELSE = child_descriptor("else", "Else", "if", "#27AE60")


def check(config: dict[str, Any]) -> list[str]:
    """Load-time check: a CognigyScript condition that does not parse raises NodeError; returns the
    unsupported notes (a rule-type condition)."""
    condition = config.get("condition") or {}
    if condition.get("type", "condition") == "rule":
        return [
            "Condition type 'rule': never holds here, the Else branch runs (write the "
            "condition as CognigyScript instead)"
        ]
    from om_bridge.extension import script

    text = condition.get("condition") or ""
    if text.strip():
        try:
            script.parse(text)
        except script.ScriptError as exc:
            raise NodeError(str(exc)) from None
    return []


def if_node(params: NodeParams) -> None:
    """Continue in Then when the condition holds, else in Else (or below when that branch is
    absent)."""
    condition = params.config.get("condition") or {}
    if condition.get("type", "condition") == "rule":
        holds = False  # not supported: reported when the flow was loaded
    else:
        holds = params.cognigy.api.parse_cognigy_script_condition(condition.get("condition") or "")
    branch = "then" if holds else "else"
    for child in params.child_configs:
        if child.type == branch:
            params.cognigy.api.set_next_node(child.id)
            return
