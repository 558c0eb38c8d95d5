"""The bridge's configuration: `om-bridge.toml` + OM_BRIDGE_* environment variables + overrides,
validated against schemas/config.json, with secrets as `Secret` (docs/design.md §3, §7)."""

from __future__ import annotations

from om_bridge.bridge.config.dump import config_data, dump_config, write_config
from om_bridge.bridge.config.errors import ConfigError, UnknownName
from om_bridge.bridge.config.loader import (
    DEFAULT_CONFIG_PATH,
    ENV_OVERRIDES,
    load_config,
    merge,
    parse_config,
)
from om_bridge.bridge.config.model import (
    BRIDGE_DEFAULTS,
    WEBHOOK_PATH,
    BridgeSettings,
    CognigyEndpoint,
    Config,
    DataActionAuth,
    Endpoint,
    Provider,
    default_completion,
)
from om_bridge.bridge.config.secret import Secret

__all__ = [
    "BRIDGE_DEFAULTS",
    "DEFAULT_CONFIG_PATH",
    "ENV_OVERRIDES",
    "WEBHOOK_PATH",
    "BridgeSettings",
    "CognigyEndpoint",
    "Config",
    "ConfigError",
    "DataActionAuth",
    "Endpoint",
    "Provider",
    "Secret",
    "UnknownName",
    "config_data",
    "default_completion",
    "dump_config",
    "load_config",
    "merge",
    "parse_config",
    "write_config",
]
