"""om-bridge: flows."""
