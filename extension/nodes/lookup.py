"""Lookup (`switch`) with its Case and Default children; types Text and Handover Status."""

from __future__ import annotations

from typing import Any

from ..api import NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Field
from ..layout import Appearance, Constraints, FormEntry, Placement, Preview, Section
from ._child import child_descriptor

# Lookup type -> (label, the operand Cognigy stores for it)
LOOKUP_TYPES: dict[str, tuple[str, str]] = {
    "text": ("Text", "ci.text"),
    "handoverStatus": ("Handover Status", "ci.handover.status"),
    # The operand is the CognigyScript expression itself (without braces), e.g.
    # `input.data.handover.status` in the Cognigy-hosted Handover Flow.
    "cognigyScript": ("CognigyScript", ""),
}

DESCRIPTOR = NodeDescriptor(
    type="switch",
    default_label="Lookup",
    summary="Creates different flow paths based on a chosen operand",
    appearance=Appearance(color="#F2994A", text_color="white"),
    children=("case", "default"),
    constraints=Constraints(placement=Placement(children={"whitelist": ["case", "default"]})),
    fields=(
        Field(
            key="switch",
            label="Type",
            type="switchNode",
            description="Text compares each Case value with the user's text, Handover Status with "
            "input.handover.status, CognigyScript with the value of its expression (operator)",
            default_value={"type": "text", "operator": "ci.text"},
            params={
                "required": True,
                "options": [{"label": v[0], "value": k} for k, v in LOOKUP_TYPES.items()],
            },
        ),
        Field(
            key="useStrict",
            label="Strict Mode",
            type="toggle",
            default_value=False,
            description="Case values must also have the operand's type",
        ),
    ),
    sections=(
        Section(key="advanced", label="Advanced", default_collapsed=True, fields=("useStrict",)),
    ),
    form=(FormEntry("switch"), FormEntry("advanced", "section")),
    tags=("logic",),
)

CASE = child_descriptor(
    "case",
    "Case",
    "switch",
    "#F2994A",
    (
        Field(
            key="case",
            label="Value",
            type="caseNode",
            default_value={"value": ""},
            description="Matched case-sensitively against the Lookup's operand",
            params={"required": True},
        ),
    ),
    editable=True,
    creatable=True,
    preview=Preview("text", "case"),
)
DEFAULT = child_descriptor("default", "Default", "switch", "#F2994A")


def operand(params: NodeParams) -> Any:
    """The value the Lookup compares: the user's text or the handover status."""
    lookup_type = (params.config.get("switch") or {}).get("type")
    if lookup_type == "text":
        return params.cognigy.input.get("text")
    if lookup_type == "handoverStatus":
        return (params.cognigy.input.get("handover") or {}).get("status")
    if lookup_type == "cognigyScript":
        expression = str((params.config.get("switch") or {}).get("operator") or "").strip()
        if not expression:
            raise NodeError("Lookup of type CognigyScript needs an expression (operator)")
        return params.cognigy.api.parse_cognigy_script_value(expression)
    raise NodeError(f"Lookup type {lookup_type!r} is not supported (use {list(LOOKUP_TYPES)})")


def _matches(value: Any, wanted: Any, strict: bool) -> bool:
    if value is None:
        return False  # no handover status / no text never matches a case
    if strict:
        return type(value) is type(wanted) and value == wanted
    # Cognigy compares case values case-sensitively; without Strict Mode 2 and "2" are equal.
    return _text(value) == _text(wanted)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def lookup(params: NodeParams) -> None:
    """Continue at the first Case whose value equals the operand, else at Default, else below."""
    value = operand(params)
    strict = bool(params.config.get("useStrict"))
    default = None
    for child in params.child_configs:
        if child.type == "case":
            if _matches(value, (child.config.get("case") or {}).get("value"), strict):
                params.cognigy.api.set_next_node(child.id)
                return
        elif child.type == "default" and default is None:
            default = child.id
    if default is not None:
        params.cognigy.api.set_next_node(default)
