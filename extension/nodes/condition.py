"""If with its Then and Else children; the condition is CognigyScript without braces."""

from __future__ import annotations

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
            default_value={"type": "condition", "condition": ""},
            params={"required": True},
        ),
    ),
    form=(FormEntry("condition"),),
    preview=Preview(type="text", key="condition"),
    tags=("logic",),
)
THEN = child_descriptor("then", "Then", "if", "#27AE60")
ELSE = child_descriptor("else", "Else", "if", "#27AE60")


def if_node(params: NodeParams) -> None:
    """Continue in Then when the condition holds, else in Else (or below when that branch is
    absent)."""
    condition = params.config.get("condition") or {}
    if condition.get("type", "condition") != "condition":
        raise NodeError("only conditions of type 'condition' (CognigyScript) are supported")
    holds = params.cognigy.api.parse_cognigy_script_condition(condition.get("condition") or "")
    branch = "then" if holds else "else"
    for child in params.child_configs:
        if child.type == branch:
            params.cognigy.api.set_next_node(child.id)
            return
