"""What `check` and `provision` work on: the loaded configuration and one target per provider."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from om_bridge.bridge.config import (
    DEFAULT_CONFIG_PATH,
    Config,
    ConfigError,
    Endpoint,
    Provider,
    Secret,
    load_config,
)
from om_bridge.bridge.genesys import GenesysClient, RetryPolicy
from om_bridge.bridge.setup import messages


class _RetrySettings(TypedDict):
    max_attempts: int
    deadline: float


# A setup tool should answer quickly: few retries and a short overall deadline per call.
SETUP_RETRY: _RetrySettings = {"max_attempts": 3, "deadline": 20.0}


class SetupError(Exception):
    """The command cannot run at all (bad configuration, unknown provider): exit status 2."""


def reveal(value: Any) -> str:
    """The plain value of a `Secret` (or string); "" when unset."""
    if value is None:
        return ""
    return value.reveal() if isinstance(value, Secret) else str(value)


@dataclass
class Target:
    """One handover provider to check or provision, with the settings around it."""

    config: Config
    provider: Provider
    environ: Mapping[str, str]
    _client: GenesysClient | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.provider.id

    @property
    def webhook_url(self) -> str | None:
        """public_url + /handover/genesysCloudOM, or None when no public URL is configured."""
        public = (self.config.bridge.public_url or "").strip()
        return self.config.bridge.webhook_url if public else None

    @property
    def webhook_secret(self) -> str:
        return reveal(self.provider.webhook_secret)

    @property
    def where(self) -> str:
        """Where the provider's Genesys org is, for headers: the host or the base URL."""
        p = self.provider
        return f"base_url {p.base_url}" if p.base_url else f"host {p.host}"

    def endpoints(self) -> list[Endpoint]:
        """The endpoints that hand over through this provider."""
        return [e for e in self.config.endpoints.values() if e.handover_provider == self.id]

    def client(self) -> GenesysClient:
        """The provider's Genesys client (built once); raises UnknownRegionError for a bad host."""
        if self._client is None:
            p = self.provider
            self._client = GenesysClient(
                p.host or None,
                p.client_id,
                reveal(p.client_secret),
                base_url=p.base_url or None,
                retry=RetryPolicy(**SETUP_RETRY),
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def config_path(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> str:
    """The file `serve` would run with: --config; when it is left at its default,
    `$OM_BRIDGE_CONFIG` if set, else `./om-bridge.toml`, else `<data-dir>/om-bridge.toml` (written
    by `om-bridge demo`)."""
    from om_bridge.bridge.app import CONFIG_ENV

    environ = os.environ if environ is None else environ
    path = getattr(args, "config", None) or DEFAULT_CONFIG_PATH
    if path == DEFAULT_CONFIG_PATH and environ.get(CONFIG_ENV):
        return environ[CONFIG_ENV]
    if path == DEFAULT_CONFIG_PATH and not os.path.exists(path):
        candidate = Path(getattr(args, "data_dir", None) or ".om-bridge") / DEFAULT_CONFIG_PATH
        if candidate.exists():
            print(messages.USING_CONFIG.format(path=candidate), file=sys.stderr)
            return str(candidate)
    return path


def places_looked(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> list[str]:
    """Where `config_path` looks when --config is left at its default, in order."""
    from om_bridge.bridge.app import CONFIG_ENV

    environ = os.environ if environ is None else environ
    data_dir = Path(getattr(args, "data_dir", None) or ".om-bridge")
    return [
        messages.LOOKED_ENV.format(name=CONFIG_ENV, value=environ.get(CONFIG_ENV) or "not set"),
        str(Path(DEFAULT_CONFIG_PATH).resolve()),
        str((data_dir / DEFAULT_CONFIG_PATH).resolve()),
    ]


def load_targets(
    command: str, args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> list[Target]:
    """The configuration's providers (or the one named by --provider) as targets; SetupError when
    the configuration cannot be loaded or names no such provider."""
    environ = os.environ if environ is None else environ
    path = config_path(args, environ)
    if path == DEFAULT_CONFIG_PATH and not os.path.exists(path):
        # Nothing anywhere: the defaults alone name no provider, so say where we looked.
        raise SetupError(
            messages.NO_CONFIG.format(
                command=command, looked="; ".join(places_looked(args, environ))
            )
        )
    try:
        config = load_config(path, environ)
    except ConfigError as exc:
        raise SetupError(messages.CONFIG_FAILED.format(command=command, error=exc)) from None
    if not config.providers:
        raise SetupError(messages.NO_PROVIDERS.format(command=command, path=path))
    wanted = getattr(args, "provider", None)
    if wanted is not None and wanted not in config.providers:
        raise SetupError(
            messages.UNKNOWN_PROVIDER.format(
                command=command, provider=wanted, known=", ".join(sorted(config.providers))
            )
        )
    ids = [wanted] if wanted is not None else list(config.providers)
    return [Target(config, config.providers[i], environ) for i in ids]
