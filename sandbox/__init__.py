"""om-bridge: sandbox."""
