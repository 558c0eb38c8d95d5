"""The paths on the bridge that the uploaded extension's node functions call (the bridge serves
them in `om_bridge.bridge.cognigy.remote`)."""

from __future__ import annotations

from typing import Final

EXECUTE_PATH: Final = "/extension/v1/execute"
RELAY_PATH: Final = "/extension/v1/relay"
