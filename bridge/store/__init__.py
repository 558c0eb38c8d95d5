"""om-bridge: bridge/store."""
