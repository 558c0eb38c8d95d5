"""Texts of Cognigy-hosted mode: answers to the extension, user-facing notes, log lines."""

from __future__ import annotations

from typing import Final

from om_bridge.extension import jsmodule

BAD_REQUEST: Final = "bad extension request: {problem}"
UNKNOWN_TOKEN: Final = (
    "URL token {token!r} is not configured as a Cognigy-hosted endpoint: add it to "
    "[[cognigy_endpoints]] in the bridge's configuration"
)
# Said by the Handover node when the handover may not start (the reason is in the log and in
# context.omBridge.handover.error).
UNAVAILABLE: Final = jsmodule.UNAVAILABLE
LOG_START_REFUSED: Final = "cognigy session %s: handover refused: %s"
