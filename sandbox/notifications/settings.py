"""Settings of the sandbox Notifications API, read from the `[notifications]` config section.

Keys (all optional)::

    [notifications]
    heartbeat_seconds = 30               # channel.metadata heartbeat interval
    channel_ttl_seconds = 86400          # channel lifetime; subscribing again extends it
    max_topics = 1000                    # topics per channel (more -> 400)
    max_channels = 20                    # channels per (user, OAuth client); the next one evicts
    socket_closing_grace_seconds = 60    # v2.system.socket_closing -> close delay
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from om_bridge.sandbox.config import ConfigError

_NUMBERS = (int, float)


def read_section(
    name: str, data: dict[str, Any], schema: dict[str, tuple[tuple[type, ...], Any]]
) -> dict[str, Any]:
    """Validate `data` (one config section) against `schema` (key -> (types, default)); raise
    `ConfigError` naming `section.key` for unknown keys, wrong types or negative numbers."""
    if not isinstance(data, dict):
        raise ConfigError(f"[{name}] must be a table")
    out = {key: default for key, (_types, default) in schema.items()}
    for key, value in data.items():
        if key not in schema:
            raise ConfigError(f"unknown key {name}.{key} (known: {', '.join(sorted(schema))})")
        types = schema[key][0]
        bad_bool = isinstance(value, bool) and bool not in types
        if bad_bool or not isinstance(value, types):
            expected = "/".join(t.__name__ for t in types)
            raise ConfigError(f"{name}.{key} must be {expected}, got {type(value).__name__}")
        if isinstance(value, _NUMBERS) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"{name}.{key} must not be negative")
        out[key] = value
    return out


_SCHEMA: dict[str, tuple[tuple[type, ...], Any]] = {
    "heartbeat_seconds": (_NUMBERS, 30),
    "channel_ttl_seconds": (_NUMBERS, 86400),
    "max_topics": ((int,), 1000),
    "max_channels": ((int,), 20),
    "socket_closing_grace_seconds": (_NUMBERS, 60),
}


@dataclass
class NotificationSettings:
    """Limits and timings of channels and sockets (Genesys defaults)."""

    heartbeat_seconds: float = 30
    channel_ttl_seconds: float = 86400
    max_topics: int = 1000
    max_channels: int = 20
    socket_closing_grace_seconds: float = 60

    @classmethod
    def from_section(cls, data: dict[str, Any] | None) -> NotificationSettings:
        """Build from the `[notifications]` section (missing keys take the defaults)."""
        values = read_section("notifications", data or {}, _SCHEMA)
        if values["heartbeat_seconds"] == 0:
            raise ConfigError("notifications.heartbeat_seconds must be greater than 0")
        if values["max_channels"] == 0:
            raise ConfigError("notifications.max_channels must be greater than 0")
        return cls(**values)
