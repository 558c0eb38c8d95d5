"""Lookup (`switch`) with its Case and Default children: every Cognigy Lookup type is accepted; Text,
Mode, Handover Status, CognigyScript and Call Event Status work (Intent, State and Type need
Cognigy's NLU and state machine, are reported as not supported and take the Default branch)."""

from __future__ import annotations

from typing import Any

from ..api import NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Field
from ..layout import Appearance, Constraints, FormEntry, Placement, Preview, Section
from ._child import child_descriptor
from ._support import set_keys, unsupported_field

# Lookup type -> (label, the operand Cognigy stores for it; CognigyScript's is the expression)
LOOKUP_TYPES: dict[str, tuple[str, str]] = {
    "intent": ("Intent", "ci.intent"),
    "text": ("Text", "ci.text"),
    "state": ("State", "ci.state"),
    "type": ("Type", "ci.type"),
    "mode": ("Mode", "ci.mode"),
    "handoverStatus": ("Handover Status", "ci.handover.status"),
    "cognigyScript": ("CognigyScript", ""),
    "callEventStatus": ("Call Event Status", "ci.data.event"),
}
# Types whose operand om-bridge does not have (no NLU, no Cognigy state machine).
UNSUPPORTED_TYPES: dict[str, str] = {
    "intent": "there is no NLU, so no Case matches and Default runs",
    "state": "Cognigy's input.state is not modelled, so no Case matches and Default runs",
    "type": "there is no NLU sentence type, so no Case matches and Default runs",
}
UNSUPPORTED: dict[str, str] = {"intentLevel": "there is no NLU (Lookup type Intent)"}

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
            "input.handover.status, CognigyScript with the value of the expression in operator",
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
        unsupported_field("intentLevel", "Intent Level", "text", UNSUPPORTED["intentLevel"], ""),
    ),
    sections=(
        Section(
            key="advanced",
            label="Advanced",
            default_collapsed=True,
            fields=("useStrict", "intentLevel"),
        ),
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


def check(config: dict[str, Any]) -> list[str]:
    """Load-time check: an unknown type or a CognigyScript that does not parse raises NodeError;
    returns the unsupported notes."""
    switch = config.get("switch") or {}
    lookup_type = switch.get("type")
    if lookup_type not in LOOKUP_TYPES:
        raise NodeError(f"Lookup type {lookup_type!r} is not one of {list(LOOKUP_TYPES)}")
    notes = set_keys(DESCRIPTOR, config, UNSUPPORTED)
    if lookup_type == "cognigyScript":
        expression = switch.get("operator")
        if not isinstance(expression, str) or not expression.strip():
            raise NodeError("Lookup type CognigyScript needs the expression in switch.operator")
        from om_bridge.extension import script

        try:
            script.parse(expression)
        except script.ScriptError as exc:
            raise NodeError(str(exc)) from None
    if lookup_type in UNSUPPORTED_TYPES:
        notes.append(
            f"Lookup type {LOOKUP_TYPES[lookup_type][0]}: {UNSUPPORTED_TYPES[lookup_type]}"
        )
    return notes


def operand(params: NodeParams) -> Any:
    """The value the Lookup compares (None for the types om-bridge cannot evaluate)."""
    switch = params.config.get("switch") or {}
    lookup_type = switch.get("type")
    source = params.cognigy.input
    if lookup_type == "text":
        return source.get("text")
    if lookup_type == "mode":
        return source.get("mode")
    if lookup_type == "handoverStatus":
        return (source.get("handover") or {}).get("status")
    if lookup_type == "callEventStatus":
        return (source.get("data") or {}).get("event")
    if lookup_type == "cognigyScript":
        return params.cognigy.api.parse_cognigy_script_value(str(switch.get("operator") or ""))
    if lookup_type in UNSUPPORTED_TYPES:
        return None
    raise NodeError(f"Lookup type {lookup_type!r} is not one of {list(LOOKUP_TYPES)}")


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
