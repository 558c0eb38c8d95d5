"""om-bridge: bridge/handover."""
