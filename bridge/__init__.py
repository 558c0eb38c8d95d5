"""om-bridge: bridge."""
