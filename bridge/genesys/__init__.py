"""om-bridge: bridge/genesys."""
