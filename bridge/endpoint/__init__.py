"""om-bridge: bridge/endpoint."""
