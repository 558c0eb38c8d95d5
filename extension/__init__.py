"""om-bridge: extension."""
