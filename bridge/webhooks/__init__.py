"""om-bridge: bridge/webhooks."""
