"""om-bridge: bridge/setup."""
