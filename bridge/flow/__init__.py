"""om-bridge: bridge/flow."""
