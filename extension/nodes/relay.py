"""Relay to Agent: in a Cognigy-hosted flow, sends the user's input to the agent of the open
handover (text, quick-reply answers, attachments), then the flow waits for the next input.

Cognigy hands every input to the flow, also during a handover, so the Handover Flow template puts
this node in the Default branch of the Lookup on the handover status (docs/cognigy-setup.md). In a
flow the bridge runs itself the engine relays inputs during a handover before the flow sees them,
so the node has nothing to do there.
"""

from __future__ import annotations

from ..descriptor import NodeDescriptor
from ..layout import Appearance

DESCRIPTOR = NodeDescriptor(
    type="relayToAgent",
    default_label="Relay to Agent",
    summary="Sends the user's input to the human agent while a handover is open",
    appearance=Appearance(color="#005F83", text_color="white"),
    tags=("service",),
)
