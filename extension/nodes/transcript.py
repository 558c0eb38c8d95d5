"""Get Transcript: stores the conversation so far in the input or the context, as Cognigy's
built-in Service node does (docs/cognigy-setup.md: the Cognigy-hosted Handover Flow puts it above
the Handover node, whose request carries the transcript to the bridge)."""

from __future__ import annotations

from ..api import NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Condition, Field
from ..layout import Appearance, FormEntry, Section

LOCATIONS = {"input": "Input", "context": "Context"}
# Cognigy's transcript roles for the runtime's transcript sources.
ROLES = {"user": ("user", "input"), "bot": ("assistant", "output"), "agent": ("agent", "output")}

DESCRIPTOR = NodeDescriptor(
    type="getTranscript",
    default_label="Get Transcript",
    summary="Stores the conversation transcript in the input or the context",
    appearance=Appearance(color="#56CCF2", text_color="black"),
    fields=(
        Field(
            key="limit",
            label="Limit",
            type="slider",
            default_value=50,
            description="How many transcript steps (a user input and a bot output) to include",
            params={"min": 1, "max": 100, "step": 1},
        ),
        Field(
            key="storeLocation",
            label="Store Location",
            type="select",
            default_value="input",
            params={"options": [{"label": v, "value": k} for k, v in LOCATIONS.items()]},
        ),
        Field(
            key="inputKey",
            label="Input Key",
            type="cognigyText",
            default_value="transcript",
            condition=Condition(key="storeLocation", value="input"),
        ),
        Field(
            key="contextKey",
            label="Context Key",
            type="cognigyText",
            default_value="transcript",
            condition=Condition(key="storeLocation", value="context"),
        ),
    ),
    sections=(
        Section(
            key="storage",
            label="Storage",
            default_collapsed=True,
            fields=("storeLocation", "inputKey", "contextKey"),
        ),
    ),
    form=(FormEntry("limit"), FormEntry("storage", "section")),
    tags=("service",),
)


def get_transcript(params: NodeParams) -> None:
    """Store the newest `limit` steps as `[{role, type, payload: {text, data}}]`."""
    c = params.config
    limit = int(c.get("limit") or 50)
    steps = []
    for entry in params.cognigy.api.transcript()[-2 * limit :]:
        role, kind = ROLES.get(str(entry.get("source")), ("assistant", "output"))
        steps.append(
            {
                "role": role,
                "type": kind,
                "payload": {"text": entry.get("text"), "data": entry.get("data") or {}},
            }
        )
    location = c.get("storeLocation") or "input"
    if location == "context":
        params.cognigy.api.add_to_context(str(c.get("contextKey") or "transcript"), steps)
    elif location == "input":
        params.cognigy.api.add_to_input(str(c.get("inputKey") or "transcript"), steps)
    else:
        raise NodeError(f"Store Location must be one of {list(LOCATIONS)}")
