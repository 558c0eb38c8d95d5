"""Cognigy-hosted mode: the way back into Cognigy (Inject and Notify) through the durable outbox,
the handover start and the relay of user inputs for the extension's nodes (docs/design.md §12)."""

from __future__ import annotations

from om_bridge.bridge.cognigy.client import CognigyClient, CognigyError
from om_bridge.bridge.cognigy.delivery import INJECT, NOTIFY, CognigyReturn

__all__ = ["INJECT", "NOTIFY", "CognigyClient", "CognigyError", "CognigyReturn"]
