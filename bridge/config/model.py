"""The typed configuration objects `load_config` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from om_bridge.bridge.config import messages
from om_bridge.bridge.config.errors import UnknownName
from om_bridge.bridge.config.secret import Secret

WEBHOOK_PATH: Final = "/handover/genesysCloudOM"
DEFAULT_STORE: Final = "sqlite:///./.om-bridge/om-bridge.db"
BRIDGE_DEFAULTS: Final = MappingProxyType(
    {
        "public_url": "http://127.0.0.1:8080",
        "store": DEFAULT_STORE,
        "environment": "production",
        "cognigy_version": "4.100",
        "log_level": "INFO",
        "log_format": "text",
    }
)
# A webhook secret shorter than this is refused at start-up (README, "1. Create a Platform").
MIN_WEBHOOK_SECRET_LENGTH: Final = 16
# Cognigy's own default: 4.100 and later detect the end through EventBridge, 4.99 and earlier
# through the Notifications API (Cognigy's guide, "Prerequisites" in docs/genesys-setup.md).
EVENTBRIDGE_SINCE: Final = (4, 100)


def version_tuple(version: str) -> tuple[int, ...]:
    """ "4.100" → (4, 100); calendar versions like "2025.19" compare as newer than 4.x."""
    return tuple(int(p) for p in version.split("."))


def default_completion(cognigy_version: str) -> str:
    """The completion mode Cognigy uses by default at this version."""
    return "eventbridge" if version_tuple(cognigy_version) >= EVENTBRIDGE_SINCE else "notifications"


@dataclass(frozen=True)
class BridgeSettings:
    """The `[bridge]` table."""

    public_url: str
    store: str
    environment: str
    cognigy_version: str
    log_level: str
    log_format: str = "text"
    extension_api_key: Secret | None = None

    @property
    def webhook_url(self) -> str:
        """The Open Messaging outbound webhook URL to configure in Genesys."""
        return self.public_url.rstrip("/") + WEBHOOK_PATH


@dataclass(frozen=True)
class Endpoint:
    """One `[[endpoints]]` entry: a REST-style channel endpoint running a flow."""

    url_token: str
    organisation: str
    flow: str
    handover_provider: str | None = None
    callback_url: str = ""
    copilot_base_url: str = ""


@dataclass(frozen=True)
class DataActionAuth:
    """How Genesys data actions authenticate to the bridge: HTTP basic or one header."""

    type: str  # "basic" | "header"
    username: str | None = None
    password: Secret | None = None
    name: str | None = None
    value: Secret | None = None


@dataclass(frozen=True)
class Provider:
    """One `[[providers]]` entry: a Genesys Cloud Open Messaging handover provider."""

    id: str
    type: str
    deployment_name: str
    queue_id: str
    webhook_secret: Secret
    client_id: str
    client_secret: Secret
    completion_mode: str  # resolved: configured `completion`, else the cognigy_version default
    host: str | None = None
    base_url: str | None = None
    send_profile: bool = False
    completion: str | None = None  # as configured
    organization_id: str | None = None
    data_action_auth: DataActionAuth | None = None


@dataclass(frozen=True)
class Config:
    """The whole configuration: `bridge`, endpoints by url_token, providers by id."""

    bridge: BridgeSettings
    endpoints: Mapping[str, Endpoint] = field(default_factory=dict)
    providers: Mapping[str, Provider] = field(default_factory=dict)
    source: str = "defaults"  # where it came from, for messages
    # The `[features]` table: Cognigy's flag names → their values as flag strings (the API key
    # as a `Secret`); the environment overrides each one (`Flags.from_config`).
    features: Mapping[str, str | Secret] = field(default_factory=dict)

    def endpoint(self, url_token: str) -> Endpoint:
        """The endpoint with this url_token; UnknownName if there is none."""
        try:
            return self.endpoints[url_token]
        except KeyError:
            raise UnknownName(messages.NO_SUCH_ENDPOINT.format(token=url_token)) from None

    def provider(self, provider_id: str) -> Provider:
        """The provider with this id; UnknownName if there is none."""
        try:
            return self.providers[provider_id]
        except KeyError:
            raise UnknownName(messages.NO_SUCH_PROVIDER.format(provider=provider_id)) from None
