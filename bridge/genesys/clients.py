"""`ClientRegistry`: one `GenesysClient` per handover provider, built on first use."""

from __future__ import annotations

import threading
from typing import Any

from om_bridge.bridge.config import Config, Secret
from om_bridge.bridge.genesys.client import GenesysClient


def reveal(value: Any) -> str:
    """The plain value of a `Secret` (or of a plain string); "" for None."""
    if value is None:
        return ""
    return value.reveal() if isinstance(value, Secret) else str(value)


class ClientRegistry:
    """One `GenesysClient` per handover provider, built on first use (thread-safe)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._clients: dict[str, GenesysClient] = {}
        self._lock = threading.Lock()

    def for_provider(self, provider_id: str) -> GenesysClient:
        """The provider's client; raises the configuration's error for an unknown provider id."""
        with self._lock:
            client = self._clients.get(provider_id)
            if client is None:
                p = self._config.provider(provider_id)
                client = GenesysClient(
                    p.host or None,
                    p.client_id,
                    reveal(p.client_secret),
                    base_url=p.base_url or None,
                )
                self._clients[provider_id] = client
            return client

    def close(self) -> None:
        """Close every client's connection pool."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
