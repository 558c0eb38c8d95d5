"""Say: outputs text and/or data, with its Handover Settings' "Handover Output Destination"."""

from __future__ import annotations

import random

from ..api import DEFAULT_DESTINATION, DESTINATIONS, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Field
from ..layout import Appearance, FormEntry, Preview, Section

DESTINATION_LABELS = {
    "userAndAgent": "User and Agent",
    "userOnly": "User only",
    "agentOnly": "Agent only",
}

DESCRIPTOR = NodeDescriptor(
    type="say",
    default_label="Say",
    summary="Outputs a message to the user",
    appearance=Appearance(color="#2F80ED", text_color="white"),
    fields=(
        Field(
            key="say",
            label="Output",
            type="say",
            description="Output Type Text: one of the texts (CognigyScript allowed), optional data",
            default_value={
                "type": "text",
                "text": [""],
                "data": "",
                "linear": False,
                "loop": False,
                "_cognigy": {},
            },
            params={"required": True},
        ),
        Field(
            key="handoverOutput",
            label="Handover Output Destination",
            type="select",
            description="Who gets this output while a handover is active",
            default_value=DEFAULT_DESTINATION,
            params={
                "options": [
                    {"label": DESTINATION_LABELS[d], "value": d}
                    for d in ("userAndAgent", "userOnly", "agentOnly")
                ]
            },
        ),
    ),
    sections=(
        Section(
            key="handoverSettings",
            label="Handover Settings",
            default_collapsed=True,
            fields=("handoverOutput",),
        ),
    ),
    form=(FormEntry("say"), FormEntry("handoverSettings", "section")),
    preview=Preview(type="text", key="say"),
    tags=("basic", "message"),
)
assert set(DESTINATION_LABELS) == set(DESTINATIONS)


def say(params: NodeParams) -> None:
    """Say one of the configured texts (in turn when `linear`, else at random) plus the data."""
    out = params.config.get("say") or {}
    texts = [t for t in out.get("text") or [] if isinstance(t, str)]
    text = ""
    if texts:
        if out.get("linear"):
            # earlier executions of this node in the session: in order, then repeat the last or loop
            count = params.cognigy.api.execution_amount(params.node_id)
            text = texts[count % len(texts) if out.get("loop") else min(count, len(texts) - 1)]
        else:
            text = random.choice(texts)
    data = out.get("data")
    data = data if isinstance(data, dict) and data else None
    if not text and data is None:
        return  # nothing to say (e.g. `{{ input.data.request.text }}` was empty)
    destination = params.config.get("handoverOutput") or DEFAULT_DESTINATION
    params.cognigy.api.say(text or None, data, destination=destination)
