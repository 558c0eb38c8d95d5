"""Handover to Human Agent (`handoverV2`) with the Genesys Cloud Open Messaging settings of the
"Configure Handover Settings" of Cognigy's guide."""

from __future__ import annotations

from typing import Any

from ..api import FLOW_CONTINUATIONS, HandoverRequest, NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Condition, Field
from ..layout import Appearance, FormEntry, Preview, Section

CONTINUATION_LABELS = {
    "resetEntrypoint": "Below this Node",
    "continueEntrypoint": "At current AgentInject Entrypoint",
}
ATTRIBUTE_MODES = {"keyValue": "Key-Value Pairs", "json": "JSON"}

_GENESYS = (
    "genesysLanguage",
    "genesysSkills",
    "genesysPriority",
    "enableUserConnectsMessage",
    "enableUserDisconnectsMessage",
    "displayAgentDetails",
    "genesysCustomAttributesMode",
    "genesysCustomAttributesPairs",
    "genesysCustomAttributes",
)

DESCRIPTOR = NodeDescriptor(
    type="handoverV2",
    default_label="Handover to Human Agent",
    summary="Hands the conversation over to a human agent in the contact centre",
    appearance=Appearance(color="#005F83", text_color="white"),
    fields=(
        Field(
            key="text",
            label="Handover Accepted Message",
            type="cognigyText",
            default_value="",
            description="Output to the user when the handover is requested",
        ),
        Field(
            key="provider",
            label="Handover Provider",
            type="text",
            default_value="",
            description="Id of a handover provider configured in the bridge; empty uses the "
            "endpoint's provider",
        ),
        Field(
            key="genesysLanguage",
            label="Language",
            type="cognigyText",
            default_value="",
            description="Language for the conversation, for example english, spanish, german",
        ),
        Field(
            key="genesysSkills",
            label="Skills",
            type="textArray",
            default_value=[],
            description="Skills for the conversation, for example escalation",
        ),
        Field(
            key="genesysPriority",
            label="Priority",
            type="number",
            description="Priority for the conversation, for example 1; needs a Genesys flow that "
            "uses it",
            params={"min": 0, "step": 1},
        ),
        Field(
            key="enableUserConnectsMessage",
            label="Enable User Connects Message",
            type="toggle",
            default_value=True,
            description='Tell the agent "User joined the conversation" when the user returns',
        ),
        Field(
            key="enableUserDisconnectsMessage",
            label="Enable User Disconnects Message",
            type="toggle",
            default_value=True,
            description='Tell the agent "User left the conversation" when the user leaves',
        ),
        Field(
            key="displayAgentDetails",
            label="Display Agent Details",
            type="toggle",
            default_value=False,
            description="Show the agent's name and avatar from Genesys to the user",
        ),
        Field(
            key="genesysCustomAttributesMode",
            label="Custom Attributes Input",
            type="select",
            default_value="keyValue",
            params={"options": [{"label": v, "value": k} for k, v in ATTRIBUTE_MODES.items()]},
        ),
        Field(
            key="genesysCustomAttributesPairs",
            label="Custom Attributes",
            type="keyValuePairs",
            default_value=[],
            description="Additional information for Genesys, as key-value pairs",
            condition=Condition(key="genesysCustomAttributesMode", value="keyValue"),
        ),
        Field(
            key="genesysCustomAttributes",
            label="Custom Attributes",
            type="json",
            default_value={},
            description="Additional information for Genesys, as a JSON object",
            condition=Condition(key="genesysCustomAttributesMode", value="json"),
        ),
        Field(
            key="resolveBehavior",
            label="Flow Continuation",
            type="select",
            default_value="resetEntrypoint",
            description="Where the flow continues when the handover ends",
            params={"options": [{"label": v, "value": k} for k, v in CONTINUATION_LABELS.items()]},
        ),
    ),
    sections=(
        Section(
            key="genesysSettings", label="Genesys Cloud Open Messaging Settings", fields=_GENESYS
        ),
        Section(
            key="onResolve",
            label="On Resolve Options",
            default_collapsed=True,
            fields=("resolveBehavior",),
        ),
    ),
    form=(
        FormEntry("text"),
        FormEntry("provider"),
        FormEntry("genesysSettings", "section"),
        FormEntry("onResolve", "section"),
    ),
    preview=Preview(type="text", key="text"),
    tags=("service",),
)
assert set(CONTINUATION_LABELS) == set(FLOW_CONTINUATIONS)


def _attributes(config: dict[str, Any]) -> dict[str, str]:
    if config.get("genesysCustomAttributesMode", "keyValue") == "json":
        raw = config.get("genesysCustomAttributes") or {}
        if not isinstance(raw, dict):
            raise NodeError("Custom Attributes (JSON) must be an object")
        pairs = list(raw.items())
    else:
        pairs = [
            (p.get("key"), p.get("value")) for p in config.get("genesysCustomAttributesPairs") or []
        ]
    out: dict[str, str] = {}
    for key, value in pairs:
        if not isinstance(key, str) or not key.strip():
            raise NodeError("a custom attribute has an empty key")
        if isinstance(value, (dict, list)):
            raise NodeError(f"custom attribute {key!r} must be a text, number or boolean")
        # Genesys custom attributes are strings; JSON booleans keep their JSON spelling.
        out[key] = (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
    return out


def _priority(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise NodeError(f"Priority must be a whole number, got {value!r}") from None
    if number != int(number) or number < 0:
        raise NodeError(f"Priority must be a whole number of 0 or more, got {value!r}")
    return int(number)


def handover(params: NodeParams) -> None:
    """Ask for a handover with the node's settings; the flow pauses until it ends."""
    c = params.config
    continuation = c.get("resolveBehavior") or "resetEntrypoint"
    if continuation not in FLOW_CONTINUATIONS:
        raise NodeError(f"Flow Continuation must be one of {list(FLOW_CONTINUATIONS)}")
    params.cognigy.api.handover(
        HandoverRequest(
            node_id=params.node_id,
            provider=c.get("provider") or None,
            accepted_message=c.get("text") or None,
            language=(c.get("genesysLanguage") or "").strip() or None,
            skills=[
                s.strip() for s in c.get("genesysSkills") or [] if isinstance(s, str) and s.strip()
            ],
            priority=_priority(c.get("genesysPriority")),
            custom_attributes=_attributes(c),
            enable_user_connects_message=bool(c.get("enableUserConnectsMessage", True)),
            enable_user_disconnects_message=bool(c.get("enableUserDisconnectsMessage", True)),
            display_agent_details=bool(c.get("displayAgentDetails", False)),
            flow_continuation=continuation,
        )
    )
