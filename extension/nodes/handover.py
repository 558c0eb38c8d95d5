"""Handover to Human Agent (`handoverV2`) with the Genesys Cloud Open Messaging settings of the
"Configure Handover Settings" of Cognigy's guide."""

from __future__ import annotations

from typing import Any

from ..api import FLOW_CONTINUATIONS, HandoverRequest, NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Condition, Field
from ..layout import Appearance, FormEntry, Preview, Section
from ._support import set_keys, unsupported_field

CONTINUATION_LABELS = {
    "resetEntrypoint": "Below this Node",
    "continueEntrypoint": "At current AgentInject Entrypoint",
}
ATTRIBUTE_MODES = {"keyValue": "Key-Value Pairs", "json": "JSON"}
LIVE_AGENT_PRIORITIES = ("none", "urgent", "high", "medium", "low")

_OTHER_PROVIDER = "om-bridge hands over to Genesys Cloud Open Messaging only"
_NO_CANCEL = (
    "Genesys Cloud Open Messaging cannot end a conversation from the bot side "
    "(docs/reference/cognigy-model.md §5.2)"
)
# Keys of Cognigy's Handover to Agent node (docs/reference/cognigy-model.md §2.1) that om-bridge
# accepts but does not act on; a flow setting one is reported once when it is loaded.
UNSUPPORTED: dict[str, str] = {
    "cancelIntent": f"there is no NLU to detect the intent, and {_NO_CANCEL}",
    "quickReply": _NO_CANCEL,
    "sendResolveEvent": "the flow always resumes with input.handover when the handover ends",
    "agentAssistInitMessage": "Agent Copilot is not part of om-bridge",
    "allowAgentInject": "Agent Inject is a Cognigy Live Agent feature",
    **dict.fromkeys(
        (
            "liveAgentInboxId",
            "liveAgentSkills",
            "liveAgentLanguages",
            "liveAgentPriority",
            "getQueuePosition",
            "updateIntervalQueuePosition",
            "getEstimatedWaitTime",
            "updateIntervalEstimatedWaitTime",
            "alternativeUpdate",
            "maximumQueuePosition",
            "maximumEstimatedWaitTime",
            "alternativeText",
            "buttonId",
            "sendTranscriptAsFirstMessage",
            "salesforcePrechatEntities",
            "salesforcePrechatDetails",
            "eightByEightChannelId",
            "eightByEightQueueId",
            "eightByEightJSONProps",
            "additionalCategoryIds",
            "chatwootInboxId",
        ),
        _OTHER_PROVIDER,
    ),
}


def _other(key: str, label: str, field_type: str, default: Any, **params: Any) -> Field:
    return unsupported_field(key, label, field_type, UNSUPPORTED[key], default, **params)


_LIVE_AGENT = (
    _other("liveAgentInboxId", "Inbox Id", "text", ""),
    _other("liveAgentSkills", "Skills", "textArray", []),
    _other("liveAgentLanguages", "Languages", "textArray", []),
    _other(
        "liveAgentPriority",
        "Priority",
        "select",
        "none",
        options=[{"label": p.title(), "value": p} for p in LIVE_AGENT_PRIORITIES],
    ),
    _other("getQueuePosition", "Get Queue Position", "toggle", False),
    _other("updateIntervalQueuePosition", "Queue Position Update Interval", "number", 10),
    _other("getEstimatedWaitTime", "Get Estimated Wait Time", "toggle", False),
    _other("updateIntervalEstimatedWaitTime", "Wait Time Update Interval", "number", 10),
    _other("alternativeUpdate", "Alternative Update", "toggle", False),
    _other("maximumQueuePosition", "Maximum Queue Position", "number", 10),
    _other("maximumEstimatedWaitTime", "Maximum Estimated Wait Time", "number", 300000),
    _other("alternativeText", "Alternative Text", "cognigyText", ""),
    _other("allowAgentInject", "Allow to reply as user via UI", "toggle", False),
)
_SALESFORCE = (
    _other("buttonId", "Button ID", "text", ""),
    _other("sendTranscriptAsFirstMessage", "Send Transcript as first message", "toggle", False),
    _other("salesforcePrechatEntities", "Prechat Entities", "json", []),
    _other("salesforcePrechatDetails", "Prechat Details", "json", []),
)
_EIGHT_BY_EIGHT = (
    _other("eightByEightChannelId", "Channel Id", "text", ""),
    _other("eightByEightQueueId", "Queue Id", "text", ""),
    _other("eightByEightJSONProps", "JSON properties", "json", {}),
)
_RCE = (_other("additionalCategoryIds", "Additional Category Ids", "textArray", []),)
_CHATWOOT = (_other("chatwootInboxId", "Chatwoot Inbox Id", "text", ""),)
_CANCEL = (
    _other("cancelIntent", "Cancel Intent", "text", ""),
    _other("quickReply", "Cancel Button Text", "cognigyText", ""),
)
_OTHERS = (*_LIVE_AGENT, *_SALESFORCE, *_EIGHT_BY_EIGHT, *_RCE, *_CHATWOOT)

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

# The same field on the Handover node and its earlier (v1) form.
ACCEPTED_MESSAGE = Field(
    key="text",
    label="Handover Accepted Message",
    type="cognigyText",
    default_value="",
    description="Output to the user when the handover is requested",
)

DESCRIPTOR = NodeDescriptor(
    type="handoverV2",
    default_label="Handover to Human Agent",
    summary="Hands the conversation over to a human agent in the contact centre",
    appearance=Appearance(color="#005F83", text_color="white"),
    fields=(
        ACCEPTED_MESSAGE,
        Field(
            key="repeatHandoverMessage",
            label="Repeat Handover Accepted Message",
            type="toggle",
            default_value=False,
            description="Say the accepted message again when the user writes before an agent "
            "has joined",
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
            type="cognigyTextArray",
            default_value=[],
            description="Skills for the conversation, for example escalation (CognigyScript "
            "allowed)",
        ),
        Field(
            key="genesysPriority",
            label="Priority",
            type="cognigyText",
            description="Priority for the conversation, a whole number such as 1 or CognigyScript "
            "such as {{ context.priority }}; needs a Genesys flow that uses it",
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
            default_value="json",
            description="JSON (Cognigy's own Handover node has only this) or key-value pairs",
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
        unsupported_field(
            "sendResolveEvent",
            "Send resolve event to Virtual Agent",
            "toggle",
            UNSUPPORTED["sendResolveEvent"],
            False,
        ),
        Field(
            key="sendOnQueueEvent",
            label="Send Queue Event",
            type="toggle",
            default_value=False,
            description='Run the flow with input.handover.status "queue" when Genesys accepts the '
            "handover",
        ),
        Field(
            key="sendOnActiveEvent",
            label="Send Active Event",
            type="toggle",
            default_value=False,
            description='Run the flow with input.handover.status "active" when the agent joins',
        ),
        *_CANCEL,
        *_OTHERS,
        unsupported_field(
            "agentAssistInitMessage",
            "Agent Copilot init message",
            "cognigyText",
            UNSUPPORTED["agentAssistInitMessage"],
            "",
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
            fields=("resolveBehavior", "sendResolveEvent"),
        ),
        Section(
            key="cancelOptions",
            label="Cancel Handover Options",
            default_collapsed=True,
            fields=tuple(f.key for f in _CANCEL),
        ),
        Section(
            key="eventSettings",
            label="Event Settings",
            default_collapsed=True,
            fields=("sendOnQueueEvent", "sendOnActiveEvent"),
        ),
        Section(
            key="otherProviders",
            label="Other Providers (not supported by om-bridge)",
            default_collapsed=True,
            fields=(*(f.key for f in _OTHERS), "agentAssistInitMessage"),
        ),
    ),
    form=(
        FormEntry("text"),
        FormEntry("repeatHandoverMessage"),
        FormEntry("provider"),
        FormEntry("genesysSettings", "section"),
        FormEntry("onResolve", "section"),
        FormEntry("cancelOptions", "section"),
        FormEntry("eventSettings", "section"),
        FormEntry("otherProviders", "section"),
    ),
    preview=Preview(type="text", key="text"),
    tags=("service",),
)
assert set(CONTINUATION_LABELS) == set(FLOW_CONTINUATIONS)


def _json_mode(config: dict[str, Any]) -> bool:
    """Custom attributes come from the JSON field unless the node chose key-value pairs: Cognigy's
    own Handover node has only `genesysCustomAttributes` and no mode key."""
    return config.get("genesysCustomAttributesMode") != "keyValue"


def _attributes(config: dict[str, Any]) -> dict[str, str]:
    if _json_mode(config):
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
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise NodeError(f"Priority must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or number != int(number) or number < 0:
        raise NodeError(f"Priority must be a whole number of 0 or more, got {value!r}")
    return int(number)


def check(config: dict[str, Any]) -> list[str]:
    """Load-time check: values that cannot work raise NodeError; returns the unsupported notes."""
    priority = config.get("genesysPriority")
    if not (isinstance(priority, str) and "{{" in priority):  # CognigyScript: known at run time
        _priority(priority)
    continuation = config.get("resolveBehavior") or "resetEntrypoint"
    if continuation not in FLOW_CONTINUATIONS:
        raise NodeError(f"Flow Continuation must be one of {list(FLOW_CONTINUATIONS)}")
    if _json_mode(config):
        raw = config.get("genesysCustomAttributes")
        if raw is not None and not isinstance(raw, dict):
            raise NodeError("Custom Attributes (JSON) must be an object")
        for key, value in (raw or {}).items():
            if not str(key).strip():
                raise NodeError("a custom attribute has an empty key")
            if isinstance(value, (dict, list)):
                raise NodeError(f"custom attribute {key!r} must be a text, number or boolean")
    return set_keys(DESCRIPTOR, config, UNSUPPORTED)


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
            repeat_handover_message=bool(c.get("repeatHandoverMessage", False)),
            send_on_queue_event=bool(c.get("sendOnQueueEvent", False)),
            send_on_active_event=bool(c.get("sendOnActiveEvent", False)),
        )
    )


# -- the v1 "Handover" node (`handover`), replaced by Handover to Agent but still in older charts --
LEGACY_UNSUPPORTED: dict[str, str] = {
    "cancelIntent": UNSUPPORTED["cancelIntent"],
    "quickReply": UNSUPPORTED["quickReply"],
    "unavailable": "om-bridge does not check agent availability before handing over",
    "unsupportedChannel": "every om-bridge endpoint can hand over",
    "chatwootInboxId": _OTHER_PROVIDER,
    "liveAgentInboxId": _OTHER_PROVIDER,
}


def _legacy(key: str, label: str) -> Field:
    return unsupported_field(key, label, "cognigyText", LEGACY_UNSUPPORTED[key], "")


LEGACY = NodeDescriptor(
    type="handover",
    default_label="Handover (v1)",
    summary="The earlier Handover node: hands over to a human agent with the endpoint's provider",
    appearance=Appearance(color="#005F83", text_color="white"),
    fields=(
        ACCEPTED_MESSAGE,
        _legacy("cancelIntent", "Cancel Intent"),
        _legacy("quickReply", "Cancel Button Text"),
        _legacy("unavailable", "Agents Unavailable Message"),
        _legacy("unsupportedChannel", "Unsupported Channel Message"),
        _legacy("chatwootInboxId", "Chatwoot Inbox Id"),
        _legacy("liveAgentInboxId", "Live Agent Inbox Id"),
    ),
    sections=(
        Section(
            key="notSupported",
            label="Not supported by om-bridge",
            default_collapsed=True,
            fields=tuple(LEGACY_UNSUPPORTED),
        ),
    ),
    form=(FormEntry("text"), FormEntry("notSupported", "section")),
    preview=Preview(type="text", key="text"),
    tags=("service",),
)


def check_legacy(config: dict[str, Any]) -> list[str]:
    """Load-time notes for the v1 node (nothing in it can fail)."""
    return set_keys(LEGACY, config, LEGACY_UNSUPPORTED)


def legacy_handover(params: NodeParams) -> None:
    """Hand over with the endpoint's provider and no routing settings; the flow resumes below."""
    params.cognigy.api.handover(
        HandoverRequest(
            node_id=params.node_id,
            provider=None,
            accepted_message=params.config.get("text") or None,
            language=None,
            skills=[],
            priority=None,
            custom_attributes={},
            enable_user_connects_message=True,
            enable_user_disconnects_message=True,
            display_agent_details=False,
            flow_continuation="resetEntrypoint",
        )
    )
