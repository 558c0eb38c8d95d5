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
# A webhook secret shorter than this is refused at start-up (docs/genesys-setup.md, "1. Create a Platform").
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
    store: str  # the store URL itself, also when configured as "env:NAME" (`store_ref`)
    environment: str
    cognigy_version: str
    log_level: str
    log_format: str = "text"
    extension_api_key: Secret | None = None
    # "env:NAME" when the store URL came from that environment variable (kept for dumps: a
    # URL may carry a password).
    store_ref: str | None = None
    # Reliability bounds (docs/reliability.md): how long a queue item outlives a killed
    # holder; how long a message sent to Genesys may still land;
    # how often tracked conversations are checked through REST in notifications mode.
    lease_seconds: float = 10.0
    in_flight_seconds: float = 60.0
    reconcile_seconds: float = 20.0
    # An agent message that arrives after later ones of its session stored at most this long ago
    # is placed before them (channel.time order, message id breaking ties); nothing waits for it.
    # 0: arrival order.
    webhook_reorder_window_ms: int = 5000
    # Retention: what the store keeps (a sweeper on SQLite, TTLs on Redis).
    session_retention_hours: float = 168.0  # idle sessions, with their outputs
    ended_handover_retention_hours: float = 168.0  # ended handovers
    sweep_interval_seconds: float = 300.0
    # Per-session input rate limit on POST /endpoint/<urlToken> (429 with Retry-After); 0: off.
    input_rate_per_minute: int = 60
    # Bounds of anonymous traffic on POST /endpoint/<urlToken> (429, or 503 at the cap); 0: off.
    new_sessions_per_minute_per_address: int = 120
    new_sessions_per_minute_per_endpoint: int = 600
    max_sessions_without_handover: int = 100_000
    # Proxies whose X-Forwarded-For names the client's address (IP addresses or networks).
    trusted_proxies: tuple[str, ...] = ()
    # What one session may keep in uploads at once (files, bytes); 0: no bound.
    upload_max_files_per_session: int = 20
    upload_max_bytes_per_session: int = 50 * 1024 * 1024
    # Seconds from a request's headers to the last byte of its body (serve's worker): 408 after.
    body_timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        # TOML gives a list; a tuple keeps the settings immutable and comparable.
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))

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
class CognigyEndpoint:
    """One `[[cognigy_endpoints]]` entry: a Cognigy endpoint whose flow runs in Cognigy (the
    extension's Handover node starts handovers) and the way back into it (Inject and Notify).

    Normally `endpoint_base_url`: Cognigy's endpoint service, `POST
    <endpoint_base_url>/inject|notify/<url_token>` (the route Cognigy documents). As a legacy
    option `api_base_url` + `api_key`: the v2.0 API `POST <api>/new/v2.0/endpoint/inject|notify`
    with `X-API-Key`, deprecated in Cognigy.AI 2026.6.0 (removal planned for September 2026),
    which `om-bridge check` warns about; docs/reference/cognigy-model.md, "2026 update".
    """

    url_token: str
    organisation: str
    handover_provider: str | None = None
    api_base_url: str = ""
    api_key: Secret | None = None
    endpoint_base_url: str = ""
    copilot_base_url: str = ""

    @property
    def uses_transformers(self) -> bool:
        """True when calls go to the endpoint service (`<endpoint>/inject|notify/<token>`)."""
        return not self.api_base_url

    @property
    def uses_legacy_api(self) -> bool:
        """True when calls go to the deprecated v2.0 API (`api_base_url` + `api_key`)."""
        return bool(self.api_base_url)


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
    cognigy_endpoints: Mapping[str, CognigyEndpoint] = field(default_factory=dict)

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
