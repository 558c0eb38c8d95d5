"""om-bridge: bridge/completion."""
